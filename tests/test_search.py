"""MAT chooses its setting for the data, without group labels: a search over
candidate settings, each trained on part of the training set and scored on the rest
by the public criterion (skmat.metrics.CrossFitGroupScorer)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import PrintLog

import skmat._search
from skmat import MATClassifier
from skmat._crossfit import SCORE_NAMES, group_scores
from skmat._search import (
    best_index,
    describe_setting,
    results_table,
    selection_split,
)
from skmat.datasets import make_spurious_memorization
from skmat.metrics import CrossFitGroupScorer

from .conftest import small_net
from .modules import MLP, LazyMLP, Linear


@pytest.fixture(scope="module")
def figure1():
    """The paper's Figure-1 data, small: the held-out mistakes are the minority."""
    X, y, groups = make_spurious_memorization(200, n_noise_features=198, random_state=0)
    return X.astype(np.float32), y, groups


def figure1_net(**params):
    settings = dict(optimizer=torch.optim.SGD, lr=0.05, max_epochs=100, batch_size=-1)
    return small_net(Linear, **{**settings, **params})


def test_split_is_stratified_sorted_and_disjoint():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, valid = selection_split(y, 0.5, seed=0)
    assert len(valid) == 50 and len(train) == 50
    assert np.all(np.diff(train) > 0) and np.all(np.diff(valid) > 0)
    assert not np.intersect1d(train, valid).size
    assert_array_equal(np.bincount(y[valid]), [25, 15, 10])


def test_split_of_a_class_with_one_example_is_not_stratified():
    y = np.array([0] * 9 + [1])
    train, valid = selection_split(y, 0.3, seed=0)
    assert len(valid) == 3 and len(train) == 7


@pytest.mark.parametrize("fraction", [0.999, 0.05])
def test_split_that_leaves_too_little_names_the_parameter(fraction):
    # nothing to train on, or a single validation row (it is split in two halves)
    with pytest.raises(ValueError, match=f"selection_fraction={fraction} .* at least"):
        selection_split(np.array([0, 1] * 5), fraction, seed=0)


def test_choosing_on_rows_that_all_weigh_nothing_is_an_error():
    y = np.array([0, 1] * 10)
    with pytest.raises(ValueError, match="held out to choose .* zero sample_weight"):
        selection_split(y, 0.5, seed=0, sample_weight=np.zeros(20))
    train, valid = selection_split(y, 0.5, seed=0)
    weight = np.zeros(20)
    weight[valid] = 1  # nothing to train the candidates on
    with pytest.raises(ValueError, match="left to train .* zero sample_weight"):
        selection_split(y, 0.5, seed=0, sample_weight=weight)


def test_scores_are_the_mean_and_the_worst_group_and_ties_go_to_the_first():
    y = np.array([0, 0, 0, 0, 1, 1])
    groups = np.array([0, 0, 1, 1, 2, 3])
    score = group_scores(y, np.array([0, 1, 0, 0, 1, 1]), groups)
    assert score["mean_group_accuracy"] == pytest.approx((0.5 + 1 + 1 + 1) / 4)
    assert score["worst_group_accuracy"] == 0.5
    assert score["selection_score"] == pytest.approx((0.875 + 0.1 * 0.5) / 1.1)
    weighted = group_scores(
        y, np.array([0, 1, 0, 0, 1, 1]), groups, np.array([3, 1, 1, 1, 1, 1])
    )
    assert weighted["worst_group_accuracy"] == pytest.approx(0.75)
    scores = [{"selection_score": s} for s in (0.5, 0.6, 0.6)]
    assert best_index(scores) == 1


def test_the_results_table_is_shaped_like_cv_results():
    candidates = [{"shift_strength": 0.0}, {"held_out": "xrm", "shift_strength": 1.0}]
    scores = [
        dict(selection_score=0.5, mean_group_accuracy=0.6, worst_group_accuracy=0.4),
        dict(selection_score=0.7, mean_group_accuracy=0.8, worst_group_accuracy=0.6),
    ]
    table = results_table(candidates, scores, 1)
    assert table["params"] == candidates
    assert table["param_held_out"].mask.tolist() == [True, False]
    assert table["param_shift_strength"].tolist() == [0.0, 1.0]
    assert table["rank_selection_score"].tolist() == [2, 1]
    assert table["chosen"].tolist() == [False, True]
    assert_allclose(table["worst_group_accuracy"], [0.4, 0.6])


def test_auto_is_the_default_and_searches_the_settings_that_matter(figure1):
    X, y, groups = figure1
    clf = MATClassifier(figure1_net(), random_state=0).fit(X, y)
    assert clf.get_params()["shift_strength"] == "auto"
    results = clf.selection_results_
    assert results["params"] == [
        {"shift_strength": 0.0},
        {"held_out": "xrm", "shift_strength": 1.0},
        {"held_out": "kfold", "held_out_epochs": 0.25, "shift_strength": 1.0},
        {"held_out": "xrm", "shift_strength": 0.0, "reweight_inferred_groups": True},
    ]
    # where the held-out mistakes are the minority, plain training is not chosen
    assert not results["chosen"][0]
    assert results["worst_group_accuracy"][0] < 0.3
    assert results["selection_score"].max() > results["selection_score"][0] + 0.2
    assert len(clf.selection_indices_) == 100
    assert clf.fit_times_["selection"] > 0
    # the chosen setting trains the final net exactly as if it had been given
    chosen = clf.chosen_params_
    assert chosen == results["params"][int(np.argmax(results["chosen"]))]
    fixed = MATClassifier(figure1_net(), random_state=0, **chosen).fit(X, y)
    assert_allclose(clf.held_out_proba_, fixed.held_out_proba_)
    assert_allclose(clf.predict_proba(X), fixed.predict_proba(X), atol=1e-6)
    assert clf.held_out_strategy_ == fixed.held_out_strategy_
    assert not hasattr(fixed, "selection_results_")


def test_the_default_choice_is_a_search_scored_by_the_public_scorer(figure1):
    """Every candidate, trained on the search's training rows with the held-out
    predictions of its own strategy and scored on the validation rows by the
    scorer of skmat.metrics, gets the score the default gave it; the best wins."""
    X, y, _ = figure1
    net = figure1_net(max_epochs=30)
    clf = MATClassifier(net, random_state=0, fold_training="sequential").fit(X, y)
    results, valid = clf.selection_results_, clf.selection_indices_
    train = np.setdiff1d(np.arange(len(y)), valid)
    scorer = CrossFitGroupScorer(random_state=clf.selection_scorer_.random_state)
    scores = []
    for params in results["params"]:
        given = clone(clf).set_params(**params).fit(X, y)
        candidate = clone(clf).set_params(**params)
        candidate.fit(X[train], y[train], held_out_proba=given.held_out_proba_[train])
        scores.append(scorer(candidate, X[valid], y[valid]))
    assert_allclose(scores, results["selection_score"], rtol=0, atol=1e-12)
    assert results["chosen"][int(np.argmax(scores))]


def test_a_list_of_strengths_is_a_search_over_them(figure1):
    X, y, _ = figure1
    proba = MATClassifier(figure1_net(), shift_strength=1.0, random_state=0)
    proba = proba.fit(X, y).held_out_proba_
    clf = MATClassifier(
        figure1_net(max_epochs=30), shift_strength=[2.0, 0.0, 0.5], random_state=0
    ).fit(X, y, held_out_proba=proba)
    results = clf.selection_results_
    assert results["param_shift_strength"].tolist() == [2.0, 0.0, 0.5]
    assert (
        clf.shift_strength_
        == results["param_shift_strength"][
            best_index([{"selection_score": s} for s in results["selection_score"]])
        ]
    )


def test_equal_values_choose_the_first_and_one_value_is_no_choice(figure1):
    X, y, _ = figure1
    net = figure1_net(max_epochs=5)
    clf = MATClassifier(net, shift_strength=[0.0, 0.0], random_state=0)
    with pytest.warns(UserWarning, match="All 2 candidates .* scored the same"):
        clf.fit(X, y)
    assert clf.shift_strength_ == 0.0
    assert clf.selection_results_["worst_group_accuracy"].std() == 0
    one = MATClassifier(net, shift_strength=[0.5], random_state=0).fit(X, y)
    assert one.shift_strength_ == 0.5
    zero_d = MATClassifier(net, shift_strength=np.array(0.5), random_state=0)
    assert zero_d.fit(X, y).shift_strength_ == 0.5
    assert not hasattr(zero_d, "selection_results_")


def test_a_given_strategy_restricts_the_candidates():
    net = small_net(max_epochs=2)
    kfold = MATClassifier(net, cv=3)._candidates()
    assert kfold == [
        {"held_out_epochs": 0.25, "shift_strength": 0.0},
        {"held_out_epochs": 0.25, "shift_strength": 1.0},
        {
            "held_out_epochs": 0.25,
            "shift_strength": 0.0,
            "reweight_inferred_groups": True,
        },
    ]
    xrm = MATClassifier(net, held_out="xrm", held_out_epochs=0.5)._candidates()
    assert xrm == [
        {"shift_strength": 0.0},
        {"shift_strength": 1.0},
        {"shift_strength": 0.0, "reweight_inferred_groups": True},
    ]


def test_reweighting_inferred_groups_balances_label_and_mistake(figure1):
    X, y, _ = figure1
    proba = np.where(np.arange(len(y))[:, None] % 5 == 0, 0.8, 0.2)
    proba = np.column_stack([proba[:, 0], 1 - proba[:, 0]])
    proba[y == 1] = proba[y == 1][:, ::-1]  # right except on every fifth example
    clf = MATClassifier(
        figure1_net(max_epochs=2),
        shift_strength=0.0,
        reweight_inferred_groups=True,
        random_state=0,
    )
    extras = clf._training_extras(y, None, None, proba)
    ids = clf.set_params().fit(X, y, held_out_proba=proba).inferred_groups_
    weights = extras.sample_weight
    for group in np.unique(ids):
        assert weights[ids == group].sum() == pytest.approx(len(y) / 4, rel=1e-5)
    assert extras.logit_shift is None


@pytest.mark.parametrize(
    "value", [[], [-1.0], [[0.0, 1.0]], ["a"], [np.nan], [True, 1.0], (0, np.inf)]
)
def test_bad_lists_of_strengths_name_the_parameter(value):
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(ValueError, match="shift_strength must be"):
        MATClassifier(small_net(max_epochs=2), shift_strength=value, cv=2).fit(X, y)


@pytest.mark.parametrize("value", ["best", -0.5])
def test_bad_strengths_are_parameter_errors(value):
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(InvalidParameterError, match="shift_strength"):
        MATClassifier(small_net(max_epochs=2), shift_strength=value).fit(X, y)


@pytest.mark.parametrize("value", [0, 1, 1.5])
def test_bad_fractions_are_parameter_errors(value):
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(InvalidParameterError, match="selection_fraction"):
        MATClassifier(small_net(max_epochs=2), selection_fraction=value).fit(X, y)


def test_sample_weight_reaches_the_candidates_and_their_scores(figure1):
    X, y, _ = figure1
    net = figure1_net(max_epochs=20)
    plain = MATClassifier(net, shift_strength="auto", random_state=0).fit(X, y)
    # a constant weight changes nothing: losses and scores are weighted means
    doubled = MATClassifier(net, shift_strength="auto", random_state=0).fit(
        X, y, sample_weight=2 * np.ones(200)
    )
    for key in SCORE_NAMES:
        assert_allclose(
            doubled.selection_results_[key], plain.selection_results_[key], atol=1e-6
        )
    # nonuniform weights reach the candidates' losses and the scores
    weight = np.random.RandomState(0).uniform(0.1, 3, 200)
    weighted = MATClassifier(net, shift_strength="auto", random_state=0)
    weighted.fit(X, y, sample_weight=weight)
    assert not np.allclose(
        weighted.selection_results_["mean_group_accuracy"],
        plain.selection_results_["mean_group_accuracy"],
    )


# The tiny CNN's held-out nets find no mistake in a class on these random images;
# the warning says so, and is not what this test is about.
@pytest.mark.filterwarnings("ignore::skmat.exceptions.DegenerateHeldOutWarning")
@pytest.mark.parametrize("held_out", ["xrm", "kfold"])
def test_any_net_a_user_brings(held_out):
    """An MLP with BatchNorm and a lazy first layer, and a CNN with BatchNorm on
    images: the candidates are copies of the final net, whatever it is."""
    X, y = make_classification(120, 6, n_informative=4, random_state=0)
    mlp = small_net(MLP, max_epochs=4)
    clf = MATClassifier(mlp, held_out=held_out, shift_strength="auto", random_state=0)
    clf.fit(X, y)
    assert clf.shift_strength_ in (0.0, 1.0)

    class LazyBatchNormMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.LazyLinear(16),
                torch.nn.BatchNorm1d(16),
                torch.nn.ReLU(),
                torch.nn.Linear(16, 2),
            )

        def forward(self, X):
            return self.layers(X)

    lazy = small_net(LazyBatchNormMLP, max_epochs=4)
    clf = MATClassifier(lazy, held_out=held_out, shift_strength="auto")
    clf.set_params(random_state=0).fit(X, y)
    assert clf.predict(X).shape == (120,)

    class CNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Conv2d(1, 4, 3),
                torch.nn.BatchNorm2d(4),
                torch.nn.ReLU(),
                torch.nn.Flatten(),
                torch.nn.LazyLinear(2),
            )

        def forward(self, X):
            return self.layers(X)

    rng = np.random.RandomState(0)
    images = rng.rand(120, 1, 6, 6).astype(np.float32)
    images[y == 1, :, :3] += 0.5
    noisy = np.where(rng.rand(120) < 0.15, 1 - y, y)  # mistakes to find
    clf = MATClassifier(
        small_net(CNN, max_epochs=15), held_out=held_out, shift_strength="auto"
    )
    clf.set_params(random_state=0).fit(images, noisy)
    assert set(clf.predict(images)) <= {0, 1}


def test_grid_search_over_fixed_strengths_still_works(figure1):
    X, y, _ = figure1
    search = GridSearchCV(
        MATClassifier(figure1_net(max_epochs=10), random_state=0),
        {"shift_strength": [0.0, 1.0]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_["shift_strength"] in (0.0, 1.0)
    assert (
        search.best_estimator_.shift_strength_ == search.best_params_["shift_strength"]
    )


@pytest.mark.parametrize("fold_training", ["sequential", "batched"])
def test_an_interrupted_selection_leaves_the_estimator_as_it_was(
    figure1, fold_training, monkeypatch
):
    X, y, _ = figure1
    clf = MATClassifier(
        figure1_net(max_epochs=5), shift_strength="auto", fold_training=fold_training
    )
    clf.set_params(random_state=0).fit(X, y)
    before = dict(vars(clf))

    class Boom(Exception):
        pass

    calls = []

    def fail_in_the_second_candidate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Boom
        return original(*args, **kwargs)

    def fail_in_training_together(*args, **kwargs):
        raise Boom

    original = clf._final_fit
    clf._final_fit = fail_in_the_second_candidate
    monkeypatch.setattr(skmat._search, "fit_stacked", fail_in_training_together)
    with pytest.raises(Boom):
        clf.fit(X, y)
    del clf._final_fit
    assert set(vars(clf)) == set(before)
    assert_allclose(clf.held_out_proba_, before["held_out_proba_"])
    assert_allclose(clf.calibration_matrix_, before["calibration_matrix_"])


class SoftmaxMLP(torch.nn.Module):
    """Probabilities out, for skorch's default NLLLoss: the shift goes to log(p)."""

    def __init__(self, n_features_in=200, n_classes=2):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, 16),
            torch.nn.ReLU(),
            torch.nn.Linear(16, n_classes),
            torch.nn.Softmax(dim=-1),
        )

    def forward(self, X):
        return self.layers(X)


@pytest.mark.parametrize(
    "net",
    [
        figure1_net(max_epochs=40),
        small_net(MLP, optimizer=torch.optim.Adam, lr=1e-2, max_epochs=8),
        small_net(
            SoftmaxMLP,
            criterion=torch.nn.NLLLoss,
            optimizer=torch.optim.Adam,
            lr=1e-2,
            max_epochs=8,
        ),
        small_net(LazyMLP, optimizer=torch.optim.Adam, lr=1e-2, max_epochs=8),
    ],
    ids=["linear-sgd", "mlp-adam", "softmax-nll", "lazy-mlp"],
)
def test_the_nets_that_choose_train_together_as_one_by_one(figure1, net, monkeypatch):
    """The candidates (with their shifts) and the plain nets that group the
    validation examples train as one stacked model where the net allows it, and
    come out as skorch's own fits of each, up to float rounding (2e-4: the drift
    measured between the engines, tests/held_out_reference.py --drift)."""
    X, y, _ = figure1
    weight = np.random.RandomState(0).uniform(0.5, 2, len(y))
    nets = {"sequential": [], "batched": []}
    fit_stacked, final_fit = skmat._search.fit_stacked, MATClassifier._final_fit

    def recording_fit_stacked(candidates, *args, **kwargs):
        nets["batched"].extend(candidates)
        return fit_stacked(candidates, *args, **kwargs)

    def recording_final_fit(self, *args):
        fitted = final_fit(self, *args)
        phase = args[6] if len(args) > 6 else "final net"
        if self.fold_training == "sequential" and "choosing" in phase:
            nets["sequential"].append(fitted)
        return fitted

    monkeypatch.setattr(skmat._search, "fit_stacked", recording_fit_stacked)
    monkeypatch.setattr(MATClassifier, "_final_fit", recording_final_fit)
    # the same held-out predictions for both: the held-out phase's own engines
    # differ by float rounding, which the shift (temperature 0.1) magnifies
    proba = MATClassifier(net, shift_strength=1.0, random_state=0).fit(X, y)
    proba = proba.held_out_proba_
    fits = {
        fold_training: MATClassifier(
            net,
            shift_strength="auto",  # shifts, and weights of their own
            fold_training=fold_training,
            random_state=0,
        ).fit(X, y, sample_weight=weight, held_out_proba=proba)
        for fold_training in nets
    }
    # two plain nets on the validation halves, then one per candidate
    assert len(nets["sequential"]) == len(nets["batched"]) == 6
    for alone, together in zip(nets["sequential"], nets["batched"]):
        assert len(together.history) == len(alone.history) == net.max_epochs
        assert_allclose(
            together.predict_proba(X), alone.predict_proba(X), rtol=0, atol=2e-4
        )
    sequential, batched = fits["sequential"], fits["batched"]
    assert_array_equal(sequential.selection_indices_, batched.selection_indices_)
    for key in SCORE_NAMES:
        assert_allclose(
            batched.selection_results_[key],
            sequential.selection_results_[key],
            atol=0.021,
        )


def test_nets_that_cannot_train_together_choose_one_by_one(figure1, capsys):
    X, y, _ = figure1
    net = figure1_net(max_epochs=5, callbacks=[("print", PrintLog())])
    clf = MATClassifier(net, shift_strength="auto", random_state=0, verbose=1)
    clf.fit(X, y)
    out = capsys.readouterr().out
    assert (
        "choosing among 4 settings: the nets train one by one (the net has callb" in out
    )
    assert clf.shift_strength_ in (0.0, 1.0)
    with pytest.raises(ValueError, match="fold_training='batched' cannot train"):
        clf.set_params(fold_training="batched").fit(X, y)


def test_verbose_reports_each_candidate_and_the_choice(figure1, capsys):
    X, y, _ = figure1
    clf = MATClassifier(figure1_net(max_epochs=5), shift_strength="auto", verbose=1)
    clf.set_params(random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert sum("on average over the inferred groups" in line for line in lines) == 4
    chosen = describe_setting(clf.chosen_params_)
    assert f"[MATClassifier] chose {chosen}" in lines

"""MAT chooses its shift strength for the data, without group labels: candidate
final nets on part of the training set, scored on the rest by worst-group accuracy
over the groups that the held-out mistakes infer."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import PrintLog

import skmat._base
from skmat import MATClassifier
from skmat._selection import best_candidate, selection_score, selection_split
from skmat.datasets import make_spurious_memorization

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


def test_split_that_leaves_nothing_to_train_on_names_the_parameter():
    with pytest.raises(ValueError, match="selection_fraction=0.999 .* each needs"):
        selection_split(np.array([0, 1] * 5), 0.999, seed=0)


def test_score_is_mean_then_worst_group_and_ties_go_to_the_first():
    y = np.array([0, 0, 0, 0, 1, 1])
    groups = np.array([0, 0, 1, 1, 2, 3])
    score = selection_score(y, np.array([0, 1, 0, 0, 1, 1]), groups)
    assert score == (pytest.approx((0.5 + 1 + 1 + 1) / 4), 0.5)
    weighted = selection_score(
        y, np.array([0, 1, 0, 0, 1, 1]), groups, np.array([3, 1, 1, 1, 1, 1])
    )
    assert weighted[1] == pytest.approx(0.75)
    assert best_candidate([(0.5, 0.7), (0.6, 0.1), (0.6, 0.1)]) == 1
    assert best_candidate([(0.5, 0.7), (0.5, 0.8)]) == 1


def test_auto_is_the_default_and_chooses_mat_where_mistakes_are_the_minority(
    figure1,
):
    X, y, groups = figure1
    clf = MATClassifier(figure1_net(), random_state=0).fit(X, y)
    assert clf.get_params()["shift_strength"] == "auto"
    results = clf.selection_results_
    assert_array_equal(results["shift_strength"], [0.0, 1.0])
    assert clf.shift_strength_ == 1.0
    # plain training gets little of the inferred minority right, MAT most of it
    assert results["worst_group_accuracy"][0] < 0.3
    assert results["worst_group_accuracy"][1] > 0.5
    assert results["mean_group_accuracy"][1] > results["mean_group_accuracy"][0]
    assert len(clf.selection_indices_) == 100
    assert clf.fit_times_["selection"] > 0
    # the chosen value trains the final net exactly as if it had been given
    fixed = MATClassifier(figure1_net(), shift_strength=1.0, random_state=0).fit(X, y)
    assert_allclose(clf.logit_shift_, fixed.logit_shift_)
    assert_allclose(clf.predict_proba(X), fixed.predict_proba(X), atol=1e-6)
    assert not hasattr(fixed, "selection_results_")
    assert fixed.shift_strength_ == 1.0


def test_the_chosen_value_is_the_best_scored_one(figure1):
    X, y, _ = figure1
    proba = MATClassifier(figure1_net(), shift_strength=1.0, random_state=0)
    proba = proba.fit(X, y).held_out_proba_
    clf = MATClassifier(
        figure1_net(max_epochs=30), shift_strength=[2.0, 0.0, 0.5], random_state=0
    ).fit(X, y, held_out_proba=proba)
    results = clf.selection_results_
    assert_array_equal(results["shift_strength"], [2.0, 0.0, 0.5])
    scores = list(zip(results["mean_group_accuracy"], results["worst_group_accuracy"]))
    assert clf.shift_strength_ == results["shift_strength"][best_candidate(scores)]


def test_equal_values_choose_the_first_and_one_value_is_no_choice(figure1):
    X, y, _ = figure1
    net = figure1_net(max_epochs=5)
    clf = MATClassifier(net, shift_strength=[0.0, 0.0], random_state=0).fit(X, y)
    assert clf.shift_strength_ == 0.0
    assert clf.selection_results_["worst_group_accuracy"].std() == 0
    one = MATClassifier(net, shift_strength=[0.5], random_state=0).fit(X, y)
    assert one.shift_strength_ == 0.5


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
    for key, value in plain.selection_results_.items():
        assert_allclose(doubled.selection_results_[key], value, atol=1e-6)
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
    monkeypatch.setattr(skmat._base, "fit_stacked", fail_in_training_together)
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
    fit_stacked, final_fit = skmat._base.fit_stacked, MATClassifier._final_fit

    def recording_fit_stacked(candidates, *args, **kwargs):
        nets["batched"].extend(candidates)
        return fit_stacked(candidates, *args, **kwargs)

    def recording_final_fit(self, *args):
        fitted = final_fit(self, *args)
        phase = args[6] if len(args) > 6 else "final net"
        if self.fold_training == "sequential" and "choosing" in phase:
            nets["sequential"].append(fitted)
        return fitted

    monkeypatch.setattr(skmat._base, "fit_stacked", recording_fit_stacked)
    monkeypatch.setattr(MATClassifier, "_final_fit", recording_final_fit)
    # the same held-out predictions for both: the held-out phase's own engines
    # differ by float rounding, which the shift (temperature 0.1) magnifies
    proba = MATClassifier(net, shift_strength=1.0, random_state=0).fit(X, y)
    proba = proba.held_out_proba_
    fits = {
        fold_training: MATClassifier(
            net,
            shift_strength=[0.0, 0.5, 1.0],
            fold_training=fold_training,
            random_state=0,
        ).fit(X, y, sample_weight=weight, held_out_proba=proba)
        for fold_training in nets
    }
    # two plain nets on the validation halves, then one per candidate
    assert len(nets["sequential"]) == len(nets["batched"]) == 5
    for alone, together in zip(nets["sequential"], nets["batched"]):
        assert len(together.history) == len(alone.history) == net.max_epochs
        assert_allclose(
            together.predict_proba(X), alone.predict_proba(X), rtol=0, atol=2e-4
        )
    sequential, batched = fits["sequential"], fits["batched"]
    assert_array_equal(sequential.selection_indices_, batched.selection_indices_)
    for key, value in sequential.selection_results_.items():
        assert_allclose(batched.selection_results_[key], value, atol=0.021)


def test_nets_that_cannot_train_together_choose_one_by_one(figure1, capsys):
    X, y, _ = figure1
    net = figure1_net(max_epochs=5, callbacks=[("print", PrintLog())])
    clf = MATClassifier(net, shift_strength="auto", random_state=0, verbose=1)
    clf.fit(X, y)
    out = capsys.readouterr().out
    assert (
        "choosing shift_strength: the nets train one by one (the net has callb" in out
    )
    assert clf.shift_strength_ in (0.0, 1.0)
    with pytest.raises(ValueError, match="fold_training='batched' cannot train"):
        clf.set_params(fold_training="batched").fit(X, y)


def test_verbose_reports_each_candidate_and_the_choice(figure1, capsys):
    X, y, _ = figure1
    clf = MATClassifier(figure1_net(max_epochs=5), shift_strength="auto", verbose=1)
    clf.set_params(random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert sum("on average over the inferred groups" in line for line in lines) == 2
    assert f"[MATClassifier] chose shift_strength={clf.shift_strength_:g}" in lines

"""Memorization score and its display (skmat.inspection)."""

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GroupKFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.tree import DecisionTreeClassifier

from skmat import MATClassifier
from skmat._random import MAX_SEED
from skmat.datasets import make_spurious_memorization
from skmat.inspection import MemorizationDisplay, memorization_score

from .conftest import small_net
from .modules import Linear


def blobs(n_samples=60, random_state=0):
    X, y = make_blobs(
        n_samples=n_samples, centers=[[-3, 0], [3, 0]], random_state=random_state
    )
    return X.astype(np.float32), y


def memorizable(n_samples=60, n_noise=200, scale=3.0, random_state=0):
    """One signal column and many noise columns: a linear net can fit any label."""
    rng = np.random.RandomState(random_state)
    y = rng.randint(2, size=n_samples)
    signal = scale * (2.0 * y - 1.0) + 0.3 * rng.randn(n_samples)
    X = np.column_stack([signal, rng.randn(n_samples, n_noise)]).astype(np.float32)
    return X, y


def plain_net(n_features, **params):
    """A plain skorch net (no skmat wrapper): sizes given, trains to fit everything."""
    settings = dict(
        module__n_features_in=n_features,
        module__n_classes=2,
        max_epochs=100,
        lr=0.05,
    )
    return small_net(**{**settings, **params})


# --- the score's defining properties -------------------------------------------------


def test_mislabelled_example_is_memorized_and_a_duplicated_one_is_not():
    X, y = memorizable()
    y[0] = 1 - y[0]  # mislabelled, once
    # a second mislabelled example, duplicated 20 times
    X = np.vstack([X, np.repeat(X[1:2], 20, axis=0)])
    y = np.concatenate([y, np.full(20, 1 - y[1])])
    y[1] = 1 - y[1]
    scores = memorization_score(plain_net(X.shape[1]), X, y, random_state=0)
    assert scores.shape == (len(y),)
    assert scores[0] > 0.8  # fitted only because it was trained on
    copies = np.r_[1, np.arange(len(y) - 20, len(y))]
    assert np.all(np.abs(scores[copies]) < 0.1)  # its copies teach it in every fold
    assert np.median(np.abs(scores[2:-20])) < 0.1


def test_tree_scores_exactly():
    X, y = blobs()
    y[0] = 1 - y[0]
    X = np.vstack([X, np.repeat(X[1:2], 10, axis=0)])
    y = np.concatenate([y, np.repeat(y[1:2], 10)])
    scores = memorization_score(DecisionTreeClassifier(), X, y, random_state=0)
    assert scores[0] == 1.0
    assert np.all(scores[np.r_[1, len(y) - 10 : len(y)]] == 0.0)


def test_range_shape_and_halves():
    X, y = blobs()
    y[:5] = 1 - y[:5]
    scores, in_sample, held_out = memorization_score(
        LogisticRegression(C=100), X, y, random_state=0, return_proba=True
    )
    assert scores.shape == (60,) and in_sample.shape == held_out.shape == (60, 2)
    assert np.all((scores >= -1) & (scores <= 1))
    rows = np.arange(60)
    np.testing.assert_allclose(scores, in_sample[rows, y] - held_out[rows, y])


def test_halves_are_fold_fits_and_cross_val_predict():
    """Default: both halves come from the same cv fits (Feldman and Zhang's estimator)."""
    X, y = blobs()
    y[:5] = 1 - y[:5]
    clf = LogisticRegression(C=0.1)
    _, in_sample, held_out = memorization_score(
        clf, X, y, cv=4, random_state=3, return_proba=True
    )
    folds = list(StratifiedKFold(4, shuffle=True, random_state=3).split(X, y))
    trained_on = np.zeros((60, 2))
    for train, _ in folds:
        trained_on[train] += clone(clf).fit(X[train], y[train]).predict_proba(X[train])
    # every example is in the training set of 3 of the 4 fold models
    np.testing.assert_allclose(in_sample, trained_on / 3)
    expected = cross_val_predict(clf, X, y, cv=folds, method="predict_proba")
    np.testing.assert_allclose(held_out, expected)


def test_full_in_sample_half_is_one_fit_on_everything():
    X, y = blobs()
    y[:5] = 1 - y[:5]
    clf = LogisticRegression(C=0.1)
    _, in_sample, held_out = memorization_score(
        clf, X, y, cv=4, in_sample="full", random_state=3, return_proba=True
    )
    np.testing.assert_allclose(in_sample, clone(clf).fit(X, y).predict_proba(X))
    expected = cross_val_predict(
        clf,
        X,
        y,
        cv=StratifiedKFold(4, shuffle=True, random_state=3),
        method="predict_proba",
    )
    np.testing.assert_allclose(held_out, expected)


def test_folds_must_train_every_example_and_hold_it_out_unseen():
    X, y = blobs()
    halves = [np.arange(30), np.arange(30, 60)]
    # 20..39 are in no training set: no model that trained on them
    partial = [(np.arange(40, 60), halves[0]), (np.arange(20), halves[1])]
    with pytest.raises(ValueError, match="in no training fold"):
        memorization_score(LogisticRegression(), X, y, cv=partial)
    # the "full" in-sample half does not need the folds to train every example
    memorization_score(LogisticRegression(), X, y, cv=partial, in_sample="full")
    leaky = [(np.arange(60), halves[0]), (np.arange(60), halves[1])]
    for in_sample in ["folds", "full"]:
        with pytest.raises(ValueError, match="trained on examples it holds out"):
            memorization_score(
                LogisticRegression(), X, y, cv=leaky, in_sample=in_sample
            )


def test_deterministic_with_random_state_and_global_rng_untouched():
    X, y = memorizable(n_noise=50)
    net = plain_net(X.shape[1], max_epochs=10)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    first = memorization_score(net, X, y, cv=3, random_state=0)
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(
        first, memorization_score(net, X, y, cv=3, random_state=0)
    )
    assert not np.array_equal(
        first, memorization_score(net, X, y, cv=3, random_state=1)
    )


def test_random_state_seeds_nested_estimators():
    X, y = blobs()
    y[:8] = 1 - y[:8]
    tree = DecisionTreeClassifier(max_features=1)
    a = memorization_score(tree, X, y, random_state=5)
    b = memorization_score(tree, X, y, random_state=5)
    np.testing.assert_array_equal(a, b)
    # the estimator is a template: never fitted
    assert not hasattr(tree, "tree_")


@pytest.mark.parametrize(
    "labels", [np.array(["dog", "cat"]), np.array([7, -2])], ids=["str", "unsorted"]
)
def test_labels_map_through_classes(labels):
    X, y = blobs()
    y[:5] = 1 - y[:5]
    expected = memorization_score(LogisticRegression(), X, y, random_state=0)
    got = memorization_score(LogisticRegression(), X, labels[y], random_state=0)
    np.testing.assert_allclose(got, expected, atol=1e-6)


class ReversedColumns(ClassifierMixin, BaseEstimator):
    """A classifier whose classes_ (and probability columns) are not sorted."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_[::-1]
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)[:, ::-1]


def test_unsorted_classes_of_the_estimator():
    X, y = blobs()
    y[:5] = 1 - y[:5]
    labels = np.array(["b", "a"])[y]
    expected = memorization_score(LogisticRegression(), X, labels, random_state=0)
    got = memorization_score(ReversedColumns(), X, labels, random_state=0)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_three_classes_and_fold_missing_a_class():
    X, y = make_blobs(60, centers=3, random_state=0)
    scores = memorization_score(LogisticRegression(), X, y, random_state=0)
    assert scores.shape == (60,)
    # class 2 only in the last fold: the model trained without it predicts 2 columns
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    cv = [(np.arange(40), np.arange(40, 60)), (np.arange(20, 60), np.arange(20))]
    cv.append((np.r_[0:20, 40:60], np.arange(20, 40)))
    _, _, held_out = memorization_score(
        LogisticRegression(), X, y, cv=cv, return_proba=True
    )
    assert np.all(held_out[40:, 2] == 0)


def test_sample_weight_and_params_reach_fit():
    X, y = blobs()
    y[0] = 1 - y[0]
    weight = np.ones(len(y))
    weight[0] = 0  # the tree ignores the mislabelled example: nothing to memorize
    scores = memorization_score(
        DecisionTreeClassifier(), X, y, sample_weight=weight, random_state=0
    )
    assert abs(scores[0]) < 1e-12
    via_params = memorization_score(
        DecisionTreeClassifier(), X, y, params={"sample_weight": weight}, random_state=0
    )
    np.testing.assert_array_equal(scores, via_params)
    with pytest.raises(ValueError, match="sample_weight is given twice"):
        memorization_score(
            DecisionTreeClassifier(),
            X,
            y,
            sample_weight=weight,
            params={"sample_weight": weight},
        )


def test_groups_reach_the_splitter_and_n_jobs():
    X, y = blobs()
    y[:5] = 1 - y[:5]
    groups = np.arange(60) % 6
    scores = memorization_score(
        LogisticRegression(), X, y, cv=GroupKFold(3), groups=groups
    )
    assert scores.shape == (60,)
    parallel = memorization_score(
        LogisticRegression(), X, y, cv=GroupKFold(3), groups=groups, n_jobs=2
    )
    np.testing.assert_allclose(parallel, scores)


def test_precomputed_held_out_half():
    X, y = blobs()
    y[:5] = 1 - y[:5]
    held_out = cross_val_predict(LogisticRegression(), X, y, method="predict_proba")
    scores, _, reused = memorization_score(
        LogisticRegression(),
        X,
        y,
        held_out_proba=held_out,
        in_sample="full",
        return_proba=True,
    )
    np.testing.assert_array_equal(reused, held_out)
    in_sample = LogisticRegression().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(
        scores, in_sample[np.arange(60), y] - held_out[np.arange(60), y]
    )
    full = dict(in_sample="full")
    with pytest.raises(ValueError, match="held_out_proba must have shape"):
        memorization_score(
            LogisticRegression(), X, y, held_out_proba=held_out[:, :1], **full
        )
    with pytest.raises(ValueError, match="held_out_proba must have shape"):
        memorization_score(
            LogisticRegression(), X, y, held_out_proba=held_out[1:], **full
        )
    with pytest.raises(ValueError, match="sum to 1"):
        memorization_score(
            LogisticRegression(), X, y, held_out_proba=held_out * 0.5, **full
        )
    with pytest.raises(ValueError, match="cv is unused"):
        memorization_score(
            LogisticRegression(), X, y, cv=3, held_out_proba=held_out, **full
        )
    # the default in-sample half needs the fold models, which an array lacks
    with pytest.raises(ValueError, match="in_sample='full'"):
        memorization_score(LogisticRegression(), X, y, held_out_proba=held_out)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cv=1), "'cv' parameter"),
        (dict(cv="five"), "'cv' parameter"),
        (dict(cv=ShuffleSplit(3, random_state=0)), "partition"),
        (dict(cv=40), "rarest class"),
        (dict(procedure="mat"), "'procedure' parameter"),
        (dict(in_sample="all"), "'in_sample' parameter"),
        (dict(random_state="zero"), "'random_state' parameter"),
    ],
)
def test_bad_parameters(kwargs, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        memorization_score(LogisticRegression(), X, y, **kwargs)


def test_bad_data():
    X, y = blobs()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        memorization_score(LogisticRegression(), X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        memorization_score(LogisticRegression(), X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        memorization_score(LogisticRegression(), X, np.zeros(60))
    with pytest.raises(ValueError, match="Unknown label type"):
        memorization_score(LogisticRegression(), X, np.linspace(0, 1, 60))
    with pytest.raises(ValueError, match="'estimator' parameter"):
        memorization_score(object(), X, y)


# --- procedure="erm": a MATClassifier's held-out phase reused ------------------------


def _data():
    X, y, groups = make_spurious_memorization(120, n_noise_features=100, random_state=0)
    return X, y, groups


@pytest.mark.parametrize("in_sample", ["folds", "full"])
@pytest.mark.parametrize("fold_training", ["sequential", "batched"])
def test_erm_reuse_equals_retraining(fold_training, in_sample):
    """Reusing a fitted MATClassifier's held-out phase gives the score of retraining.

    The retraining path fits ``MATClassifier(net, shift_strength=0)`` (plain
    training of the same net, with MAT's net construction and seed), or the plain
    skorch net under the same torch seed, on MAT's own folds. Its fold models are
    then the nets MAT trained in its held-out phase, up to float rounding (measured:
    1e-7 one by one, 2e-7 batched).
    """
    X, y, _ = _data()
    net = small_net(max_epochs=10)
    mat = MATClassifier(
        net, cv=3, shift_strength=1.0, random_state=4, fold_training=fold_training
    )
    mat.fit(X, y)
    reused, in_sample_proba, held_out = memorization_score(
        mat, X, y, procedure="erm", in_sample=in_sample, return_proba=True
    )
    np.testing.assert_array_equal(held_out, mat.held_out_proba_)
    if in_sample == "folds":
        # no fit at all: the fold nets predict the examples they trained on
        expected = np.zeros_like(in_sample_proba)
        for model, train in zip(
            mat.held_out_estimators_, mat.held_out_estimators_samples_
        ):
            expected[train] += model.predict_proba(X[train]) / 2
        np.testing.assert_allclose(in_sample_proba, expected, rtol=1e-6)

    # MAT's folds: StratifiedKFold seeded by the first draw of its random_state
    seed = np.random.RandomState(4).randint(MAX_SEED)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=seed).split(X, y))
    erm = MATClassifier(net, cv=3, shift_strength=0, random_state=4)
    retrained, in_sample_2, held_out_2 = memorization_score(
        erm, X, y, cv=folds, in_sample=in_sample, return_proba=True
    )
    np.testing.assert_allclose(in_sample_2, in_sample_proba, atol=1e-5)
    np.testing.assert_allclose(held_out_2, held_out, atol=1e-5)
    np.testing.assert_allclose(retrained, reused, atol=1e-5)
    # the same with the plain skorch net, seeded by memorization_score
    plain = small_net(max_epochs=10, module__n_features_in=100 + 2, module__n_classes=2)
    retrained_plain = memorization_score(
        plain, X, y, cv=folds, in_sample=in_sample, random_state=4
    )
    np.testing.assert_allclose(retrained_plain, reused, atol=1e-5)

    # an unfitted MATClassifier: fitted here, same result
    unfitted = memorization_score(
        clone(mat), X, y, procedure="erm", in_sample=in_sample
    )
    np.testing.assert_allclose(unfitted, reused, atol=1e-6)
    # its own random_state may be repeated
    memorization_score(mat, X, y, procedure="erm", random_state=4)


def test_erm_errors():
    X, y, _ = _data()
    net = small_net(max_epochs=2)
    with pytest.raises(ValueError, match="procedure='erm' scores plain training"):
        memorization_score(LogisticRegression(), X, y, procedure="erm")
    with pytest.raises(ValueError, match="held_out='kfold'"):
        memorization_score(MATClassifier(net, held_out="xrm"), X, y, procedure="erm")
    with pytest.raises(ValueError, match="held_out_estimator=None"):
        memorization_score(
            MATClassifier(net, held_out_estimator=LogisticRegression()),
            X,
            y,
            procedure="erm",
        )
    mat = MATClassifier(net, cv=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="leave cv=None"):
        memorization_score(mat, X, y, procedure="erm", cv=3)
    with pytest.raises(ValueError, match="random_state must be None or its"):
        memorization_score(mat, X, y, procedure="erm", random_state=1)
    with pytest.raises(ValueError, match="fitted on 120 examples, X has 60"):
        memorization_score(mat, X[:60], y[:60], procedure="erm")
    with pytest.raises(ValueError, match="features"):
        memorization_score(mat, X[:, :50], y, procedure="erm")
    precomputed = clone(mat).fit(X, y, held_out_proba=mat.held_out_proba_)
    with pytest.raises(ValueError, match="fitted with precomputed held_out_proba"):
        memorization_score(precomputed, X, y, procedure="erm")
    # ... which may be passed on explicitly, with an in-sample net fitted on all
    reused = memorization_score(mat, X, y, procedure="erm", in_sample="full")
    explicit = memorization_score(
        precomputed,
        X,
        y,
        procedure="erm",
        held_out_proba=mat.held_out_proba_,
        in_sample="full",
    )
    np.testing.assert_allclose(explicit, reused)
    with pytest.raises(ValueError, match="in_sample='full'"):
        memorization_score(
            precomputed, X, y, procedure="erm", held_out_proba=mat.held_out_proba_
        )


def test_erm_groups_reach_the_mat_splitter():
    X, y, groups = _data()
    mat = MATClassifier(small_net(max_epochs=2), cv=GroupKFold(3), random_state=0)
    scores = memorization_score(mat, X, y, procedure="erm", groups=groups)
    assert scores.shape == (len(y),)
    with pytest.raises(ValueError, match="groups is given twice"):
        memorization_score(
            mat, X, y, procedure="erm", groups=groups, params={"groups": groups}
        )


def test_mat_lowers_the_minority_score():
    """The MAT procedure (MAT inside every fold) against plain training of its net."""
    X, y, groups = make_spurious_memorization(200, n_noise_features=400, random_state=0)
    # a small version of the paper's Figure-1 net: bias-free linear, full-batch SGD
    net = small_net(
        Linear, module__bias=False, optimizer=torch.optim.SGD, lr=0.1, max_epochs=100
    )
    net.set_params(batch_size=-1, iterator_train__shuffle=False)
    mat = MATClassifier(net, cv=5, shift_strength=1.0, random_state=0).fit(X, y)
    erm = memorization_score(mat, X, y, procedure="erm")
    mat_scores = memorization_score(mat, X, y, cv=3, random_state=0)
    minority = (groups == 1) | (groups == 2)
    # measured: 0.63 and 0.32 (0.61 and 0.31 with in_sample="full")
    assert erm[minority].mean() > 0.5
    assert mat_scores[minority].mean() < erm[minority].mean() - 0.2
    assert abs(erm[~minority].mean()) < 0.1 and abs(mat_scores[~minority].mean()) < 0.1


# --- MemorizationDisplay -------------------------------------------------------------


@pytest.fixture
def pyplot():
    plt = pytest.importorskip("matplotlib.pyplot")
    yield plt
    plt.close("all")


def _scores():
    rng = np.random.RandomState(0)
    groups = np.repeat([0, 1, 2, 3], [45, 5, 5, 45])
    minority = (groups == 1) | (groups == 2)
    erm = np.clip(np.where(minority, 0.7, 0.0) + 0.1 * rng.randn(100), -1, 1)
    mat = np.clip(0.1 * rng.randn(100), -1, 1)
    return erm, mat, groups


@pytest.mark.parametrize("kind", ["violin", "hist"])
def test_display_from_scores(pyplot, kind):
    erm, mat, groups = _scores()
    names = {0: "y=0 a=0", 1: "y=0 a=1", 2: "y=1 a=0", 3: "y=1 a=1"}
    display = MemorizationDisplay.from_scores(
        [erm, mat], groups=groups, name=["ERM", "MAT"], group_names=names, kind=kind
    )
    assert display.figure_ is display.ax_.figure
    ax = display.ax_
    assert ax.get_title() == "Memorization score per group"
    assert "memorization score" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "ERM",
        "MAT",
        "mean",
    ]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[1] == "y=0 a=1\n(n=5)"
    assert display.mean_scores_.shape == (2, 4)
    np.testing.assert_allclose(display.mean_scores_[0, 1], erm[groups == 1].mean())


def test_display_single_model_no_groups_and_constant_scores(pyplot):
    display = MemorizationDisplay(scores=np.zeros(10)).plot()
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == ["all\n(n=10)"]
    assert display.mean_scores_.tolist() == [[0.0]]
    _, ax = pyplot.subplots()
    groups = np.array(["a"] * 9 + ["b"])
    display = MemorizationDisplay(
        scores=np.linspace(0, 1, 10), groups=groups, name="tree"
    ).plot(ax=ax, kind="violin")
    assert display.ax_ is ax


@pytest.mark.parametrize("kind", ["violin", "hist"])
def test_display_plot_passes_matplotlib_properties(pyplot, kind):
    """plot(*, ax=None, ..., **kwargs), as scikit-learn's Displays: kwargs style the
    violins' bodies or the histograms' bars; ax is keyword-only."""
    erm, mat, groups = _scores()
    display = MemorizationDisplay(scores=[erm, mat], groups=groups)
    display.plot(kind=kind, alpha=0.25, linewidth=2.5)
    artists = display.ax_.collections if kind == "violin" else display.ax_.patches
    assert artists
    assert {round(artist.get_alpha(), 2) for artist in artists} == {0.25}
    widths = {float(np.ravel(artist.get_linewidth())[0]) for artist in artists}
    assert widths == {2.5}
    _, ax = pyplot.subplots()
    with pytest.raises(TypeError):
        display.plot(ax)


def test_display_errors(pyplot):
    erm, mat, groups = _scores()
    display = MemorizationDisplay(scores=[erm, mat], groups=groups, name=["ERM"])
    with pytest.raises(ValueError, match="one name per model"):
        display.plot()
    with pytest.raises(ValueError, match="kind must be"):
        display.plot(kind="box", name=["a", "b"])
    with pytest.raises(ValueError, match="group_names has no label"):
        MemorizationDisplay(scores=erm, groups=groups, group_names={0: "x"}).plot()
    with pytest.raises(ValueError, match="groups must have one entry"):
        MemorizationDisplay(scores=erm, groups=groups[1:]).plot()
    with pytest.raises(ValueError, match="same length"):
        MemorizationDisplay(scores=[erm, mat[1:]]).plot()


def test_display_from_estimator(pyplot):
    X, y = blobs()
    y[:5] = 1 - y[:5]
    groups = np.where(np.arange(60) < 5, "flipped", "clean")
    display = MemorizationDisplay.from_estimator(
        [DecisionTreeClassifier(), LogisticRegression()],
        X,
        y,
        groups=groups,
        random_state=0,
    )
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["DecisionTreeClassifier", "LogisticRegression", "mean"]
    flipped = list(np.unique(groups)).index("flipped")
    assert display.mean_scores_[0, flipped] == 1.0
    expected = memorization_score(LogisticRegression(), X, y, random_state=0)
    np.testing.assert_allclose(display.scores[1], expected)
    full = MemorizationDisplay.from_estimator(
        LogisticRegression(), X, y, in_sample="full", random_state=0
    )
    expected = memorization_score(
        LogisticRegression(), X, y, in_sample="full", random_state=0
    )
    np.testing.assert_allclose(full.scores[0], expected)
    assert not np.allclose(full.scores[0], display.scores[1])
    with pytest.raises(ValueError, match="one per estimator"):
        MemorizationDisplay.from_estimator(
            [LogisticRegression()], X, y, procedure=["estimator", "erm"]
        )


def test_display_needs_matplotlib(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="requires matplotlib"):
        MemorizationDisplay(scores=np.zeros(3)).plot()

"""Reproducibility that cannot be lost quietly (issue 31): a ``random_state`` seeds
the random draws of the net's ``train_split`` and of a scikit-learn
``held_out_estimator``, whatever the global numpy RNG holds."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold
from skorch.dataset import ValidSplit

from skmat import JTTClassifier, MATClassifier

from .conftest import small_net

X, Y = make_classification(80, 5, flip_y=0.1, random_state=0)
X = X.astype(np.float32)


def _fit_twice(make, attribute="predict_proba"):
    """Two fits of ``make()`` with the same ``random_state`` under different global
    numpy RNG states (which an unseeded draw would read)."""
    results = []
    for global_seed in [1, 2]:
        np.random.seed(global_seed)
        model = make().fit(X, Y)
        value = getattr(model, attribute)
        results.append(value(X) if callable(value) else value)
    return results


@pytest.mark.parametrize(
    "train_split",
    [
        ValidSplit(0.2, stratified=True),
        ValidSplit(0.25),
        ValidSplit(ShuffleSplit(1, test_size=0.2)),
    ],
    ids=["stratified-share", "share", "shuffle-split"],
)
@pytest.mark.parametrize("held_out", ["kfold", "xrm"])
def test_the_nets_train_split_follows_random_state(train_split, held_out):
    net = small_net(max_epochs=5, train_split=train_split)

    def make():
        return MATClassifier(net, held_out=held_out, cv=3, random_state=0)

    first, second = _fit_twice(make)
    assert_allclose(first, second, atol=1e-6, rtol=0)
    assert train_split.random_state is None  # the user's split is left as it was
    assert getattr(train_split.cv, "random_state", None) is None
    # another random_state draws another validation split
    fitted = make().fit(X, Y).estimator_
    other = MATClassifier(net, held_out=held_out, cv=3, random_state=1).fit(X, Y)
    assert _seed(fitted.train_split) != _seed(other.estimator_.train_split)


def _seed(split):
    return getattr(split.cv, "random_state", split.random_state)


def test_a_seeded_or_deterministic_train_split_is_kept():
    from skmat._user_net import seeded_train_split

    for split in [ValidSplit(0.2, random_state=3), ValidSplit(5), None]:
        assert seeded_train_split(split, 7) is split


def test_a_scikit_learn_held_out_estimator_follows_random_state():
    def make():
        return JTTClassifier(
            small_net(max_epochs=3),
            held_out_estimator=RandomForestClassifier(n_estimators=5),
            cv=3,
            random_state=0,
        )

    first, second = _fit_twice(make, "held_out_proba_")
    assert_allclose(first, second)


@pytest.mark.parametrize(
    "cv",
    [StratifiedKFold(3, shuffle=True), KFold(3, shuffle=True)],
    ids=["stratified", "kfold"],
)
def test_a_shuffling_cv_splitter_follows_random_state(cv):
    def make():
        return MATClassifier(small_net(max_epochs=3), cv=cv, random_state=0)

    first, second = _fit_twice(make, "held_out_estimators_samples_")
    for a, b in zip(first, second):
        assert_array_equal(a, b)
    assert cv.random_state is None  # the user's splitter is left as it was
    other = MATClassifier(small_net(max_epochs=3), cv=cv, random_state=1).fit(X, Y)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(first, other.held_out_estimators_samples_)
    )


def test_a_deterministic_cv_splitter_is_kept():
    from skmat._random import seeded_splitter

    for cv in [KFold(3), StratifiedKFold(3, shuffle=True, random_state=2), [1, 2]]:
        assert seeded_splitter(cv, 7) is cv

"""Early stopping of the final net on validation worst-group accuracy
(skmat._early_stopping): the best epoch, the validation split and its groups."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from skmat import MATClassifier
from skmat._user_net import make_shifted_net
from skmat.metrics import (
    worst_group_accuracy,
    worst_group_scorer,
)

from .conftest import net_dataset, small_net


def es_mat(**params):
    params = {"cv": 3, "random_state": 0, "early_stopping": True, **params}
    estimator = params.pop("estimator", small_net(max_epochs=30))
    return MATClassifier(estimator, **params)


def test_early_stopping_keeps_the_best_epoch(noisy_data):
    X, y = noisy_data
    clf = es_mat(n_iter_no_change=None).fit(X, y)
    scores = clf.validation_scores_
    assert scores.shape == (30,)
    accuracy = clf.estimator_.history[:, "valid_accuracy"]
    best = max(zip(scores, accuracy))
    assert (
        clf.best_epoch_
        == max(i for i, pair in enumerate(zip(scores, accuracy)) if pair == best) + 1
    )
    # The kept weights are those of best_epoch_: training the same net on the same
    # examples for best_epoch_ epochs gives the same model.
    train = np.setdiff1d(np.arange(len(y)), clf.validation_indices_)
    net = make_shifted_net(
        small_net(max_epochs=clf.best_epoch_),
        param_name="estimator",
        n_features=X.shape[1],
        n_classes=2,
        random_state=0,
        verbose=0,
    )
    shift = clf.logit_shift_[train]
    net.fit(net_dataset(X[train], y[train], logit_shift=shift), y[train])
    assert_allclose(net.predict_proba(X), clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_early_stopping_stops_after_n_iter_no_change(noisy_data):
    X, y = noisy_data
    clf = es_mat(estimator=small_net(max_epochs=200), n_iter_no_change=3).fit(X, y)
    history = clf.estimator_.history
    pairs = list(
        zip(history[:, "valid_worst_group_accuracy"], history[:, "valid_accuracy"])
    )
    n_epochs = len(pairs)
    assert n_epochs < 200
    # the last strict improvement came 3 epochs before the end
    assert pairs[-4] == max(pairs[:-3]) and max(pairs[-3:]) <= pairs[-4]
    # the kept epoch is the best pair (the later one on a tie)
    best = max(pairs)
    assert clf.best_epoch_ == max(i for i, p in enumerate(pairs) if p == best) + 1


def test_validation_part_is_held_out_of_the_final_fit(noisy_data):
    X, y = noisy_data
    clf = es_mat(validation_fraction=0.25).fit(X, y)
    assert len(clf.validation_indices_) == 50
    assert clf.held_out_proba_.shape == (200, 2)  # the held-out phase sees all
    # the final net trained on 150 examples: one full batch of 64, 64 and 22
    assert clf.estimator_.history[-1, "batches", -1, "train_batch_size"] == 22


@pytest.mark.parametrize("source", ["inferred", "given", "constant"])
def test_validation_groups(noisy_data, source):
    X, y = noisy_data
    groups = {
        "inferred": None,
        "given": np.where(X[:, 0] > 0, "right", "left"),
        "constant": np.zeros(len(y)),
    }[source]
    clf = es_mat(validation_fraction=0.3).fit(X, y, groups=groups)
    valid = clf.validation_indices_
    expected_groups = clf.inferred_groups_ if groups is None else groups
    best = clf.validation_scores_[clf.best_epoch_ - 1]
    assert best == pytest.approx(
        worst_group_accuracy(
            y[valid], clf.predict(X[valid]), groups=expected_groups[valid]
        )
    )
    if source == "constant":
        assert best == pytest.approx(clf.score(X[valid], y[valid]))


def test_early_stopping_weights_the_validation_score(noisy_data):
    X, y = noisy_data
    weight = np.linspace(0.1, 2.0, len(y))
    clf = es_mat().fit(X, y, sample_weight=weight)
    valid = clf.validation_indices_
    groups = clf.inferred_groups_[valid]
    expected = worst_group_accuracy(
        y[valid], clf.predict(X[valid]), groups=groups, sample_weight=weight[valid]
    )
    assert clf.validation_scores_[clf.best_epoch_ - 1] == pytest.approx(expected)


def test_early_stopping_with_routed_groups_in_a_grid_search(noisy_data):
    X, y = noisy_data
    groups = (X[:, 0] > 0).astype(int) + 2 * y
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            es_mat(),  # fit requests groups by default
            {"shift_strength": [0, 1]},
            cv=2,
            scoring=worst_group_scorer,
            error_score="raise",
        ).fit(X, y, groups=groups)
    assert hasattr(search.best_estimator_, "best_epoch_")


def test_early_stopping_model_pickles_without_its_validation_data(noisy_data):
    X, y = noisy_data
    clf = es_mat().fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    # the callback has served: the fitted net no longer holds it, nor its data
    assert "skmat_early_stopping" not in dict(clf.estimator_.callbacks_)
    restored.estimator_.partial_fit(X, y)  # goes on as the user's net


def test_no_early_stopping_attributes_by_default(noisy_fitted):
    assert not hasattr(noisy_fitted, "best_epoch_")
    assert not hasattr(noisy_fitted, "validation_scores_")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"early_stopping": "yes"}, "early_stopping"),
    ],
)
def test_bad_early_stopping_parameters(noisy_data, params, match):
    X, y = noisy_data
    with pytest.raises(InvalidParameterError, match=match):
        es_mat(**params).fit(X, y)


def test_early_stopping_errors(noisy_data):
    X, y = noisy_data
    with pytest.raises(ValueError, match="callbacks='disable'"):
        es_mat(estimator=small_net(callbacks="disable")).fit(X, y)
    with pytest.raises(ValueError, match="groups must have shape"):
        es_mat().fit(X, y, groups=np.zeros(5))
    with pytest.raises(ValueError, match="validation_fraction"):
        es_mat(validation_fraction=0.999).fit(X[:50], y[:50])

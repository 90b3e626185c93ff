"""JTT, Group DRO and group-balanced reweighting: one loss mechanism with MAT."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

from skmat import (
    GroupBalancedClassifier,
    GroupDROClassifier,
    JTTClassifier,
    MATClassifier,
)
from skmat._rows import GROUP_KEY, WEIGHT_KEY
from skmat._user_net import make_shifted_net
from skmat.datasets import make_overparam_toy
from skmat.metrics import worst_group_accuracy, worst_group_scorer

from .conftest import small_net


@pytest.fixture(scope="module")
def toy():
    """A shortcut data set: the spurious attribute predicts y in 90% of training."""
    X, y, groups = make_overparam_toy(n_samples=600, n_noise_features=0, random_state=0)
    X_test, y_test, groups_test = make_overparam_toy(
        n_samples=2000, n_noise_features=0, random_state=1
    )
    return X, y, groups, X_test, y_test, groups_test


@pytest.fixture(scope="module")
def held_out(toy):
    """Held-out probabilities of the toy's training set, shared by the methods."""
    X, y = toy[:2]
    return MATClassifier(small_net(), cv=3, random_state=0).fit(X, y).held_out_proba_


def _erm(X, y, **fit_params):
    """The same net trained by plain (weighted) ERM through MATClassifier."""
    mat = MATClassifier(small_net(), shift_strength=0.0, random_state=0)
    return mat.fit(X, y, **fit_params)


# --- JTT -----------------------------------------------------------------------------


def test_jtt_upweights_the_held_out_errors(toy, held_out):
    X, y = toy[:2]
    jtt = JTTClassifier(small_net(), upweight=7.0, random_state=0)
    jtt.fit(X, y, held_out_proba=held_out)
    assert_array_equal(jtt.error_set_, held_out.argmax(axis=1) != y)
    assert 0 < jtt.error_set_.sum() < len(y) // 4
    # the same final net as ERM with those weights: one loss mechanism
    weights = np.where(jtt.error_set_, 7.0, 1.0)
    erm = _erm(X, y, sample_weight=weights, held_out_proba=held_out)
    assert_allclose(jtt.predict_proba(X), erm.predict_proba(X), atol=1e-6)


def test_jtt_with_upweight_one_is_erm(toy, held_out):
    X, y = toy[:2]
    jtt = JTTClassifier(small_net(), upweight=1.0, random_state=0)
    jtt.fit(X, y, held_out_proba=held_out)
    erm = _erm(X, y, held_out_proba=held_out)
    assert_allclose(jtt.predict_proba(X), erm.predict_proba(X), atol=1e-5)


def test_jtt_multiplies_user_weights(toy, held_out):
    X, y = toy[:2]
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, len(y))
    jtt = JTTClassifier(small_net(), upweight=3.0, random_state=0)
    jtt.fit(X, y, sample_weight=sample_weight, held_out_proba=held_out)
    weights = np.where(jtt.error_set_, 3.0, 1.0) * sample_weight
    erm = _erm(X, y, sample_weight=weights, held_out_proba=held_out)
    assert_allclose(jtt.predict_proba(X), erm.predict_proba(X), atol=1e-5)


def test_jtt_in_sample_uses_one_model_trained_on_everything(toy):
    X, y = toy[:2]
    first = small_net(max_epochs=2)
    jtt = JTTClassifier(
        small_net(), held_out="in_sample", held_out_estimator=first, random_state=0
    ).fit(X, y)
    (model,) = jtt.held_out_estimators_
    assert len(model.history) == 2
    (trained_on,) = jtt.held_out_estimators_samples_
    assert_array_equal(trained_on, np.arange(len(y)))
    assert_array_equal(jtt.error_set_, model.predict(X) != y)
    # new data: misclassified by the one model
    assert_array_equal(
        jtt.infer_groups(X[:50], y[:50]), 2 * y[:50] + jtt.error_set_[:50]
    )


def test_jtt_improves_worst_group_accuracy(toy):
    X, y, groups, X_test, y_test, groups_test = toy
    erm = _erm(X, y)
    jtt = JTTClassifier(small_net(), upweight=10.0, random_state=0).fit(X, y)
    erm_wga = worst_group_accuracy(y_test, erm.predict(X_test), groups=groups_test)
    jtt_wga = worst_group_accuracy(y_test, jtt.predict(X_test), groups=groups_test)
    assert erm_wga < 0.5  # measured 0.43
    assert jtt_wga > erm_wga + 0.1  # measured 0.62


def test_upweight_below_one_is_an_error(toy):
    X, y = toy[:2]
    with pytest.raises(InvalidParameterError, match="upweight"):
        JTTClassifier(small_net(), upweight=0.5).fit(X, y)


# --- group-balanced reweighting ------------------------------------------------------


def test_balanced_weights_are_sklearns_balanced_rule(toy):
    X, y, groups = toy[:3]
    labels = np.array(["maj-0", "min-0", "min-1", "maj-1"])[groups]
    clf = GroupBalancedClassifier(small_net(), random_state=0)
    clf.fit(X, y, groups=labels)
    assert not clf.groups_inferred_
    assert not hasattr(clf, "held_out_proba_")  # no held-out phase with groups
    assert_array_equal(clf.groups_, np.unique(labels))
    counts = np.array([np.sum(labels == g) for g in clf.groups_])
    assert_allclose(clf.group_weights_, len(y) / (4 * counts))
    erm = _erm(X, y, sample_weight=compute_sample_weight("balanced", labels))
    assert_allclose(clf.predict_proba(X), erm.predict_proba(X), atol=1e-5)


def test_balanced_weights_count_sample_weight_mass(toy):
    X, y, groups = toy[:3]
    sample_weight = np.where(groups == 0, 2.0, 1.0)
    sample_weight[groups == 3] = 0.0  # a group that weighs nothing keeps weight 0
    clf = GroupBalancedClassifier(small_net(max_epochs=1), random_state=0)
    clf.fit(X, y, groups=groups, sample_weight=sample_weight)
    mass = np.bincount(groups, weights=sample_weight)
    expected = np.divide(mass.sum(), 4 * mass, where=mass > 0, out=np.zeros(4))
    assert_allclose(clf.group_weights_, expected)
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_group_methods_infer_groups_without_them(toy, held_out):
    X, y = toy[:2]
    clf = GroupBalancedClassifier(small_net(max_epochs=1), random_state=0)
    clf.fit(X, y, held_out_proba=held_out)
    assert clf.groups_inferred_
    inferred = 2 * y + (held_out.argmax(axis=1) != y)
    assert_array_equal(clf.inferred_groups_, inferred)
    assert_array_equal(clf.groups_, np.unique(inferred))


def test_infer_groups_needs_a_held_out_phase(toy):
    X, y, groups = toy[:3]
    clf = GroupDROClassifier(small_net(max_epochs=1), random_state=0)
    clf.fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="fitted with groups"):
        clf.infer_groups()


def test_groups_of_the_wrong_length_are_an_error(toy):
    X, y, groups = toy[:3]
    with pytest.raises(ValueError, match="groups must have shape"):
        GroupBalancedClassifier(small_net()).fit(X, y, groups=groups[:-1])


# --- Group DRO -----------------------------------------------------------------------


def _dro_net(n_groups, eta):
    net = make_shifted_net(
        small_net(),
        param_name="estimator",
        n_features=2,
        n_classes=2,
        random_state=0,
        verbose=False,
    )
    return net.set_params(group_step_size=eta, n_groups=n_groups).initialize()


def test_group_dro_loss_follows_the_online_update():
    net = _dro_net(n_groups=3, eta=0.5)
    y_pred = torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0], [0.0, 0.0]])
    y_true = torch.tensor([0, 0, 1, 1])
    groups = np.array([0, 0, 1, 1])  # group 2 is absent from the batch
    weight = np.array([1.0, 3.0, 1.0, 1.0], dtype=np.float32)
    inputs = {GROUP_KEY: groups, WEIGHT_KEY: weight}
    per_example = torch.nn.functional.cross_entropy(y_pred, y_true, reduction="none")
    group_loss = torch.stack(
        [
            (per_example[:2] * torch.tensor([1.0, 3.0])).sum() / 4,
            per_example[2:].mean(),
            torch.tensor(0.0),
        ]
    )
    q = torch.full((3,), 1 / 3, dtype=torch.float64)
    for _ in range(2):  # two steps: the weights carry over
        loss = net.get_loss(y_pred, y_true, X=inputs, training=True)
        q = q * torch.exp(0.5 * group_loss.double())
        q = q / q.sum()
        assert_allclose(net.group_weights_.numpy(), q.numpy(), rtol=1e-6)
        assert_allclose(loss.item(), (group_loss * q.float()).sum().item(), rtol=1e-5)
    # validation and prediction losses stay the plain weighted mean
    loss = net.get_loss(y_pred, y_true, X=inputs, training=False)
    expected = (per_example * torch.tensor(weight)).sum() / weight.sum()
    assert_allclose(loss.item(), expected.item(), rtol=1e-6)


def test_group_dro_improves_worst_group_accuracy(toy):
    X, y, groups, X_test, y_test, groups_test = toy
    dro = GroupDROClassifier(small_net(), eta=0.1, random_state=0)
    dro.fit(X, y, groups=groups)
    assert dro.group_weights_.shape == (4,)
    assert_allclose(dro.group_weights_.sum(), 1.0)
    erm = _erm(X, y)
    erm_wga = worst_group_accuracy(y_test, erm.predict(X_test), groups=groups_test)
    dro_wga = worst_group_accuracy(y_test, dro.predict(X_test), groups=groups_test)
    assert dro_wga > erm_wga + 0.25  # measured 0.43 -> 0.82


def test_group_dro_weights_restart_at_every_fit(toy):
    X, y, groups = toy[:3]
    dro = GroupDROClassifier(small_net(max_epochs=3), eta=0.1, random_state=0)
    first = dro.fit(X, y, groups=groups).group_weights_
    second = dro.fit(X, y, groups=groups).group_weights_
    assert_allclose(first, second)
    restored = pickle.loads(pickle.dumps(dro))
    assert_allclose(restored.predict_proba(X), dro.predict_proba(X))


def test_grid_search_routes_groups_to_group_dro(toy):
    X, y, groups = toy[:3]
    search = GridSearchCV(
        GroupDROClassifier(small_net(max_epochs=5), random_state=0),
        {"eta": [0.01, 1.0]},
        scoring=worst_group_scorer,
        cv=2,
        error_score="raise",
    )
    with config_context(enable_metadata_routing=True):
        search.fit(X, y, groups=groups)
    assert not search.best_estimator_.groups_inferred_
    assert search.best_params_["eta"] in (0.01, 1.0)


def test_group_dro_early_stopping_scores_the_given_groups(toy):
    X, y, groups = toy[:3]
    dro = GroupDROClassifier(
        small_net(),
        eta=0.1,
        early_stopping=True,
        n_iter_no_change=None,
        random_state=0,
    ).fit(X, y, groups=groups)
    valid = dro.validation_indices_
    assert set(np.unique(groups[valid])) == {0, 1, 2, 3}
    assert len(dro.validation_scores_) == 20 and 1 <= dro.best_epoch_ <= 20


def test_eta_must_be_positive(toy):
    X, y = toy[:2]
    with pytest.raises(InvalidParameterError, match="eta"):
        GroupDROClassifier(small_net(), eta=0.0).fit(X, y)

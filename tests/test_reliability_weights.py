"""Weights that mean what they say (issue 31): ``sample_weight`` of ones trains the
model that no ``sample_weight`` trains, whatever the criterion's class weights,
reduction and ``ignore_index``, in every engine and estimator; the held-out phase
with a class-weighted criterion."""

import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification

from skmat import (
    GroupBalancedClassifier,
    GroupDROClassifier,
    JTTClassifier,
    MATClassifier,
)
from skmat._proba import warn_if_degenerate
from skmat._user_net import make_shifted_net
from skmat.exceptions import DegenerateHeldOutWarning

from .conftest import small_net
from .modules import MLP, SoftmaxLinear

X, Y = make_classification(80, 5, weights=[0.7, 0.3], flip_y=0.1, random_state=0)
X = X.astype(np.float32)

# Both fits of a pair run in the same process: they differ only in float rounding
# (measured: not at all on the machine that wrote this; before the fix, up to 0.15).
ATOL = 1e-6

CRITERIA = {
    "class-weights": dict(criterion__weight=torch.tensor([1.0, 5.0])),
    "sum": dict(criterion__reduction="sum"),
    "class-weights-sum": dict(
        criterion__weight=torch.tensor([1.0, 5.0]), criterion__reduction="sum"
    ),
    "ignore-index": dict(criterion__ignore_index=1),
    "nll-class-weights": dict(
        module=SoftmaxLinear,
        criterion=torch.nn.NLLLoss,
        criterion__weight=torch.tensor([1.0, 5.0]),
    ),
}

ESTIMATORS = {
    "mat": lambda net, **params: MATClassifier(net, shift_strength=1.0, **params),
    "jtt": JTTClassifier,
    "group-balanced": GroupBalancedClassifier,
    "group-dro": GroupDROClassifier,
}


def _net(criterion):
    params = dict(CRITERIA[criterion])
    module = params.pop("module", MLP)
    return small_net(module, max_epochs=10, lr=0.01, batch_size=16, **params)


def _proba_pair(make, held_out, fold_training="auto"):
    """Held-out and final probabilities of two fits: without weights, weights 1."""
    results = []
    for sample_weight in [None, np.ones(len(Y))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateHeldOutWarning)
            model = make(
                held_out=held_out, fold_training=fold_training, cv=3, random_state=0
            ).fit(X, Y, sample_weight=sample_weight)
        results.append((model.held_out_proba_, model.predict_proba(X)))
    return results


@pytest.mark.parametrize("held_out", ["kfold", "xrm"])
@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_weights_of_ones_train_the_unweighted_model(estimator, criterion, held_out):
    def make(**params):
        return ESTIMATORS[estimator](_net(criterion), **params)

    (held_none, final_none), (held_ones, final_ones) = _proba_pair(make, held_out)
    assert_allclose(held_ones, held_none, atol=ATOL, rtol=0)
    assert_allclose(final_ones, final_none, atol=ATOL, rtol=0)


@pytest.mark.parametrize("criterion", CRITERIA)
def test_weights_of_ones_in_jtts_in_sample_model(criterion):
    def make(**params):
        return JTTClassifier(_net(criterion), **params)

    (held_none, final_none), (held_ones, final_ones) = _proba_pair(make, "in_sample")
    assert_allclose(held_ones, held_none, atol=ATOL, rtol=0)
    assert_allclose(final_ones, final_none, atol=ATOL, rtol=0)


@pytest.mark.parametrize("held_out", ["kfold", "xrm"])
@pytest.mark.parametrize("fold_training", ["batched", "sequential"])
@pytest.mark.parametrize("criterion", ["class-weights-sum", "ignore-index"])
def test_weights_of_ones_in_each_engine(criterion, fold_training, held_out):
    def make(**params):
        return MATClassifier(_net(criterion), shift_strength=1.0, **params)

    (held_none, final_none), (held_ones, final_ones) = _proba_pair(
        make, held_out, fold_training
    )
    assert_allclose(held_ones, held_none, atol=ATOL, rtol=0)
    assert_allclose(final_ones, final_none, atol=ATOL, rtol=0)


def test_the_engines_agree_on_a_class_weighted_sum():
    def held_out_proba(fold_training):
        return (
            MATClassifier(
                _net("class-weights-sum"),
                held_out="kfold",
                fold_training=fold_training,
                cv=3,
                random_state=0,
            )
            .fit(X, Y, sample_weight=np.arange(len(Y)) % 3 + 0.5)
            .held_out_proba_
        )

    assert_allclose(
        held_out_proba("batched"), held_out_proba("sequential"), atol=1e-5, rtol=0
    )


def test_one_group_is_plain_class_weighted_training():
    net = _net("class-weights")
    balanced = GroupBalancedClassifier(net, random_state=0)
    balanced.fit(X, Y, groups=np.zeros(len(Y)))
    plain = make_shifted_net(
        net,
        param_name="estimator",
        n_features=X.shape[1],
        n_classes=2,
        random_state=0,
        verbose=False,
    ).fit(X, Y)
    assert_allclose(balanced.group_weights_, [1.0])
    assert_allclose(
        balanced.predict_proba(X), plain.predict_proba(X), atol=ATOL, rtol=0
    )


def test_xrm_twins_train_as_without_class_weights():
    def held_out_proba(**params):
        net = small_net(**params)
        model = MATClassifier(net, held_out="xrm", random_state=0)
        return model.fit(X, Y).held_out_proba_

    plain = held_out_proba()
    weighted = held_out_proba(criterion__weight=torch.tensor([1.0, 50.0]))
    assert_allclose(weighted, plain, atol=1e-5, rtol=0)
    assert set(weighted.argmax(1)) == {0, 1}


def test_degenerate_advice_names_the_class_weights(noisy_data):
    X, y = noisy_data
    net = small_net(criterion__weight=torch.tensor([1.0, 50.0]))
    with pytest.warns(
        DegenerateHeldOutWarning,
        match=r"class weights \[1.0, 50.0\].*without criterion__weight.*'xrm'",
    ):
        MATClassifier(
            net, held_out="kfold", cv=3, shift_strength=1.0, random_state=0
        ).fit(X, y)
    # without class weights, the advice does not mention them
    proba = np.tile([0.0, 1.0], (4, 1))
    with pytest.warns(DegenerateHeldOutWarning) as caught:
        warn_if_degenerate(
            proba,
            np.array([0, 0, 1, 1]),
            [0, 1],
            source="held_out='kfold'",
            kind="kfold",
            has_epochs=True,
        )
    assert "class weights" not in str(caught[0].message)
    # XRM's twins train without them (their class-balanced loss replaces them)
    with pytest.warns(DegenerateHeldOutWarning) as caught:
        warn_if_degenerate(
            proba,
            np.array([0, 0, 1, 1]),
            [0, 1],
            source="held_out='xrm'",
            kind="xrm",
            has_epochs=True,
            class_weight=[1.0, 50.0],
        )
    assert "class weights" not in str(caught[0].message)

"""The held-out phase (skmat._held_out): fold nets trained batched equal those
trained one by one, the fallbacks and their reasons, XRM twins, and folds and grid
searches on a Dask cluster through joblib."""

import io
import warnings
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from skmat import JTTClassifier, MATClassifier
from skmat.exceptions import DegenerateHeldOutWarning

from .conftest import small_net
from .modules import MLP, BatchNormMLP, Linear


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=160, n_features=8, n_informative=4, random_state=0
    )
    return X.astype(np.float32), y


def fit(data, **params):
    X, y = data
    # a fixed strength: these tests are about the held-out phase, not the choice
    params = {"cv": 3, "random_state": 0, "shift_strength": 1.0, **params}
    return MATClassifier(params.pop("estimator", small_net()), **params).fit(X, y)


@pytest.mark.parametrize("module", [Linear, MLP], ids=["linear", "mlp"])
@pytest.mark.parametrize("batch_size", [-1, 50])
def test_batched_folds_equal_sequential_folds(data, module, batch_size):
    # float32: the batched products sum in another order; over 20 epochs of Adam the
    # rounding noise stays below 1e-5 (float64 modules agree to ~1e-15,
    # tests/test_batched.py).
    net = small_net(module, batch_size=batch_size)
    batched = fit(data, estimator=net, fold_training="batched")
    sequential = fit(data, estimator=net, fold_training="sequential")
    assert_allclose(batched.held_out_proba_, sequential.held_out_proba_, atol=1e-5)
    assert_allclose(batched.logit_shift_, sequential.logit_shift_, atol=1e-3)
    X, _ = data
    assert_allclose(batched.predict_proba(X), sequential.predict_proba(X), atol=1e-3)
    for model in batched.held_out_estimators_:
        assert len(model.history) == 20


def test_auto_batches_a_small_module(data):
    out = io.StringIO()
    with redirect_stdout(out):
        fit(data, verbose=1)
    assert "trained together as one batched model" in out.getvalue()


@pytest.mark.parametrize(
    "estimator, reason",
    [
        (small_net(BatchNormMLP), "BatchNorm"),
        (small_net(MLP, module__hidden=8000), "small modules"),
        (small_net(optimizer=torch.optim.LBFGS, max_epochs=2), "LBFGS"),
    ],
    ids=["batchnorm", "large", "lbfgs"],
)
def test_auto_falls_back_to_one_by_one_and_says_why(data, estimator, reason):
    out = io.StringIO()
    with redirect_stdout(out):
        clf = fit(data, estimator=estimator, verbose=1)
    assert "held-out folds trained one by one: " in out.getvalue()
    assert reason in out.getvalue()
    assert len(clf.held_out_estimators_) == 3


def test_batched_is_an_error_when_the_net_cannot_be_batched(data):
    with pytest.raises(ValueError, match="fold_training='batched'.*BatchNorm"):
        fit(data, estimator=small_net(BatchNormMLP), fold_training="batched")


def test_folds_and_grid_search_run_on_a_dask_cluster(data):
    distributed = pytest.importorskip("dask.distributed")
    X, y = data
    net = small_net(max_epochs=5)
    local = fit(data, estimator=net, fold_training="sequential")
    grid = {"shift_strength": [0.0, 1.0]}
    search_local = GridSearchCV(
        MATClassifier(net, cv=3, random_state=0, fold_training="sequential"), grid, cv=2
    ).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with (
            joblib.parallel_config(backend="dask"),
            distributed.get_task_stream(client) as tasks,
        ):
            remote = fit(data, estimator=net, fold_training="sequential", n_jobs=-1)
            search = GridSearchCV(
                MATClassifier(net, cv=3, random_state=0, fold_training="sequential"),
                grid,
                cv=2,
                n_jobs=-1,
            ).fit(X, y)
    # the folds and the search's fits ran as tasks on the cluster's workers
    assert len({task["worker"] for task in tasks.data}) == 2
    assert_allclose(remote.held_out_proba_, local.held_out_proba_, rtol=1e-6)
    assert_allclose(
        search.cv_results_["mean_test_score"],
        search_local.cv_results_["mean_test_score"],
    )


# --- held_out_epochs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "held_out, fold_training, module",
    [
        ("kfold", "batched", Linear),
        ("kfold", "sequential", BatchNormMLP),
        ("xrm", "batched", Linear),
        ("xrm", "sequential", BatchNormMLP),
    ],
)
@pytest.mark.parametrize("epochs, expected", [(None, 20), (0.25, 5), (0.01, 1), (7, 7)])
def test_held_out_epochs_set_how_long_the_held_out_nets_train(
    data, held_out, fold_training, module, epochs, expected
):
    clf = fit(
        data,
        estimator=small_net(module),
        held_out=held_out,
        fold_training=fold_training,
        held_out_epochs=epochs,
    )
    assert clf.held_out_estimators_
    for model in clf.held_out_estimators_:
        assert model.max_epochs == expected
        assert len(model.history) == expected
    # the final net trains for all of its epochs
    assert len(clf.estimator_.history) == 20


def test_a_held_out_estimator_trains_for_its_own_epochs(data):
    clf = fit(
        data,
        held_out_estimator=small_net(max_epochs=3),
        held_out_epochs=0.5,
        held_out="xrm",
    )
    assert [len(twin.history) for twin in clf.held_out_estimators_] == [3, 3]


@pytest.mark.parametrize("epochs", [0, -1, 0.0, 1.5, "all"])
def test_held_out_epochs_outside_its_range_is_an_error(data, epochs):
    with pytest.raises(ValueError, match="'held_out_epochs' parameter"):
        fit(data, held_out_epochs=epochs)


# --- held_out="xrm" --------------------------------------------------------------


def test_xrm_twins_give_the_held_out_predictions(data):
    X, y = data
    clf = fit(data, held_out="xrm")
    assert len(clf.held_out_estimators_) == 2
    assert clf.held_out_proba_.shape == (len(y), 2)
    assert_allclose(clf.held_out_proba_.sum(axis=1), 1.0)
    # the twins trained on two halves that split the training set
    half_a, half_b = clf.held_out_estimators_samples_
    assert_array_equal(np.sort(np.r_[half_a, half_b]), np.arange(len(y)))
    for twin, other_half in zip(clf.held_out_estimators_, [half_b, half_a]):
        assert_allclose(
            twin.predict_proba(X[other_half]),
            clf.held_out_proba_[other_half],
            atol=1e-5,
        )
    # each training example is predicted by the twin that did not train on it
    predicted = np.array([t.predict_proba(X) for t in clf.held_out_estimators_])
    from_a = np.isclose(predicted[0], clf.held_out_proba_, atol=1e-5).all(axis=1)
    from_b = np.isclose(predicted[1], clf.held_out_proba_, atol=1e-5).all(axis=1)
    assert np.all(from_a | from_b)
    assert 0.3 < from_a.mean() < 0.7
    # new data: misclassified when either twin is wrong
    wrong = (predicted.argmax(axis=2) != y).any(axis=0)
    assert np.array_equal(clf.infer_groups(X, y), 2 * y + wrong)


def test_xrm_is_reproducible(data):
    X, _ = data
    first, second = fit(data, held_out="xrm"), fit(data, held_out="xrm")
    assert_allclose(first.held_out_proba_, second.held_out_proba_)
    assert_allclose(first.predict_proba(X), second.predict_proba(X))
    other = fit(data, held_out="xrm", random_state=1)
    assert not np.allclose(first.held_out_proba_, other.held_out_proba_)


def test_xrm_twins_of_a_net_that_cannot_be_batched(data):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="fold_training='batched'.*BatchNorm"):
        fit(
            data,
            estimator=small_net(BatchNormMLP),
            held_out="xrm",
            fold_training="batched",
        )
    clf = fit(data, estimator=small_net(BatchNormMLP), held_out="xrm")
    assert clf.held_out_strategy_.kind == "xrm"
    assert clf.held_out_strategy_.engine == "one_by_one"  # in lockstep
    assert "BatchNorm" in clf.held_out_strategy_.reason
    with pytest.raises(ValueError, match="held_out='xrm'.*LogisticRegression"):
        fit(data, held_out="xrm", held_out_estimator=LogisticRegression())


class ConstantLogits(torch.nn.Module):
    """Predicts class 0 for every row (its bias only, which lr=0 keeps)."""

    def __init__(self, n_features_in, n_classes):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.arange(n_classes, 0, -1.0))

    def forward(self, X):
        return self.bias.expand(len(X), -1)


@pytest.mark.parametrize("make", [MATClassifier, JTTClassifier], ids=["mat", "jtt"])
@pytest.mark.parametrize("held_out", ["kfold", "xrm"])
def test_a_degenerate_held_out_phase_is_reported(noisy_data, make, held_out):
    X, y = noisy_data
    estimator = make(
        small_net(),
        held_out_estimator=small_net(ConstantLogits, lr=0.0),
        held_out=held_out,
        random_state=0,
    )
    with pytest.warns(DegenerateHeldOutWarning) as record:
        estimator.fit(X, y)
    message = str(record[0].message)
    assert f"(held_out='{held_out}') are degenerate" in message
    assert "no mistake on class 0; every example of class 1 wrong" in message
    assert "share of predictions per class: 0: 1.00, 1: 0.00" in message
    # what to try names the estimator's own parameters
    has_epochs = "held_out_epochs" in estimator.get_params()
    assert ("fewer epochs or a smaller net (held_out_epochs" in message) == has_epochs
    assert "held_out_estimator)" in message
    # As an error, it stops the fit and leaves the estimator unfitted.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateHeldOutWarning)
        with pytest.raises(DegenerateHeldOutWarning):
            clone(estimator).fit(X, y)


def test_held_out_proba_without_mistakes_in_a_class_is_reported(noisy_data):
    X, y = noisy_data
    perfect_on_zero = np.eye(2)[np.where(y == 0, 0, 1 - y[::-1])]
    with pytest.warns(DegenerateHeldOutWarning, match="no mistake on class 0 \\("):
        MATClassifier(small_net(), random_state=0).fit(
            X, y, held_out_proba=perfect_on_zero
        )


def test_held_out_models_with_mistakes_in_each_class_raise_no_warning(noisy_data):
    X, y = noisy_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateHeldOutWarning)
        for held_out in ["kfold", "xrm"]:
            MATClassifier(small_net(), held_out=held_out, random_state=0).fit(X, y)

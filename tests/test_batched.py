"""The k fold nets trained as one batched model match the one-by-one skorch fits."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold
from skorch.callbacks import EpochScoring
from skorch.dataset import ValidSplit
from torch.utils.data import DataLoader

from skmat._batching import batching_obstacle, choose_engine
from skmat._data import check_net_input
from skmat._kfold import fit_folds_batched
from skmat._user_net import initialized_probe, make_shifted_net, probe_net

from .conftest import net_dataset, small_net
from .modules import MLP, BatchNormMLP, CustomNet, DropoutMLP, Linear, SoftmaxLinear

# The batched matmuls and batch means sum in another order than the one-by-one fits,
# so the weights differ by rounding noise that training carries along (Adam, which
# divides each gradient by its running RMS, can grow it on near-zero gradients). In
# float64 the computations are the same up to ~1e-15; in float32 these 20-epoch fits
# give held-out probabilities within 4e-6 of one another (measured), and 1e-5 leaves
# room for other BLAS builds.
ATOL = {np.float32: 1e-5, np.float64: 1e-10}


class Linear64(Linear):
    def __init__(self, n_features_in, n_classes):
        super().__init__(n_features_in, n_classes)
        self.double()


class MLP64(MLP):
    def __init__(self, n_features_in, n_classes):
        super().__init__(n_features_in, n_classes)
        self.double()


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=203, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    # Stratified test folds of 41, 41, 41, 40, 40: training folds of 162 and 163.
    splits = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    weight = np.random.RandomState(0).uniform(0.1, 2, size=len(X)).astype(np.float32)
    return X, y, splits, weight


def template(estimator, X, y, random_state=0):
    return make_shifted_net(
        estimator,
        param_name="estimator",
        n_features=X.shape[1],
        n_classes=len(np.unique(y)),
        random_state=random_state,
        verbose=0,
    )


def probed(net, X=None, y=None):
    """The net's probe as fit makes it: initialized, and run on X when given."""
    if X is None:
        return initialized_probe(net)
    return probe_net(net, check_net_input(X), len(np.unique(y)), "estimator")


def fit_batched_folds(net, X, y, splits, sample_weight=None):
    """The fold nets the batched path fits."""
    return fit_folds_batched(
        net, check_net_input(X), y, splits, sample_weight=sample_weight
    )


def sequential(net, X, y, splits, sample_weight=None):
    """The fold nets the one-by-one path fits."""
    nets = []
    for train, _ in splits:
        weight = None if sample_weight is None else sample_weight[train]
        nets.append(
            clone(net).fit(
                net_dataset(X[train], y[train], sample_weight=weight), y[train]
            )
        )
    return nets


def assert_same_folds(batched, reference, X, splits):
    atol = ATOL[X.dtype.type]
    for fold, ref, (_, test) in zip(batched, reference, splits):
        np.testing.assert_allclose(
            fold.predict_proba(X[test]), ref.predict_proba(X[test]), atol=atol, rtol=0
        )
        assert len(fold.history) == len(ref.history)
        for key in ["epoch", "train_batch_count"]:
            assert fold.history[:, key] == ref.history[:, key]
        np.testing.assert_allclose(
            fold.history[:, "train_loss"], ref.history[:, "train_loss"], atol=atol
        )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("batch_size", [-1, 54], ids=["full-batch", "batch54"])
@pytest.mark.parametrize("optimizer", [torch.optim.Adam, torch.optim.SGD])
@pytest.mark.parametrize("module", [Linear, MLP])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matches_one_by_one_fits(data, dtype, module, optimizer, batch_size, weighted):
    X, y, splits, weight = data
    if dtype == np.float64:
        module = {Linear: Linear64, MLP: MLP64}[module]
        X, weight = X.astype(dtype), weight.astype(dtype)
    weight = weight if weighted else None
    net = template(small_net(module, optimizer=optimizer, batch_size=batch_size), X, y)
    batched = fit_batched_folds(net, X, y, splits, sample_weight=weight)
    reference = sequential(net, X, y, splits, sample_weight=weight)
    assert_same_folds(batched, reference, X, splits)
    if batch_size == 54:
        # 162 = 3 * 54 rows: 3 full batches; 163 rows: 3 full ones and one of 1.
        # So the folds also differ in their number of steps.
        counts = {fold.history[-1, "train_batch_count"] for fold in batched}
        assert counts == {3, 4}


@pytest.mark.parametrize(
    "params",
    [
        dict(optimizer=torch.optim.AdamW, optimizer__weight_decay=0.1),
        dict(optimizer=torch.optim.Adam, optimizer__amsgrad=True),
        dict(
            optimizer=torch.optim.SGD,
            optimizer__momentum=0.9,
            optimizer__nesterov=True,
            optimizer__weight_decay=1e-3,
        ),
        dict(optimizer=torch.optim.RMSprop, lr=0.01, optimizer__centered=True),
        dict(optimizer=torch.optim.Adagrad, optimizer__lr_decay=0.01),
        dict(optimizer=torch.optim.Adamax),
        dict(optimizer=torch.optim.NAdam),
        dict(optimizer=torch.optim.RAdam),
        dict(optimizer=torch.optim.Adadelta, lr=1.0),
        dict(module=SoftmaxLinear, criterion=torch.nn.NLLLoss),
        dict(iterator_train=DataLoader),
        dict(criterion__label_smoothing=0.1),
        dict(criterion__weight=torch.tensor([1.0, 5.0, 0.5])),
        dict(criterion__reduction="sum", lr=0.002),
        dict(
            criterion__weight=torch.tensor([2.0, 1.0, 3.0]), criterion__ignore_index=1
        ),
        dict(
            module=SoftmaxLinear,
            criterion=torch.nn.NLLLoss,
            criterion__weight=torch.tensor([1.0, 5.0, 0.5]),
            criterion__reduction="sum",
            lr=0.002,
        ),
        dict(optimizer__param_groups=[("linear.bias", {"lr": 0.001})]),
    ],
    ids=lambda params: "-".join(
        getattr(value, "__name__", str(value) if not torch.is_tensor(value) else "w")
        for value in params.values()
    )[:40],
)
def test_matches_one_by_one_fits_settings(data, params):
    X, y, splits, weight = data
    module = params.pop("module", Linear)
    net = template(small_net(module, batch_size=54, max_epochs=8, **params), X, y)
    batched = fit_batched_folds(net, X, y, splits, sample_weight=weight)
    reference = sequential(net, X, y, splits, sample_weight=weight)
    assert_same_folds(batched, reference, X, splits)
    # The optimizer state is each fold's own, too.
    for fold, ref in zip(batched, reference):
        ours, theirs = fold.optimizer_.state_dict(), ref.optimizer_.state_dict()
        assert ours["state"].keys() == theirs["state"].keys()
        for index, state in theirs["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    torch.testing.assert_close(
                        ours["state"][index][key], value, atol=1e-4, rtol=1e-4
                    )
                else:
                    assert ours["state"][index][key] == value


def test_random_state_none_follows_callers_rng(data):
    # Without a seed every fold fit starts from the caller's RNG state (each skorch
    # fit runs inside fork_rng): batched does the same.
    X, y, splits, _ = data
    net = template(small_net(batch_size=54, max_epochs=5), X, y, random_state=None)
    torch.manual_seed(3)
    reference = sequential(net, X, y, splits)
    torch.manual_seed(3)
    batched = fit_batched_folds(net, X, y, splits)
    assert_same_folds(batched, reference, X, splits)


def test_fitted_nets(data):
    X, y, splits, _ = data
    net = template(small_net(MLP, max_epochs=3), X, y)
    state = torch.get_rng_state()
    nets = fit_batched_folds(net, X, y, splits)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is untouched
    assert not hasattr(net, "module_")  # the template is not fitted
    assert len(nets) == len(splits)
    tests = [test for _, test in splits]
    for fold, test in zip(nets, tests):
        fold_proba = fold.predict_proba(X[test])
        assert fold.initialized_ and len(fold.history) == 3
        assert fold_proba.shape == (len(test), 3)
        np.testing.assert_allclose(fold_proba.sum(axis=1), 1, rtol=1e-5)
        copy = pickle.loads(pickle.dumps(fold))
        np.testing.assert_array_equal(copy.predict_proba(X[test]), fold_proba)
    assert len(nets[0].predict_proba(X)) == len(X)


def test_no_epochs(data):
    X, y, splits, _ = data
    net = template(small_net(max_epochs=0), X, y)
    for fold, ref in zip(
        fit_batched_folds(net, X, y, splits), sequential(net, X, y, splits)
    ):
        np.testing.assert_array_equal(fold.predict_proba(X), ref.predict_proba(X))


class DataDependent(Linear):
    def forward(self, X):
        out = self.linear(X)
        if out.sum() > 0:
            return out
        return -out


class RandomForward(Linear):
    def forward(self, X):
        return self.linear(X + 0.1 * torch.randn_like(X))


class WithBuffer(Linear):
    def __init__(self, n_features_in, n_classes):
        super().__init__(n_features_in, n_classes)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, X):
        return self.linear(X)


@pytest.mark.parametrize(
    "estimator, expected",
    [
        (small_net(BatchNormMLP), "BatchNorm"),
        (small_net(DropoutMLP), "Dropout"),
        (small_net(WithBuffer), "buffers"),
        (small_net(optimizer=torch.optim.LBFGS), "LBFGS"),
        (small_net(optimizer=torch.optim.SparseAdam), "optimizer"),
        (small_net(callbacks=[EpochScoring("accuracy", on_train=True)]), "callbacks"),
        (small_net(train_split=ValidSplit(5)), "train_split"),
        (small_net(iterator_train__num_workers=1), "num_workers"),
        (small_net(net_class=CustomNet), "on_epoch_end"),
        (small_net(DataDependent), "vmap"),
        (small_net(RandomForward), "vmap"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_obstacles(data, estimator, expected):
    X, y, splits, _ = data
    net = template(estimator, X, y)
    reason = batching_obstacle(net, probed(net, X, y), check_net_input(X))
    assert reason is not None and expected in reason
    with pytest.raises(ValueError, match="fold_training='batched' cannot train"):
        choose_engine(net, probed(net, X, y), check_net_input(X), "batched")


def test_no_obstacle(data):
    X, y, _, _ = data
    for module in [Linear, MLP, DataDependent]:
        # Without X, the forward is not tried.
        net = template(small_net(module), X, y)
        assert batching_obstacle(net, probed(net)) is None
    inputs = check_net_input(X)
    for estimator in [small_net(MLP), MLP]:  # a skorch net, a bare module
        net = template(estimator, X, y)
        assert batching_obstacle(net, probed(net, X, y), inputs) is None

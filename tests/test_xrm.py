"""XRM's twin nets (skmat._xrm): halves, held-out probabilities, label flips."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier

from skmat import InMemoryDataLoader, MATClassifier
from skmat._batching import choose_engine
from skmat._data import check_net_input
from skmat._held_out import HeldOutSpec, fit_held_out, misclassified_by_any
from skmat._net import class_balanced_mean
from skmat._user_net import make_shifted_net
from skmat._xrm import (
    _fit_twins,
    _Flipper,
    _halves,
    xrm_flip_labels,
    xrm_flip_probability,
)
from skmat.datasets import make_spurious_memorization
from skmat.exceptions import DegenerateHeldOutWarning

from .conftest import net_dataset, small_net
from .modules import MLP, SoftmaxLinear
from .test_batched import probed, template
from .test_figure1 import figure1_net


def fit_xrm_twins(net, X, y, *, batched=True, sample_weight=None, random_state=None):
    """The twins, their halves and the held-out probabilities they give."""
    engine = "stacked" if batched else "one_by_one"
    spec = HeldOutSpec("xrm", engine, None, net, seed=random_state)
    result = fit_held_out(
        spec, check_net_input(X), y, len(np.unique(y)), sample_weight=sample_weight
    )
    return result.estimators, result.samples, result.proba


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=203, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y.astype(np.int64)


def test_halves_held_out_proba_and_twins(data):
    X, y = data
    net = template(small_net(max_epochs=10), X, y)
    twins, halves, proba = fit_xrm_twins(net, X, y, random_state=0)

    assert len(twins) == len(halves) == 2
    assert sorted(np.concatenate(halves).tolist()) == list(range(len(X)))
    assert abs(len(halves[0]) - len(halves[1])) <= 1
    for c in range(3):  # stratified: each class dealt evenly
        counts = [np.sum(y[half] == c) for half in halves]
        assert abs(counts[0] - counts[1]) <= 1

    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Each example's row comes from the twin that did not train on it.
    for twin, other_half in zip(twins, halves[::-1]):
        np.testing.assert_allclose(
            twin.predict_proba(X[other_half]), proba[other_half], atol=1e-6
        )
    # The twins are fitted skorch nets, with histories and working labels.
    for twin, half in zip(twins, halves):
        assert len(twin.history) == 10
        assert twin.working_labels_.shape == half.shape
    assert twins[0].random_state != twins[1].random_state
    # The template is not modified.
    assert not net.initialized_

    restored = pickle.loads(pickle.dumps(twins))
    for twin, copy in zip(twins, restored):
        np.testing.assert_array_equal(twin.predict_proba(X), copy.predict_proba(X))

    misclassified = misclassified_by_any(twins, check_net_input(X), y, 3)
    expected = (twins[0].predict(X) != y) | (twins[1].predict(X) != y)
    np.testing.assert_array_equal(misclassified, expected)


def test_deterministic_and_global_rng_untouched(data):
    X, y = data
    net = template(small_net(max_epochs=5), X, y)
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = fit_xrm_twins(net, X, y, random_state=7)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    second = fit_xrm_twins(net, X, y, random_state=7)
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[2], second[2])
    for a, b in zip(first[0], second[0]):
        np.testing.assert_array_equal(a.working_labels_, b.working_labels_)
    other = fit_xrm_twins(net, X, y, random_state=8)
    assert not np.array_equal(first[1][0], other[1][0])


def test_halves_deal_each_class_alternately():
    y = np.array([0] * 7 + [1] * 4 + [2] * 1)
    halves = _halves(y, np.random.RandomState(0))
    assert [len(half) for half in halves] == [6, 6]
    assert sorted(np.concatenate(halves).tolist()) == list(range(len(y)))
    for c in range(3):
        counts = [np.sum(y[half] == c) for half in halves]
        assert abs(counts[0] - counts[1]) <= 1


@pytest.mark.parametrize(
    "proba, expected",
    [
        ([0.5, 0.5], 0.0),  # uniform: never flipped
        ([1.0, 0.0], 1.0),  # one-hot: always flipped
        ([0.2, 0.8], 0.6),  # (0.8 - 1/2) * 2
        ([0.6, 0.3, 0.1], 0.4),  # (0.6 - 1/3) * 3/2
        ([0.25, 0.25, 0.25, 0.25], 0.0),
    ],
)
def test_flip_probability_and_flip_rate(proba, expected):
    proba = torch.tensor([proba], dtype=torch.float64)
    assert xrm_flip_probability(proba).item() == pytest.approx(expected)
    n = 20000
    argmax = int(proba.argmax())
    labels = torch.full((n,), (argmax + 1) % proba.shape[1], dtype=torch.int64)
    generator = torch.Generator().manual_seed(0)
    flipped = xrm_flip_labels(labels, proba.expand(n, -1), generator)
    changed = flipped != labels
    # A flip always sets the held-out argmax; the rest keep their current label.
    assert torch.all(flipped[changed] == argmax)
    assert torch.all(flipped[~changed] == labels[~changed])
    assert changed.double().mean().item() == pytest.approx(expected, abs=0.015)
    # The same generator seed gives the same flips.
    again = xrm_flip_labels(
        labels, proba.expand(n, -1), torch.Generator().manual_seed(0)
    )
    assert torch.equal(again, flipped)


def test_without_flips_the_twins_are_class_balanced_nets_on_the_halves(data):
    X, y = data
    net = template(small_net(max_epochs=5), X, y)
    halves = _halves(y, np.random.RandomState(0))
    twins = _fit_twins(
        net, check_net_input(X), y, halves, [11, 12], batched=True, flip_seed=None
    )
    for twin, half, seed in zip(twins, halves, [11, 12]):
        one_by_one = clone(net).set_params(random_state=seed, class_balanced=True)
        one_by_one.fit(net_dataset(X[half], y[half]), y[half])
        np.testing.assert_allclose(
            twin.predict_proba(X), one_by_one.predict_proba(X), atol=1e-5
        )
        np.testing.assert_array_equal(twin.working_labels_, y[half])


@pytest.mark.parametrize("module", [MLP, SoftmaxLinear])
def test_flips_use_the_other_twin_before_the_step(data, module, monkeypatch):
    """White box: the outputs the flips use come from the twin that does not train
    on the batch, with its weights before the step: at the first step, the other
    twin's initial weights; when one twin took all its steps (halves of 102 and 101
    with batches of 101: 2 and 1 batches per epoch), its final weights."""
    X, y = data
    criterion = torch.nn.NLLLoss if module is SoftmaxLinear else None
    params = dict(max_epochs=3, batch_size=101)
    if criterion is not None:
        params["criterion"] = criterion
    net = template(small_net(module, **params), X, y)
    halves = _halves(y, np.random.RandomState(0))
    assert [len(half) for half in halves] == [102, 101]
    seeds = [11, 12]
    records = []
    original = _Flipper.__call__

    def recording(self, models, batches, outputs):
        records.append((list(models), [b.copy() for b in batches], outputs))
        return original(self, models, batches, outputs)

    monkeypatch.setattr(_Flipper, "__call__", recording)
    twins = _fit_twins(
        net, check_net_input(X), y, halves, seeds, batched=True, flip_seed=0
    )
    assert len(records) == 6  # twin 0: 2 batches x 3 epochs; twin 1: 3 batches

    initial = [clone(net).set_params(random_state=seed) for seed in seeds]
    for init, seed in zip(initial, seeds):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            init.initialize()
    active, batches, outputs = records[0]
    assert active == [0, 1]
    for row, model in enumerate(active):
        expected = initial[1 - model].forward(X[batches[row]])
        torch.testing.assert_close(outputs[row, : len(batches[row])], expected)
    alone = [record for record in records if record[0] == [0]]
    assert len(alone) == 3
    for _, (batch,), outputs in alone:
        expected = twins[1].forward(X[batch])
        torch.testing.assert_close(outputs[0, : len(batch)], expected)


def test_sample_weight_of_ones_changes_nothing(data):
    X, y = data
    net = template(small_net(max_epochs=3), X, y)
    _, _, plain = fit_xrm_twins(net, X, y, random_state=0)
    weight = np.ones(len(X), dtype=np.float32)
    _, _, weighted = fit_xrm_twins(net, X, y, sample_weight=weight, random_state=0)
    np.testing.assert_allclose(plain, weighted, atol=1e-5)


def test_unbatchable_net_cannot_be_batched(data):
    X, y = data
    net = template(small_net(optimizer=torch.optim.LBFGS), X, y)
    with pytest.raises(ValueError, match="fold_training='batched'.*LBFGS"):
        choose_engine(net, probed(net, X, y), check_net_input(X), "batched")
    with pytest.raises(ValueError, match="at least 2 examples"):
        fit_xrm_twins(template(small_net(), X, y), X[:1], y[:1])


def test_figure1_twins_find_the_minority():
    """On the paper's Figure-1 data the held-out twin misclassifies the minority
    (where the spurious feature disagrees with the core one) and the flips relabel
    exactly those examples (measured: recall and precision 1.0 on seeds 0-4)."""
    X, y, groups = make_spurious_memorization(1000, noise_std=0.5, random_state=0)
    minority = (groups == 1) | (groups == 2)
    net = make_shifted_net(
        figure1_net(),
        param_name="estimator",
        n_features=X.shape[1],
        n_classes=2,
        random_state=0,
        verbose=0,
    )
    twins, halves, proba = fit_xrm_twins(net, X, y, random_state=0)
    wrong = proba.argmax(axis=1) != y
    assert (wrong & minority).sum() / minority.sum() >= 0.8
    assert (wrong & minority).sum() / wrong.sum() >= 0.8
    flipped = np.zeros(len(y), dtype=bool)
    for twin, half in zip(twins, halves):
        flipped[half] = twin.working_labels_ != y[half]
    assert (flipped & minority).sum() / minority.sum() >= 0.8
    # Plain held-out probabilities: softmax of the other twin's logits.
    logits = twins[0].forward(X[halves[1]]).double().numpy()
    np.testing.assert_allclose(proba[halves[1]], softmax(logits, axis=1), atol=1e-6)


def test_class_balanced_mean_counts_each_present_class_the_same():
    losses = torch.tensor([1.0, 1.0, 1.0, 4.0])
    y = torch.tensor([0, 0, 0, 1])
    # class 0 mean 1, class 1 mean 4; class 2 is absent and does not count
    assert class_balanced_mean(losses, y, 3).item() == pytest.approx(2.5)
    # equal class counts: the plain batch mean
    balanced = torch.tensor([1.0, 3.0, 2.0, 6.0])
    assert class_balanced_mean(balanced, torch.tensor([0, 1, 0, 1]), 2).item() == (
        pytest.approx(balanced.mean().item())
    )
    # weights enter each class's mean; weight 0 and ignored labels count nowhere
    weight = torch.tensor([1.0, 3.0, 0.0, 1.0])
    assert class_balanced_mean(
        torch.tensor([2.0, 4.0, 100.0, 1.0]), torch.tensor([0, 0, 1, -100]), 2, weight
    ).item() == pytest.approx((2 + 12) / 4)
    # leading dimensions: one loss per model of a stack
    stacked = class_balanced_mean(
        torch.stack([losses, balanced]), torch.stack([y, torch.tensor([0, 1, 0, 1])]), 3
    )
    np.testing.assert_allclose(stacked.numpy(), [2.5, 3.0])
    assert class_balanced_mean(losses, torch.full((4,), -100), 2).item() == 0.0


def test_the_twins_train_on_the_class_balanced_loss(data):
    X, y = data
    net = template(small_net(max_epochs=2), X, y).set_params(class_balanced=True)
    net.initialize()
    logits = torch.randn(6, 3)
    y_true = torch.tensor([0, 0, 0, 0, 1, 2])
    per_example = torch.nn.functional.cross_entropy(logits, y_true, reduction="none")
    assert net.get_loss(logits, y_true, training=True).item() == pytest.approx(
        class_balanced_mean(per_example, y_true, 3).item()
    )
    # validation and scoring keep the plain mean
    assert net.get_loss(logits, y_true, training=False).item() == pytest.approx(
        per_example.mean().item()
    )
    twins, _, _ = fit_xrm_twins(template(small_net(), X, y), X, y, random_state=0)
    assert all(twin.class_balanced for twin in twins)


def collapse_case():
    """The issue's public case: balanced classes, unit-norm rows, an MLP."""
    X, y = make_classification(
        1920,
        384,
        n_informative=20,
        n_redundant=0,
        class_sep=0.3,
        flip_y=0.05,
        random_state=1,
    )
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    net = NeuralNetClassifier(
        MLP,
        module__n_features_in=384,
        module__n_classes=2,
        module__hidden=256,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=60,
        batch_size=128,
        train_split=None,
        iterator_train=InMemoryDataLoader,
        iterator_train__shuffle=True,
        verbose=0,
    )
    return net, X, y


def test_flips_no_longer_take_every_label_into_one_class():
    # With each twin's plain batch mean, the flips fed on themselves here until every
    # held-out prediction was class 1 and the shift had no spread at all.
    net, X, y = collapse_case()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateHeldOutWarning)
        mat = MATClassifier(net, held_out="xrm", shift_strength=1.0, random_state=1)
        mat.fit(X, y)
    shares = np.bincount(mat.held_out_proba_.argmax(1), minlength=2) / len(y)
    assert shares.min() > 0.35
    assert mat.logit_shift_.std(axis=0).min() > 0.1
    assert np.mean(mat.held_out_proba_.argmax(1) == y) > 0.6

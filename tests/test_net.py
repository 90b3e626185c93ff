"""The shifted skorch net: the loss it trains on, per batch."""

import pytest
import torch
from numpy.testing import assert_allclose

from skmat._net import SHIFT_KEY, WEIGHT_KEY, LogitShiftNeuralNetClassifier

from .modules import Linear, SoftmaxLinear


def initialized_net(module, criterion):
    return LogitShiftNeuralNetClassifier(
        module, module__n_features_in=2, module__n_classes=2, criterion=criterion
    ).initialize()


def test_weighted_loss_is_the_weighted_mean():
    net = initialized_net(Linear, torch.nn.CrossEntropyLoss)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = torch.tensor([0, 0, 1])
    w = torch.tensor([1.0, 3.0, 0.0])
    per_example = torch.nn.functional.cross_entropy(logits, y, reduction="none")
    loss = net.get_loss(logits, y, X={WEIGHT_KEY: w}, training=True)
    assert_allclose(loss.item(), ((per_example * w).sum() / w.sum()).item(), rtol=1e-6)
    assert net.criterion_.reduction == "mean"  # restored
    zero = net.get_loss(logits, y, X={WEIGHT_KEY: torch.zeros(3)}, training=True)
    assert zero.item() == 0.0


def test_shift_is_applied_only_while_training():
    net = initialized_net(Linear, torch.nn.CrossEntropyLoss)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 0])
    shift = torch.tensor([[0.0, -3.0], [-1.0, 0.0]])
    extras = {SHIFT_KEY: shift}
    train = net.get_loss(logits, y, X=extras, training=True)
    valid = net.get_loss(logits, y, X=extras, training=False)
    assert_allclose(
        train.item(), torch.nn.functional.cross_entropy(logits + shift, y).item()
    )
    assert_allclose(valid.item(), torch.nn.functional.cross_entropy(logits, y).item())


def test_nll_shift_is_added_to_log_probabilities():
    net = initialized_net(SoftmaxLinear, torch.nn.NLLLoss)
    proba = torch.tensor([[0.7, 0.3], [0.2, 0.8]])
    y = torch.tensor([0, 0])
    shift = torch.tensor([[0.0, -3.0], [-1.0, 0.0]])
    loss = net.get_loss(proba, y, X={SHIFT_KEY: shift}, training=True)
    expected = torch.nn.functional.cross_entropy(torch.log(proba) + shift, y)
    assert_allclose(loss.item(), expected.item(), rtol=1e-5)


@pytest.mark.parametrize(
    "module, criterion, params",
    [
        (Linear, torch.nn.CrossEntropyLoss, dict(weight=torch.tensor([1.0, 5.0]))),
        (Linear, torch.nn.CrossEntropyLoss, dict(reduction="sum")),
        (
            Linear,
            torch.nn.CrossEntropyLoss,
            dict(weight=torch.tensor([2.0, 0.5]), reduction="sum"),
        ),
        (Linear, torch.nn.CrossEntropyLoss, dict(ignore_index=1)),
        (
            Linear,
            torch.nn.CrossEntropyLoss,
            dict(weight=torch.tensor([1.0, 3.0]), label_smoothing=0.2),
        ),
        (SoftmaxLinear, torch.nn.NLLLoss, dict(weight=torch.tensor([1.0, 5.0]))),
    ],
    ids=[
        "class-weights",
        "sum",
        "class-weights-sum",
        "ignore-index",
        "smoothing",
        "nll",
    ],
)
def test_weights_combine_with_the_criterion_as_torch_does(module, criterion, params):
    net = LogitShiftNeuralNetClassifier(
        module,
        module__n_features_in=2,
        module__n_classes=2,
        criterion=criterion,
        **{f"criterion__{key}": value for key, value in params.items()},
    ).initialize()
    output = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, -1.0]])
    if criterion is torch.nn.NLLLoss:
        output = torch.softmax(output, dim=1)
    y = torch.tensor([0, 0, 1, 1])
    own = net.get_loss(output, y, training=True)  # torch's own reduction
    ones = net.get_loss(output, y, X={WEIGHT_KEY: torch.ones(4)}, training=True)
    assert_allclose(ones.item(), own.item(), rtol=1e-6)
    # Weights: torch's weighted mean, sum_i w_i cw_i l_i / sum_i w_i cw_i ("mean")
    # or sum_i w_i cw_i l_i ("sum"), where the criterion's l_i * cw_i is per_example.
    w = torch.tensor([1.0, 3.0, 0.0, 2.0])
    loss = net.get_loss(output, y, X={WEIGHT_KEY: w}, training=True)
    unreduced = criterion(**dict(params, reduction="none"))
    log = torch.log(output + torch.finfo(output.dtype).eps)
    per_example = unreduced(log if criterion is torch.nn.NLLLoss else output, y)
    counted = w * (y != params.get("ignore_index", -100))
    class_weight = params.get("weight", torch.ones(2))[y]
    expected = (per_example * counted).sum()
    if params.get("reduction", "mean") == "mean":
        expected = expected / (counted * class_weight).sum()
    assert_allclose(loss.item(), expected.item(), rtol=1e-6)

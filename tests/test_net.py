"""The shifted skorch net: the loss it trains on, per batch."""

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

"""The skorch side of MAT and the baselines: a net that trains on ``f(x) + shift``
with per-example weights, optionally under Group DRO's online group weights."""

import copy
import functools
import inspect
import os
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset as SkorchDataset
from skorch.utils import to_tensor

from ._data import GROUP_KEY, SHIFT_KEY, WEIGHT_KEY, RowDataset, module_arguments
from ._loader import InMemoryDataLoader
from ._random import forked_torch_rng

#: Defaults of the NeuralNetClassifier that wraps a bare torch module: those of
#: scikit-learn's MLPClassifier (Adam, lr 1e-3, 200 epochs, batches of 200).
MODULE_NET_DEFAULTS = dict(
    criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=200,
    batch_size=200,
    train_split=None,
    iterator_train=InMemoryDataLoader,
    iterator_train__shuffle=True,
    iterator_valid=InMemoryDataLoader,
)


def class_balanced_mean(per_example, y, n_classes, weight=None):
    """The mean over the classes present of each class's (weighted) mean loss.

    XRM's twin loss (Pezeshki et al., ICML 2024, Section 3: "class-balanced" cross
    entropy on the working labels): every class present in the batch counts the
    same, however few its examples, so label flips cannot feed on themselves until
    one class takes all the labels. The reference code sums the class means; their
    mean keeps the scale of the usual batch mean (the same value on a batch with
    equal class counts), so the net's learning rate means what it means elsewhere.

    Parameters
    ----------
    per_example : torch.Tensor of shape (..., batch)
        Unreduced losses.
    y : torch.Tensor of shape (..., batch)
        Integer labels; a negative label (an ``ignore_index``) counts in no class.
    n_classes : int
        Number of classes.
    weight : torch.Tensor of shape (..., batch), default=None
        Per-example weights (1 when None); an example of weight 0 counts nowhere.

    Returns
    -------
    loss : torch.Tensor of shape (...)
        0 where no example counts.
    """
    member = torch.nn.functional.one_hot(y.clamp_min(0), n_classes)
    member = member.to(per_example.dtype) * (y >= 0).unsqueeze(-1)
    if weight is not None:
        member = member * weight.to(per_example.dtype).unsqueeze(-1)
    total = member.sum(-2)
    class_loss = (per_example.unsqueeze(-1) * member).sum(-2)
    present = total > 0
    means = class_loss / total.clamp_min(torch.finfo(total.dtype).tiny)
    return (means * present).sum(-1) / present.sum(-1).clamp_min(1)


def example_losses(criterion, output, y):
    """Each example's loss, as skorch's ``NeuralNetClassifier.get_loss`` computes
    it unreduced: ``NLLLoss`` gets ``log(p + eps)``. ``output`` (..., batch,
    n_classes) and ``y`` (..., batch): leading dimensions are models trained
    together."""
    if isinstance(criterion, torch.nn.NLLLoss):
        output = torch.log(output + torch.finfo(output.dtype).eps)
    previous, criterion.reduction = criterion.reduction, "none"
    try:
        flat = criterion(output.reshape(-1, output.shape[-1]), y.reshape(-1))
    finally:
        criterion.reduction = previous
    return flat.view(y.shape)


def batch_loss(
    per_example,
    y,
    *,
    weight=None,
    class_balanced=False,
    n_classes=None,
    ignore_index=-100,
):
    """The training loss of a batch from its examples' losses; every engine (the
    final net, the held-out nets one by one and stacked, XRM's twins) reduces with
    it.

    ``sum_i w_i loss_i / sum_i w_i`` over the examples that count (``w_i = 1``
    without weights; a label equal to a non-negative ``ignore_index`` counts
    nowhere), or with ``class_balanced`` the class-balanced mean
    (:func:`class_balanced_mean`, over ``n_classes``); all-zero weights give 0,
    not NaN. Leading
    dimensions of ``per_example``, ``y`` and ``weight`` (..., batch) are models
    trained together: one loss each.
    """
    if ignore_index >= 0:
        y = torch.where(y == ignore_index, -1, y)
    if weight is not None:
        weight = weight.to(per_example.dtype)
    if class_balanced:
        return class_balanced_mean(per_example, y, n_classes, weight)
    counted = (y >= 0).to(per_example.dtype)
    if weight is not None:
        counted = counted * weight
    total = counted.sum(-1).clamp_min(torch.finfo(per_example.dtype).tiny)
    return (per_example * counted).sum(-1) / total


class LogitShiftMixin:
    """Adds skmat's per-example training rule to a skorch ``NeuralNetClassifier``
    (sub)class; MAT, JTT, Group DRO and group reweighting are uses of it.

    * A batch's ``X`` may be a dict (as :class:`skmat._data.RowDataset` makes it)
      holding the input (under ``"X"``, or a dict input's own keys) and the
      per-example extras: a logit shift (n_samples, n_classes), a weight and an
      integer group (0 .. n_groups - 1); only the input reaches ``module.forward``.
      Plain arrays, tensors and dicts work as in skorch.
    * While training, the loss of example ``i`` is ``CE(f(x_i) + logit_shift_i,
      y_i)``; for an ``NLLLoss`` module (probability outputs) the shift is added to
      ``log(p)``. Validation and prediction use ``f(x)`` alone.
    * The batch loss is ``sum_i w_i loss_i / sum_i w_i`` (``w_i = 1`` without
      weights).
    * With ``group_step_size`` set and ``"groups"`` given, training minimises Group
      DRO's online objective instead (Sagawa et al., ICLR 2020): per batch, the
      weighted mean loss ``L_g`` of each group, the group weights updated as
      ``q_g <- q_g exp(group_step_size * L_g)`` and renormalised (a group absent
      from the batch has ``L_g = 0``), and the loss ``sum_g q_g L_g``. ``q`` starts
      uniform at every fit and is kept as ``group_weights_``.
    * With ``class_balanced=True`` (XRM's twins), the training loss is instead the
      mean over the classes present in the batch of each class's weighted mean loss
      (:func:`class_balanced_mean`).
    * ``fit`` seeds torch with ``random_state`` inside ``torch.random.fork_rng``, so
      the caller's global RNG is left as it was.
    """

    def __init__(
        self,
        *args,
        random_state=None,
        group_step_size=None,
        n_groups=None,
        class_balanced=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.random_state = random_state
        self.group_step_size = group_step_size
        self.n_groups = n_groups
        self.class_balanced = class_balanced

    def fit(self, X, y=None, **fit_params):
        if not self.warm_start:
            self.group_weights_ = None
        with forked_torch_rng(self.device, seed=self.random_state):
            return super().fit(X, y, **fit_params)

    def infer(self, x, **fit_params):
        return super().infer(module_arguments(x), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_pred, tuple):  # a module's extra outputs: the first one counts
            y_pred = y_pred[0]
        extras = X if isinstance(X, Mapping) else {}
        shift, weight = extras.get(SHIFT_KEY), extras.get(WEIGHT_KEY)
        groups = extras.get(GROUP_KEY) if self.group_step_size is not None else None
        if training and shift is not None:
            shift = to_tensor(shift, device=y_pred.device).to(y_pred.dtype)
            if isinstance(self.criterion_, torch.nn.NLLLoss):
                eps = torch.finfo(y_pred.dtype).eps
                y_pred = torch.softmax(torch.log(y_pred + eps) + shift, dim=1)
            else:
                y_pred = y_pred + shift
        robust = training and groups is not None
        balanced = training and self.class_balanced
        if weight is None and not robust and not balanced:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        previous, self.criterion_.reduction = self.criterion_.reduction, "none"
        try:
            per_example = super().get_loss(y_pred, y_true, X=X, training=training)
        finally:
            self.criterion_.reduction = previous
        if weight is not None:
            weight = to_tensor(weight, device=per_example.device)
        if robust and not balanced:
            if weight is None:
                weight = torch.ones_like(per_example)
            weight = weight.to(per_example.dtype)
            return self._group_dro_loss(per_example, weight, groups)
        return batch_loss(
            per_example,
            to_tensor(y_true, device=per_example.device).long(),
            weight=weight,
            class_balanced=balanced,
            n_classes=y_pred.shape[1],
            ignore_index=getattr(self.criterion_, "ignore_index", -100),
        )

    def _group_dro_loss(self, per_example, weight, groups):
        """Group DRO's robust loss of one batch; updates ``group_weights_``."""
        groups = to_tensor(groups, device=per_example.device).long()
        tiny = torch.finfo(per_example.dtype).tiny
        weight_sum = torch.zeros(self.n_groups, dtype=per_example.dtype)
        weight_sum = weight_sum.to(per_example.device).index_add(0, groups, weight)
        loss_sum = torch.zeros_like(weight_sum).index_add(
            0, groups, per_example * weight
        )
        group_loss = loss_sum / weight_sum.clamp_min(tiny)
        q = getattr(self, "group_weights_", None)
        if q is None:
            q = torch.full((self.n_groups,), 1.0 / self.n_groups, dtype=torch.float64)
        q = q.to(per_example.device)
        q = q * torch.exp(self.group_step_size * group_loss.detach().to(q.dtype))
        self.group_weights_ = q / q.sum()
        return (group_loss * self.group_weights_.to(group_loss.dtype)).sum()

    def __reduce__(self):
        # The class may be made on the fly (see ``shifted_net_class``): pickle by base.
        return (_new_shifted_net, (self._skmat_base_class,), self.__getstate__())


class LogitShiftNeuralNetClassifier(LogitShiftMixin, NeuralNetClassifier):
    """``NeuralNetClassifier`` with MAT's per-example logit shift and weights."""

    _skmat_base_class = NeuralNetClassifier


@functools.cache
def shifted_net_class(base):
    """The class that adds :class:`LogitShiftMixin` to the skorch class ``base``."""
    if issubclass(base, LogitShiftMixin):
        return base
    if base is NeuralNetClassifier:
        return LogitShiftNeuralNetClassifier
    return type(
        f"LogitShift{base.__name__}",
        (LogitShiftMixin, base),
        {"_skmat_base_class": base, "__module__": __name__},
    )


def _new_shifted_net(base):
    cls = shifted_net_class(base)
    return cls.__new__(cls)


def supported_criterion(criterion):
    """Whether a skorch ``criterion`` parameter is one MAT knows how to shift."""
    criterion_class = criterion if isinstance(criterion, type) else type(criterion)
    return issubclass(criterion_class, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss))


def make_shifted_net(
    estimator, *, param_name, n_features, n_classes, random_state, verbose
):
    """A fresh, unfitted shifted net built from the user's ``estimator``.

    ``estimator`` is a skorch ``NeuralNetClassifier`` (cloned with all its settings),
    a torch module class, or a module instance (deep-copied: every fit starts from the
    weights the user passed). Raises ``TypeError`` naming ``param_name`` otherwise.
    """
    if isinstance(estimator, NeuralNetClassifier):
        params = clone(estimator).get_params(deep=False)
        net_class = shifted_net_class(type(estimator))
    elif isinstance(estimator, torch.nn.Module) or (
        isinstance(estimator, type) and issubclass(estimator, torch.nn.Module)
    ):
        module = (
            copy.deepcopy(estimator)
            if isinstance(estimator, torch.nn.Module)
            else estimator
        )
        params = dict(MODULE_NET_DEFAULTS, module=module)
        net_class = LogitShiftNeuralNetClassifier
    else:
        raise TypeError(
            f"{param_name} must be a skorch NeuralNetClassifier, a torch.nn.Module "
            f"subclass or a torch.nn.Module instance; got {estimator!r}."
        )
    if not supported_criterion(params["criterion"]):
        raise TypeError(
            f"The criterion of {param_name} must be torch.nn.CrossEntropyLoss (module "
            f"returns logits) or torch.nn.NLLLoss (module returns probabilities); got "
            f"{params['criterion']!r}."
        )
    dataset = params.get("dataset", SkorchDataset)
    if dataset is not SkorchDataset:
        raise ValueError(
            f"{param_name} has dataset={dataset!r}; skmat builds the datasets of its "
            "nets itself (their rows carry the per-example extras), so leave the "
            "net's dataset at skorch's default and pass the data as X: arrays, "
            "tensors, a dict of them, or a torch Dataset (skorch.helper.SliceDataset)."
        )
    check_device(params.get("device"), param_name)
    params.update(
        classes=np.arange(n_classes),
        verbose=int(verbose),
        random_state=random_state,
    )
    module = params["module"]
    if isinstance(module, type):
        # A module class taking n_features_in / n_classes gets them from the data
        # unless the user set them (the module's counterpart of n_features_in_).
        accepted = inspect.signature(module).parameters
        for name, value in [("n_features_in", n_features), ("n_classes", n_classes)]:
            if name in accepted and f"module__{name}" not in params:
                if value is None:
                    raise ValueError(
                        f"The module class of {param_name} takes {name}, which skmat "
                        "fills in only for 2-D tables (their number of columns); for "
                        f"this input set it yourself (module__{name}=...)."
                    )
                params[f"module__{name}"] = value
    return net_class(**params)


def is_net(estimator):
    """Whether skmat trains ``estimator`` itself (a skorch net, a torch module or a
    module class), rather than fitting it as a scikit-learn classifier."""
    return isinstance(estimator, (NeuralNetClassifier, torch.nn.Module, type))


def check_device(device, param_name):
    """Raise a ValueError naming the device when torch cannot use it here."""
    if device is None:
        return
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError, ValueError) as exc:
        available = "available" if torch.cuda.is_available() else "not available"
        raise ValueError(
            f"{param_name} has device={device!r}, which torch cannot use on this "
            f"machine (CUDA is {available}): {exc}. Use device='cpu', or a device "
            "that this machine has."
        ) from exc


def net_logits(net, inputs):
    """Logits of a fitted shifted net on a :class:`~skmat._data.NetInput`, as
    float64 numpy (log-probabilities for an ``NLLLoss`` module)."""
    output = net.forward(RowDataset(inputs), training=False)
    if isinstance(output, tuple):
        output = output[0]
    output = output.detach().to("cpu", torch.float64)
    if isinstance(net.criterion_, torch.nn.NLLLoss):
        output = torch.log(output + torch.finfo(torch.float32).eps)
    return output.numpy()


def initialized_probe(net):
    """An initialized copy of ``net`` (on a fork of torch's RNG) to probe the data
    with; uninitialized when its initialization fails (:func:`probe_net` then says
    why)."""
    probe = clone(net)
    with forked_torch_rng(probe.device):
        try:
            probe.initialize()
        except Exception:
            return clone(net)
    return probe


def module_floating_dtype(probe):
    """The torch dtype of the floating parameters (else buffers) of an initialized
    probe's module; None when it has none (or is not initialized)."""
    if not getattr(probe, "initialized_", False):
        return None
    module = probe.module_
    for tensor in [*module.parameters(), *module.buffers()]:
        if tensor.is_floating_point():
            return tensor.dtype
    return None


def probe_net(net, inputs, n_classes, param_name, probe=None):
    """An initialized copy of ``net`` (``probe``, when given: see
    :func:`initialized_probe`) that has run on two rows of ``inputs`` (so lazy
    modules have their parameters); raise a clear error when its module does not
    take the input or does not return one value (or, for ``NLLLoss``, one
    probability) per class."""
    probe = clone(net) if probe is None else probe
    rows = RowDataset(inputs.take([0, 1][: len(inputs)]))
    with forked_torch_rng(probe.device):
        try:
            if not getattr(probe, "initialized_", False):
                probe.initialize()
            first = next(iter(probe.forward_iter(rows, training=False)))
            returned = None
            if not torch.is_tensor(first) and not isinstance(first, tuple):
                returned = type(first).__name__
            else:
                output = probe.forward(rows)
        except Exception as exc:  # the module's own error, re-raised with context
            raise ValueError(
                f"The module of {param_name} fails on {inputs.describe()}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    if returned is not None:
        raise ValueError(
            f"The module of {param_name} returns a {returned}; its forward must "
            "return one tensor of shape (n_examples, n_classes) (logits, or "
            "probabilities for NLLLoss), or a tuple whose first element is that "
            "tensor (skorch's convention for extra outputs)."
        )
    if isinstance(output, tuple):
        output = output[0]
    n_rows = min(2, len(inputs))
    if not torch.is_tensor(output) or output.ndim != 2 or output.shape[1] != n_classes:
        shape = (
            tuple(output.shape) if torch.is_tensor(output) else type(output).__name__
        )
        raise ValueError(
            f"The module of {param_name} returns {shape} for {n_rows} examples; it "
            f"must output one value per class, shape ({n_rows}, {n_classes}) (a module "
            "class may take an n_classes argument, which skmat fills in)."
        )
    if isinstance(probe.criterion_, torch.nn.NLLLoss):
        output = output.detach().double()
        if (
            not bool(torch.isfinite(output).all())
            or bool((output < 0).any())
            or not torch.allclose(
                output.sum(1), torch.ones(n_rows, dtype=output.dtype), atol=1e-3
            )
        ):
            raise ValueError(
                f"The criterion of {param_name} is NLLLoss (skorch's default), which "
                "takes probabilities, but its module returns values that are not "
                "(negative, or rows that do not sum to 1). For a module that returns "
                "logits, set criterion=torch.nn.CrossEntropyLoss."
            )
    return probe


def n_parameters(module):
    """Number of parameters of an initialized module."""
    return sum(p.numel() for p in module.parameters())


class TrainingDiverged(ValueError):
    """A net's training ended with weights, losses or outputs that are not finite."""


def divergence(net):
    """What is not finite about a fitted net (its weights, its last training loss,
    Group DRO's group weights), in words, or None."""
    module = getattr(net, "module_", None)
    if module is not None:
        for name, param in module.named_parameters():
            if not bool(torch.isfinite(param).all()):
                return f"its weights ({name}) are not finite"
    history = getattr(net, "history", None)
    if history:
        losses = [row.get("train_loss") for row in history if "train_loss" in row]
        if losses and not np.isfinite(losses[-1]):
            return f"its training loss is {losses[-1]} after {len(history)} epochs"
    weights = getattr(net, "group_weights_", None)
    if weights is not None and not bool(torch.isfinite(weights).all()):
        return "its Group DRO group weights are not finite"
    return None


def with_own_files(net, tag):
    """``net`` (a clone, changed in place) with every callback that writes files (a
    ``dirname``: skorch's Checkpoint, TrainEndCheckpoint) writing under
    ``dirname/tag``, so that held-out nets trained side by side never read each
    other's files."""
    callbacks = net.callbacks
    if callbacks in (None, "disable"):
        return net
    for item in callbacks:
        callback = item[1] if isinstance(item, tuple) else item
        if hasattr(callback, "dirname"):
            callback.dirname = os.path.join(str(callback.dirname or ""), tag)
    return net


def without_callback(net, name):
    """``net`` (changed in place) without its callback called ``name`` (one that
    skmat added for a fit: early stopping, progress)."""
    if net.callbacks not in (None, "disable"):
        net.callbacks = [
            item
            for item in net.callbacks
            if not (isinstance(item, tuple) and item[0] == name)
        ]
    if hasattr(net, "callbacks_"):
        net.callbacks_ = [item for item in net.callbacks_ if item[0] != name]
    return net

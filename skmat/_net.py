"""The skorch side of MAT and the baselines: a net that trains on ``f(x) + shift``
with per-example weights, optionally under Group DRO's online group weights."""

import functools
import os
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.utils import to_tensor

from ._random import forked_torch_rng
from ._rows import GROUP_KEY, SHIFT_KEY, WEIGHT_KEY, RowDataset, module_arguments


def class_balanced_mean(per_example, y, n_classes, weight=None, class_weight=None):
    """The mean over the classes present of each class's (weighted) mean loss: XRM's
    twin loss (Pezeshki et al., ICML 2024, Section 3), where every class counts the
    same however few its examples, so label flips cannot feed on themselves. The
    reference sums the class means; their mean keeps the usual loss scale.

    ``per_example``, integer labels ``y`` and ``weight`` have shape (..., batch); a
    negative label (an ignored one) or a weight of 0 counts in no class; a batch
    where nothing counts gives 0. ``per_example`` holds the criterion's losses: with
    ``class_weight`` (the criterion's, of shape (n_classes,)) each is already
    multiplied by its class's weight, and each class's mean divides it out again, as
    torch's weighted mean does: the balance over classes replaces the class weights
    (a class of weight 0 counts nowhere).
    """
    member = torch.nn.functional.one_hot(y.clamp_min(0), n_classes)
    member = member.to(per_example.dtype) * (y >= 0).unsqueeze(-1)
    if weight is not None:
        member = member * weight.to(per_example.dtype).unsqueeze(-1)
    total = member.sum(-2)
    if class_weight is not None:
        total = total * class_weight.to(per_example.dtype)
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


def shifted_output(output, shift, criterion):
    """The output that a shifted net's loss sees: ``f(x) + shift`` for logits, and
    ``softmax(log(p + eps) + shift)`` for an ``NLLLoss`` module's probabilities
    (Bayat et al., ICLR 2025, Algorithm 1). ``output`` and ``shift`` have shape
    (..., batch, n_classes); leading dimensions are models trained together."""
    shift = shift.to(output.dtype)
    if isinstance(criterion, torch.nn.NLLLoss):
        eps = torch.finfo(output.dtype).eps
        return torch.softmax(torch.log(output + eps) + shift, dim=-1)
    return output + shift


def batch_loss(
    per_example,
    y,
    *,
    weight=None,
    class_weight=None,
    reduction="mean",
    class_balanced=False,
    n_classes=None,
    ignore_index=-100,
):
    """The training loss of a batch from its examples' losses, as every engine
    (the final net, the held-out nets one by one and stacked, XRM's twins)
    reduces them, and as torch reduces them without sample weights.

    ``per_example`` holds the criterion's unreduced losses (``reduction="none"``:
    each already multiplied by its class's weight ``class_weight[y_i]``, as
    ``CrossEntropyLoss(weight=...)`` computes them). With sample weights ``w_i``
    (1 without), the loss is torch's weighted mean ``sum_i w_i loss_i / sum_i w_i
    class_weight[y_i]`` for ``reduction="mean"``, and ``sum_i w_i loss_i`` for
    ``"sum"``; so ``weight`` of ones gives exactly the criterion's own loss. A label
    equal to a non-negative ``ignore_index`` counts nowhere; a batch where nothing
    counts gives 0, not NaN. With ``class_balanced`` the loss is instead the
    class-balanced mean (:func:`class_balanced_mean`, whatever the reduction).
    Leading dimensions (..., batch) are models trained together: one loss each.
    """
    if ignore_index >= 0:
        y = torch.where(y == ignore_index, -1, y)
    if class_weight is not None:
        class_weight = class_weight.to(per_example.device, per_example.dtype)
    if weight is not None:
        weight = weight.to(per_example.dtype)
    if class_balanced:
        return class_balanced_mean(per_example, y, n_classes, weight, class_weight)
    counted = (y >= 0).to(per_example.dtype)
    if weight is not None:
        counted = counted * weight
    weighted_sum = (per_example * counted).sum(-1)
    if reduction == "sum":
        return weighted_sum
    if class_weight is not None:
        counted = counted * class_weight[y.clamp_min(0)]
    total = counted.sum(-1).clamp_min(torch.finfo(per_example.dtype).tiny)
    return weighted_sum / total


def criterion_reduction(criterion):
    """The keyword arguments of :func:`batch_loss` that follow from a torch
    ``criterion`` (its class weights, reduction and ``ignore_index``)."""
    return dict(
        class_weight=getattr(criterion, "weight", None),
        reduction=getattr(criterion, "reduction", "mean"),
        ignore_index=getattr(criterion, "ignore_index", -100),
    )


class LogitShiftMixin:
    """Adds skmat's per-example training rule to a skorch ``NeuralNetClassifier``
    (sub)class; MAT, JTT, Group DRO and group reweighting are uses of it.

    * A batch's ``X`` may be a dict (as :class:`skmat._rows.RowDataset` makes it)
      holding the input (under ``"X"``, or a dict input's own keys) and the
      per-example extras: a logit shift (n_samples, n_classes), a weight and an
      integer group (0 .. n_groups - 1); only the input reaches ``module.forward``.
      Plain arrays, tensors and dicts work as in skorch.
    * While training, the loss of example ``i`` is ``CE(f(x_i) + logit_shift_i,
      y_i)``; for an ``NLLLoss`` module (probability outputs) the shift is added to
      ``log(p)``. Validation and prediction use ``f(x)`` alone.
    * The batch loss combines the weights with the criterion's class weights,
      reduction and ``ignore_index`` as torch's weighted mean does
      (:func:`batch_loss`): weights of ones train the net that no weights train.
    * With ``group_step_size`` set and ``"groups"`` given, training minimises Group
      DRO's online objective instead (Sagawa et al., ICLR 2020): per batch, the
      weighted mean loss ``L_g`` of each group, the group weights updated as
      ``q_g <- q_g exp(group_step_size * L_g)`` and renormalised (a group absent
      from the batch has ``L_g = 0``), and the loss ``sum_g q_g L_g``. ``q`` starts
      uniform at every fit and is kept as ``group_weights_``.
    * With ``class_balanced=True`` (XRM's twins), the training loss is instead the
      mean over the classes present in the batch of each class's weighted mean loss
      (:func:`class_balanced_mean`), which replaces the criterion's class weights.
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

    def get_iterator(self, dataset, training=False):
        # the net's own collate_fn meets skmat's rows as the input's kind says
        iterator = super().get_iterator(dataset, training=training)
        prefix = "iterator_train" if training else "iterator_valid"
        own = "collate_fn" in self.get_params_for(prefix)
        if own and isinstance(dataset, RowDataset):
            iterator.collate_fn = dataset.collate(iterator.collate_fn)
        return iterator

    def infer(self, x, **fit_params):
        return super().infer(module_arguments(x), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_pred, tuple):  # a module's extra outputs: the first one counts
            y_pred = y_pred[0]
        extras = X if isinstance(X, Mapping) else {}
        shift, weight = extras.get(SHIFT_KEY), extras.get(WEIGHT_KEY)
        groups = extras.get(GROUP_KEY) if self.group_step_size is not None else None
        if training and shift is not None:
            shift = to_tensor(shift, device=y_pred.device)
            y_pred = shifted_output(y_pred, shift, self.criterion_)
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
        y_true = to_tensor(y_true, device=per_example.device).long()
        reduce = dict(criterion_reduction(self.criterion_), n_classes=y_pred.shape[1])
        if robust and not balanced:
            return self._group_dro_loss(per_example, y_true, weight, groups, reduce)
        return batch_loss(
            per_example, y_true, weight=weight, class_balanced=balanced, **reduce
        )

    def _group_dro_loss(self, per_example, y_true, weight, groups, reduce):
        """Group DRO's robust loss of one batch (each group's loss reduced by
        :func:`batch_loss` with ``reduce``); updates ``group_weights_``."""
        groups = to_tensor(groups, device=per_example.device).long()
        member = torch.nn.functional.one_hot(groups, self.n_groups).T
        member = member.to(per_example.dtype)
        if weight is not None:
            member = member * weight.to(per_example.dtype)
        group_loss = batch_loss(
            per_example.expand(self.n_groups, -1),
            y_true.expand(self.n_groups, -1),
            weight=member,
            **reduce,
        )
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


def divergence_advice(message, remedy, inputs):
    """``message`` with what to try: the method's ``remedy``, and scaling X when
    ``inputs`` hold large values."""
    advice = f"{message} Try {remedy}"
    largest = inputs.largest_magnitude()
    if largest is not None and largest > 1e4:
        advice += (
            f", and scale X: it holds values up to {largest:.3g} in absolute "
            "value (StandardScaler for tables, /255 for images)"
        )
    return advice + "."


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

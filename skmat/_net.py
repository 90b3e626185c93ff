"""The skorch side of MAT and the baselines: a net that trains on ``f(x) + shift``
with per-example weights, optionally under Group DRO's online group weights."""

import copy
import functools
import inspect
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNetClassifier
from skorch.helper import SliceDict
from skorch.utils import to_tensor

from ._loader import InMemoryDataLoader

# Keys of the skorch.helper.SliceDict that carries the per-example extras alongside X.
INPUT_KEY = "X"
SHIFT_KEY = "logit_shift"
WEIGHT_KEY = "sample_weight"
GROUP_KEY = "groups"

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


@contextmanager
def _reduction(criterion, reduction):
    previous = criterion.reduction
    criterion.reduction = reduction
    try:
        yield
    finally:
        criterion.reduction = previous


def _rng_devices(device):
    """CUDA devices whose RNG state ``fork_rng`` must restore for a net on ``device``."""
    device = torch.device(device if device is not None else "cpu")
    if device.type != "cuda" or not torch.cuda.is_available():
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


class LogitShiftMixin:
    """Adds skmat's per-example training rule to a skorch ``NeuralNetClassifier``
    (sub)class; MAT, JTT, Group DRO and group reweighting are uses of it.

    * ``X`` may be a ``SliceDict`` with the input under ``"X"``, and optionally a
      per-example ``"logit_shift"`` (n_samples, n_classes), ``"sample_weight"`` and
      integer ``"groups"`` (0 .. n_groups - 1); only the input reaches
      ``module.forward``.
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
    * ``fit`` seeds torch with ``random_state`` inside ``torch.random.fork_rng``, so
      the caller's global RNG is left as it was.
    """

    def __init__(
        self, *args, random_state=None, group_step_size=None, n_groups=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.random_state = random_state
        self.group_step_size = group_step_size
        self.n_groups = n_groups

    def fit(self, X, y=None, **fit_params):
        if not self.warm_start:
            self.group_weights_ = None
        with torch.random.fork_rng(devices=_rng_devices(self.device)):
            if self.random_state is not None:
                torch.manual_seed(self.random_state)
            return super().fit(X, y, **fit_params)

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping) and INPUT_KEY in x:
            x = x[INPUT_KEY]
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
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
        if weight is None and not robust:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        with _reduction(self.criterion_, "none"):
            per_example = super().get_loss(y_pred, y_true, X=X, training=training)
        if weight is None:
            weight = torch.ones_like(per_example)
        else:
            weight = to_tensor(weight, device=per_example.device).to(per_example.dtype)
        if robust:
            return self._group_dro_loss(per_example, weight, groups)
        # all-zero weights give a loss of 0, not NaN
        total = weight.sum().clamp_min(torch.finfo(weight.dtype).tiny)
        return (per_example * weight).sum() / total

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


def net_inputs(X, *, logit_shift=None, sample_weight=None, groups=None):
    """The ``SliceDict`` a shifted net trains on: ``X`` plus the per-example extras."""
    inputs = SliceDict(**{INPUT_KEY: X})
    for key, value in [
        (SHIFT_KEY, logit_shift),
        (WEIGHT_KEY, sample_weight),
        (GROUP_KEY, groups),
    ]:
        if value is not None:
            inputs[key] = value
    return inputs


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
                params[f"module__{name}"] = value
    return net_class(**params)


def net_logits(net, X):
    """Logits of a fitted shifted net on plain input ``X``, as float64 numpy."""
    output = net.forward(X, training=False)
    if isinstance(output, tuple):
        output = output[0]
    output = output.detach().to("cpu", torch.float64)
    if isinstance(net.criterion_, torch.nn.NLLLoss):
        output = torch.log(output + torch.finfo(torch.float32).eps)
    return output.numpy()


def check_net_output(net, X, n_classes, param_name):
    """Run an unfitted copy of ``net`` on two rows of ``X``; raise a clear error when
    its module does not take ``X`` or does not return one value per class."""
    probe = clone(net)
    with torch.random.fork_rng(devices=_rng_devices(probe.device)):
        try:
            output = probe.initialize().forward(X[:2])
        except Exception as exc:  # the module's own error, re-raised with context
            raise ValueError(
                f"The module of {param_name} fails on input with {X.shape[1]} features: "
                f"{exc}"
            ) from exc
    if isinstance(output, tuple):
        output = output[0]
    if output.ndim != 2 or output.shape[1] != n_classes:
        n_rows = len(X[:2])
        raise ValueError(
            f"The module of {param_name} returns shape {tuple(output.shape)} for {n_rows} "
            f"examples; it must output one value per class, ({n_rows}, {n_classes}) "
            "(a module class may take an n_classes argument, which skmat fills in)."
        )

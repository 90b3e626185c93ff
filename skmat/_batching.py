"""Can the held-out nets of a net train as one stacked model, and does it pay?

:mod:`skmat._stacked` trains copies of a net as one batched model and reproduces
their one-by-one skorch fits, up to float rounding, when the net allows it: no
BatchNorm, Dropout or other buffers or randomness in the module, an element-wise
optimizer, no callbacks or ``train_split``, a plain loader and criterion, a forward
that ``torch.func.vmap`` can run. :func:`batching_obstacle` says why not, if so;
:func:`auto_batching_obstacle` adds the cost rule of ``fold_training="auto"``.
"""

from numbers import Integral

import torch
from sklearn.base import clone
from skorch import NeuralNet, NeuralNetClassifier
from torch.func import vmap
from torch.utils.data import DataLoader

from ._loader import InMemoryDataLoader
from ._net import LogitShiftMixin
from ._random import forked_torch_rng
from ._stacked import (
    functional_forward,
    has_lazy_parameters,
    initialized_net,
    net_device,
    stacked_module,
)

#: Optimizers whose update of each parameter element depends only on that element's
#: gradient and state and on the step number: one instance over the stacked
#: parameters of k models steps each model as its own instance would.
SUPPORTED_OPTIMIZERS = (
    torch.optim.SGD,
    torch.optim.Adam,
    torch.optim.AdamW,
    torch.optim.RMSprop,
    torch.optim.Adagrad,
    torch.optim.Adamax,
    torch.optim.NAdam,
    torch.optim.RAdam,
    torch.optim.Adadelta,
)

#: Loader classes whose batches (and RNG draws) are replayed on a dataset of indices.
SUPPORTED_LOADERS = (InMemoryDataLoader, DataLoader)
_LOADER_PARAMS = {"shuffle", "batch_size", "drop_last", "pin_memory"}

#: Methods of the net used by skorch's fit; the batched fit replaces them, so a net
#: class that overrides one of them (beyond skmat's own LogitShiftMixin) cannot be
#: batched.
_FIT_METHODS = (
    "fit",
    "partial_fit",
    "fit_loop",
    "run_single_epoch",
    "train_step",
    "train_step_single",
    "get_train_step_accumulator",
    "get_loss",
    "infer",
    "get_dataset",
    "get_split_datasets",
    "get_iterator",
    "check_data",
    "initialize",
    "initialize_module",
    "initialize_criterion",
    "initialize_optimizer",
    "get_all_learnable_params",
    "get_params_for_optimizer",
    "_get_params_for_optimizer",
    "_zero_grad_optimizer",
    "_step_optimizer",
    "notify",
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_grad_computed",
)
_OWN_CLASSES = (LogitShiftMixin, NeuralNetClassifier, NeuralNet)


def _defining_class(cls, name):
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def _static_obstacle(net):
    """Obstacles visible in the net's parameters, without initializing it."""
    overridden = [
        name
        for name in _FIT_METHODS
        if _defining_class(type(net), name) not in (*_OWN_CLASSES, None)
    ]
    if overridden:
        user_class = getattr(type(net), "_skmat_base_class", type(net))
        return (
            f"the net class {user_class.__name__} overrides {', '.join(overridden)}, "
            "which the batched training does not run"
        )
    if net.callbacks not in (None, "disable") and len(net.callbacks) > 0:
        return "the net has callbacks, which the batched training does not run"
    if net.train_split is not None:
        return "the net has a train_split (validation data inside fit)"
    if net.optimizer not in SUPPORTED_OPTIMIZERS:
        names = ", ".join(opt.__name__ for opt in SUPPORTED_OPTIMIZERS)
        return (
            f"the optimizer {getattr(net.optimizer, '__name__', net.optimizer)!r} is "
            f"not one whose stacked update equals k separate ones ({names})"
        )
    if net.iterator_train not in SUPPORTED_LOADERS:
        return (
            f"iterator_train {getattr(net.iterator_train, '__name__', '?')!r} is not "
            "skmat.InMemoryDataLoader or torch.utils.data.DataLoader"
        )
    loader_params = set(net.get_params_for("iterator_train")) - _LOADER_PARAMS
    if loader_params:
        return (
            "iterator_train has parameters the batched training does not replay: "
            + ", ".join(sorted(loader_params))
        )
    if getattr(net, "compile", False):
        return "the net has compile=True"
    if not isinstance(net.max_epochs, Integral):
        return f"max_epochs must be an int; got {net.max_epochs!r}"
    return None


def _module_obstacle(net):
    """Obstacles of an initialized net's module and criterion."""
    module = net.module_
    if not isinstance(module, torch.nn.Module):
        return "module_ is not a torch.nn.Module"
    for name, sub in module.named_modules():
        where = f" ({name})" if name else ""
        if isinstance(sub, torch.nn.modules.batchnorm._NormBase):
            return (
                f"the module has a BatchNorm-like layer {type(sub).__name__}{where}, "
                "whose running statistics training updates"
            )
        if isinstance(sub, torch.nn.modules.dropout._DropoutNd) and sub.p > 0:
            return (
                f"the module has {type(sub).__name__}{where}: its random masks would "
                "not follow the one-by-one fits' RNG streams"
            )
    buffers = [name for name, _ in module.named_buffers()]
    if buffers:
        return (
            f"the module has buffers ({', '.join(buffers[:3])}), which training may "
            "update"
        )
    criterion = net.criterion_
    if type(criterion) not in (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss):
        return (
            f"the criterion {type(criterion).__name__} is not CrossEntropyLoss or "
            "NLLLoss"
        )
    if criterion.weight is not None:
        return "the criterion has class weights"
    if criterion.reduction != "mean":
        return f"the criterion has reduction={criterion.reduction!r}, not 'mean'"
    if any(True for _ in criterion.parameters()):
        return "the criterion has parameters"
    return None


def _forward_obstacle(net, inputs):
    """Try one vmapped forward and backward of two stacked copies on two rows."""
    module = stacked_module(net.module_)
    params = {
        name: torch.stack([p.detach(), p.detach()]).requires_grad_(p.requires_grad)
        for name, p in module.named_parameters()
    }
    device = net_device(net)
    rows = inputs.head(2)
    if isinstance(rows, dict):
        x = {key: torch.as_tensor(v).to(device) for key, v in rows.items()}
        x = {key: torch.stack([v, v]) for key, v in x.items()}
    else:
        x = torch.as_tensor(rows).to(device)
        x = torch.stack([x, x])
    try:
        out = vmap(functional_forward(module))(params, x)
        if not isinstance(out, torch.Tensor) or out.ndim != 3:
            return "the module's forward does not return one (n, n_classes) tensor"
        if out.requires_grad:
            out.sum().backward()
    except Exception as exc:  # any failure means: train one by one
        message = str(exc).strip().split("\n")[0].split(". ")[0]
        return (
            f"the module's forward cannot be vmapped (data-dependent control flow, "
            f"random numbers or in-place state?): {type(exc).__name__}: {message}"
        )[:400]
    return None


def batching_obstacle(net, inputs=None):
    """Why the fold nets of ``net`` cannot be trained as one batched model, if so.

    Parameters
    ----------
    net : skorch NeuralNetClassifier
        An unfitted shifted net, as :func:`skmat._net.make_shifted_net` returns; it is
        not modified (a clone is initialized to inspect its module).
    inputs : NetInput, default=None
        Training input. When given, a vmapped forward and backward of the module on
        two rows checks that the module can be batched (no data-dependent control
        flow, no random numbers in ``forward``); a lazy module first gets its
        parameters from a forward pass on these rows.

    Returns
    -------
    reason : str or None
        ``None`` when :func:`skmat._stacked.train_stacked` reproduces the
        one-by-one fits of ``net``; otherwise a short reason, e.g. the module has BatchNorm or
        Dropout (or any buffer), the optimizer is not one of
        :data:`SUPPORTED_OPTIMIZERS` (e.g. LBFGS), the net has callbacks or a
        ``train_split``, the loader is not :class:`~skmat.InMemoryDataLoader` or
        :class:`~torch.utils.data.DataLoader` (or has other parameters than
        ``shuffle``, ``batch_size``, ``drop_last``, ``pin_memory``), the criterion
        is not a plain ``CrossEntropyLoss`` / ``NLLLoss`` (class weights, other
        reduction), the net class overrides a method of skorch's fit loop, or the
        module's forward cannot be vmapped.
    """
    reason = _static_obstacle(net)
    if reason is not None:
        return reason
    probe, _ = initialized_net(clone(net))
    if has_lazy_parameters(probe.module_):
        if inputs is None:
            return "the module is lazy, and without an input it has no parameters yet"
        with forked_torch_rng(probe.device), torch.no_grad():
            probe.infer(inputs.head(2))
    reason = _module_obstacle(probe)
    if reason is not None or inputs is None:
        return reason
    with forked_torch_rng(probe.device):
        return _forward_obstacle(probe, inputs)


#: fold_training='auto' batches the held-out nets on the CPU only for modules up to
#: this many parameters: benchmarks/bench_batched_folds.py measures that small heads
#: train faster batched, while a 784-256-2 MLP (200k parameters) is compute-bound and
#: gains nothing. On a GPU it always batches.
AUTO_BATCH_MAX_CPU_PARAMETERS = 50_000


def auto_batching_obstacle(net, n_parameters):
    """Why ``fold_training="auto"`` trains a batchable net's folds one by one, if so:
    on the CPU, batching pays only for small modules."""
    if torch.device(net.device or "cpu").type == "cuda":
        return None
    if n_parameters > AUTO_BATCH_MAX_CPU_PARAMETERS:
        return (
            f"on the CPU, batching pays only for small modules (<= "
            f"{AUTO_BATCH_MAX_CPU_PARAMETERS} parameters); this one has {n_parameters}"
        )
    return None

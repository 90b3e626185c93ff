"""Which engine trains the held-out nets: one by one with skorch, or as one stacked
model (:mod:`skmat._stacked`), the accelerator that gives the same nets.

The stacked engine reproduces the one-by-one fits, up to float rounding, of a net
whose public settings say it runs nothing but skorch's own loop as
``NeuralNetClassifier`` defines it: that class itself (no subclass overrides), no
callbacks or ``train_split``, a plain loader, criterion and element-wise optimizer,
and a module without layers that keep state or draw random masks, whose forward
``torch.func.vmap`` can run. :func:`batching_obstacle` says why not, if so;
:func:`choose_engine` adds the cost rule of ``fold_training="auto"``.
"""

from numbers import Integral

import torch
from skorch import NeuralNetClassifier
from torch.func import vmap
from torch.nn.parameter import UninitializedParameter
from torch.utils.data import DataLoader

from ._compat import DROPOUT_LAYERS, NORMALIZATION_LAYERS
from ._loader import InMemoryDataLoader
from ._net import LogitShiftMixin, shifted_net_class
from ._random import forked_torch_rng
from ._stacked import functional_forward, net_device, stacked_module

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

#: fold_training='auto' batches the held-out nets on the CPU only for modules up to
#: this many parameters: benchmarks/bench_batched_folds.py measures that small heads
#: train faster batched, while a 784-256-2 MLP (200k parameters) is compute-bound and
#: gains nothing. On a GPU it always batches.
AUTO_BATCH_MAX_CPU_PARAMETERS = 50_000


def _name(value):
    return getattr(value, "__name__", repr(value))


def _settings_obstacle(net):
    """Obstacles in the net's class and parameters."""
    if type(net) is not shifted_net_class(NeuralNetClassifier):
        user = [
            klass
            for klass in type(net).__mro__
            if issubclass(klass, NeuralNetClassifier)
            and not issubclass(klass, LogitShiftMixin)
            and klass is not NeuralNetClassifier
        ] or [type(net)]
        own = sorted(
            {
                name
                for klass in user
                for name, value in vars(klass).items()
                if callable(value) and not name.startswith("__")
            }
        )
        return (
            f"the net class {user[0].__name__} is a subclass of skorch's "
            f"NeuralNetClassifier (it defines {', '.join(own) or 'no method'}), and "
            "the batched training runs NeuralNetClassifier's own loop"
        )
    if net.callbacks not in (None, "disable") and len(net.callbacks) > 0:
        return "the net has callbacks, which the batched training does not run"
    if net.train_split is not None:
        return "the net has a train_split (validation data inside fit)"
    if net.optimizer not in SUPPORTED_OPTIMIZERS:
        names = ", ".join(opt.__name__ for opt in SUPPORTED_OPTIMIZERS)
        return (
            f"the optimizer {_name(net.optimizer)!r} is not one whose stacked update "
            f"equals k separate ones ({names})"
        )
    if net.iterator_train not in SUPPORTED_LOADERS:
        return (
            f"iterator_train {_name(net.iterator_train)!r} is not "
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
    if any(isinstance(p, UninitializedParameter) for p in module.parameters()):
        return "the module is lazy, and without an input it has no parameters yet"
    for name, sub in module.named_modules():
        where = f"{type(sub).__name__}" + (f" ({name})" if name else "")
        if isinstance(sub, NORMALIZATION_LAYERS):
            return (
                f"the module has a BatchNorm-like layer {where}, whose running "
                "statistics training updates"
            )
        if isinstance(sub, DROPOUT_LAYERS) and sub.p > 0:
            return (
                f"the module has {where}: its random masks would not follow the "
                "one-by-one fits' RNG streams"
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
    if any(True for _ in criterion.parameters()):
        return "the criterion has parameters"
    return None


def _forward_obstacle(probe, inputs):
    """Try one vmapped forward and backward of two stacked copies on two rows."""
    module = stacked_module(probe.module_)
    forward = vmap(functional_forward(module))
    device = net_device(probe)
    params = {
        name: torch.stack([p.detach(), p.detach()]).requires_grad_(p.requires_grad)
        for name, p in module.named_parameters()
    }
    rows = inputs.head(2)
    if isinstance(rows, dict):
        x = {key: torch.as_tensor(v).to(device) for key, v in rows.items()}
        x = {key: torch.stack([v, v]) for key, v in x.items()}
    else:
        x = torch.as_tensor(rows).to(device)
        x = torch.stack([x, x])
    try:
        with forked_torch_rng(probe.device):
            out = forward(params, x)
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


def batching_obstacle(net, probe, inputs=None):
    """Why the held-out nets of ``net`` cannot train as one stacked model, if so.

    Parameters
    ----------
    net : skorch NeuralNetClassifier
        An unfitted shifted net (:func:`skmat._user_net.make_shifted_net`); not modified.
    probe : skorch NeuralNetClassifier
        ``net`` initialized (and run on ``inputs``, so that a lazy module has its
        parameters): :func:`skmat._user_net.probe_net`.
    inputs : NetInput, default=None
        Training input: when given, a vmapped forward and backward of the module on
        two rows checks that ``forward`` can be batched.

    Returns
    -------
    reason : str or None
        None when :func:`skmat._stacked.fit_stacked` reproduces the one-by-one fits
        of ``net``; otherwise a short reason (BatchNorm, Dropout or any buffer in the
        module, an optimizer not in :data:`SUPPORTED_OPTIMIZERS`, callbacks, a
        ``train_split``, another loader or criterion, a subclass of
        ``NeuralNetClassifier``, a forward that cannot be vmapped).
    """
    reason = _settings_obstacle(net) or _module_obstacle(probe)
    if reason is not None or inputs is None:
        return reason
    return _forward_obstacle(probe, inputs)


def choose_engine(net, probe, inputs, fold_training, *, cost_rule=True):
    """The engine of the held-out nets of ``net`` (``probe``: see
    :func:`batching_obstacle`) under ``fold_training``: ``("stacked", None)`` or
    ``("one_by_one", reason)``.

    ``fold_training="batched"`` raises a ValueError naming the obstacle; ``"auto"``
    stacks when the net allows it and, with ``cost_rule``, when it pays: on the CPU
    only for modules of at most :data:`AUTO_BATCH_MAX_CPU_PARAMETERS` parameters.
    """
    if fold_training == "sequential":
        return "one_by_one", "fold_training='sequential'"
    reason = batching_obstacle(net, probe, inputs)
    if reason is None and fold_training == "auto" and cost_rule:
        on_cpu = torch.device(net.device or "cpu").type != "cuda"
        size = sum(p.numel() for p in probe.module_.parameters())
        if on_cpu and size > AUTO_BATCH_MAX_CPU_PARAMETERS:
            reason = (
                f"on the CPU, batching pays only for small modules (<= "
                f"{AUTO_BATCH_MAX_CPU_PARAMETERS} parameters); this one has {size}"
            )
    if reason is None:
        return "stacked", None
    if fold_training == "batched":
        raise ValueError(
            f"fold_training='batched' cannot train the held-out nets of this net as "
            f"one batched model: {reason}. Use fold_training='auto' or 'sequential'."
        )
    return "one_by_one", reason

"""Train the k held-out fold nets together, as one batched model (``torch.func``).

The held-out phase of MAT fits k copies of the same net, each on its own training
fold. Fitted one by one with skorch, every optimizer step of every fold pays
skorch's and PyTorch's per-step overhead for a small amount of arithmetic. Here the k
models' parameters are stacked along a new first dimension; one vmapped
``functional_call`` runs all k forwards in one go, each model on its own minibatch,
and one optimizer over the stacked parameters updates all of them.

Equivalence with the one-by-one fits
------------------------------------
``fit_batched_folds`` reproduces what ``clone(net).fit(net_inputs(X[train], ...),
y[train])`` does for every fold, up to float rounding:

* **Initial weights.** Each fold net is a clone of the template, initialized by
  skorch inside ``torch.random.fork_rng`` after ``torch.manual_seed(random_state)``,
  exactly as its own ``fit`` would.
* **Minibatches.** Right after initialization the fold's torch RNG state is saved.
  For every epoch it is restored, the fold's own ``iterator_train`` (built by the
  net's ``get_iterator``, so with the same class, batch size and shuffle) is
  iterated over a dataset of row indices, and the state is saved again. The loader
  thus makes exactly the RNG draws it makes in the fold's skorch fit (a base seed per
  pass, then the permutation) and yields the same batches.
* **Loss.** The criterion instance of the fold net, with ``reduction="none"``, then
  the mean over the batch, or ``sum(w * loss) / sum(w)`` with sample weights, as
  the shifted net's ``get_loss``; for ``NLLLoss`` the output goes through
  ``log(p + eps)`` first, as skorch's ``NeuralNetClassifier.get_loss``. The loss of
  the step is the sum of the k models' losses: model j's parameters only reach its
  own loss, so each model gets its own gradient.
* **Optimizer.** The supported optimizers update every parameter element from its
  own gradient and state (plus scalars such as Adam's step count, which depend on
  the step number only), so one optimizer over the stacked parameters equals k
  optimizers over the separate ones, as long as all k models step together.

Ragged steps
------------
Folds differ in size by a few examples, so their batches differ in size (the last
batch of an epoch is smaller) and a fold may have one batch per epoch more than
another. Each model runs through its own sequence of batches, epoch after epoch, in
lockstep with the others: at step t every model takes its own t-th batch. Batches of
different sizes are padded to the largest with rows of weight 0 (they add exactly
nothing to the loss or the gradient). When a model has no batch left (it finished
its ``max_epochs`` epochs in fewer steps), it leaves the stack: its parameters and
optimizer state are taken out, and the remaining models continue with a new stacked
optimizer whose state is the old state restricted to them. Models that leave are
never stepped again (a zero gradient would still move them under Adam), and all
models that remain in the stack have taken the same number of steps, so the
optimizer's scalar step count is right for every one of them.

In float64 the batched fits give the one-by-one fits' probabilities to ~1e-15. In
float32 the summation order of the batched products differs, and training carries
the rounding noise along (Adam, which divides each gradient by its running RMS,
amplifies it on near-zero gradients): ~1e-7 for short fits of small heads, up to
~1e-3 after 50 epochs of a 784-256-2 MLP that drives its training probabilities to
0 and 1 (the one-by-one fits are as sensitive to any other change of summation
order).

Speed
-----
Per step, the minibatch rows of all models are copied with one ``index_select``
into a buffer reused at every step, and ``nn.Linear`` layers compute ``(W x^T)^T``:
under ``vmap``, ``F.linear``'s weight gradient becomes the product ``x^T @ grad`` with
a (n_features, batch) left factor, several times slower on CPU than the ``grad^T @
x`` this form gives. What remains per step is one vmapped forward and backward, the
loss and one optimizer step for all k models, instead of k skorch steps.
"""

import copy
import types
from numbers import Integral

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNet, NeuralNetClassifier
from skorch.utils import to_tensor
from torch.func import functional_call, vmap
from torch.utils.data import DataLoader

from ._loader import InMemoryDataLoader
from ._net import LogitShiftMixin, _reduction, _rng_devices

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


class _IndexDataset(torch.utils.data.Dataset):
    """``n`` rows whose content is their own index: a loader over it yields the
    batches' row indices (and draws from the RNG as over the real data)."""

    def __init__(self, n_samples):
        self.n_samples = n_samples

    def __len__(self):
        return self.n_samples

    def __getitem__(self, index):
        return index

    def __getitems__(self, indices):
        return list(indices)


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


def _forward_obstacle(net, X):
    """Try one vmapped forward and backward of two stacked copies on two rows."""
    module = _stacked_module(net.module_)
    params = {
        name: torch.stack([p.detach(), p.detach()]).requires_grad_(p.requires_grad)
        for name, p in module.named_parameters()
    }
    x = to_tensor(np.asarray(X[:2]), device=_device(net))
    try:
        out = vmap(_functional_forward(module))(params, torch.stack([x, x]))
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


def _functional_forward(module):
    def forward(params, x):
        return functional_call(module, params, (x,))

    return forward


def _device(net):
    """The device of an initialized net's parameters."""
    return next(net.module_.parameters(), torch.empty(0)).device


def _initialized(net):
    """``net`` initialized inside its own ``fit``'s RNG context."""
    with torch.random.fork_rng(devices=_rng_devices(net.device)):
        if net.random_state is not None:
            torch.manual_seed(net.random_state)
        net.initialize()
        state = torch.get_rng_state()
    return net, state


def batching_obstacle(net, X=None):
    """Why the fold nets of ``net`` cannot be trained as one batched model, if so.

    Parameters
    ----------
    net : skorch NeuralNetClassifier
        An unfitted shifted net, as :func:`skmat._net.make_shifted_net` returns; it is
        not modified (a clone is initialized to inspect its module).
    X : ndarray of shape (n_samples, n_features), default=None
        Training input. When given, a vmapped forward and backward of the module on
        two rows checks that the module can be batched (no data-dependent control
        flow, no random numbers in ``forward``).

    Returns
    -------
    reason : str or None
        ``None`` when :func:`fit_batched_folds` reproduces the one-by-one fits of
        ``net``; otherwise a short reason, e.g. the module has BatchNorm or
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
    probe, _ = _initialized(clone(net))
    reason = _module_obstacle(probe)
    if reason is not None or X is None:
        return reason
    with torch.random.fork_rng(devices=_rng_devices(probe.device)):
        return _forward_obstacle(probe, X)


class _FoldBatches:
    """The minibatches (global row indices) of one fold, epoch after epoch, drawn as
    its own skorch fit draws them."""

    def __init__(self, net, rng_state, train, n_epochs):
        self.loader = net.get_iterator(_IndexDataset(len(train)), training=True)
        self.rng_state = rng_state
        self.train = np.asarray(train, dtype=np.int64)
        self.n_epochs = n_epochs

    def __iter__(self):
        for epoch in range(self.n_epochs):
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(self.rng_state)
                batches = [np.asarray(batch) for batch in self.loader]
                self.rng_state = torch.get_rng_state()
            for batch in batches:
                yield epoch, self.train[batch]


def _is_per_element(value, param):
    return torch.is_tensor(value) and value.ndim > 0 and value.shape == param.shape


class _Stack:
    """The stacked parameters of the models still training, and their optimizer."""

    def __init__(self, net, params, state=None):
        self.net = net
        self.params = params
        args, kwargs = net.get_params_for_optimizer("optimizer", params.items())
        self.optimizer = net.optimizer(*args, **kwargs)
        if state is not None:
            self.optimizer.load_state_dict(state)

    @classmethod
    def from_nets(cls, nets):
        named = [dict(net.module_.named_parameters()) for net in nets]
        params = {
            name: torch.stack([model[name].detach() for model in named])
            .clone()
            .requires_grad_(param.requires_grad)
            for name, param in named[0].items()
        }
        return cls(nets[0], params)

    def _param_list(self):
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def model_state(self, row):
        """Parameters and optimizer ``state`` of the model in ``row`` of the stack."""
        params = {name: p.detach()[row].clone() for name, p in self.params.items()}
        state = {}
        for index, param in enumerate(self._param_list()):
            if param not in self.optimizer.state:
                continue
            state[index] = {
                key: (
                    value[row].clone()
                    if _is_per_element(value, param)
                    else value.clone()
                    if torch.is_tensor(value)
                    else value
                )
                for key, value in self.optimizer.state[param].items()
            }
        return params, state

    def keep(self, rows):
        """A new stack of the models in ``rows`` (a list of positions)."""
        index = torch.as_tensor(rows, device=next(iter(self.params.values())).device)
        new_state = {}
        for i, param in enumerate(self._param_list()):
            if param not in self.optimizer.state:
                continue
            new_state[i] = {
                key: (
                    value.index_select(0, index)
                    if _is_per_element(value, param)
                    else value
                )
                for key, value in self.optimizer.state[param].items()
            }
        params = {
            name: p.detach().index_select(0, index).requires_grad_(p.requires_grad)
            for name, p in self.params.items()
        }
        groups = self.optimizer.state_dict()["param_groups"]
        state = {"state": new_state, "param_groups": groups}
        return type(self)(self.net, params, state)


def _record_history(net, epochs, losses, sizes):
    """Fill ``net.history`` like skorch's fit loop with its default callbacks
    (``train_loss`` is the epoch's mean batch loss, weighted by batch size)."""
    best = np.inf
    for epoch in range(net.max_epochs):
        in_epoch = epochs == epoch
        net.history.new_epoch()
        net.history.record("epoch", len(net.history))
        for loss, size in zip(losses[in_epoch], sizes[in_epoch]):
            net.history.new_batch()
            net.history.record_batch("train_loss", float(loss))
            net.history.record_batch("train_batch_size", int(size))
        net.history.record("train_batch_count", int(in_epoch.sum()))
        if in_epoch.any():
            loss = float(np.average(losses[in_epoch], weights=sizes[in_epoch]))
            net.history.record("train_loss", loss)
            net.history.record("train_loss_best", bool(loss < best))
            best = min(best, loss)


def fit_batched_folds(net, X, y, splits, *, sample_weight=None):
    """Fit one clone of ``net`` per training fold, all together as one batched model.

    Gives the fold nets that ``[clone(net).fit(net_inputs(X[train],
    sample_weight=sample_weight[train]), y[train]) for train, _ in splits]`` gives, up
    to float rounding (see the module docstring), much faster for small modules.

    Parameters
    ----------
    net : skorch NeuralNetClassifier
        The unfitted shifted net (:func:`skmat._net.make_shifted_net`); not modified.
        :func:`batching_obstacle` must return ``None`` for it.
    X : ndarray of shape (n_samples, n_features)
        Input, float32.
    y : ndarray of shape (n_samples,)
        Encoded labels (int64, ``0 .. n_classes - 1``).
    splits : list of (train, test) index arrays
        Only the training indices are used.
    sample_weight : ndarray of shape (n_samples,), default=None
        Per-example weights of the loss.

    Returns
    -------
    nets : list of skorch NeuralNetClassifier
        One fitted clone of ``net`` per split: trained weights in ``module_``, the
        optimizer state in ``optimizer_`` and one history row per epoch with
        ``train_loss`` (no ``dur``: the epochs of all folds run interleaved).

    Raises
    ------
    ValueError
        If :func:`batching_obstacle` finds a reason not to batch.
    """
    reason = batching_obstacle(net, X)
    if reason is not None:
        raise ValueError(f"Cannot train the folds as one batched model: {reason}.")
    nets, schedules = [], []
    for train, _ in splits:
        fold, state = _initialized(clone(net))
        nets.append(fold)
        schedules.append(_FoldBatches(fold, state, train, fold.max_epochs))
    gather = _Gather(X, y, sample_weight, _device(nets[0]))
    train_stacked(nets, schedules, gather)
    return nets


def train_stacked(nets, schedules, gather, *, before_step=None):
    """Train initialized ``nets`` in lockstep as one stacked model, in place.

    The training loop of :func:`fit_batched_folds`, reusable by other held-out
    schemes (XRM's twins, :mod:`skmat._xrm`): at step t every model takes the t-th
    batch of its schedule; a model that has no batch left leaves the stack. At the
    end each net holds its trained weights, its optimizer state and its history.

    Parameters
    ----------
    nets : list of skorch NeuralNetClassifier
        Initialized clones of one shifted net (:func:`_initialized`), as many as
        ``schedules``.
    schedules : list of iterables of (epoch, row indices)
        The batches of each model (global rows of ``gather``'s data), e.g.
        :class:`_FoldBatches`.
    gather : _Gather
        Holds the data; its labels ``gather.y`` are read at every step, so a caller
        may change them in place between steps (the batch of the current step is
        gathered before ``before_step`` runs).
    before_step : callable, default=None
        Called at every step after the batches are gathered and before the forward
        pass and the optimizer step, as ``before_step(step)`` with a
        :class:`types.SimpleNamespace` ``step`` holding ``active`` (the model in each
        row of the stack), ``batches`` (their row indices, unpadded), ``x`` (the
        gathered, padded input, shape (len(active), width, ...)), ``params`` (the
        stacked parameters, before this step's update), ``finished`` (model ->
        (parameters, optimizer state) of the models that took all their steps),
        ``forward`` (the vmapped functional forward: ``forward(params, x)``) and
        ``module`` (the module to ``functional_call`` with one model's
        parameters).
    """
    criterion = nets[0].criterion_
    module = _stacked_module(nets[0].module_)
    forward = vmap(_functional_forward(module))

    stack = _Stack.from_nets(nets)
    active = list(range(len(nets)))  # the model in each row of the stack
    streams = [iter(schedule) for schedule in schedules]
    finished = {}
    log = [[] for _ in nets]  # (epoch, batch size) of each step, per model
    step_losses = []  # (models, their losses) per step
    while True:
        batches, done = [], []
        for row, model in enumerate(active):
            item = next(streams[model], None)
            if item is None:
                done.append(row)
            else:
                batches.append(item[1])
                log[model].append((item[0], len(item[1])))
        if done:
            # These models took all their steps: out of the stack. The others took
            # the same number of steps as one another, so one optimizer still fits.
            for row in done:
                finished[active[row]] = stack.model_state(row)
            rows = [row for row in range(len(active)) if row not in done]
            active = [active[row] for row in rows]
            if not active:
                break
            stack = stack.keep(rows)
        xb, yb, weight = gather(batches)
        if before_step is not None:
            before_step(
                types.SimpleNamespace(
                    active=active,
                    batches=batches,
                    x=xb,
                    params=stack.params,
                    finished=finished,
                    forward=forward,
                    module=module,
                )
            )
        out = forward(stack.params, xb)
        loss = _batch_losses(criterion, out, yb, weight, gather.weighted)
        stack.optimizer.zero_grad()
        loss.sum().backward()
        stack.optimizer.step()
        step_losses.append((active, loss.detach()))

    for model, fold in enumerate(nets):
        params, state = finished[model]
        with torch.no_grad():
            for name, param in fold.module_.named_parameters():
                param.copy_(params[name])
        groups = fold.optimizer_.state_dict()["param_groups"]
        fold.optimizer_.load_state_dict({"state": state, "param_groups": groups})
    _fill_histories(nets, log, step_losses)


class _Gather:
    """Stacks the models' minibatches, padded to the largest with rows of weight 0.

    The rows are copied into a buffer reused at every step: a fresh multi-megabyte
    tensor per step costs more (in page faults, on CPU) than the copy itself.
    """

    def __init__(self, X, y, sample_weight, device):
        self.device = device
        self.X = to_tensor(X, device=device)
        self.buffer = self.X.new_empty((0, *self.X.shape[1:]))
        self.y = to_tensor(np.asarray(y), device=device)
        self.weighted = sample_weight is not None
        if self.weighted:
            self.w = to_tensor(np.asarray(sample_weight), device=device)

    def __call__(self, batches):
        """``(x, y, weight)`` of shapes (k, width, ...), (k, width), (k, width);
        ``weight`` is None when all batches have the same size and no weights."""
        sizes = [len(batch) for batch in batches]
        width = max(sizes)
        if min(sizes) == width:
            index, mask = np.stack(batches), None
        else:
            index = np.empty((len(batches), width), dtype=np.int64)
            mask = np.zeros((len(batches), width), dtype=np.float32)
            for row, batch in enumerate(batches):
                index[row, : len(batch)] = batch
                index[row, len(batch) :] = batch[0]  # any real row; weight 0
                mask[row, : len(batch)] = 1
            mask = torch.from_numpy(mask).to(self.device)
        index = torch.from_numpy(index).to(self.device)
        if len(self.buffer) < index.numel():
            self.buffer = self.X.new_empty((index.numel(), *self.X.shape[1:]))
        x = self.buffer[: index.numel()]
        torch.index_select(self.X, 0, index.view(-1), out=x)
        weight = self.w[index] if self.weighted else None
        if mask is not None:
            weight = mask if weight is None else weight * mask.to(weight.dtype)
        return x.view(*index.shape, *x.shape[1:]), self.y[index], weight


def _batch_losses(criterion, out, y, weight, weighted):
    """Each model's loss on its batch, as the shifted net's ``get_loss`` computes it:
    the batch mean, or ``sum(w * loss) / sum(w)`` with sample weights."""
    if isinstance(criterion, torch.nn.NLLLoss):
        # skorch's NeuralNetClassifier.get_loss: NLLLoss gets log(p + eps)
        out = torch.log(out + torch.finfo(out.dtype).eps)
    with _reduction(criterion, "none"):
        per_example = criterion(out.flatten(0, 1), y.flatten()).view(y.shape)
    if weighted:
        weight = weight.to(per_example.dtype)
        total = weight.sum(1).clamp_min(torch.finfo(weight.dtype).tiny)
        return (per_example * weight).sum(1) / total
    counted = None if weight is None else weight.to(per_example.dtype)
    if 0 <= criterion.ignore_index:  # never with the default ignore_index=-100
        kept = (y != criterion.ignore_index).to(per_example.dtype)
        counted = kept if counted is None else counted * kept
    if counted is None:
        return per_example.mean(1)
    return (per_example * counted).sum(1) / counted.sum(1)


def _stacked_linear_forward(self, input):
    """``nn.Linear.forward`` for the vmapped training: ``(W x^T)^T + b`` on 2-d input.

    The same numbers as ``F.linear``; but under ``vmap`` the weight gradient of
    ``F.linear`` becomes ``x^T @ grad`` per model, a (n_features, batch) @ (batch,
    n_out) product that is several times slower on CPU than the ``grad^T @ x`` that
    this form gives (and that plain ``nn.Linear`` computes).
    """
    if input.dim() != 2:
        return torch.nn.functional.linear(input, self.weight, self.bias)
    out = torch.mm(self.weight, input.t()).t()
    return out if self.bias is None else out + self.bias


def _stacked_module(module):
    """A copy of ``module`` to run through ``functional_call`` under ``vmap``, in train
    mode, with the faster form of its ``nn.Linear`` layers."""
    module = copy.deepcopy(module).train()
    for sub in module.modules():
        if type(sub) is torch.nn.Linear:
            sub.forward = types.MethodType(_stacked_linear_forward, sub)
    return module


def _fill_histories(nets, log, step_losses):
    per_model = [[] for _ in nets]
    if step_losses:
        for models, losses in step_losses:
            for model, loss in zip(models, losses.tolist()):
                per_model[model].append(loss)
    for model, fold in enumerate(nets):
        steps = np.asarray(log[model], dtype=np.int64).reshape(-1, 2)
        _record_history(fold, steps[:, 0], np.asarray(per_model[model]), steps[:, 1])


def batched_predict_proba(nets, X, rows=None):
    """Class probabilities of each fold net, on its own rows of ``X``.

    Parameters
    ----------
    nets : list of fitted skorch NeuralNetClassifier
    X : ndarray of shape (n_samples, n_features)
    rows : list of index arrays, default=None
        The rows each net predicts (e.g. its test fold); ``None`` means all rows for
        every net.

    Returns
    -------
    proba : list of ndarray of shape (len(rows[j]), n_classes)
        ``nets[j].predict_proba(X[rows[j]])``.
    """
    if rows is None:
        rows = [slice(None)] * len(nets)
    with torch.random.fork_rng(devices=[]):
        return [net.predict_proba(X[r]) for net, r in zip(nets, rows)]


__all__ = [
    "SUPPORTED_OPTIMIZERS",
    "batching_obstacle",
    "batched_predict_proba",
    "fit_batched_folds",
]

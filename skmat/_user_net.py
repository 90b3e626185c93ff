"""The user's net as skmat trains it: built from the ``estimator`` (or
``held_out_estimator``) parameter, and checked on the data before any training.

:func:`make_shifted_net` turns a skorch net, a module class or a module instance
into an unfitted :class:`~skmat._net.LogitShiftMixin` net; :func:`probe_estimator`
initializes it once and runs it on two rows, which tells the dtype a table takes,
whether the module takes the input and returns one value per class, and (for
:mod:`skmat._batching`) what the module holds.
"""

import copy
import inspect
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset as SkorchDataset
from skorch.dataset import ValidSplit

from ._data import TABLE_DTYPES, check_net_input
from ._loader import InMemoryDataLoader
from ._net import LogitShiftNeuralNetClassifier, shifted_net_class
from ._random import forked_torch_rng, seeded_splitter
from ._rows import WEIGHT_KEY, RowDataset

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


def supported_criterion(criterion):
    """Whether a skorch ``criterion`` parameter is one MAT knows how to shift."""
    criterion_class = criterion if isinstance(criterion, type) else type(criterion)
    return issubclass(criterion_class, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss))


def criterion_class_weight(estimator):
    """The class weights of the criterion of ``estimator`` (a skorch net's
    ``criterion__weight``, or those of a criterion instance), as a list, or None."""
    if not isinstance(estimator, NeuralNetClassifier):
        return None
    params = estimator.get_params(deep=False)
    weight = params.get("criterion__weight")
    if weight is None and isinstance(params["criterion"], torch.nn.Module):
        weight = getattr(params["criterion"], "weight", None)
    return None if weight is None else np.asarray(weight, dtype=float).tolist()


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
    check_component_params(params, param_name)
    params.update(
        classes=np.arange(n_classes),
        verbose=int(verbose),
        random_state=random_state,
        train_split=seeded_train_split(params.get("train_split"), random_state),
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


def seeded_train_split(train_split, seed):
    """``train_split`` whose random draw ``seed`` (an int, from the estimator's
    ``random_state``) seeds: a skorch ``ValidSplit`` with a float ``cv`` (a random
    share) and no ``random_state``, or with a shuffling splitter as ``cv`` that has
    none, is copied with the seed; anything else is returned as it is."""
    if not isinstance(train_split, ValidSplit) or seed is None:
        return train_split
    cv = train_split.cv
    if isinstance(cv, Real) and not float(cv).is_integer():
        if train_split.random_state is not None:
            return train_split
        seeded = copy.copy(train_split)
        seeded.random_state = seed
        return seeded
    if seeded_splitter(cv, seed) is cv:
        return train_split
    seeded = copy.copy(train_split)
    seeded.cv = seeded_splitter(cv, seed)
    return seeded


def seeded_estimator(estimator, seed):
    """``estimator`` (a scikit-learn estimator, changed in place) with every
    ``random_state`` parameter left at None set to ``seed``, as scikit-learn's
    ensembles seed their members."""
    unseeded = {
        name: seed
        for name, value in estimator.get_params(deep=True).items()
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    }
    return estimator.set_params(**unseeded)


def check_component_params(params, param_name):
    """Raise a ValueError naming the parameter when a skorch net's
    ``criterion__name`` or ``optimizer__name`` (or ``module__name`` of a module
    class) is not an argument of that class, which would otherwise fail inside
    the net's initialization; and when the criterion's reduction is not one that
    gives a batch loss."""
    criterion = params.get("criterion")
    reduction = params.get(
        "criterion__reduction", getattr(criterion, "reduction", "mean")
    )
    if reduction not in ("mean", "sum"):
        raise ValueError(
            f"{param_name} has a criterion with reduction={reduction!r}; the nets "
            "train on one loss per batch, so it must be 'mean' (the default) or "
            "'sum'."
        )
    for component in ("module", "criterion", "optimizer"):
        target = params.get(component)
        if component == "criterion" and isinstance(target, torch.nn.Module):
            target = type(target)
        if not inspect.isclass(target):
            continue
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            continue
        arguments = signature.parameters.values()
        if any(argument.kind == argument.VAR_KEYWORD for argument in arguments):
            continue
        accepted = {argument.name for argument in arguments} - {"self", "params"}
        prefix = f"{component}__"
        for key, value in params.items():
            name = key[len(prefix) :]
            if not key.startswith(prefix) or "__" in name or name in accepted:
                continue
            if component == "optimizer" and name == "param_groups":
                continue
            raise ValueError(
                f"{param_name} has {key}={value!r}, but its {component} "
                f"{target.__name__} takes no argument "
                f"{name!r}; it takes {sorted(accepted)}."
            )


def as_weighted_net(net, n_classes):
    """A plain skorch ``net`` as skmat trains its nets: a ``sample_weight`` in its
    dataset weighs its loss (skorch would pass it to the module's ``forward``), and
    it trains on class indices with one output column per class (torch takes no
    string labels)."""
    params = clone(net).get_params(deep=False)
    params["classes"] = np.arange(n_classes)
    return shifted_net_class(type(net))(**params)


def weighted_net_data(X, y, sample_weight=None):
    """What a net of :func:`as_weighted_net` fits on: the rows of ``X`` with their
    labels ``y`` and ``sample_weight``."""
    extras = {} if sample_weight is None else {WEIGHT_KEY: np.asarray(sample_weight)}
    return RowDataset(check_net_input(X), y, extras)


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
            collates = [
                "collate_fn" in probe.get_params_for(f"iterator_{kind}")
                for kind in ("train", "valid")
            ]
            hint = (
                "; the net has iterator_train__collate_fn but no "
                "iterator_valid__collate_fn, and skmat predicts with its valid loader "
                "(as skorch's predict does): set iterator_valid__collate_fn too."
                if collates == [True, False]
                else ""
            )
            raise ValueError(
                f"The module of {param_name} fails on {inputs.describe()}: "
                f"{type(exc).__name__}: {exc}{hint}"
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


def probe_estimator(net, inputs, n_classes):
    """Check the final net on two rows of ``inputs``; return the probe (an
    initialized net) and the inputs as the nets get them.

    A floating table takes the dtype of the module's parameters when they are
    float64 or float16 (as skorch would feed it), else float32; an integer table
    stays integer when the module takes it (token ids), else becomes floating
    the same way (a linear layer on integer features)."""
    probe = initialized_probe(net)
    module_dtype = module_floating_dtype(probe)
    candidates = inputs.dtype_candidates(module_dtype)
    error = None
    for candidate in candidates:
        try:
            probe = probe_net(net, candidate, n_classes, "estimator", probe)
            return probe, candidate
        except ValueError as exc:
            error = exc if error is None else error
    if (
        inputs.table is not None
        and module_dtype is not None
        and module_dtype not in TABLE_DTYPES
    ):
        raise ValueError(
            f"{error} The module's parameters are {module_dtype}, which a table "
            "(validated into a numpy array) cannot hold: cast X in the module's "
            "forward, or give the module float32 or float64 parameters."
        ) from error
    raise error


def held_out_epochs(epochs, max_epochs):
    """The epochs of held-out nets copied from a net with ``max_epochs``: ``epochs``
    itself (an int), that share of ``max_epochs`` rounded, at least 1 (a float), or
    ``max_epochs`` (None)."""
    if epochs is None:
        return max_epochs
    if isinstance(epochs, Integral):
        return int(epochs)
    return max(1, int(round(epochs * max_epochs)))


def held_out_model(held_out_estimator, final_net, probe, inputs, *, epochs, make_net):
    """What the held-out models copy, and its probe: the final net with its epochs
    set by ``epochs`` (:func:`held_out_epochs`; its ``probe``
    serves), a net built from a net-like ``held_out_estimator`` (probed here), or a
    clone of a scikit-learn ``held_out_estimator`` (no probe)."""
    if held_out_estimator is None:
        max_epochs = held_out_epochs(epochs, final_net.max_epochs)
        return clone(final_net).set_params(max_epochs=max_epochs), probe
    if not is_net(held_out_estimator):
        seed = make_net["random_state"]
        return seeded_estimator(clone(held_out_estimator), seed), None
    param = "held_out_estimator"
    net = make_shifted_net(held_out_estimator, param_name=param, **make_net)
    return net, probe_net(net, inputs, make_net["n_classes"], param)

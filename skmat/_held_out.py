"""The held-out phase: for every training example, class probabilities from models
that never trained on it (Bayat et al., ICLR 2025, Section 3 and Algorithm 1).

Each strategy is a :class:`HeldOutStrategy` whose ``fit`` returns a
:class:`HeldOutResult`: the held-out probabilities, the fitted models and the rows
each one trained on. Estimators only choose a strategy (``held_out``, and
:func:`batching_choice` for ``fold_training``) and assign what it returns.

========================  ====================================================
strategy                  models
========================  ====================================================
``KFold`` (one by one)    one clone per fold, fitted with skorch (or any
                          scikit-learn classifier), ``n_jobs`` at a time
``KFold`` (batched)       the same fold nets, trained as one stacked model
``XRMTwins``              XRM's two twins on halves, label flipping, stacked or
                          two skorch nets in lockstep
``InSample``              one model on everything (JTT as published); not
                          held out
========================  ====================================================
"""

import time
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import clone
from sklearn.utils import Bunch

from ._batching import auto_batching_obstacle, batching_obstacle
from ._data import TABLE
from ._kfold import fit_folds_batched, fit_folds_one_by_one, fit_one, make_splits
from ._net import (
    TrainingDiverged,
    divergence,
    is_net,
    make_shifted_net,
    n_parameters,
    net_logits,
    probe_net,
    with_own_files,
)
from ._proba import check_finite, in_class_columns
from ._progress import with_progress, without_progress
from ._random import draw_seed, forked_torch_rng
from ._xrm import fit_xrm_twins


class HeldOutResult(Bunch):
    """What a held-out phase gives.

    Attributes
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Held-out class probabilities (float64), columns in class-index order.
    estimators : list
        The fitted held-out models (kept on the CPU without optimizer state).
    samples : list of ndarray
        The rows each model trained on.
    fit_times : list of float or None
        Each model's fit time in seconds, when they trained one by one.
    """


@contextmanager
def on_device(net, device):
    """Run a block with a stored held-out skorch net on ``device`` (then back on
    the CPU, where skmat keeps it)."""
    if not hasattr(net, "module_") or torch.device(device or "cpu").type == "cpu":
        yield net  # a scikit-learn model, or nothing to move
        return
    net.module_.to(device)
    net.criterion_.to(device)
    net.set_params(device=device)
    try:
        yield net
    finally:
        store(net)


def store(model):
    """A fitted held-out skorch net as skmat keeps it: its optimizer state dropped
    (it is for prediction) and its module on the CPU, so that k + 1 copies of a big
    net do not hold device memory after fit. Other models are kept as they are."""
    if not hasattr(model, "module_"):
        return model
    if getattr(model, "optimizer_", None) is not None:
        model.optimizer_.state.clear()
    model.module_.to("cpu")
    model.criterion_.to("cpu")
    model.set_params(device="cpu")
    return model


def model_proba(model, inputs, n_classes, device=None):
    """A held-out model's class probabilities on ``inputs``, float64, in class-index
    columns (a class a scikit-learn model never saw gets 0); the model runs on
    ``device`` when it is a stored net."""
    with forked_torch_rng(device), on_device(model, device):
        if hasattr(model, "module_"):  # a skmat net: softmax of its logits, float64
            return softmax(net_logits(model, inputs), axis=1)
        proba = model.predict_proba(inputs.for_estimator())
    # a scikit-learn model fitted on encoded labels, maybe not all of them
    return in_class_columns(
        proba, getattr(model, "classes_", None), np.arange(n_classes), "held-out model"
    )


def misclassified_by_any(models, inputs, y, n_classes, device=None):
    """Whether any of ``models`` predicts a class other than ``y`` (encoded) for
    each row of ``inputs``: XRM's rule for new data (either twin wrong)."""
    wrong = np.zeros(len(y), dtype=bool)
    for model in models:
        wrong |= model_proba(model, inputs, n_classes, device).argmax(axis=1) != y
    return wrong


def _held_out_proba(models, inputs, rows, n_classes, names):
    """Each model's probabilities on its own rows, assembled into one array; a
    model whose training diverged is a :class:`~skmat._net.TrainingDiverged` error
    that names it."""
    proba = np.zeros((len(inputs), n_classes))
    for model, predicted, name in zip(models, rows, names):
        problem = divergence(model)
        if problem is not None:
            raise TrainingDiverged(f"The training of the {name} diverged: {problem}.")
        proba[predicted] = model_proba(model, inputs.take(predicted), n_classes)
        check_finite(proba[predicted], name)
    return proba


def held_out_epochs(epochs, max_epochs):
    """The epochs of held-out nets copied from a net with ``max_epochs``: ``epochs``
    itself (an int), that share of ``max_epochs`` rounded, at least 1 (a float), or
    ``max_epochs`` (None)."""
    if epochs is None:
        return max_epochs
    if isinstance(epochs, Integral):
        return int(epochs)
    return max(1, int(round(epochs * max_epochs)))


def _epochs(estimator):
    """The epochs a held-out model trains for (1 for a scikit-learn estimator)."""
    return int(getattr(estimator, "max_epochs", 1))


class HeldOutStrategy(metaclass=ABCMeta):
    """One way to get held-out predictions; ``fit`` returns a HeldOutResult."""

    @abstractmethod
    def fit(self, inputs, y, n_classes, sample_weight=None, phase=None):
        """Fit the held-out models on ``inputs`` and encoded labels ``y``; report
        each epoch to ``phase`` (:class:`skmat._progress.Phase`)."""

    @property
    @abstractmethod
    def total_epochs(self):
        """The epochs of all held-out models together (the progress bar's total)."""


class KFold(HeldOutStrategy):
    """One model per fold, trained on the other folds, predicts its fold
    (:func:`~sklearn.model_selection.cross_val_predict`).

    Parameters
    ----------
    estimator : skorch net (shifted) or scikit-learn classifier
    splits : list of (train, test)
    is_net : bool
    batched : bool
        Train the fold nets as one stacked model.
    n_jobs : int, default=None
    params : dict, default=None
        Fit parameters of a scikit-learn estimator (split with the rows).
    """

    def __init__(self, estimator, splits, *, is_net, batched, n_jobs=None, params=None):
        self.estimator = estimator
        self.splits = splits
        self.is_net = is_net
        self.batched = batched
        self.n_jobs = n_jobs
        self.params = params

    @property
    def total_epochs(self):
        return len(self.splits) * _epochs(self.estimator)

    def fit(self, inputs, y, n_classes, sample_weight=None, phase=None):
        fit_times = None
        if self.batched:
            models = fit_folds_batched(
                self.estimator,
                inputs,
                y,
                self.splits,
                sample_weight=sample_weight,
                phase=phase,
            )
        else:
            models, fit_times = fit_folds_one_by_one(
                self.estimator,
                inputs,
                y,
                self.splits,
                is_net=self.is_net,
                n_jobs=self.n_jobs,
                phase=phase,
                sample_weight=sample_weight,
                params=self.params,
            )
        tests = [test for _, test in self.splits]
        names = [
            f"held-out fold net {k + 1} of {len(models)}" for k in range(len(models))
        ]
        return HeldOutResult(
            proba=_held_out_proba(models, inputs, tests, n_classes, names),
            estimators=[store(model) for model in models],
            samples=[train for train, _ in self.splits],
            fit_times=fit_times,
        )


class XRMTwins(HeldOutStrategy):
    """XRM's twins (:mod:`skmat._xrm`): each predicts the half it did not train on."""

    def __init__(self, net, *, batched, random_state):
        self.net = net
        self.batched = batched
        self.random_state = random_state

    @property
    def total_epochs(self):
        return 2 * _epochs(self.net)

    def fit(self, inputs, y, n_classes, sample_weight=None, phase=None):
        on_epoch_end = None
        if phase is not None:

            def on_epoch_end(twin, epoch, loss):
                phase.epoch_done(
                    loss, model=twin if self.batched else None, epoch=epoch
                )

        twins, halves = fit_xrm_twins(
            self.net,
            inputs,
            y,
            batched=self.batched,
            sample_weight=sample_weight,
            random_state=self.random_state,
            on_epoch_end=on_epoch_end,
        )
        return HeldOutResult(
            proba=_held_out_proba(
                twins, inputs, halves[::-1], n_classes, ["XRM twin 1", "XRM twin 2"]
            ),
            estimators=[store(twin) for twin in twins],
            samples=halves,
            fit_times=None,
        )


class InSample(HeldOutStrategy):
    """One model trained on every example predicts them all (JTT's first model)."""

    def __init__(self, estimator, *, is_net, params=None):
        self.estimator = estimator
        self.is_net = is_net
        self.params = params

    @property
    def total_epochs(self):
        return _epochs(self.estimator)

    def fit(self, inputs, y, n_classes, sample_weight=None, phase=None):
        everything = np.arange(len(inputs))
        start = time.perf_counter()
        estimator = clone(self.estimator)
        if self.is_net:
            estimator = with_own_files(estimator, "held_out_0")
            if phase is not None:
                estimator = with_progress(estimator, phase)
        model = fit_one(
            estimator,
            inputs,
            y,
            everything,
            is_net=self.is_net,
            sample_weight=sample_weight,
            params=self.params,
        )
        if self.is_net:
            without_progress(model)
        elif phase is not None:
            phase.epoch_done()
        return HeldOutResult(
            proba=_held_out_proba(
                [model], inputs, [everything], n_classes, ["in-sample net"]
            ),
            estimators=[store(model)],
            samples=[everything],
            fit_times=[time.perf_counter() - start],
        )


def batching_choice(net, inputs, fold_training, n_parameters, *, auto_pays=True):
    """Whether the held-out nets of ``net`` train batched under ``fold_training``,
    and why not when they do not: ``(batched, reason)``.

    ``fold_training="batched"`` raises a ValueError naming the obstacle;
    ``"auto"`` batches when the net allows it and (``auto_pays``) it pays
    (:func:`skmat._batching.auto_batching_obstacle`).
    """
    if fold_training == "sequential":
        return False, "fold_training='sequential'"
    reason = batching_obstacle(net, inputs)
    if reason is None and fold_training == "auto" and auto_pays:
        reason = auto_batching_obstacle(net, n_parameters)
    if reason is None:
        return True, None
    if fold_training == "batched":
        raise ValueError(
            f"fold_training='batched' cannot train the held-out nets of this net as "
            f"one batched model: {reason}. Use fold_training='auto' or 'sequential'."
        )
    return False, reason


def choose_strategy(
    estimator,
    template,
    inputs,
    y_encoded,
    *,
    held_out,
    cv,
    routed,
    rng,
    make_net,
    probe,
    log,
):
    """The :class:`HeldOutStrategy` that a :class:`~skmat._base.HeldOutNetClassifier`
    calls for, and what it is, in words: ``(strategy, description)``.

    ``held_out`` (``"kfold"``, ``"xrm"`` or ``"in_sample"``: ``"auto"`` resolved) and
    ``cv`` (None resolved) are the estimator's, and its ``held_out_estimator``,
    ``fold_training`` and ``n_jobs`` decide too; ``template`` is the model the
    held-out phase copies
    (``held_out_estimator``, or else ``estimator``). ``routed``: the metadata of the splitter and of a
    scikit-learn held-out estimator; ``make_net``: the arguments of
    :func:`~skmat._net.make_shifted_net`; ``probe``: the final net, probed on
    ``inputs``; ``log``: what to say about the choice (``verbose``).
    """
    trains_nets = is_net(template)
    net = None
    if trains_nets:
        net = make_shifted_net(template, param_name="held_out_estimator", **make_net)
        if estimator.held_out_estimator is not None:  # not the final net's
            probe = probe_net(net, inputs, make_net["n_classes"], "held_out_estimator")
        else:
            epochs = held_out_epochs(estimator._held_out_epochs(), net.max_epochs)
            net.set_params(max_epochs=epochs)
    if held_out == "xrm":
        if not trains_nets:
            raise ValueError(
                "held_out='xrm' trains twin nets; held_out_estimator must be a "
                f"skorch net or a torch module, not {type(template).__name__}."
            )
        batched, reason = batching_choice(
            net, inputs, estimator.fold_training, None, auto_pays=False
        )
        description = "XRM twins, " + (
            "batched" if batched else f"in lockstep: {reason}"
        )
        log(f"held-out twins: {description}")
        strategy = XRMTwins(net, batched=batched, random_state=draw_seed(rng))
        return strategy, description
    sklearn_params = {} if trains_nets else routed.held_out_estimator.fit
    if held_out == "in_sample":
        model = net if trains_nets else clone(template)
        return InSample(model, is_net=trains_nets, params=sklearn_params), "in-sample"
    splits = make_splits(
        cv,
        y_encoded,
        n_samples=len(inputs),
        X=inputs.source if inputs.kind == TABLE else None,
        split_params=routed.splitter.split,
        seed=draw_seed(rng) if isinstance(cv, Integral) else None,
        alternative="use held_out='xrm' (XRM's twins need no folds)"
        if trains_nets
        else None,
    )
    batched, reason = False, "a scikit-learn held_out_estimator"
    if trains_nets:
        batched, reason = batching_choice(
            net, inputs, estimator.fold_training, n_parameters(probe.module_)
        )
    if batched:
        log("held-out folds trained together as one batched model")
    elif trains_nets:
        log(f"held-out folds trained one by one: {reason}")
    description = f"{len(splits)} folds, " + (
        "batched" if batched else f"one by one: {reason}"
    )
    strategy = KFold(
        net if trains_nets else clone(template),
        splits,
        is_net=trains_nets,
        batched=batched,
        n_jobs=estimator.n_jobs,
        params=sklearn_params,
    )
    return strategy, description

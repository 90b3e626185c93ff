"""The held-out phase: for every training example, class probabilities from models
that never trained on it (Bayat et al., ICLR 2025, Section 3 and Algorithm 1).

An estimator resolves its parameters once into a frozen :class:`HeldOutSpec`
(:func:`resolve_held_out`: kind, engine, the model to copy, folds, seed);
:func:`fit_held_out` runs it and returns a :class:`HeldOutResult`: the held-out
probabilities, the fitted models and the rows each one trained on.

=============  ============  ==================================================
kind           engine        models
=============  ============  ==================================================
``kfold``      one_by_one    one clone per fold, fitted with skorch (or any
                             scikit-learn classifier), ``n_jobs`` at a time
``kfold``      stacked       the same fold nets, trained as one stacked model
``xrm``        stacked       XRM's two twins on halves, label flipping, as one
                             stacked model
``xrm``        one_by_one    the same twins, two skorch fits in lockstep
``in_sample``  one_by_one    one model on everything (JTT as published); not
                             held out
=============  ============  ==================================================
"""

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from inspect import signature
from numbers import Integral

import numpy as np
import torch
from scipy.special import softmax
from sklearn.utils import Bunch

from ._batching import choose_engine
from ._kfold import fit_folds_batched, fit_folds_one_by_one
from ._net import TrainingDiverged, divergence, divergence_advice, net_logits
from ._proba import check_finite, in_class_columns
from ._random import forked_torch_rng, seeded_splitter
from ._validation import make_splits
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


@dataclass(frozen=True)
class HeldOutStrategy:
    """What a fit's held-out phase ran (the estimators' ``held_out_strategy_``):
    values from closed sets, and the reason apart.

    Attributes
    ----------
    kind : {"kfold", "xrm", "in_sample", "given"}
        k-fold models, XRM's twins, one in-sample model, or ``held_out_proba``
        passed to ``fit`` (no models).
    engine : {"stacked", "one_by_one"} or None
        The held-out nets trained as one stacked model, or one by one (skorch fits;
        XRM's twins in lockstep; any scikit-learn model); None when none trained.
    n_models : int
    reason : str or None
        Why the nets trained one by one, in words (for people to read).
    """

    kind: str
    engine: str = None
    n_models: int = 0
    reason: str = None

    @property
    def label(self):
        """The strategy and engine in a few words (the progress bar's name)."""
        if self.kind == "given":
            return "held_out_proba given"
        if self.kind == "in_sample":
            return "in-sample"
        if self.kind == "xrm":
            return "XRM twins, " + (
                "batched" if self.engine == "stacked" else "in lockstep"
            )
        return f"{self.n_models} folds, " + (
            "batched" if self.engine == "stacked" else "one by one"
        )

    def __str__(self):
        return self.label + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class HeldOutSpec:
    """A held-out phase as the estimator resolved its parameters: plain values that
    :func:`fit_held_out` runs.

    Attributes
    ----------
    kind : {"kfold", "xrm", "in_sample"}
    engine : {"stacked", "one_by_one"}
    reason : str or None
        Why one by one.
    model : skorch net or scikit-learn classifier
        What every held-out model copies: an unfitted shifted net with its epochs
        set, or an unfitted scikit-learn classifier.
    splits : list of (train, test)
        The folds (``kfold``); one split (everything, everything) for
        ``in_sample``.
    seed : int or None
        XRM's halves, twin seeds and flips.
    n_jobs : int or None
        Models trained at a time (one by one).
    fit_params : dict
        Fit parameters of a scikit-learn model, for all rows.
    """

    kind: str
    engine: str
    reason: str
    model: object
    splits: list = field(default_factory=list)
    seed: int = None
    n_jobs: int = None
    fit_params: dict = field(default_factory=dict)

    @property
    def trains_nets(self):
        return hasattr(self.model, "initialize")

    @property
    def n_models(self):
        return 2 if self.kind == "xrm" else len(self.splits)

    @property
    def total_epochs(self):
        """The epochs of all held-out models together (the progress bar's total)."""
        return self.n_models * int(getattr(self.model, "max_epochs", 1))

    @property
    def strategy(self):
        return HeldOutStrategy(self.kind, self.engine, self.n_models, self.reason)


def draws_at_random(kind, cv):
    """Whether a held-out phase of ``kind`` with (resolved) ``cv`` needs a seed: XRM
    (halves, twins, flips), an int ``cv`` (shuffled folds) or a splitter that
    shuffles without a ``random_state`` (seeded with it)."""
    if kind == "xrm":
        return True
    unseeded = seeded_splitter(cv, 0) is not cv
    return kind == "kfold" and (isinstance(cv, Integral) or unseeded)


def warn_if_cv_unused(estimator_class, cv, kind):
    """Warn when ``cv`` is set (not the default of ``estimator_class``) though the
    held-out phase of ``kind`` makes no folds (XRM's twins train on random halves)."""
    default = signature(estimator_class).parameters["cv"].default
    if kind != "xrm" or cv is None or cv is default:
        return
    if isinstance(cv, Integral) and isinstance(default, Integral) and cv == default:
        return
    warnings.warn(
        f"cv={cv!r} is ignored: held_out='xrm' makes the held-out predictions with "
        "XRM's two twins, each trained on a random half, not with folds. Leave cv "
        "at its default, or set held_out='kfold' to use these folds.",
        UserWarning,
        stacklevel=6,
    )


def resolve_held_out(
    model,
    inputs,
    y,
    *,
    kind,
    cv,
    fold_training,
    n_jobs,
    seed,
    split_params,
    fit_params,
    probe,
):
    """The :class:`HeldOutSpec` of an estimator's parameters, resolved: the engine
    (:func:`skmat._batching.choose_engine`) and the folds
    (:func:`skmat._validation.make_splits`).

    ``model`` is what the held-out models copy (see :class:`HeldOutSpec`);
    ``probe`` that net initialized and run on ``inputs`` (:func:`skmat._net.
    probe_net`), None for a scikit-learn model; ``kind`` and ``cv`` are resolved
    (no ``"auto"``, no None); ``seed`` seeds an int ``cv``'s folds or XRM.
    """
    trains_nets = probe is not None
    engine, reason = (
        "one_by_one",
        None if trains_nets else "a scikit-learn held_out_estimator",
    )
    if trains_nets and kind != "in_sample":
        engine, reason = choose_engine(
            model, probe, inputs, fold_training, cost_rule=kind == "kfold"
        )
    everything = np.arange(len(inputs))
    splits = [(everything, everything)] if kind == "in_sample" else []
    if kind == "kfold":
        splits = make_splits(
            cv,
            y,
            n_samples=len(inputs),
            X=inputs.table,
            split_params=split_params,
            seed=seed,
            alternative="use held_out='xrm' (XRM's twins need no folds)"
            if trains_nets
            else None,
        )
    return HeldOutSpec(
        kind=kind,
        engine=engine,
        reason=reason,
        model=model,
        splits=splits,
        seed=seed if kind == "xrm" else None,
        n_jobs=n_jobs,
        fit_params={} if trains_nets else dict(fit_params),
    )


def fit_held_out(spec, inputs, y, n_classes, sample_weight=None, phase=None):
    """Run the held-out phase of ``spec`` on ``inputs`` and encoded labels ``y``;
    report each epoch to ``phase`` (:class:`skmat._progress.Phase`). Return a
    :class:`HeldOutResult`."""
    fit_times = None
    if spec.kind == "xrm":
        models, samples = fit_xrm_twins(
            spec.model,
            inputs,
            y,
            batched=spec.engine == "stacked",
            sample_weight=sample_weight,
            random_state=spec.seed,
            phase=phase,
        )
        predicted, names = samples[::-1], ["XRM twin 1", "XRM twin 2"]
    else:
        samples = [train for train, _ in spec.splits]
        predicted = [test for _, test in spec.splits]
        if spec.engine == "stacked":
            models = fit_folds_batched(
                spec.model,
                inputs,
                y,
                spec.splits,
                sample_weight=sample_weight,
                phase=phase,
            )
        else:
            models, fit_times = fit_folds_one_by_one(
                spec.model,
                inputs,
                y,
                spec.splits,
                is_net=spec.trains_nets,
                n_jobs=spec.n_jobs,
                phase=phase,
                sample_weight=sample_weight,
                params=spec.fit_params,
            )
        names = [
            f"held-out fold net {k + 1} of {len(models)}" for k in range(len(models))
        ]
        if spec.kind == "in_sample":
            names = ["in-sample net"]
    return HeldOutResult(
        proba=_held_out_proba(models, inputs, predicted, n_classes, names),
        estimators=[store(model) for model in models],
        samples=samples,
        fit_times=fit_times,
    )


def run_held_out_phase(
    progress, spec, inputs, y, n_classes, sample_weight, *, remedy, log
):
    """Run ``spec`` (:func:`fit_held_out`) under its ``progress`` bar (a
    :class:`skmat._progress.FitProgress`), a divergence reported with ``remedy``;
    ``log`` hears each model's fit time. Return its :class:`HeldOutResult`."""
    with progress.phase(
        f"held-out phase ({spec.strategy.label})",
        spec.total_epochs,
        epoch_lines="held-out net",
    ) as phase:
        try:
            result = fit_held_out(
                spec, inputs, y, n_classes, sample_weight, phase=phase
            )
        except TrainingDiverged as exc:
            raise TrainingDiverged(divergence_advice(str(exc), remedy, inputs))
    for index, (seconds, rows) in enumerate(
        zip(result.fit_times or [], result.samples)
    ):
        log(
            f"held-out model {index + 1}/{len(result.samples)}: fit {seconds:.2f}s "
            f"on {len(rows)} examples"
        )
    return result

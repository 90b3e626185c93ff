"""k-fold held-out models: the fold models trained one by one or as one stacked
model (the folds come from :func:`skmat._validation.make_splits`)."""

import pickle
import time

from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from ._interrupt import raise_if_interrupted
from ._net import with_own_files
from ._progress import with_progress, without_progress
from ._rows import WEIGHT_KEY, RowDataset
from ._stacked import fit_stacked
from ._validation import take_fit_params


def fit_one(estimator, inputs, y, train, *, is_net, sample_weight=None, params=None):
    """Fit ``estimator`` (a clone, fitted in place) on the rows ``train``: a net on a
    :class:`~skmat._rows.RowDataset` of them, any other estimator on the rows
    themselves (``params``: its fit parameters, for all rows)."""
    if is_net:
        extras = {} if sample_weight is None else {WEIGHT_KEY: sample_weight}
        estimator.fit(RowDataset(inputs, y, extras, rows=train), y[train])
        raise_if_interrupted()  # skorch ends a fit quietly on Ctrl-C
        return estimator
    fit_params = take_fit_params(params, train, len(inputs))
    return estimator.fit(inputs.take(train).for_estimator(), y[train], **fit_params)


def _timed_fit_one(*args, **kwargs):
    start = time.perf_counter()
    model = fit_one(*args, **kwargs)
    return model, time.perf_counter() - start


def fit_folds_one_by_one(
    estimator, inputs, y, splits, *, is_net, n_jobs=None, phase=None, **fit
):
    """Fit one clone of ``estimator`` per training fold, ``n_jobs`` at a time
    (joblib); ``fit`` holds :func:`fit_one`'s ``sample_weight`` / ``params``.
    Return the models and each one's fit time in seconds.

    ``phase`` (:class:`skmat._progress.Phase`) hears of every epoch of the nets
    trained in this process, and of each model (all its epochs) that a worker
    process trained.
    """
    models = [clone(estimator) for _ in splits]
    if is_net:
        models = [with_own_files(m, f"held_out_{i}") for i, m in enumerate(models)]
    in_process = effective_n_jobs(n_jobs) == 1
    if is_net and in_process and phase is not None:
        models = [with_progress(model, phase) for model in models]
    fitted = []
    try:
        for model, seconds in Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_timed_fit_one)(model, inputs, y, train, is_net=is_net, **fit)
            for model, (train, _) in zip(models, splits)
        ):
            if phase is not None and not (is_net and in_process):
                phase.epoch_done(n=getattr(model, "max_epochs", 1) if is_net else 1)
            fitted.append((without_progress(model) if is_net else model, seconds))
    except pickle.PicklingError as exc:
        raise pickle.PicklingError(
            f"n_jobs={n_jobs} trains the held-out models in worker processes, which "
            f"pickle them and their module: {exc}. A class defined in __main__ (a "
            "script, a notebook) does not pickle there: define it in a module that "
            "the workers can import, or use n_jobs=None."
        ) from exc
    return [model for model, _ in fitted], [seconds for _, seconds in fitted]


def fit_folds_batched(net, inputs, y, splits, *, sample_weight=None, phase=None):
    """Fit one clone of ``net`` per training fold, all together as one stacked model
    (:func:`skmat._stacked.fit_stacked`): the fold nets that
    :func:`fit_folds_one_by_one` gives, up to float rounding, each with one history
    row per epoch (no ``dur``: the folds' epochs run interleaved)."""
    nets = [clone(net) for _ in splits]
    trains = [train for train, _ in splits]
    return fit_stacked(
        nets, trains, inputs, y, sample_weight=sample_weight, phase=phase
    )

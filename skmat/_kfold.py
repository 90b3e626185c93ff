"""k-fold held-out models: the folds, and the fold models trained one by one or as
one stacked model."""

import time
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils.parallel import Parallel, delayed

from ._data import WEIGHT_KEY, RowDataset, take_fit_params
from ._interrupt import raise_if_interrupted
from ._net import with_own_files
from ._progress import with_progress, without_progress
from ._stacked import fit_stacked


def _too_many_folds(cv, smallest, alternative):
    """What to do when an int ``cv`` asks for more stratified folds than the rarest
    class (of ``smallest`` members) has examples."""
    options = [alternative] if alternative else []
    options.append("give that class more examples")
    if smallest >= 2:
        options.insert(0, f"use cv={smallest} (the most folds that work)")
        problem = f"the rarest class has only {smallest} members"
    else:
        problem = (
            "the rarest class has only 1 member, and k-fold needs at least 2 of "
            "every class (cv is at least 2)"
        )
    advice = (
        options[-1]
        if len(options) == 1
        else (", ".join(options[:-1]) + f" or {options[-1]}")
    )
    return f"cv asks for {cv} stratified folds, but {problem}: {advice}."


def make_splits(
    cv,
    y,
    *,
    n_samples,
    X=None,
    split_params=None,
    seed=None,
    cover=False,
    alternative=None,
):
    """The folds of a held-out phase, computed once so every fold model sees the
    same ones, and checked.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable
        An int gives stratified, shuffled folds seeded with ``seed``.
    y : ndarray of shape (n_samples,)
        Labels (for stratification).
    n_samples : int
    X : array-like, default=None
        Given to the splitter (scikit-learn's splitters only count its rows); None
        gives a placeholder of ``n_samples`` rows.
    split_params : dict, default=None
        Passed to ``split`` (e.g. ``groups``).
    seed : int, default=None
    cover : bool, default=False
        Also require every example to be in some training fold.
    alternative : str, default=None
        What else to try when an int ``cv`` asks for more folds than a class has
        members (e.g. ``held_out='xrm'``), for the error message.

    Returns
    -------
    splits : list of (train, test) int arrays
        The test folds partition the examples; no fold trains on an example it
        holds out.
    """
    if isinstance(cv, Integral):
        smallest = np.bincount(np.unique(y, return_inverse=True)[1]).min()
        if cv > smallest:
            raise ValueError(_too_many_folds(cv, smallest, alternative))
        cv = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    else:
        cv = check_cv(cv, y, classifier=True)
    if X is None:
        X = np.empty((n_samples, 0))
    splits = [
        (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
        for train, test in cv.split(X, y, **(split_params or {}))
    ]
    if not splits:
        raise ValueError(
            f"cv gave no folds ({cv!r}); an iterator of splits is used up by its first "
            "fit: pass a list of (train, test) pairs or a splitter such as KFold."
        )
    tested = np.concatenate([test for _, test in splits])
    if len(tested) != n_samples or not np.array_equal(
        np.sort(tested), np.arange(n_samples)
    ):
        raise ValueError(
            "cv must give test folds that partition the training set (each example "
            f"held out exactly once), like KFold; {cv!r} does not."
        )
    for fold, (train, test) in enumerate(splits):
        if len(train) == 0:
            raise ValueError(f"cv gives fold {fold} an empty training set.")
        if len(test) == 0:
            raise ValueError(
                f"cv gives fold {fold} an empty test set: its model would hold out "
                "no example. Every fold must hold out at least one example; drop "
                "that fold or use a splitter such as KFold."
            )
        if np.intersect1d(train, test).size:
            raise ValueError(
                f"cv gives fold {fold} a model trained on examples it holds out; each "
                "fold's training and test examples must be disjoint."
            )
    if cover:
        trained = np.zeros(n_samples, dtype=bool)
        for train, _ in splits:
            trained[train] = True
        if not np.all(trained):
            raise ValueError(
                f"cv leaves {np.sum(~trained)} examples in no training fold; use folds "
                "whose training sets cover the examples (like KFold)."
            )
    return splits


def fit_one(estimator, inputs, y, train, *, is_net, sample_weight=None, params=None):
    """Fit ``estimator`` (a clone, fitted in place) on the rows ``train``: a net on a
    :class:`~skmat._data.RowDataset` of them, any other estimator on the rows
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
    for model, seconds in Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_timed_fit_one)(model, inputs, y, train, is_net=is_net, **fit)
        for model, (train, _) in zip(models, splits)
    ):
        if phase is not None and not (is_net and in_process):
            phase.epoch_done(n=getattr(model, "max_epochs", 1) if is_net else 1)
        fitted.append((without_progress(model) if is_net else model, seconds))
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

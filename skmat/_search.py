"""Choosing a training setting for the data, without group labels: a search.

The paper chooses its hyper-parameters per dataset on validation examples grouped
without annotation (Bayat et al., ICLR 2025, Section 4), as XRM does (Pezeshki et
al., ICML 2024). The search has the parts of scikit-learn's ``BaseSearchCV``:

* **candidates** are parameter settings of the estimator (dicts);
* :func:`evaluate_candidates` holds out a share of the training set once (the
  validation rows), trains a copy of the final net for every candidate on the
  other rows, with the extras its setting gives (its held-out phase, computed once
  on the whole training set and shared by every candidate that needs it), and
  scores each on the validation rows with the criterion of :mod:`skmat._crossfit`
  (the public :data:`skmat.metrics.crossfit_group_scorer`);
* :func:`results_table` reports every candidate as ``cv_results_`` does, and the
  estimator then refits with the best one exactly as if it had been given.
"""

import warnings

import numpy as np
from scipy.stats import rankdata
from sklearn.base import clone

from ._crossfit import (
    SCORE_NAMES,
    crossfit_halves,
    group_scores,
    grouping_jobs,
    groups_from_mistakes,
    plain_copy,
    predict_codes,
)
from ._random import forked_torch_rng
from ._rows import SHIFT_KEY, WEIGHT_KEY, RowDataset
from ._split import stratified_split
from ._stacked import fit_stacked
from .metrics import CrossFitGroupScorer


def selection_split(y, fraction, seed, sample_weight=None):
    """The training and validation rows of a search: ``fraction`` of the rows held
    out, stratified by class when every class has two rows (else at random).

    Returns
    -------
    train, valid : ndarray of int
        Sorted row positions.
    """
    n_samples = len(y)
    n_valid = int(np.ceil(fraction * n_samples))
    if n_valid < 2 or n_samples - n_valid < 1:
        raise ValueError(
            f"selection_fraction={fraction} of {n_samples} examples leaves "
            f"{n_samples - n_valid} to train on and {n_valid} to validate on; the "
            "choice needs at least 1 and 2 (its validation examples are split in two "
            "to group them). Give more examples, another selection_fraction, or a "
            "single shift_strength (no choice)."
        )
    train, valid = stratified_split(n_samples, n_valid, seed, strata=(y,))
    for rows, role in [(valid, "held out to choose"), (train, "left to train")]:
        if sample_weight is not None and not np.any(sample_weight[rows] > 0):
            raise ValueError(
                f"Every example {role} the candidates of the choice "
                f"(selection_fraction={fraction}) has zero sample_weight, so the "
                "choice would be arbitrary. Give more examples a positive weight or "
                "a single shift_strength."
            )
    return train, valid


def evaluate_candidates(
    n_candidates, y, *, fit_nets, predict, fraction, seed, sample_weight=None
):
    """Train and score ``n_candidates`` settings on one selection split.

    Parameters
    ----------
    n_candidates : int
    y : ndarray of shape (n_samples,)
        Encoded labels of the training set.
    fit_nets : callable
        ``fit_nets(jobs)``: one trained net per job ``(candidate, rows, extras)``,
        ``candidate`` a position among the candidates, or None for a plain copy of
        the net that groups the validation rows (``extras``: its sample weights).
    predict : callable
        ``predict(model, rows)``: encoded predictions for ``rows``.
    fraction : float
        The validation share.
    seed : int
        The split, the halves of the validation rows and the seed of the nets that
        group them.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    scores : list of dict
        Each candidate's :func:`~skmat._crossfit.group_scores`.
    valid : ndarray of int
        The validation rows.
    """
    train, valid = selection_split(y, fraction, seed, sample_weight)
    y_valid = y[valid]
    weight = None if sample_weight is None else sample_weight[valid]
    halves = crossfit_halves(y_valid, seed)
    jobs = [
        (None, valid[rows], extras) for rows, extras in grouping_jobs(halves, weight)
    ]
    jobs += [(candidate, train, None) for candidate in range(n_candidates)]
    models = fit_nets(jobs)
    predicted = [
        predict(model, valid[other]) for model, (_, other) in zip(models, halves)
    ]
    groups = groups_from_mistakes(halves, predicted, y_valid)
    scores = [
        group_scores(y_valid, predict(model, valid), groups, weight)
        for model in models[len(halves) :]
    ]
    return scores, valid


def best_index(scores):
    """The position of the best ``selection_score`` (the first of equal ones: the
    candidates are listed simplest first)."""
    values = [score["selection_score"] for score in scores]
    return int(np.argmax(values))


def results_table(candidates, scores, chosen):
    """The search's results as ``cv_results_`` has them: ``params``, a masked
    ``param_<name>`` column per parameter, each score, its rank and the choice."""
    n = len(candidates)
    names = sorted({name for params in candidates for name in params})
    table = {"params": [dict(params) for params in candidates]}
    for name in names:
        column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for position, params in enumerate(candidates):
            if name in params:
                column[position] = params[name]
        table[f"param_{name}"] = column
    for name in SCORE_NAMES:
        table[name] = np.array([score[name] for score in scores])
    table["rank_selection_score"] = rankdata(
        -table["selection_score"], method="min"
    ).astype(np.int32)
    table["chosen"] = np.arange(n) == chosen
    return table


def describe_setting(params):
    """A setting in words, for the log and the progress bars: ``"shift_strength=1,
    held_out='xrm'"``."""
    if not params:
        return "the estimator's own setting"
    return ", ".join(
        f"{name}={value:g}" if isinstance(value, float) else f"{name}={value!r}"
        for name, value in params.items()
    )


def stacked_extras(extras, rows, n_samples):
    """The row extras of the nets of a search as the stacked engine takes them: a
    logit shift per net (every row, zeros outside its own; None without one) and
    the weights, one row per net (ones where a net has none), or None."""
    shifts = []
    for extra, train in zip(extras, rows):
        shift = extra.get(SHIFT_KEY)
        if shift is not None:
            full = np.zeros((n_samples, shift.shape[1]), dtype=shift.dtype)
            full[train] = shift
            shift = full
        shifts.append(shift)
    weights = None
    if any(WEIGHT_KEY in extra for extra in extras):
        weights = np.ones((len(extras), n_samples), dtype=np.float32)
        for position, (extra, train) in enumerate(zip(extras, rows)):
            if WEIGHT_KEY in extra:
                weights[position, train] = extra[WEIGHT_KEY]
    return shifts, weights


def train_together(
    nets,
    rows,
    weights,
    shifts,
    names,
    *,
    inputs,
    y,
    progress,
    check_diverged,
    n_candidates,
):
    """Train the nets of a search as one stacked model
    (:func:`skmat._stacked.fit_stacked`) under one ``progress`` bar; each net is
    checked for divergence (``check_diverged(net, name)``)."""
    total = sum(net.max_epochs for net in nets)
    phase = f"{len(nets)} nets choosing among {n_candidates} settings, together"
    with progress.phase(phase, total, epoch_lines="choosing net") as bar:
        with forked_torch_rng(nets[0].device):
            fit_stacked(
                nets,
                rows,
                inputs,
                y,
                sample_weight=weights,
                logit_shift=shifts,
                phase=bar,
            )
    for net, name in zip(nets, names):
        check_diverged(net, name)
    return nets


def run_search(
    candidates,
    probas,
    *,
    net,
    inputs,
    y,
    sample_weight,
    seed,
    fraction,
    engine,
    training_extras,
    fit_one,
    progress,
    check_diverged,
    log,
):
    """Evaluate ``candidates`` (settings, simplest first) for the final ``net`` on
    ``inputs`` and encoded ``y``; return the chosen position and the fitted
    attributes that report the search.

    ``probas[k]`` holds the held-out predictions of candidate ``k``'s phase (None
    where there are none); ``training_extras(params, rows, proba)`` gives a
    candidate's :class:`~skmat._base.TrainingExtras` on ``rows``;
    ``fit_one(net, dataset, labels, phase)`` trains one net as the final net
    trains; ``engine = (name, reason)`` (:func:`skmat._batching.choose_engine`)
    says whether nets that need nothing but a shift and weights train together
    (:func:`train_together`, under ``progress``); ``log`` hears the engine and
    every score.
    """
    log(
        f"choosing among {len(candidates)} settings: the nets train "
        + ("together" if engine[0] == "stacked" else f"one by one ({engine[1]})")
    )

    def prepared(job):
        """The unfitted net of one job, its row extras, its name and whether it can
        train with others (no net parameters of its own, no extras but a shift and
        the weights)."""
        candidate, rows, extras = job
        if candidate is None:
            phase = "plain net grouping the validation examples (choosing)"
            return plain_copy(net, seed), extras, phase, True
        proba = probas[candidate]
        training = training_extras(
            candidates[candidate], rows, None if proba is None else proba[rows]
        )
        extras = training.row_extras()
        together = not training.net_params and set(extras) <= {SHIFT_KEY, WEIGHT_KEY}
        phase = f"final net with {describe_setting(candidates[candidate])} (choosing)"
        return clone(net).set_params(**training.net_params), extras, phase, together

    def fit_nets(jobs):
        nets, extras, names, together = zip(*map(prepared, jobs))
        rows = [rows for _, rows, _ in jobs]
        if engine[0] == "stacked" and all(together):
            shifts, weights = stacked_extras(extras, rows, len(y))
            return train_together(
                list(nets),
                rows,
                weights,
                shifts,
                names,
                inputs=inputs,
                y=y,
                progress=progress,
                check_diverged=check_diverged,
                n_candidates=len(candidates),
            )
        fitted = []
        for candidate, extra, name, train in zip(nets, extras, names, rows):
            dataset = RowDataset(inputs.take(train), y[train], extra)
            with forked_torch_rng(candidate.device):
                fitted.append(fit_one(candidate, dataset, y[train], name))
        return fitted

    scores, valid = evaluate_candidates(
        len(candidates),
        y,
        fit_nets=fit_nets,
        predict=lambda model, rows: predict_codes(model, inputs.take(rows)),
        fraction=fraction,
        seed=seed,
        sample_weight=sample_weight,
    )
    chosen = best_index(scores)
    if len(candidates) > 1 and len({s["selection_score"] for s in scores}) == 1:
        warnings.warn(
            f"All {len(candidates)} candidates of the choice scored the same on its "
            f"{len(valid)} validation examples, so the first "
            f"({describe_setting(candidates[0])}) was kept without evidence. Give "
            "more examples, a larger selection_fraction, or a single shift_strength.",
            UserWarning,
            stacklevel=5,
        )
    for params, score in zip(candidates, scores):
        log(
            f"{describe_setting(params)}: score {score['selection_score']:.3f} "
            f"(validation accuracy {score['mean_group_accuracy']:.3f} on average "
            f"over the inferred groups, {score['worst_group_accuracy']:.3f} in the "
            f"worst; {len(valid)} examples)"
        )
    log(f"chose {describe_setting(candidates[chosen])}")
    return chosen, {
        "selection_results_": results_table(candidates, scores, chosen),
        "selection_indices_": valid,
        "selection_scorer_": CrossFitGroupScorer(random_state=seed),
        "chosen_params_": dict(candidates[chosen]),
    }

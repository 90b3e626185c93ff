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

import numpy as np
from scipy.stats import rankdata
from sklearn.model_selection import train_test_split

from ._crossfit import (
    SCORE_NAMES,
    crossfit_halves,
    group_scores,
    grouping_jobs,
    groups_from_mistakes,
)


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
    counts = np.bincount(y)
    stratify = y if np.all(counts[counts > 0] >= 2) else None
    try:
        train, valid = train_test_split(
            np.arange(n_samples),
            test_size=n_valid,
            stratify=stratify,
            random_state=seed,
        )
    except ValueError:  # too few validation rows to hold every class
        train, valid = train_test_split(
            np.arange(n_samples), test_size=n_valid, random_state=seed
        )
    if sample_weight is not None and not np.any(sample_weight[valid] > 0):
        raise ValueError(
            "Every example held out to choose the setting (selection_fraction="
            f"{fraction}) has zero sample_weight, so no candidate can be scored. "
            "Give more examples a positive weight or a single shift_strength."
        )
    return np.sort(train), np.sort(valid)


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

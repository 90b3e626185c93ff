"""Choosing a training parameter for the data, without group labels.

The paper chooses its hyper-parameters on validation examples grouped without
annotation, by label and by whether held-out models misclassify them (Bayat et al.,
ICLR 2025, Section 4). Here:

1. a share of the training set is held out (the validation rows); each candidate
   value trains a copy of the final net on the other rows;
2. the validation rows are grouped by (label, misclassified), where
   "misclassified" comes from plain copies of the net cross-fitted on the
   validation rows themselves (trained on one half, predicting the other): models
   that share no training example with the candidates;
3. the candidate with the best mean accuracy over those groups wins (ties: the
   better worst-group accuracy, then the value listed first).

Why not the held-out phase's own mistakes and the worst group: its models trained
on the candidates' training rows, so their mistakes on new rows are partly the
same as plain training's, and a final net trained to contradict them scores well
on them whether or not they are a minority it should serve. On tasks without a
shortcut (label noise, an attribute independent of the label) that rule chose the
shift every time, where it cost up to 0.085 worst-group test accuracy; this one
chose plain training there (user guide, "Choosing the shift strength").
"""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from ._data import SHIFT_KEY, WEIGHT_KEY, RowDataset
from ._net import net_logits
from ._random import forked_torch_rng


def selection_split(y, fraction, seed):
    """The training and validation rows of a selection: ``fraction`` of the rows
    held out, stratified by class when every class has two rows (else at random).

    Returns
    -------
    train, valid : ndarray of int
        Sorted row positions.
    """
    n_samples = len(y)
    n_valid = int(np.ceil(fraction * n_samples))
    if n_valid < 1 or n_valid >= n_samples:
        raise ValueError(
            f"selection_fraction={fraction} of {n_samples} examples leaves "
            f"{n_samples - n_valid} to train on and {n_valid} to validate on; "
            "each needs at least one."
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
    return np.sort(train), np.sort(valid)


def group_accuracies(y, predicted, groups, sample_weight=None):
    """Accuracy of ``predicted`` within each group present in ``groups``."""
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    right = (np.asarray(predicted) == np.asarray(y)) * weight
    accuracies = []
    for group in np.unique(groups):
        member = groups == group
        total = weight[member].sum()
        if total > 0:
            accuracies.append(right[member].sum() / total)
    return np.asarray(accuracies)


def selection_score(y, predicted, groups, sample_weight=None):
    """A candidate's score: (mean accuracy over the groups, worst-group accuracy),
    compared in that order."""
    accuracies = group_accuracies(y, predicted, groups, sample_weight)
    return float(accuracies.mean()), float(accuracies.min())


def crossfit_halves(y, seed):
    """Two halves of ``len(y)`` rows, stratified by class when every class has two
    rows: ``[(train, test), (test, train)]`` positions."""
    counts = np.bincount(y)
    stratify = np.all(counts[counts > 0] >= 2)
    splitter = (StratifiedKFold if stratify else KFold)(
        2, shuffle=True, random_state=seed
    )
    return list(splitter.split(np.zeros((len(y), 1)), y))


def choose_value(values, y, *, fit_nets, predict, fraction, seed, sample_weight=None):
    """Choose among ``values`` as the module says.

    Parameters
    ----------
    values : sequence of float
    y : ndarray of shape (n_samples,)
        Encoded labels of the training set.
    fit_nets : callable
        ``fit_nets(jobs)``: one trained net per ``(value, rows)`` of ``jobs``, the
        final net trained with ``value`` on ``rows``, or a plain copy of the net
        where ``value`` is None.
    predict : callable
        ``predict(model, rows)``: encoded predictions for ``rows``.
    fraction : float
        The validation share.
    seed : int
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    best : int
        Position of the chosen value.
    scores : list of tuple
        ``(mean group accuracy, worst-group accuracy)`` of each value.
    valid : ndarray of int
        The validation rows.
    """
    train, valid = selection_split(y, fraction, seed)
    y_valid = y[valid]
    halves = crossfit_halves(y_valid, seed)
    jobs = [(None, valid[fit_half]) for fit_half, _ in halves]
    jobs += [(value, train) for value in values]
    models = fit_nets(jobs)
    wrong = np.zeros(len(valid), dtype=bool)
    for model, (_, predict_half) in zip(models, halves):
        rows = valid[predict_half]
        wrong[predict_half] = predict(model, rows) != y[rows]
    groups = 2 * y_valid + wrong
    weight = None if sample_weight is None else sample_weight[valid]
    scores = [
        selection_score(y_valid, predict(model, valid), groups, weight)
        for model in models[len(halves) :]
    ]
    return best_candidate(scores), scores, valid


def best_candidate(scores):
    """The position of the best score (tuples compared in order; the first of equal
    ones)."""
    best = 0
    for position, score in enumerate(scores):
        if score > scores[best]:
            best = position
    return best


def choose_for_data(
    name,
    values,
    net,
    inputs,
    y,
    *,
    extras,
    final_fit,
    fraction,
    seed,
    sample_weight,
    log,
    fit_together=None,
):
    """Choose the value of the parameter ``name`` among ``values`` for the data
    (:func:`choose_value`): copies of the final ``net`` trained on part of the
    training set (``inputs``, encoded ``y``), scored on the rest.

    ``extras(value, rows)`` gives a candidate's net parameters and row extras;
    ``final_fit(net, dataset, labels, phase)`` trains a net as the final net
    trains. With ``fit_together(nets, rows, logit_shift, phase, names)``
    (:func:`skmat._stacked.fit_stacked`'s contract; ``names``: each net's, for the
    errors), the nets of the choice train
    all together where their extras allow it (a logit shift and the sample
    weights), each as ``final_fit`` would train it up to float rounding. Every net
    trains on a fork of torch's RNG, so the final net then trains exactly as it
    would with the chosen value given. Return ``{name: chosen}`` and the fitted
    attributes that report the choice (``log`` hears each score).
    """

    def prepared(value, rows):
        """The unfitted net of one job, its row extras, its phase's name and
        whether it can train with others (no net parameters of its own, no extras
        but a shift and the weights)."""
        if value is None:
            weights = {} if sample_weight is None else {WEIGHT_KEY: sample_weight[rows]}
            phase = f"plain net grouping the validation examples (choosing {name})"
            return clone(net), weights, phase, True
        net_params, row_extras = extras(value, rows)
        phase = f"final net with {name}={value:g} (choosing)"
        together = not net_params and set(row_extras) <= {SHIFT_KEY, WEIGHT_KEY}
        return clone(net).set_params(**net_params), row_extras, phase, together

    def fit_nets(jobs):
        nets, row_extras, phases, together = zip(
            *(prepared(value, rows) for value, rows in jobs)
        )
        rows = [rows for _, rows in jobs]
        if fit_together is not None and all(together):
            shifts = [full_shift(extra, r) for extra, r in zip(row_extras, rows)]
            phase = f"{len(nets)} nets choosing {name}, together"
            return fit_together(list(nets), rows, shifts, phase, phases)
        fitted = []
        for candidate, extra, phase, train in zip(nets, row_extras, phases, rows):
            dataset = RowDataset(inputs.take(train), y[train], extra)
            with forked_torch_rng(candidate.device):
                fitted.append(final_fit(candidate, dataset, y[train], phase))
        return fitted

    def full_shift(extra, rows):
        """A job's logit shift as a row of every example (zeros elsewhere)."""
        shift = extra.get(SHIFT_KEY)
        if shift is None:
            return None
        full = np.zeros((len(y), shift.shape[1]), dtype=shift.dtype)
        full[rows] = shift
        return full

    def predict(model, rows):
        with forked_torch_rng(model.device):
            return net_logits(model, inputs.take(rows)).argmax(axis=1)

    best, scores, valid = choose_value(
        values,
        y,
        fit_nets=fit_nets,
        predict=predict,
        fraction=fraction,
        seed=seed,
        sample_weight=sample_weight,
    )
    for value, (mean, worst) in zip(values, scores):
        log(
            f"{name}={value:g}: validation accuracy {mean:.3f} on average over the "
            f"inferred groups, {worst:.3f} in the worst ({len(valid)} examples)"
        )
    log(f"chose {name}={values[best]:g}")
    return {name: values[best]}, {
        "selection_results_": {
            name: np.asarray(values, dtype=float),
            "mean_group_accuracy": np.array([s[0] for s in scores]),
            "worst_group_accuracy": np.array([s[1] for s in scores]),
        },
        "selection_indices_": valid,
    }

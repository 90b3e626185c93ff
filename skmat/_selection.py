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

from ._data import WEIGHT_KEY, RowDataset
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


def choose_value(
    values, y, *, fit_candidate, fit_plain, predict, fraction, seed, sample_weight=None
):
    """Choose among ``values`` as the module says.

    Parameters
    ----------
    values : sequence of float
    y : ndarray of shape (n_samples,)
        Encoded labels of the training set.
    fit_candidate : callable
        ``fit_candidate(value, rows)``: the final net trained with ``value`` on
        ``rows``.
    fit_plain : callable
        ``fit_plain(rows)``: a plain copy of the net trained on ``rows``.
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
    wrong = np.zeros(len(valid), dtype=bool)
    for fit_half, predict_half in crossfit_halves(y_valid, seed):
        model = fit_plain(valid[fit_half])
        rows = valid[predict_half]
        wrong[predict_half] = predict(model, rows) != y[rows]
    groups = 2 * y_valid + wrong
    weight = None if sample_weight is None else sample_weight[valid]
    scores = []
    for value in values:
        predicted = predict(fit_candidate(value, train), valid)
        scores.append(selection_score(y_valid, predicted, groups, weight))
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
):
    """Choose the value of the parameter ``name`` among ``values`` for the data
    (:func:`choose_value`): copies of the final ``net`` trained on part of the
    training set (``inputs``, encoded ``y``), scored on the rest.

    ``extras(value, rows)`` gives a candidate's net parameters and row extras;
    ``final_fit(net, dataset, labels, phase)`` trains a net as the final net
    trains. Every net trains on a fork of torch's RNG, so the final net then trains
    exactly as it would with the chosen value given. Return ``{name: chosen}`` and
    the fitted attributes that report the choice (``log`` hears each score).
    """

    def fit(candidate, rows, row_extras, phase):
        dataset = RowDataset(inputs.take(rows), y[rows], row_extras)
        with forked_torch_rng(candidate.device):
            return final_fit(candidate, dataset, y[rows], phase)

    def fit_candidate(value, rows):
        net_params, row_extras = extras(value, rows)
        phase = f"final net with {name}={value:g} (choosing)"
        return fit(clone(net).set_params(**net_params), rows, row_extras, phase)

    def fit_plain(rows):
        weights = {} if sample_weight is None else {WEIGHT_KEY: sample_weight[rows]}
        phase = f"plain net grouping the validation examples (choosing {name})"
        return fit(clone(net), rows, weights, phase)

    def predict(model, rows):
        with forked_torch_rng(model.device):
            return net_logits(model, inputs.take(rows)).argmax(axis=1)

    best, scores, valid = choose_value(
        values,
        y,
        fit_candidate=fit_candidate,
        fit_plain=fit_plain,
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

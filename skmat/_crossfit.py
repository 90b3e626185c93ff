"""The criterion that chooses among training settings without group labels.

Validation examples are grouped by label and by whether *plain* copies of the net,
cross-fitted on the validation examples themselves (one copy trained on each half,
predicting the other half), misclassify them: the paper's inferred groups (Bayat et
al., ICLR 2025, Section 4), from models that share no training example with the
candidates they score. A candidate is then scored by its accuracy within those
groups (:func:`group_scores`).

Why models of their own: the held-out phase's models trained on the candidates'
training rows, so their mistakes on new rows are partly plain training's own, and a
net trained to contradict them scores well on them whether or not they are a
minority it should serve.

The default's choice (:mod:`skmat._search`) and the public scorer
:data:`skmat.metrics.crossfit_group_scorer` compute the groups and the scores with
the functions here.
"""

import numpy as np
from joblib import hash as joblib_hash
from sklearn.base import clone
from sklearn.utils.validation import column_or_1d

from ._compat import safe_indexing
from ._net import LogitShiftMixin, net_logits
from ._predict import inferred_group_ids
from ._random import forked_torch_rng
from ._rows import WEIGHT_KEY, RowDataset
from ._split import stratified_split
from ._validation import check_input

#: How many data sets a scorer keeps the cross-fitted groups of.
_CACHE_SIZE = 4

#: The columns :func:`group_scores` returns; ``selection_score`` is the criterion.
SCORE_NAMES = ("selection_score", "mean_group_accuracy", "worst_group_accuracy")

#: How much the worst group counts in ``selection_score`` beside the mean (fixed on
#: the development tasks and controls of ``benchmarks/bench_selection.py`` before
#: the safety suite ran).
WORST_GROUP_WEIGHT = 0.1

#: The loss settings of skmat's final nets that a plain copy leaves out.
_PLAIN = dict(group_step_size=None, n_groups=None, class_balanced=False)


def crossfit_halves(y, seed):
    """Two halves of ``len(y)`` rows, stratified by class when every class has two
    rows: ``[(train, test), (test, train)]`` positions."""
    y = np.asarray(y)
    if len(y) < 2:
        raise ValueError(
            f"Cross-fitted groups need at least 2 examples to score on; got {len(y)}."
        )
    first, second = stratified_split(len(y), len(y) // 2, seed, strata=(y,))
    return [(first, second), (second, first)]


def plain_copy(net, seed):
    """An unfitted copy of a skmat ``net`` that trains plainly (no Group DRO, no
    class balancing), seeded with ``seed``."""
    return clone(net).set_params(random_state=seed, **_PLAIN)


def grouping_jobs(halves, sample_weight=None):
    """The rows and extras each grouping net trains on: one half each."""
    return [
        (fit, {} if sample_weight is None else {WEIGHT_KEY: sample_weight[fit]})
        for fit, _ in halves
    ]


def groups_from_mistakes(halves, predicted, y):
    """Inferred group ids ``2 * y + wrong`` of the rows, ``predicted[k]`` being the
    predictions of the net trained on half ``k`` for the other half."""
    wrong = np.zeros(len(y), dtype=bool)
    for (_, other), prediction in zip(halves, predicted):
        wrong[other] = prediction != y[other]
    return inferred_group_ids(y, wrong)


def group_scores(y, predicted, groups, sample_weight=None):
    """A candidate's scores on the inferred ``groups``: its accuracy within each
    group (weighted), their mean, their minimum and the criterion.

    The criterion, ``selection_score``, is ``(mean + 0.1 * worst) / 1.1``: the mean
    group accuracy decides, the worst group breaks near-ties. The worst group alone
    follows the noise of the smallest group and took the shift on label-noise
    controls, where it costs; the mean alone misses candidates that lift the worst
    group at no cost to the others (user guide, "Choosing the setting").

    Returns
    -------
    scores : dict of str to float
        The keys of :data:`SCORE_NAMES`.
    """
    y, predicted, groups = map(np.asarray, (y, predicted, groups))
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    _, inverse = np.unique(groups, return_inverse=True)
    mass = np.bincount(inverse, weights=weight)
    right = np.bincount(inverse, weights=weight * (predicted == y))
    counted = mass > 0
    if not counted.any():
        raise ValueError(
            "Every example scored has zero sample_weight: there is nothing to choose "
            "on. Give some validation examples a positive weight."
        )
    accuracies = right[counted] / mass[counted]
    mean, worst = float(accuracies.mean()), float(accuracies.min())
    return dict(
        selection_score=(mean + WORST_GROUP_WEIGHT * worst) / (1 + WORST_GROUP_WEIGHT),
        mean_group_accuracy=mean,
        worst_group_accuracy=worst,
    )


def fit_grouping_nets(net, inputs, y, halves, seed, sample_weight=None):
    """Plain copies of ``net`` trained one by one on each half of ``inputs``; their
    predictions (encoded) for the other half."""
    predicted = []
    for (fit, other), (rows, extras) in zip(
        halves, grouping_jobs(halves, sample_weight)
    ):
        model = plain_copy(net, seed)
        model.fit(RowDataset(inputs.take(rows), y[rows], extras), y[rows])
        predicted.append(predict_codes(model, inputs.take(other)))
    return predicted


def predict_codes(net, inputs):
    """A skmat net's predicted class codes for ``inputs``."""
    with forked_torch_rng(net.device):
        return net_logits(net, inputs).argmax(axis=1)


class LabelCodes:
    """Labels as positions in ``classes`` (``y``: those of the scored examples)."""

    def __init__(self, classes, y):
        self.classes = np.asarray(classes)
        self.y = self.encode(y, "y")

    def encode(self, labels, name="the predictions"):
        labels = np.asarray(labels)
        positions = np.searchsorted(self.classes, labels).clip(0, len(self.classes) - 1)
        unknown = self.classes[positions] != labels
        if np.any(unknown):
            raise ValueError(
                f"{name} holds labels the estimator was not fitted on: "
                f"{np.unique(labels[unknown])[:5].tolist()}; its classes_ are "
                f"{self.classes.tolist()}."
            )
        return positions


def crossfit_groups_of(estimator, X, y, seed, sample_weight=None, cache=None):
    """The cross-fitted groups of ``X, y`` for scoring the fitted ``estimator``.

    The plain copies are of the final net of a skmat estimator (``estimator_``),
    else clones of ``estimator`` itself (any scikit-learn classifier). ``cache``
    (a dict) keeps the groups per data set and net.

    Returns
    -------
    codes : LabelCodes
    groups : ndarray of int
    """
    y = column_or_1d(y)
    net = getattr(estimator, "estimator_", None)
    skmat_net = isinstance(net, LogitShiftMixin)
    classes = getattr(estimator, "classes_", None)
    codes = LabelCodes(np.unique(y) if classes is None else classes, y)
    halves = crossfit_halves(codes.y, seed)
    weight = None if sample_weight is None else np.asarray(sample_weight, float)
    template = plain_copy(net, seed) if skmat_net else clone(estimator)
    try:
        key = joblib_hash(
            [type(template), template.get_params(deep=False), X, y, weight, seed]
        )
    except Exception:  # data that does not pickle: no cache
        key = None
    if cache is not None and key in cache:
        return codes, cache[key]
    if skmat_net:
        inputs = check_input(estimator, X, reset=False)
        predicted = fit_grouping_nets(net, inputs, codes.y, halves, seed, weight)
    else:
        predicted = []
        for fit, other in halves:
            model = clone(estimator)
            if "random_state" in model.get_params(deep=False):
                model.set_params(random_state=seed)
            params = {} if weight is None else {"sample_weight": weight[fit]}
            model.fit(safe_indexing(X, fit), y[fit], **params)
            predicted.append(codes.encode(model.predict(safe_indexing(X, other))))
    groups = groups_from_mistakes(halves, predicted, codes.y)
    if cache is not None and key is not None:
        while len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = groups
    return codes, groups

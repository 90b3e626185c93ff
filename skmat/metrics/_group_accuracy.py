"""Worst-group accuracy and its per-group report."""

from numbers import Integral

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._compat import (
    Interval,
    check_sample_weight,
    validate_params,
)

MISSING_GROUPS = (
    "Worst-group accuracy needs the group of every example: pass `groups`, an "
    "array-like of shape (n_samples,). A scorer gets `groups` from GridSearchCV, "
    "cross_validate and the other scikit-learn tools only through metadata routing: "
    "enable it with `sklearn.set_config(enable_metadata_routing=True)` (or `with "
    "sklearn.config_context(enable_metadata_routing=True):`) and pass `groups=groups` "
    "to `fit` (GridSearchCV.fit(X, y, groups=groups)) or `params={'groups': groups}` "
    "(cross_validate). Without group labels, use `crossfit_group_scorer`."
)

_REPORT_KEYS = ("average", "worst", "worst_group")


def _correct(y_true, y_pred):
    """Whether each prediction is right (every label of the row, for multilabel
    targets: subset accuracy, as in accuracy_score), after the target checks of
    scikit-learn's classification metrics."""
    true_type = type_of_target(y_true, input_name="y_true")
    pred_type = type_of_target(y_pred, input_name="y_pred")
    kinds = {true_type, pred_type}
    if kinds <= {"binary", "multiclass"}:
        y_true, y_pred = column_or_1d(y_true), column_or_1d(y_pred)
        unique_labels(y_true, y_pred)  # raises on a mix of strings and numbers
        return np.asarray(y_true == y_pred)
    if kinds == {"multilabel-indicator"}:
        y_true = y_true if issparse(y_true) else np.asarray(y_true)
        y_pred = y_pred if issparse(y_pred) else np.asarray(y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true and y_pred have {y_true.shape[1]} and {y_pred.shape[1]} labels."
            )
        return np.asarray(abs(y_true - y_pred).sum(axis=1)).ravel() == 0
    if len(kinds) > 1:
        raise ValueError(
            f"Classification metrics can't handle a mix of {true_type} and "
            f"{pred_type} targets"
        )
    raise ValueError(f"{true_type} targets are not supported.")


def _group_accuracies(y_true, y_pred, groups, sample_weight):
    """Validate the inputs; return the group labels (as np.unique sorts them), the
    per-example correctness, the group index of every example and the weights."""
    if groups is None:
        raise ValueError(MISSING_GROUPS)
    check_consistent_length(y_true, y_pred, groups, sample_weight)
    correct = _correct(y_true, y_pred)
    if correct.size == 0:
        raise ValueError("y_true and y_pred are empty: there is no example to score.")
    try:
        groups = column_or_1d(groups, dtype=None)
    except ValueError as e:
        raise ValueError(f"`groups` must be one-dimensional: {e}") from e
    try:
        labels, inverse = np.unique(groups, return_inverse=True)
    except TypeError as e:
        raise TypeError(
            f"The labels in `groups` must be sortable (all numbers or all strings, "
            f"say); got {groups.dtype} values that are not: {e}"
        ) from e
    weights = check_sample_weight(sample_weight, len(correct), dtype=np.float64)
    return labels, correct, inverse.ravel(), weights


def _per_group(labels, correct, inverse, weights):
    """Sizes (counts), weight sums and accuracies (NaN where the weight is 0)."""
    n_groups = len(labels)
    sizes = np.bincount(inverse, minlength=n_groups)
    weight_sums = np.bincount(inverse, weights=weights, minlength=n_groups)
    right = np.bincount(inverse, weights=weights * correct, minlength=n_groups)
    counted = weight_sums > 0
    accuracies = np.full(n_groups, np.nan)
    accuracies[counted] = right[counted] / weight_sums[counted]
    return sizes, weight_sums, accuracies, counted


@validate_params(
    {
        "y_true": ["array-like", "sparse matrix"],
        "y_pred": ["array-like", "sparse matrix"],
        "groups": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def worst_group_accuracy(y_true, y_pred, *, groups, sample_weight=None):
    """Worst-group accuracy: the lowest accuracy over the groups.

    Only the groups that occur in ``groups`` count (a category that no example
    has is not a group here), and with ``sample_weight`` each group's accuracy is
    weighted; a group whose weights sum to 0 does not count.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or label indicator matrix
        True labels.
    y_pred : array-like of shape (n_samples,) or label indicator matrix
        Predicted labels. For multilabel targets an example is right when all its
        labels are (subset accuracy, as in :func:`~sklearn.metrics.accuracy_score`).
    groups : array-like of shape (n_samples,)
        Group label of every example: any sortable labels (ints, strings, ...).
        Required: ``None`` raises a ``ValueError`` that explains how to route
        ``groups`` to a scorer.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.

    Returns
    -------
    score : float
        The minimum over the groups of the (weighted) fraction of right predictions.

    See Also
    --------
    group_accuracy_report : The accuracy of every group.
    worst_group_scorer : This metric as a scorer, with ``groups`` routed to it.
    sklearn.metrics.accuracy_score : The accuracy over all examples.

    Examples
    --------
    >>> from skmat.metrics import worst_group_accuracy
    >>> y_true = [0, 0, 1, 1, 1, 1]
    >>> y_pred = [0, 1, 1, 1, 1, 0]
    >>> groups = ["a", "a", "b", "b", "c", "c"]
    >>> worst_group_accuracy(y_true, y_pred, groups=groups)
    0.5
    >>> worst_group_accuracy(
    ...     y_true, y_pred, groups=groups, sample_weight=[1, 0, 1, 1, 3, 1]
    ... )
    0.75
    """
    labels, correct, inverse, weights = _group_accuracies(
        y_true, y_pred, groups, sample_weight
    )
    _, _, accuracies, counted = _per_group(labels, correct, inverse, weights)
    return float(np.min(accuracies[counted]))


@validate_params(
    {
        "y_true": ["array-like", "sparse matrix"],
        "y_pred": ["array-like", "sparse matrix"],
        "groups": ["array-like", None],
        "sample_weight": ["array-like", None],
        "output_dict": ["boolean"],
        "digits": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def group_accuracy_report(
    y_true, y_pred, *, groups, sample_weight=None, output_dict=False, digits=3
):
    """Accuracy of every group, the overall accuracy and the worst group.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or label indicator matrix
        True labels.
    y_pred : array-like of shape (n_samples,) or label indicator matrix
        Predicted labels.
    groups : array-like of shape (n_samples,)
        Group label of every example: any sortable labels (ints, strings, ...).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights. The report then also gives each group's
        ``weight`` (sum of its weights); a group whose weights sum to 0 has accuracy
        NaN and is not a candidate for the worst group.
    output_dict : bool, default=False
        Return a dict instead of a text table.
    digits : int, default=3
        Digits of the floats in the text table (the dict values are not rounded).

    Returns
    -------
    report : str or dict
        A text table, or (``output_dict=True``) a dict
        ``{group: {"size": int, "accuracy": float}, ..., "average": float,
        "worst": float, "worst_group": group}`` where the groups are in the order
        of :func:`numpy.unique`, ``size`` is the number of examples (with
        ``sample_weight``, each group also has ``"weight": float``), ``average`` is
        the accuracy over all examples, ``worst`` the worst-group accuracy and
        ``worst_group`` the label of that group (the first one on a tie). Group
        labels are numpy scalars converted to Python ones.

    See Also
    --------
    worst_group_accuracy : The ``worst`` entry alone.
    sklearn.metrics.classification_report : The per-class counterpart.

    Examples
    --------
    >>> from skmat.metrics import group_accuracy_report
    >>> y_true = [0, 0, 1, 1, 1, 1]
    >>> y_pred = [0, 1, 1, 1, 1, 0]
    >>> groups = ["a", "a", "b", "b", "c", "c"]
    >>> print(group_accuracy_report(y_true, y_pred, groups=groups))
                 size  accuracy
    <BLANKLINE>
          a         2     0.500
          b         2     1.000
          c         2     0.500
    <BLANKLINE>
    average         6     0.667
      worst         2     0.500  (group a)
    >>> report = group_accuracy_report(y_true, y_pred, groups=groups, output_dict=True)
    >>> report["b"]
    {'size': 2, 'accuracy': 1.0}
    >>> report["worst"], report["worst_group"]
    (0.5, 'a')
    """
    labels, correct, inverse, weights = _group_accuracies(
        y_true, y_pred, groups, sample_weight
    )
    sizes, weight_sums, accuracies, counted = _per_group(
        labels, correct, inverse, weights
    )
    worst = int(np.flatnonzero(counted)[np.argmin(accuracies[counted])])
    labels = labels.tolist()
    average = float(np.average(correct, weights=weights))
    weighted = sample_weight is not None

    if output_dict:
        clash = [key for key in _REPORT_KEYS if key in labels]
        if clash:
            raise ValueError(
                f"Group labels {clash} clash with the report's own keys "
                f"{list(_REPORT_KEYS)}; rename those groups or use output_dict=False."
            )
        report = {}
        for i, label in enumerate(labels):
            report[label] = {"size": int(sizes[i]), "accuracy": float(accuracies[i])}
            if weighted:
                report[label]["weight"] = float(weight_sums[i])
        report["average"] = average
        report["worst"] = float(accuracies[worst])
        report["worst_group"] = labels[worst]
        return report

    names = [str(label) for label in labels]
    width = max(len(name) for name in [*names, "average"])
    columns = ["size", *(["weight"] if weighted else []), "accuracy"]
    column_width = max(10, digits + 7)
    lines = [" " * width + "".join(f"{c:>{column_width}}" for c in columns), ""]

    def row(name, size, weight, accuracy):
        cells = [f"{size:>{column_width}d}"]
        if weighted:
            cells.append(f"{weight:>{column_width}.{digits}f}")
        cells.append(f"{accuracy:>{column_width}.{digits}f}")
        return f"{name:>{width}}" + "".join(cells)

    for i, name in enumerate(names):
        lines.append(row(name, sizes[i], weight_sums[i], accuracies[i]))
    lines.append("")
    lines.append(row("average", len(correct), weights.sum(), average))
    lines.append(
        row("worst", sizes[worst], weight_sums[worst], accuracies[worst])
        + f"  (group {names[worst]})"
    )
    return "\n".join(lines)

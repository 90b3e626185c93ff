"""Group-robustness metrics: worst-group accuracy, its per-group report and scorers.

Worst-group accuracy (WGA) is the lowest accuracy over the groups of a data set (for
instance the four ``(label, spurious attribute)`` pairs of a shortcut benchmark). It is
the usual model-selection criterion of group-robust learning.

- :func:`worst_group_accuracy` and :func:`group_accuracy_report` compute it from
  predictions and group labels.
- ``worst_group_scorer`` is a scorer for ``scoring=`` in
  :class:`~sklearn.model_selection.GridSearchCV`,
  :func:`~sklearn.model_selection.cross_validate` and the like. It requests ``groups``
  through scikit-learn's metadata routing, so enable routing and pass the groups with
  the data.
- ``crossfit_group_scorer`` needs no group labels: it groups the scored examples by
  label and by whether plain copies of the estimator's net, cross-fitted on those
  examples, misclassify them, and scores the estimator on those groups. It is the
  criterion ``MATClassifier``'s default choice uses; pass it to your own
  ``GridSearchCV`` to choose as the default does.
- ``inferred_worst_group_scorer`` also needs no group labels: the fitted estimator
  infers them with its own held-out models (:meth:`MATClassifier.infer_groups
  <skmat.MATClassifier.infer_groups>`). It favours the shift whether or not it
  helps: prefer ``crossfit_group_scorer`` to choose MAT's settings.
"""

from copy import deepcopy
from functools import partial
from numbers import Integral

import numpy as np
from scipy.sparse import issparse
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import UNUSED
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._compat import (
    Interval,
    Scorer,
    cached_call,
    check_sample_weight,
    validate_params,
)
from ._crossfit import crossfit_groups_of, group_scores
from ._interrupt import raise_if_interrupted, watch_interrupts

__all__ = [
    "CrossFitGroupScorer",
    "crossfit_group_scorer",
    "group_accuracy_report",
    "inferred_worst_group_scorer",
    "worst_group_accuracy",
    "worst_group_scorer",
]

_MISSING_GROUPS = (
    "Worst-group accuracy needs the group of every example: pass `groups`, an "
    "array-like of shape (n_samples,). A scorer gets `groups` from GridSearchCV, "
    "cross_validate and the other scikit-learn tools only through metadata routing: "
    "enable it with `sklearn.set_config(enable_metadata_routing=True)` (or `with "
    "sklearn.config_context(enable_metadata_routing=True):`) and pass `groups=groups` "
    "to `fit` (GridSearchCV.fit(X, y, groups=groups)) or `params={'groups': groups}` "
    "(cross_validate). Without group labels, use `inferred_worst_group_scorer`."
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
        raise ValueError(_MISSING_GROUPS)
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


class _GroupScorer(Scorer):
    """A scorer of :func:`worst_group_accuracy` on the estimator's predictions.

    Subclasses set their default metadata requests with ``__metadata_request__score``
    (on top of the metric's ``groups`` and ``sample_weight``, declared here, neither
    requested).
    """

    # Declared here, not read from the metric's signature (which scikit-learn < 1.7
    # does not do): the metric's own parameters, neither requested.
    __metadata_request__score = {"groups": None, "sample_weight": None}
    _name = None

    def __init__(self):
        super().__init__(worst_group_accuracy, 1, {}, response_method="predict")

    def __repr__(self):
        return self._name

    def __call__(self, estimator, X, y_true, **kwargs):
        """Worst-group accuracy of ``estimator`` on ``X``, ``y_true``.

        Parameters
        ----------
        estimator : fitted classifier
        X : array-like of shape (n_samples, n_features)
        y_true : array-like of shape (n_samples,)
        **kwargs : dict
            ``groups`` and ``sample_weight``, passed to
            :func:`worst_group_accuracy`. Accepted whether metadata routing is
            enabled or not.

        Returns
        -------
        score : float
        """
        return self._score(partial(cached_call, None), estimator, X, y_true, **kwargs)

    def set_score_request(self, **kwargs):
        """Change what the scorer requests; the other requests are kept.

        Only available with metadata routing enabled. Unlike
        :meth:`make_scorer(...).set_score_request
        <sklearn.metrics.make_scorer>`, the requests not named here stay as they
        are (``worst_group_scorer`` keeps requesting ``groups``). This changes the
        object in place: ``copy.deepcopy`` a module-level scorer before changing it.

        Parameters
        ----------
        **kwargs : dict
            ``param_name=alias``, the alias being True, False, None or a string.

        Returns
        -------
        self : object
        """
        requests = {**self.get_metadata_routing().score.requests, **kwargs}
        return super().set_score_request(**requests)


class _WorstGroupScorer(_GroupScorer):
    """Worst-group accuracy scorer, with ``groups`` requested through routing.

    ``worst_group_scorer(estimator, X, y, groups=groups)`` is
    ``worst_group_accuracy(y, estimator.predict(X), groups=groups)``. As
    ``scoring=worst_group_scorer`` (alone or in a dict of scorers) in
    :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` and the like, it gets the test
    fold's ``groups`` through metadata routing: it requests ``groups`` by default (as
    if ``set_score_request(groups=True)`` had been called), so enable routing with
    ``sklearn.set_config(enable_metadata_routing=True)`` and pass ``groups`` with the
    data: ``GridSearchCV(...).fit(X, y, groups=groups)``, ``cross_validate(...,
    params={"groups": groups})``. Without routing, or when ``groups`` is not passed,
    scoring raises a ``ValueError`` that says so (GridSearchCV and cross_validate
    turn it into a warning and a NaN score unless ``error_score="raise"``).

    ``sample_weight`` is not requested by default; with routing enabled,
    ``copy.deepcopy(worst_group_scorer).set_score_request(sample_weight=True)`` gives
    a weighted one (``groups`` stays requested). The groups can also come under
    another name, e.g. to split with :class:`~sklearn.model_selection.GroupKFold` on
    some groups and score on others: ``set_score_request(groups="eval_groups")`` and
    ``fit(X, y, groups=split_groups, eval_groups=groups)``.

    With routing enabled, ``groups`` passed to ``GridSearchCV.fit`` also goes to the
    splitter: a :class:`~sklearn.model_selection.GroupKFold` would then put each
    group in one test fold only, and each fold's score would count its own groups.

    See Also
    --------
    worst_group_accuracy : The metric.
    inferred_worst_group_scorer : The same with groups that the estimator infers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn import config_context
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skmat.metrics import worst_group_scorer
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> groups = 2 * y + (X[:, 0] > 0)
    >>> with config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(
    ...         LogisticRegression(), {"C": [0.001, 1.0]}, scoring=worst_group_scorer
    ...     ).fit(X, y, groups=groups)
    >>> search.best_params_
    {'C': 1.0}
    >>> round(float(search.best_score_), 3)  # mean over the 5 test folds
    0.81
    >>> round(worst_group_scorer(search.best_estimator_, X, y, groups=groups), 3)
    0.911
    """

    __metadata_request__score = {"groups": True}
    _name = "worst_group_scorer"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if kwargs.get("groups") is None:
            raise ValueError(_MISSING_GROUPS)
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


class _InferredWorstGroupScorer(_GroupScorer):
    """Worst-group accuracy over groups that the fitted estimator infers itself.

    ``inferred_worst_group_scorer(estimator, X, y)`` is ``worst_group_accuracy(y,
    estimator.predict(X), groups=estimator.infer_groups(X, y))``: no group labels are
    needed, so it works as ``scoring=`` in any scikit-learn tool, with or without
    metadata routing. For a :class:`~sklearn.pipeline.Pipeline` the last step infers
    the groups from ``X`` transformed by the steps before it. The estimator (or last
    step) must have ``infer_groups(X, y)``: :meth:`MATClassifier.infer_groups
    <skmat.MATClassifier.infer_groups>` returns the group id ``2 * class_index +
    misclassified``, ``class_index`` being the position of ``y`` in ``classes_`` and
    ``misclassified`` whether the held-out models get the example wrong (the
    shortcut's exceptions), so the score is the worst accuracy over (class, shortcut
    right / wrong).

    ``sample_weight`` is not requested by default: with routing enabled,
    ``copy.deepcopy(inferred_worst_group_scorer).set_score_request(
    sample_weight=True)`` gives a weighted one. Without routing, the search tools pass
    it ``sample_weight`` when ``fit`` gets one, as they do for the accuracy scorer.

    See Also
    --------
    worst_group_scorer : The same with given group labels.
    worst_group_accuracy : The metric.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmat.metrics import inferred_worst_group_scorer
    >>> class ByFeature(LogisticRegression):
    ...     def infer_groups(self, X, y):  # here: 2 * y + (feature 0 > 0)
    ...         return 2 * np.searchsorted(self.classes_, y) + (X[:, 0] > 0)
    >>> X = np.array([[-1.0], [1.0], [-2.0], [2.0], [-0.5], [0.5]])
    >>> y = np.array([0, 0, 1, 1, 0, 1])
    >>> clf = ByFeature().fit(X, y)
    >>> clf.predict(X)
    array([0, 1, 0, 1, 0, 1])
    >>> inferred_worst_group_scorer(clf, X, y)
    0.0
    """

    __metadata_request__score = {"groups": UNUSED}
    _name = "inferred_worst_group_scorer"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if "groups" in kwargs:
            raise TypeError(
                "inferred_worst_group_scorer infers the groups with the estimator's "
                "infer_groups and takes no `groups`; use worst_group_scorer to score "
                "on given groups."
            )
        if isinstance(estimator, Pipeline):
            final = estimator[-1]
            Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        else:
            final, Xt = estimator, X
        if not callable(getattr(final, "infer_groups", None)):
            raise TypeError(
                "inferred_worst_group_scorer needs an estimator (or a Pipeline whose "
                "last step is one) with an `infer_groups(X, y)` method, such as "
                f"skmat.MATClassifier; {type(final).__name__} has none. Use "
                "worst_group_scorer with known group labels instead."
            )
        groups = final.infer_groups(Xt, y_true)
        y_pred = method_caller(estimator, "predict", X, pos_label=None)
        return worst_group_accuracy(y_true, y_pred, groups=groups, **kwargs)


class CrossFitGroupScorer(_GroupScorer):
    """The score MAT's default choice ranks settings by, with no group labels.

    ``CrossFitGroupScorer(random_state)(estimator, X, y)``:

    1. splits ``X, y`` in two halves (stratified, seeded by ``random_state``);
    2. trains a plain copy of the estimator's net on each half (for a skmat
       estimator, its final net ``estimator_`` without shift or weights, seeded by
       ``random_state``; for any other classifier, a clone of it) and lets it
       predict the other half;
    3. groups the examples by label and by whether that copy got them wrong: the
       paper's inferred groups (Bayat et al., ICLR 2025, Section 4), from models
       that share no example with the estimator scored;
    4. returns the estimator's ``selection_score`` on those groups: the mean of its
       mean group accuracy and its worst group accuracy.

    The copies are trained once per data set and setting of the net and kept, so a
    search over several candidates trains them once (with ``n_jobs=1``). A Ctrl-C
    while they train stops the scoring (skorch alone would end that copy's
    training early and go on) and keeps nothing.
    ``MATClassifier(shift_strength="auto")`` scores its candidates this way on its
    validation share, with the scorer it keeps as ``selection_scorer_``: the same
    scorer in your own :class:`~sklearn.model_selection.GridSearchCV` chooses as
    the default does. What it cannot tell: inferred groups are the net's own
    mistakes, not the minority; where the mistakes are hard or mislabelled examples
    of every group, no label-free score knows it. A few labelled validation groups
    and :data:`worst_group_scorer` beat it wherever you have them.

    ``sample_weight`` is not requested by default; with routing enabled,
    ``copy.deepcopy(scorer).set_score_request(sample_weight=True)`` weights the
    copies' losses and the accuracies.

    Parameters
    ----------
    random_state : int, default=0
        Seeds the halves and the copies.

    See Also
    --------
    worst_group_scorer : The same question with given group labels.
    inferred_worst_group_scorer : Groups from the estimator's own held-out models.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmat.metrics import CrossFitGroupScorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    >>> clf = LogisticRegression().fit(X, y)
    >>> round(CrossFitGroupScorer(random_state=0)(clf, X, y), 3)
    0.758
    """

    __metadata_request__score = {"groups": UNUSED}
    _name = "crossfit_group_scorer"

    def __init__(self, random_state=0):
        super().__init__()
        self.random_state = random_state
        self._cache = {}

    def __repr__(self):
        return f"CrossFitGroupScorer(random_state={self.random_state!r})"

    def __deepcopy__(self, memo):
        copied = type(self)(self.random_state)
        copied._metadata_request = deepcopy(
            getattr(self, "_metadata_request", None), memo
        )
        if copied._metadata_request is None:
            del copied._metadata_request
        return copied

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if "groups" in kwargs:
            raise TypeError(
                "crossfit_group_scorer infers the groups itself and takes no "
                "`groups`; use worst_group_scorer to score on given groups."
            )
        if not isinstance(self.random_state, Integral):
            raise ValueError(
                "CrossFitGroupScorer needs an int random_state (the copies must be "
                f"the same for every candidate); got {self.random_state!r}."
            )
        sample_weight = kwargs.get("sample_weight")
        if isinstance(estimator, Pipeline):
            final = estimator[-1]
            Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        else:
            final, Xt = estimator, X
        with watch_interrupts():
            codes, groups = crossfit_groups_of(
                final, Xt, y_true, self.random_state, sample_weight, self._cache
            )
            try:
                raise_if_interrupted()  # skorch ends a copy's fit quietly on Ctrl-C
            except KeyboardInterrupt:
                self._cache.clear()  # it may hold the groups of a cut-short copy
                raise
        y_pred = method_caller(estimator, "predict", X, pos_label=None)
        predicted = codes.encode(y_pred)
        return group_scores(codes.y, predicted, groups, sample_weight)[
            "selection_score"
        ]


worst_group_scorer = _WorstGroupScorer()
inferred_worst_group_scorer = _InferredWorstGroupScorer()
#: :class:`CrossFitGroupScorer` with ``random_state=0``.
crossfit_group_scorer = CrossFitGroupScorer()

"""Scorers of worst-group accuracy: on given groups, on groups the estimator infers,
and on groups cross-fitted on the scored data (the criterion of MATClassifier's
default choice)."""

from copy import deepcopy
from functools import partial
from numbers import Integral

from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import UNUSED

from .._compat import (
    Scorer,
    cached_call,
)
from .._crossfit import crossfit_groups_of, group_scores
from .._interrupt import raise_if_interrupted, watch_interrupts
from ._group_accuracy import MISSING_GROUPS, worst_group_accuracy


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
            raise ValueError(MISSING_GROUPS)
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
    4. returns the estimator's ``selection_score`` on those groups:
       ``(mean + 0.1 * worst) / 1.1`` of its accuracies within the groups (the mean
       decides, the worst group breaks near-ties).

    The copies are trained once per data set and setting of the net and kept, so a
    search over several candidates trains them once (with ``n_jobs=1``).
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
    0.45
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

"""Memorization diagnostics: which training examples does a model memorize?

- :func:`memorization_score` estimates, for every training example, how much more
  probability a training procedure gives the example's label when the example is in
  the training set than when it is not (Feldman's memorization, or self-influence,
  score, estimated by cross-validation).
- :class:`MemorizationDisplay` plots the per-group distributions of the score, for
  one or several procedures side by side (for instance plain training and MAT).

Under plain training (ERM) the minority groups of a shortcut benchmark carry high
scores: the model is right on them only because it trained on them. MAT lowers them.
"""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._compat import HasMethods, StrOptions, validate_params
from ._data import TABLE, input_kind, n_rows, take_fit_params, take_rows
from ._held_out import model_proba
from ._kfold import make_splits
from ._mat import MATClassifier
from ._random import draw_seed, forked_torch_rng

__all__ = ["MemorizationDisplay", "memorization_score"]

_PROCEDURES = ("estimator", "erm")


def _seed_from(random_state):
    """The one int seed that every fit of a score shares (None: nothing is seeded)."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return draw_seed(check_random_state(random_state))


def _seeded(estimator, seed):
    """``estimator`` with every ``random_state`` parameter, nested ones included, set
    to ``seed`` (unchanged when ``seed`` is None)."""
    if seed is None:
        return estimator
    names = [
        name
        for name in estimator.get_params(deep=True)
        if name == "random_state" or name.endswith("__random_state")
    ]
    return estimator.set_params(**{name: seed for name in names})


def _fit_predict_proba(estimator, X, y, train, test, fit_params, seed):
    """Fit ``estimator`` on ``train``; its probabilities on ``test`` and its classes.

    With a seed, torch is seeded inside ``fork_rng`` (a skorch net without a
    ``random_state`` of its own is then deterministic, and the caller's global torch
    RNG is left as it was).
    """
    X_train, y_train = take_rows(X, train), y[train]
    fit_params = take_fit_params(fit_params, train, len(y))
    X_test = take_rows(X, test)
    if seed is None:
        estimator.fit(X_train, y_train, **fit_params)
        proba = estimator.predict_proba(X_test)
    else:
        with forked_torch_rng(seed=seed):
            estimator.fit(X_train, y_train, **fit_params)
            proba = estimator.predict_proba(X_test)
    return np.asarray(proba, dtype=np.float64), getattr(estimator, "classes_", None)


def _columns(proba, model_classes, classes, who):
    """Positions in ``classes`` of the columns of ``proba``."""
    n_classes = len(classes)
    if model_classes is not None and len(model_classes) == proba.shape[1]:
        model_classes = np.asarray(model_classes)
        known = np.isin(model_classes, classes)
        if not np.all(known):
            raise ValueError(
                f"{who} predicts classes {model_classes[~known].tolist()} that are not "
                f"in y (classes {classes.tolist()})."
            )
        return np.searchsorted(classes, model_classes)
    if proba.shape[1] == n_classes:
        return np.arange(n_classes)
    raise ValueError(
        f"{who} returns {proba.shape[1]} probability columns for {n_classes} classes, "
        "and no classes_ attribute to say which ones they are."
    )


def _check_proba(proba, n_samples, n_classes, name):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n_samples, n_classes):
        raise ValueError(
            f"{name} must have shape (n_samples, n_classes) = ({n_samples}, "
            f"{n_classes}), columns in the order of np.unique(y); got {proba.shape}."
        )
    if not np.all(np.isfinite(proba)) or np.any(proba < 0) or np.any(proba > 1):
        raise ValueError(f"{name} must hold probabilities: finite, in [0, 1].")
    if not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(f"Each row of {name} must sum to 1.")
    return proba


def _splits(cv, X, y, groups, seed, in_sample):
    """The folds, computed once (:func:`skmat._kfold.make_splits`); with
    ``in_sample="folds"`` every example must be in some training fold."""
    return make_splits(
        5 if cv is None else cv,
        y,
        n_samples=len(y),
        X=X if input_kind(X) == TABLE else None,
        split_params={} if groups is None else {"groups": groups},
        seed=seed,
        cover=in_sample == "folds",
    )


def _check_erm_estimator(estimator, fitted, X, classes, n_samples):
    """Raise unless a MATClassifier's held-out phase is plain training of its net."""
    if not isinstance(estimator, MATClassifier):
        raise ValueError(
            "procedure='erm' scores plain training of the net that a "
            f"skmat.MATClassifier wraps; got a {type(estimator).__name__}. For any "
            "other estimator use procedure='estimator' (the default): it scores the "
            "estimator itself."
        )
    if estimator.held_out != "kfold" or estimator.held_out_estimator is not None:
        raise ValueError(
            "procedure='erm' needs the MATClassifier's held-out predictions to come "
            "from its own net trained plainly on k - 1 folds: held_out='kfold' and "
            f"held_out_estimator=None; got held_out={estimator.held_out!r}, "
            f"held_out_estimator={estimator.held_out_estimator!r}."
        )
    if not fitted:
        return
    if estimator.held_out_proba_.shape[0] != n_samples:
        raise ValueError(
            f"The MATClassifier was fitted on {estimator.held_out_proba_.shape[0]} "
            f"examples, X has {n_samples}: procedure='erm' reuses its held_out_proba_, "
            "so pass the data it was fitted on (or an unfitted MATClassifier)."
        )
    n_features = getattr(X, "shape", (0, None))[1:2]
    if hasattr(estimator, "n_features_in_") and n_features != (
        estimator.n_features_in_,
    ):
        raise ValueError(
            f"X has {n_features[0] if n_features else '?'} features, the "
            f"MATClassifier was fitted on {estimator.n_features_in_}: pass the data "
            "it was fitted on."
        )
    if not np.array_equal(estimator.classes_, classes):
        raise ValueError(
            f"The MATClassifier was fitted on classes {estimator.classes_.tolist()}, "
            f"y has {classes.tolist()}: pass the data it was fitted on."
        )


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "procedure": [StrOptions(set(_PROCEDURES))],
        "cv": ["cv_object"],
        "in_sample": [StrOptions({"folds", "full"})],
        "held_out_proba": ["array-like", None],
        "sample_weight": ["array-like", None],
        "groups": ["array-like", None],
        "params": [dict, None],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
        "return_proba": ["boolean"],
    },
    # the estimator validates its own parameters in fit
    prefer_skip_nested_validation=False,
)
def memorization_score(
    estimator,
    X,
    y,
    *,
    procedure="estimator",
    cv=None,
    in_sample="folds",
    held_out_proba=None,
    sample_weight=None,
    groups=None,
    params=None,
    n_jobs=None,
    random_state=None,
    return_proba=False,
):
    """Memorization (self-influence) score of every training example.

    The score of example ``i`` describes a training procedure: the probability of
    its true label from models trained on it (*in-sample*), minus the same from a
    model trained without it (*held-out*)::

        score_i = p_in(y_i | x_i) - p_out(y_i | x_i),   in [-1, 1]

    This is the memorization score of Feldman (2020) [1]_, estimated as Feldman and
    Zhang (2020) [2]_ do, with the ``cv`` folds as the random training subsets: one
    model is trained per fold, on the other folds. The held-out half of example
    ``i`` is the model of the fold that holds it out, as in
    :func:`~sklearn.model_selection.cross_val_predict`; the in-sample half is the
    mean over the ``cv - 1`` models that trained on it. Both halves thus come from
    models trained on the same number of examples. Near 0: the model predicts
    the example as well without having seen it (it follows a pattern shared with
    other examples). Near 1: the model is right on it only because it trained on it
    (a memorized exception or a mislabelled example). Negative values mean that
    training on the example lowered its own label's probability.

    Parameters
    ----------
    estimator : estimator with ``fit`` and ``predict_proba``
        A classifier, used as a template: it is cloned for every fit, never fitted
        in place. A :class:`skmat.MATClassifier`, a skorch net (ready to fit: a
        plain skorch net does not fill in the module's input and output sizes), a
        scikit-learn classifier or pipeline.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The training examples.
    y : array-like of shape (n_samples,)
        Their labels (any values a classifier takes: ints, strings, ...).
    procedure : {"estimator", "erm"}, default="estimator"
        Which training procedure the score describes.

        - ``"estimator"``: fitting ``estimator`` itself. The models are fits of
          clones of it, one per fold of ``cv``. For a MATClassifier every fit is a
          whole MAT fit (its own held-out phase included), so the held-out half
          comes from MAT models that never saw the example: ``cv`` MAT fits in all.
        - ``"erm"``: plain training (empirical risk minimisation) of the net that
          ``estimator``, a :class:`skmat.MATClassifier`, wraps. The models are the
          fold nets of the MATClassifier's own held-out phase: its
          ``held_out_estimators_`` and ``held_out_proba_`` when it is fitted (pass
          the data it was fitted on; no net is trained), otherwise those of a clone
          fitted here (whose final net is trained too, unused). It must have ``held_out="kfold"``, no
          ``held_out_estimator``, and, when fitted, have run its held-out phase
          (not been given ``held_out_proba``).
    cv : int, cross-validation generator or iterable, default=None
        The folds of the held-out half; ``None`` means 5. An int gives
        :class:`~sklearn.model_selection.StratifiedKFold` with ``shuffle=True``,
        seeded by ``random_state``. The test folds must partition the examples.
        With ``procedure="erm"``, ``cv`` sets the ``cv`` of an unfitted
        MATClassifier, and must be None for a fitted one (its folds are fixed).
        Unused (must be None) when ``held_out_proba`` is given.
    in_sample : {"folds", "full"}, default="folds"
        Where the in-sample half comes from.

        - ``"folds"``: the fold models that trained on the example (their mean),
          so that both halves come from models trained on ``(cv - 1) / cv`` of the
          data. The score then measures the effect of the example alone.
        - ``"full"``: one more model, trained on all of ``(X, y)`` (for
          ``procedure="erm"``, the wrapped net trained as MAT trains its nets: same
          construction and seed, ``shift_strength=0``, no early stopping). It has
          seen more data than the held-out models, so the score also holds the
          gain from a larger training set, which has nothing to do with the
          example (see Notes). Needed when ``held_out_proba`` is given.
    held_out_proba : array-like of shape (n_samples, n_classes), default=None
        A precomputed held-out half: out-of-fold class probabilities of the
        training examples, columns in the order of ``np.unique(y)`` (for instance
        from :func:`~sklearn.model_selection.cross_val_predict` with
        ``method="predict_proba"``). Needs ``in_sample="full"``; only the in-sample
        fit then runs.
    sample_weight : array-like of shape (n_samples,), default=None
        Passed to every fit (the training examples' share of it).
    groups : array-like of shape (n_samples,), default=None
        Group labels for a ``cv`` splitter that uses them
        (:class:`~sklearn.model_selection.GroupKFold`). With ``procedure="erm"``
        they go to the MATClassifier's ``fit`` (which gives them to its splitter).
        To give them to the estimator's ``fit`` with ``procedure="estimator"``
        (e.g. a MATClassifier's), pass ``params={"groups": groups}``.
    params : dict, default=None
        Other parameters of the estimator's ``fit``; per-example arrays (of length
        ``n_samples``) are split with the examples.
    n_jobs : int, default=None
        Number of fits run in parallel (joblib), with ``procedure="estimator"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds of an int ``cv`` and every fit: each ``random_state``
        parameter of the estimator (nested ones included) is set to one int seed
        (``random_state`` itself when an int), and torch is seeded with it around
        every fit and prediction (inside ``torch.random.fork_rng``, so the global
        torch RNG is left as it was). All fits share the seed, so the in-sample and
        held-out models differ by their training data, not by their initialisation.
        ``None`` leaves the estimator's own ``random_state`` and the global RNGs in
        charge. With ``procedure="erm"`` and a fitted MATClassifier it must be None
        or the MATClassifier's own ``random_state``.
    return_proba : bool, default=False
        Also return the two halves.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        The memorization score of every example, in [-1, 1].
    in_sample_proba : ndarray of shape (n_samples, n_classes)
        Only with ``return_proba=True``: class probabilities (columns in the order of
        ``np.unique(y)``) from the models that trained on each example (their mean
        with ``in_sample="folds"``).
    held_out_proba : ndarray of shape (n_samples, n_classes)
        Only with ``return_proba=True``: the out-of-fold class probabilities.

    See Also
    --------
    MemorizationDisplay : Per-group distributions of the score.
    sklearn.model_selection.cross_val_predict : The held-out half, for any estimator.
    skmat.MATClassifier.infer_groups : The groups its held-out models get wrong.

    Notes
    -----
    Feldman's definition counts correct predictions (the probability, over training
    runs, that the model is right); this score averages the model's probability of
    the label instead, so it also counts confidence: an example that the held-out
    models get right with probability 0.7 and the in-sample models with 0.97 scores
    0.27, where the 0/1 version would give 0.

    With ``in_sample="full"`` the held-out models train on ``(cv - 1) / cv`` of the
    data and the in-sample model on all of it, so the score also holds an effect of
    the training-set size that has nothing to do with any one example (measured on
    the paper's Figure-1 data: MAT trained on 800 examples gives the minority's test
    labels 0.67, trained on 1000, 0.73); a larger ``cv`` lowers it. The default,
    ``in_sample="folds"``, compares models trained on the same number of examples,
    as Feldman and Zhang's subsampled estimator does, and costs one fit less. With
    ``procedure="erm"`` and ``in_sample="full"``, the in-sample and fold nets share
    their seed only when the MATClassifier's ``random_state`` is an int. A fitted
    MATClassifier's held-out phase is reused as it is: the fitting data, weights and
    groups are not checked beyond their shape.

    References
    ----------
    .. [1] V. Feldman, "Does learning require memorization? A short tale about a long
       tail", STOC 2020. arXiv:1906.05271.
    .. [2] V. Feldman and C. Zhang, "What neural networks memorize and why:
       Discovering the long tail via influence estimation", NeurIPS 2020.
       arXiv:2008.03703.

    Examples
    --------
    A decision tree fits every training example, so an example with a wrong label
    is memorized (score near 1), the others are not (score near 0):

    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skmat.inspection import memorization_score
    >>> X, y = make_blobs(n_samples=100, centers=[[-3, 0], [3, 0]], random_state=0)
    >>> y[0] = 1 - y[0]  # a mislabelled example
    >>> scores = memorization_score(DecisionTreeClassifier(), X, y, random_state=0)
    >>> scores.shape
    (100,)
    >>> float(scores[0]), float(np.median(scores[1:]))
    (1.0, 0.0)
    """
    n_samples = n_rows(X)
    y = column_or_1d(y, warn=True)
    check_consistent_length(np.empty(n_samples), y, sample_weight, groups)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    classes = encoder.classes_
    if len(classes) < 2:
        raise ValueError(
            f"y must contain at least 2 classes; got 1 class: {classes[0]!r}."
        )
    y_index = encoder.transform(y)
    if held_out_proba is not None:
        if in_sample == "folds":
            raise ValueError(
                "held_out_proba gives the held-out half without the models behind "
                "it, but in_sample='folds' (the default) takes the in-sample half "
                "from those same fold models; pass in_sample='full' to fit one model "
                "on all of (X, y) for it."
            )
        if cv is not None:
            raise ValueError(
                "cv is unused when held_out_proba is given (the held-out half is "
                f"precomputed); leave cv=None. Got cv={cv!r}."
            )
        held_out_proba = _check_proba(
            held_out_proba, n_samples, len(classes), "held_out_proba"
        )
    fit_params = dict(params or {})
    if sample_weight is not None:
        if "sample_weight" in fit_params:
            raise ValueError(
                "sample_weight is given twice: as an argument and in params."
            )
        fit_params["sample_weight"] = sample_weight

    if procedure == "erm":
        if groups is not None:
            # MATClassifier.fit takes them (for a cv splitter that uses groups)
            if "groups" in fit_params:
                raise ValueError("groups is given twice: as an argument and in params.")
            fit_params["groups"] = groups
        in_sample_proba, held_out = _erm_halves(
            estimator,
            X,
            y,
            classes,
            held_out_proba,
            cv,
            in_sample,
            fit_params,
            random_state,
        )
    else:
        in_sample_proba, held_out = _estimator_halves(
            estimator,
            X,
            y,
            classes,
            held_out_proba,
            cv,
            in_sample,
            groups,
            fit_params,
            n_jobs,
            random_state,
        )
    for proba, name in [(in_sample_proba, "in-sample"), (held_out, "held-out")]:
        if not np.all(np.isfinite(proba)):
            raise ValueError(
                f"The {name} model predicted non-finite probabilities: its training "
                "diverged (for a net, try a smaller learning rate)."
            )
    rows = np.arange(n_samples)
    scores = in_sample_proba[rows, y_index] - held_out[rows, y_index]
    if return_proba:
        return scores, in_sample_proba, held_out
    return scores


def _estimator_halves(
    estimator,
    X,
    y,
    classes,
    held_out_proba,
    cv,
    in_sample,
    groups,
    fit_params,
    n_jobs,
    random_state,
):
    """In-sample and held-out probabilities of fitting clones of ``estimator``."""
    seed = _seed_from(random_state)
    template = _seeded(clone(estimator), seed)
    n_samples, n_classes = len(y), len(classes)
    everything = np.arange(n_samples)
    splits = (
        [] if held_out_proba is not None else _splits(cv, X, y, groups, seed, in_sample)
    )
    if in_sample == "folds":
        # each fold model predicts its training examples and its test fold
        jobs = [(train, np.r_[train, test]) for train, test in splits]
    else:
        jobs = [(everything, everything)] + [(train, test) for train, test in splits]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_predict_proba)(
            clone(template), X, y, train, predicted, fit_params, seed
        )
        for train, predicted in jobs
    )
    name = type(estimator).__name__
    probas = []
    for i, ((proba, model_classes), (_, predicted)) in enumerate(zip(results, jobs)):
        columns = _columns(
            proba, model_classes, classes, f"The {name} fitted on fold {i}"
        )
        full = np.zeros((n_samples, n_classes))
        full[np.ix_(predicted, columns)] = proba
        probas.append(full)
    if in_sample == "full":
        held_out = held_out_proba
        if held_out is None:
            # the test folds partition the examples: each row is set by one fold
            held_out = sum(probas[1:])
        return probas[0], held_out
    return _fold_halves(probas, splits, n_samples, n_classes)


def _fold_halves(probas, splits, n_samples, n_classes):
    """In-sample half: the mean over the fold models that trained on each example;
    held-out half: the one that held it out. ``probas[k]`` holds fold ``k``'s
    probabilities on (at least) its training and test rows."""
    in_sample = np.zeros((n_samples, n_classes))
    n_models = np.zeros(n_samples)
    held_out = np.zeros((n_samples, n_classes))
    for proba, (train, test) in zip(probas, splits):
        in_sample[train] += proba[train]
        n_models[train] += 1
        held_out[test] = proba[test]
    return in_sample / n_models[:, None], held_out


def _erm_halves(
    estimator, X, y, classes, held_out_proba, cv, in_sample, fit_params, random_state
):
    """In-sample and held-out probabilities of plain training of a MATClassifier's
    net; the held-out half is its held-out phase."""
    fitted = hasattr(estimator, "held_out_proba_")
    _check_erm_estimator(estimator, fitted, X, classes, len(y))
    erm = clone(estimator).set_params(shift_strength=0, early_stopping=False)
    if fitted and held_out_proba is None:
        if cv is not None:
            raise ValueError(
                "procedure='erm' reuses the held-out phase of the fitted "
                f"MATClassifier, whose folds are fixed; leave cv=None (got cv={cv!r}) "
                "or pass an unfitted MATClassifier."
            )
        if random_state is not None and random_state is not estimator.random_state:
            if not (
                isinstance(random_state, numbers.Integral)
                and isinstance(estimator.random_state, numbers.Integral)
                and random_state == estimator.random_state
            ):
                raise ValueError(
                    "procedure='erm' reuses the held-out phase of the fitted "
                    "MATClassifier, so its nets' seed is fixed: random_state must be "
                    f"None or its random_state={estimator.random_state!r}; got "
                    f"{random_state!r}. Or pass an unfitted MATClassifier."
                )
        if not estimator.held_out_estimators_:
            raise ValueError(
                "procedure='erm' reuses the held-out phase of a fitted MATClassifier, "
                "but this one was fitted with precomputed held_out_proba: nothing says "
                "they come from plain training of its net. If they do, pass them to "
                "memorization_score as held_out_proba= (with in_sample='full'); "
                "otherwise pass an unfitted MATClassifier."
            )
        if in_sample == "folds":
            return _fold_nets_halves(estimator, X, classes)
        held_out_proba = estimator.held_out_proba_
    else:
        if cv is not None:
            erm.set_params(cv=cv)
        if random_state is not None:
            erm.set_params(random_state=_seed_from(random_state))
    if in_sample == "folds":
        # the held-out phase of a fit here gives both halves (its final net, plain
        # training on everything, is not used)
        return _fold_nets_halves(erm.fit(X, y, **fit_params), X, classes)
    # With held_out_proba the MATClassifier skips its held-out phase and only
    # trains the final net, here without a shift: the wrapped net on all of (X, y).
    erm.fit(X, y, held_out_proba=held_out_proba, **fit_params)
    in_sample_proba = erm.predict_proba(X)
    if held_out_proba is None:
        held_out_proba = erm.held_out_proba_
    return np.asarray(in_sample_proba, dtype=np.float64), np.asarray(
        held_out_proba, dtype=np.float64
    )


def _fold_nets_halves(mat, X, classes):
    """Both halves from a fitted MATClassifier's fold nets: each predicts the
    examples it trained on; the held-out half is its ``held_out_proba_``."""
    inputs = mat._check_X(X, reset=False)
    n_samples, n_classes = len(inputs), len(classes)
    device = mat.estimator_.device
    probas, splits = [], []
    everything = np.arange(n_samples)
    for model, train in zip(mat.held_out_estimators_, mat.held_out_estimators_samples_):
        proba = np.zeros((n_samples, n_classes))
        proba[train] = model_proba(model, inputs.take(train), n_classes, device)
        probas.append(proba)
        splits.append((train, np.setdiff1d(everything, train)))
    in_sample, _ = _fold_halves(probas, splits, n_samples, n_classes)
    return in_sample, np.asarray(mat.held_out_proba_, dtype=np.float64)


def _check_matplotlib(caller):
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. You can install it with "
            "`pip install matplotlib`."
        ) from exc


class MemorizationDisplay:
    """Per-group distributions of the memorization score, for one or more models.

    Build it with :meth:`from_estimator` (computes the scores with
    :func:`memorization_score`) or :meth:`from_scores` (scores computed already);
    both plot it. Groups run along the x axis; within each group, one violin (or
    histogram) per model, side by side, with its mean marked. Made for comparing
    plain training with MAT on the groups of a shortcut benchmark: under ERM the
    minority groups sit near 1 (memorized), under MAT near 0.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,) or list of such arrays
        Memorization scores, one array per model, all on the same examples.
    groups : array-like of shape (n_samples,), default=None
        Group of every example (any sortable labels); ``None`` puts all the
        examples in one group.
    name : str or list of str, default=None
        Name of each model, for the legend.
    group_names : dict or list of str, default=None
        Label of each group on the x axis: a dict ``{group: label}``, or a list in
        the order of ``np.unique(groups)``; ``None`` uses ``str(group)``. The
        number of examples is added below each label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure that holds it.
    mean_scores_ : ndarray of shape (n_models, n_groups)
        Mean score of every model on every group (groups in the order of
        ``np.unique(groups)``).

    See Also
    --------
    memorization_score : The score.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmat.inspection import MemorizationDisplay
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(["majority", "minority"], [90, 10])
    >>> erm = np.where(groups == "minority", 0.8, 0.0) + 0.05 * rng.randn(100)
    >>> mat = 0.05 * rng.randn(100)
    >>> display = MemorizationDisplay.from_scores(
    ...     [erm, mat], groups=groups, name=["ERM", "MAT"]
    ... )
    >>> display.mean_scores_.round(1)
    array([[0. , 0.8],
           [0. , 0. ]])
    """

    def __init__(self, *, scores, groups=None, name=None, group_names=None):
        self.scores = scores
        self.groups = groups
        self.name = name
        self.group_names = group_names

    def _validated(self, name=None):
        """Scores as a list of arrays, names, unique groups and each one's labels."""
        scores = self.scores
        if isinstance(scores, np.ndarray) and scores.ndim == 1:
            scores = [scores]
        elif not isinstance(scores, (list, tuple)) or not len(scores):
            raise ValueError(
                "scores must be a 1-d array or a non-empty list of 1-d arrays; got "
                f"{type(scores).__name__}."
            )
        scores = [np.asarray(s, dtype=np.float64) for s in scores]
        n_samples = scores[0].shape[0] if scores[0].ndim == 1 else None
        for s in scores:
            if s.ndim != 1 or s.shape[0] != n_samples:
                raise ValueError(
                    "scores must be 1-d arrays of the same length, one per model; got "
                    f"shapes {[np.shape(s) for s in scores]}."
                )
            if not np.all(np.isfinite(s)):
                raise ValueError("scores must be finite.")
        groups = (
            np.zeros(n_samples, dtype=int)
            if self.groups is None
            else column_or_1d(self.groups)
        )
        if groups.shape[0] != n_samples:
            raise ValueError(
                f"groups must have one entry per example ({n_samples}); got "
                f"{groups.shape[0]}."
            )
        unique = np.unique(groups)

        name = self.name if name is None else name
        if name is None:
            name = [f"model {i + 1}" for i in range(len(scores))]
        elif isinstance(name, str):
            name = [name]
        name = list(name)
        if len(name) != len(scores):
            raise ValueError(
                f"name must give one name per model ({len(scores)}); got {name!r}."
            )

        group_names = self.group_names
        if group_names is None:
            labels = ["all" if self.groups is None else str(g) for g in unique]
        elif isinstance(group_names, dict):
            missing = [g for g in unique.tolist() if g not in group_names]
            if missing:
                raise ValueError(
                    f"group_names has no label for the groups {missing}; it must map "
                    f"every group in {unique.tolist()}."
                )
            labels = [str(group_names[g]) for g in unique.tolist()]
        else:
            labels = [str(label) for label in group_names]
            if len(labels) != len(unique):
                raise ValueError(
                    f"group_names must give one label per group ({len(unique)}: "
                    f"{unique.tolist()}, in this order); got {len(labels)}."
                )
        return scores, groups, unique, name, labels

    def plot(self, ax=None, *, kind="violin", name=None, colors=None, bins=20):
        """Plot the per-group distributions of the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` makes a new figure.
        kind : {"violin", "hist"}, default="violin"
            A violin (kernel density) or a histogram, drawn sideways, per model and
            group. Each is scaled to the width of its slot. The y axis runs from
            the lowest score (or -0.1) to 1.
        name : str or list of str, default=None
            Names of the models for the legend, overriding those given to the
            display.
        colors : list of matplotlib colours, default=None
            One per model; ``None`` uses matplotlib's colour cycle.
        bins : int, default=20
            Number of bins over [-1, 1] of ``kind="hist"``.

        Returns
        -------
        display : MemorizationDisplay
            Object that stores the computed values.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        if kind not in ("violin", "hist"):
            raise ValueError(f"kind must be 'violin' or 'hist'; got {kind!r}.")
        if not isinstance(bins, numbers.Integral) or bins < 1:
            raise ValueError(f"bins must be a positive integer; got {bins!r}.")
        scores, groups, unique, names, labels = self._validated(name)
        n_models = len(scores)
        if colors is None:
            cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
            colors = [cycle[i % len(cycle)] for i in range(n_models)]
        elif len(colors) != n_models:
            raise ValueError(
                f"colors must give one colour per model ({n_models}); got {colors!r}."
            )
        new_figure = ax is None
        if new_figure:
            _, ax = plt.subplots(
                figsize=(1.2 + 1.4 * len(unique) * max(1, n_models / 2), 4.5)
            )

        slot = 0.8 / n_models
        width = 0.9 * slot
        edges = np.linspace(-1, 1, bins + 1)
        means = np.zeros((n_models, len(unique)))
        for g, group in enumerate(unique):
            members = groups == group
            for m, model_scores in enumerate(scores):
                values = model_scores[members]
                means[m, g] = values.mean()
                center = g - 0.4 + slot * (m + 0.5)
                if kind == "violin":
                    _violin(ax, values, center, width, colors[m])
                else:
                    _sideways_hist(ax, values, center, width, edges, colors[m])
                ax.plot(
                    center,
                    means[m, g],
                    marker="D",
                    markersize=5,
                    color="black",
                    markerfacecolor="white",
                    zorder=3,
                )
        counts = [int(np.sum(groups == group)) for group in unique]
        ax.set_xticks(np.arange(len(unique)))
        ax.set_xticklabels([f"{label}\n(n={n})" for label, n in zip(labels, counts)])
        ax.set_xlim(-0.5, len(unique) - 0.5)
        ax.axhline(0, color="grey", linewidth=0.8, linestyle="--", zorder=0)
        # up to 1 (fully memorized) at least; down to the lowest score, in tenths
        low = min(-0.1, np.floor(10 * min(s.min() for s in scores)) / 10)
        high = max(1.0, max(s.max() for s in scores))
        ax.set_ylim(low - 0.05, high + 0.05)
        ax.set_xlabel("group")
        ax.set_ylabel(
            "memorization score\np(label | trained on it) - p(label | held out)"
        )
        ax.set_title("Memorization score per group")
        handles = [
            Patch(facecolor=colors[m], alpha=0.6, label=names[m])
            for m in range(n_models)
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker="D",
                linestyle="none",
                color="black",
                markerfacecolor="white",
                label="mean",
            )
        )
        ax.legend(handles=handles, loc="best", fontsize="small")
        if new_figure:
            ax.figure.tight_layout()
        self.ax_ = ax
        self.figure_ = ax.figure
        self.mean_scores_ = means
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        groups=None,
        procedure="estimator",
        name=None,
        group_names=None,
        cv=None,
        in_sample="folds",
        sample_weight=None,
        params=None,
        n_jobs=None,
        random_state=None,
        kind="violin",
        ax=None,
    ):
        """Compute the memorization scores of one or more models and plot them.

        Parameters
        ----------
        estimator : estimator or list of estimators
            Classifiers with ``fit`` and ``predict_proba``, each scored with
            :func:`memorization_score` on the same ``(X, y)``.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), default=None
            Group of every example, for the plot (not given to the splitter: use
            :func:`memorization_score` and :meth:`from_scores` for a splitter that
            takes groups).
        procedure : {"estimator", "erm"} or list of them, default="estimator"
            The procedure each score describes (see :func:`memorization_score`);
            a list gives one per estimator. ``estimator=[mat, mat],
            procedure=["erm", "estimator"]`` compares plain training of a
            MATClassifier's net with MAT itself.
        name : str or list of str, default=None
            Legend names; ``None`` uses ``"ERM"`` for ``procedure="erm"`` and the
            estimator's class name otherwise.
        group_names : dict or list of str, default=None
            Labels of the groups (see the class).
        cv, in_sample, sample_weight, params, n_jobs, random_state
            Passed to :func:`memorization_score` for every estimator.
        kind : {"violin", "hist"}, default="violin"
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : MemorizationDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        estimators = (
            list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
        )
        if isinstance(procedure, str):
            procedures = [procedure] * len(estimators)
        else:
            procedures = list(procedure)
            if len(procedures) != len(estimators):
                raise ValueError(
                    f"procedure must be a string or one per estimator "
                    f"({len(estimators)}); got {procedure!r}."
                )
        if name is None:
            name = [
                "ERM" if p == "erm" else type(e).__name__
                for e, p in zip(estimators, procedures)
            ]
            for i, n in enumerate(name):
                if name.count(n) > 1:
                    name[i] = f"{n} ({i + 1})"
        scores = [
            memorization_score(
                e,
                X,
                y,
                procedure=p,
                cv=cv,
                in_sample=in_sample,
                sample_weight=sample_weight,
                params=params,
                n_jobs=n_jobs,
                random_state=random_state,
            )
            for e, p in zip(estimators, procedures)
        ]
        return cls.from_scores(
            scores, groups=groups, name=name, group_names=group_names, kind=kind, ax=ax
        )

    @classmethod
    def from_scores(
        cls, scores, *, groups=None, name=None, group_names=None, kind="violin", ax=None
    ):
        """Plot memorization scores computed already.

        Parameters
        ----------
        scores : ndarray of shape (n_samples,) or list of such arrays
            One array per model, for instance from :func:`memorization_score`.
        groups : array-like of shape (n_samples,), default=None
        name : str or list of str, default=None
        group_names : dict or list of str, default=None
        kind : {"violin", "hist"}, default="violin"
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : MemorizationDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_scores")
        display = cls(scores=scores, groups=groups, name=name, group_names=group_names)
        return display.plot(ax=ax, kind=kind)


def _violin(ax, values, center, width, color):
    if len(values) < 2 or np.ptp(values) < 1e-9:
        # a kernel density needs spread: draw the value as a bar across the slot
        ax.hlines(values.mean(), center - width / 2, center + width / 2, color=color)
        return
    parts = ax.violinplot([values], positions=[center], widths=width, showextrema=False)
    for body in parts["bodies"]:
        body.set_facecolor(color)
        body.set_edgecolor(color)
        body.set_alpha(0.6)


def _sideways_hist(ax, values, center, width, edges, color):
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    if counts.max() == 0:
        return
    filled = counts > 0
    lengths = counts[filled] / counts.max() * width
    ax.barh(
        ((edges[:-1] + edges[1:]) / 2)[filled],
        lengths,
        height=np.diff(edges)[filled],
        left=center - lengths / 2,
        color=color,
        alpha=0.6,
        edgecolor=color,
    )

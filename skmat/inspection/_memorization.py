"""The memorization score: how much more probability a training procedure gives an
example's label when the example is in the training set than when it is not."""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_consistent_length, column_or_1d
from skorch import NeuralNetClassifier

from .._compat import HasMethods, StrOptions, validate_params
from .._data import n_rows, table_of, take_rows
from .._held_out import model_proba
from .._mat import MATClassifier
from .._net import LogitShiftMixin
from .._proba import check_finite, check_proba, in_class_columns
from .._random import draw_seed, forked_torch_rng
from .._user_net import as_weighted_net, weighted_net_data
from .._validation import check_input, make_splits, take_fit_params

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
    net = isinstance(estimator, LogitShiftMixin)  # from as_weighted_net
    if net:
        weight = fit_params.pop("sample_weight", None)
        X_train = weighted_net_data(X_train, y_train, weight)
    if seed is None:
        estimator.fit(X_train, y_train, **fit_params)
        proba = estimator.predict_proba(X_test)
    else:
        with forked_torch_rng(seed=seed):
            estimator.fit(X_train, y_train, **fit_params)
            proba = estimator.predict_proba(X_test)
    # a net's columns are the classes, in order: it trained on their indices
    model_classes = None if net else getattr(estimator, "classes_", None)
    return np.asarray(proba, dtype=np.float64), model_classes


def _check_erm_estimator(estimator, fitted, X, classes, y_index):
    """Raise unless a MATClassifier's held-out phase is plain training of its net."""
    if not isinstance(estimator, MATClassifier):
        raise ValueError(
            "procedure='erm' scores plain training of the net that a "
            f"skmat.MATClassifier wraps; got a {type(estimator).__name__}. For any "
            "other estimator use procedure='estimator' (the default): it scores the "
            "estimator itself."
        )
    held_out = estimator.held_out
    if fitted and held_out == "auto":  # what ran
        held_out = "xrm" if estimator.held_out_strategy_.kind == "xrm" else "kfold"
    if held_out not in ("auto", "kfold") or estimator.held_out_estimator is not None:
        raise ValueError(
            "procedure='erm' needs the MATClassifier's held-out predictions to come "
            "from its own net trained plainly on k - 1 folds: held_out='kfold' and "
            f"held_out_estimator=None; got held_out={held_out!r}, "
            f"held_out_estimator={estimator.held_out_estimator!r}."
        )
    if not fitted:
        return
    n_samples = len(y_index)
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
    differ = np.flatnonzero(estimator.inferred_groups_ // 2 != y_index)
    if len(differ):
        raise ValueError(
            f"y differs from the labels the MATClassifier was fitted on in "
            f"{len(differ)} of {n_samples} rows (first rows: {differ[:5].tolist()}): "
            "procedure='erm' reuses its held_out_proba_, so pass the data it was "
            "fitted on (or an unfitted MATClassifier)."
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
        plain skorch net does not fill in the module's input and output sizes;
        it trains on class indices, ``sample_weight`` weighing its loss), a
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
          fitted here (whose final net is trained too, unused). It must have
          ``held_out="kfold"`` (or ``"auto"`` that ran k-fold), no
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
        Seeds the folds (an int or unseeded ``cv``) and every fit: each ``random_state``
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
    MATClassifier's held-out phase is reused as it is: y must be its fitting labels;
    X, weights and groups are not checked beyond their shape.

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
        held_out_proba = check_proba(
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
    check_finite(in_sample_proba, "in-sample model")
    check_finite(held_out, "held-out model")
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
    if isinstance(template, NeuralNetClassifier):
        template = as_weighted_net(template, n_classes)
        y = np.searchsorted(classes, y)
    everything = np.arange(n_samples)
    splits = []
    if held_out_proba is None:
        splits = make_splits(
            5 if cv is None else cv,
            y,
            n_samples=n_samples,
            X=table_of(X),
            split_params={} if groups is None else {"groups": groups},
            seed=seed,
            # in_sample="folds": every example must be in some training fold
            cover=in_sample == "folds",
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
        full = np.zeros((n_samples, n_classes))
        full[predicted] = in_class_columns(
            proba, model_classes, classes, f"The {name} fitted on fold {i}"
        )
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
    y_index = np.searchsorted(classes, y)
    _check_erm_estimator(estimator, fitted, X, classes, y_index)
    erm = clone(estimator).set_params(
        shift_strength=0, early_stopping=False, held_out="kfold"
    )
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
    inputs = check_input(mat, X, reset=False)
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

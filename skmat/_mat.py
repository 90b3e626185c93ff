"""MATClassifier: memorization-aware training as a scikit-learn meta-estimator."""

import time
import warnings
from inspect import signature
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_method_params,
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetClassifier

from ._net import check_net_output, make_shifted_net, net_inputs, net_logits
from ._shift import logit_shift, logits_to_log_proba

_NET_LIKE = [HasMethods(["fit", "predict_proba"]), torch.nn.Module, type]


def _fit_fold(estimator, inputs, y, X, train, test, params):
    """Fit one held-out model on ``train``; return it, its probabilities on ``test``
    and its fit time."""
    start = time.perf_counter()
    estimator.fit(inputs[train], y[train], **_check_method_params(X, params, train))
    fit_time = time.perf_counter() - start
    return estimator, estimator.predict_proba(X[test]), fit_time


def _is_net(estimator):
    """Whether skmat trains ``estimator`` itself (skorch net or torch module)."""
    return isinstance(estimator, (NeuralNetClassifier, torch.nn.Module, type))


class MATClassifier(ClassifierMixin, BaseEstimator):
    """Memorization-aware training (MAT) of a neural-net classifier.

    A network that fits the majority of its training set through a shortcut (a
    spurious feature) can still reach zero training loss by memorizing the
    exceptions, and then fails on the minority groups at test time. MAT first gets
    held-out predictions for every training example (cross-validation with fresh
    copies of the net), turns them into a calibrated per-example logit shift, and
    trains the final net on ``f(x) + shift_strength * log(p_ho(. | x) + eps)``.
    Where the held-out model is right the shift already favours the label; where it
    is wrong the net must find features that beat the shortcut. Predictions use
    ``f(x)`` alone.

    Parameters
    ----------
    estimator : skorch NeuralNetClassifier, torch.nn.Module subclass or instance
        The net, configured as the user wants it (module, optimizer, lr, epochs,
        callbacks, device, ...); it is never fitted in place. The criterion must be
        ``CrossEntropyLoss`` (the module returns logits) or ``NLLLoss`` (the module
        returns probabilities). A bare module is wrapped in a ``NeuralNetClassifier``
        with CrossEntropyLoss and the training defaults of scikit-learn's
        MLPClassifier: Adam (lr=1e-3), 200 epochs, shuffled batches of 200, no
        internal validation split. A module class whose constructor takes
        ``n_features_in`` and/or ``n_classes`` gets them from the data unless they are
        set (``module__n_classes=...``). A module *instance* is deep-copied before
        every fit, so each fold model and the final model start from its weights.
    cv : int, cross-validation generator or iterable, default=5
        Folds of the held-out phase; anything :func:`~sklearn.model_selection.check_cv`
        accepts. An int gives stratified, shuffled folds seeded from ``random_state``.
        The test folds must partition the training set.
    temperature : float, default=0.1
        Temperature ``tau`` applied to the held-out predictions, ``> 0``.
    shift_strength : float, default=1.0
        ``lambda >= 0``: 1 is the paper's method, 0 is plain ERM with the same net.
    calibrate : bool, default=True
        Map the tempered held-out predictions through the calibration matrix
        ``p(y | y_ho)``. Without it the method fails (METHOD.md).
    held_out_estimator : estimator, torch.nn.Module subclass or instance, default=None
        Used for the held-out phase only; ``None`` means ``estimator``. Any
        scikit-learn classifier with ``predict_proba`` works here.
    n_jobs : int, default=None
        Number of folds trained in parallel (joblib).
    verbose : int, default=0
        0 silent, 1 one line per phase and fold, >= 2 also the nets' epoch tables.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the torch RNG of every net (inside
        ``torch.random.fork_rng``: the global torch RNG is left as it was). An int is
        used as the nets' torch seed as it is.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.
    estimator_ : skorch NeuralNetClassifier
        The final net, trained with the shift.
    held_out_estimators_ : list of estimators
        The fitted fold models (empty when ``held_out_proba`` was passed to ``fit``).
    held_out_proba_ : ndarray of shape (n_samples, n_classes)
        Out-of-fold class probabilities of the training examples.
    calibration_matrix_ : ndarray of shape (n_classes, n_classes)
        ``C[j, c] = p(y = c | held-out prediction = j)`` from the tempered held-out
        probabilities; rows sum to 1.
    logit_shift_ : ndarray of shape (n_samples, n_classes)
        The shift added to the final net's logits while it trained.

    Notes
    -----
    The fold models are fitted in parallel through joblib on folds computed once
    (like :func:`~sklearn.model_selection.cross_val_predict`), and kept.
    The final net trains on a loss that the shift already makes small wherever the
    held-out models are right, so it learns less from those examples per epoch than
    plain training would: a net that is only just trained enough for ERM may need
    more epochs under MAT.

    See Also
    --------
    sklearn.ensemble.StackingClassifier : Also trains on out-of-fold predictions.
    sklearn.calibration.CalibratedClassifierCV : Also cross-validates inside ``fit``.

    References
    ----------
    .. [1] R. Bayat, M. Pezeshki, E. Dohmatob, D. Lopez-Paz, P. Vincent. "The Pitfalls
       of Memorization: When Memorization Hurts Generalization", ICLR 2025.
       arXiv:2412.07684.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import make_classification
    >>> from skmat import MATClassifier
    >>> class Linear(torch.nn.Module):
    ...     def __init__(self, n_features_in, n_classes):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(n_features_in, n_classes)
    ...     def forward(self, X):
    ...         return self.linear(X)
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = MATClassifier(Linear, cv=3, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.logit_shift_.shape
    (200, 2)
    """

    _parameter_constraints: dict = {
        "estimator": _NET_LIKE,
        "cv": ["cv_object"],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "shift_strength": [Interval(Real, 0, None, closed="left")],
        "calibrate": ["boolean"],
        "held_out_estimator": [None, *_NET_LIKE],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        cv=5,
        temperature=0.1,
        shift_strength=1.0,
        calibrate=True,
        held_out_estimator=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.cv = cv
        self.temperature = temperature
        self.shift_strength = shift_strength
        self.calibrate = calibrate
        self.held_out_estimator = held_out_estimator
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def _held_out_template(self):
        return (
            self.estimator
            if self.held_out_estimator is None
            else self.held_out_estimator
        )

    def _log(self, message):
        if self.verbose >= 1:
            print(f"[{type(self).__name__}] {message}", flush=True)

    @_fit_context(
        # estimator and held_out_estimator are validated by their own fit
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, *, sample_weight=None, held_out_proba=None, **fit_params):
        """Fit the held-out models, compute the logit shift and fit the final net.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-example weight of the loss of every net (and of the calibration
            matrix); routed to a scikit-learn ``held_out_estimator`` that requests it.
        held_out_proba : array-like of shape (n_samples, n_classes), default=None
            Precomputed out-of-fold probabilities (columns in the order of
            ``np.unique(y)``); the held-out phase is then skipped.
        **fit_params : dict
            Metadata routed to the splitter (``groups``) and to a scikit-learn
            ``held_out_estimator``. With metadata routing off, only ``groups`` is
            accepted, and it goes to the splitter.

        Returns
        -------
        self : MATClassifier
        """
        # skorch's DataLoaders draw a seed from torch's global RNG at every pass, even
        # to predict: fork it so that fit leaves the caller's RNG as it was.
        with torch.random.fork_rng(devices=[]):
            return self._fit(X, y, sample_weight, held_out_proba, fit_params)

    def _fit(self, X, y, sample_weight, held_out_proba, fit_params):
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"y must contain at least 2 classes; got 1 class: {self.classes_[0]!r}."
            )
        y_encoded = encoder.transform(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
        rng = check_random_state(self.random_state)
        net_seed = (
            self.random_state
            if isinstance(self.random_state, Integral)
            else int(rng.randint(np.iinfo(np.int32).max))
        )
        make_net = dict(
            n_features=X.shape[1],
            n_classes=n_classes,
            random_state=net_seed,
            verbose=self.verbose >= 2,
        )
        final_net = make_shifted_net(self.estimator, param_name="estimator", **make_net)
        check_net_output(final_net, X, n_classes, param_name="estimator")
        routed = self._route(sample_weight, fit_params)

        if held_out_proba is None:
            proba = self._fit_held_out(
                X, y_encoded, sample_weight, routed, rng, make_net
            )
        else:
            proba = self._check_held_out_proba(held_out_proba, X.shape[0], n_classes)
            self.held_out_estimators_ = []
        self.held_out_proba_ = proba

        start = time.perf_counter()
        shift, self.calibration_matrix_ = logit_shift(
            proba,
            y_encoded,
            temperature=self.temperature,
            shift_strength=self.shift_strength,
            calibrate=self.calibrate,
            sample_weight=sample_weight,
        )
        self.logit_shift_ = shift.astype(np.float32)
        self._log(f"logit shift: {time.perf_counter() - start:.2f}s")

        start = time.perf_counter()
        inputs = net_inputs(
            X,
            logit_shift=self.logit_shift_ if self.shift_strength != 0 else None,
            sample_weight=sample_weight,
        )
        self.estimator_ = final_net.fit(inputs, y_encoded)
        self._log(f"final fit: {time.perf_counter() - start:.2f}s")
        return self

    def _route(self, sample_weight, fit_params):
        """Metadata for the splitter and a scikit-learn held-out estimator."""
        if _routing_enabled():
            return process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
        _raise_for_params(fit_params, self, "fit", allow=["groups"])
        template = self._held_out_template()
        estimator_fit = {}
        if sample_weight is not None and not _is_net(template):
            if "sample_weight" in signature(template.fit).parameters:
                estimator_fit["sample_weight"] = sample_weight
            else:
                warnings.warn(
                    f"held_out_estimator {type(template).__name__} does not accept "
                    "sample_weight; the held-out phase ignores the weights.",
                    UserWarning,
                )
        split = {"groups": fit_params["groups"]} if "groups" in fit_params else {}
        return Bunch(
            splitter=Bunch(split=split), held_out_estimator=Bunch(fit=estimator_fit)
        )

    def _splits(self, X, y_encoded, rng, split_params):
        """The held-out folds, computed once so every fold model sees the same ones."""
        if isinstance(self.cv, Integral):
            cv = StratifiedKFold(
                n_splits=self.cv,
                shuffle=True,
                random_state=rng.randint(np.iinfo(np.int32).max),
            )
        else:
            cv = check_cv(self.cv, y_encoded, classifier=True)
        if isinstance(cv, StratifiedKFold):
            smallest = np.bincount(y_encoded).min()
            if cv.n_splits > smallest:
                raise ValueError(
                    f"cv asks for {cv.n_splits} stratified folds, but the rarest class "
                    f"has only {smallest} members; use cv <= {smallest}."
                )
        splits = list(cv.split(X, y_encoded, **split_params))
        tested = np.concatenate([test for _, test in splits])
        if len(tested) != len(X) or not np.array_equal(
            np.sort(tested), np.arange(len(X))
        ):
            raise ValueError(
                "cv must give test folds that partition the training set (each example "
                f"held out exactly once); {cv!r} does not."
            )
        return splits

    def _fit_held_out(self, X, y_encoded, sample_weight, routed, rng, make_net):
        template = self._held_out_template()
        is_net = _is_net(template)
        splits = self._splits(X, y_encoded, rng, routed.splitter.split)

        if is_net:
            estimator = make_shifted_net(
                template, param_name="held_out_estimator", **make_net
            )
            if self.held_out_estimator is not None:
                check_net_output(
                    estimator, X, make_net["n_classes"], "held_out_estimator"
                )
            inputs = net_inputs(X, sample_weight=sample_weight)
            params = {}
        else:
            estimator, inputs = clone(template), X
            params = routed.held_out_estimator.fit

        start = time.perf_counter()
        folds = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_fold)(
                clone(estimator), inputs, y_encoded, X, train, test, params
            )
            for train, test in splits
        )
        self.held_out_estimators_ = [model for model, _, _ in folds]
        n_classes = make_net["n_classes"]
        proba = np.zeros((len(X), n_classes))
        for fold, ((model, fold_proba, fit_time), (_, test)) in enumerate(
            zip(folds, splits)
        ):
            columns = getattr(model, "classes_", np.arange(n_classes))
            proba[np.ix_(test, columns)] = fold_proba
            self._log(
                f"held-out fold {fold + 1}/{len(splits)}: fit {fit_time:.2f}s "
                f"on {len(X) - len(test)} examples"
            )
        if not np.all(np.isfinite(proba)):
            raise ValueError(
                "The held-out models predicted non-finite probabilities: their training "
                "diverged (try a smaller learning rate)."
            )
        self._log(
            f"held-out phase: {time.perf_counter() - start:.2f}s, {len(splits)} folds"
        )
        return proba

    @staticmethod
    def _check_held_out_proba(held_out_proba, n_samples, n_classes):
        proba = np.asarray(held_out_proba, dtype=np.float64)
        if proba.shape != (n_samples, n_classes):
            raise ValueError(
                f"held_out_proba must have shape (n_samples, n_classes) = "
                f"({n_samples}, {n_classes}); got {proba.shape}."
            )
        if not np.all(np.isfinite(proba)) or np.any(proba < 0):
            raise ValueError("held_out_proba must be finite and non-negative.")
        if not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4):
            raise ValueError("Each row of held_out_proba must sum to 1.")
        return proba

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        with torch.random.fork_rng(devices=[]):
            return net_logits(self.estimator_, X)

    def decision_function(self, X):
        """Logits of the final net (no shift); for two classes, ``logit_1 - logit_0``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        logits = self._logits(X)
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_log_proba(self, X):
        """Log class probabilities of the final net.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return logits_to_log_proba(self._logits(X))

    def predict_proba(self, X):
        """Class probabilities of the final net, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._logits(X), axis=1)

    def predict(self, X):
        """Predicted class labels (values of ``classes_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        ``sample_weight`` is consumed by MATClassifier itself (it weights the loss of
        every net) and routed to a scikit-learn ``held_out_estimator`` that requests
        it; ``groups`` goes to the splitter.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        template = self._held_out_template()
        if not _is_net(template):
            router.add(
                held_out_estimator=template,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        router.add(
            splitter=check_cv(self.cv, classifier=True),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router

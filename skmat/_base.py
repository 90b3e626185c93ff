"""What MATClassifier and the baselines share: a neural-net classifier whose final
net trains with per-example extras (a logit shift, weights, group ids) derived from
held-out predictions of copies of the same net.

Every estimator here runs the same steps in :meth:`HeldOutNetClassifier.fit`:

1. validate the data and encode the labels;
2. when the method needs them, get held-out predictions for every training example
   (k folds, XRM twins, or one in-sample model), batched when the net allows it;
3. turn them into the final net's per-example extras (the subclass's
   ``_training_extras``): MAT a logit shift, JTT weights, Group DRO group ids;
4. train the final net on them (:class:`skmat._net.LogitShiftMixin`: one loss that
   takes the shift, the weights and Group DRO's online group weights), with
   optional early stopping on validation worst-group accuracy.
"""

import time
import warnings
from inspect import signature
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.model_selection import StratifiedKFold, check_cv, train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
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
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNetClassifier

from ._batched import batched_predict_proba, batching_obstacle, fit_batched_folds
from ._early_stopping import VALID_SCORE_KEY, WorstGroupEarlyStopping
from ._net import check_net_output, make_shifted_net, net_inputs, net_logits
from ._shift import logits_to_log_proba
from ._xrm import fit_xrm_twins

#: Name of the early-stopping callback in the final net's callbacks.
_EARLY_STOPPING = "skmat_early_stopping"

_NET_LIKE = [HasMethods(["fit", "predict_proba"]), torch.nn.Module, type]


def _fit_fold(estimator, inputs, y, X, train, test, params):
    """Fit one held-out model on ``train``; return it, its probabilities on ``test``
    and its fit time."""
    start = time.perf_counter()
    estimator.fit(inputs[train], y[train], **_check_method_params(X, params, train))
    fit_time = time.perf_counter() - start
    return estimator, estimator.predict_proba(X[test]), fit_time


def _group_ids(y_encoded, misclassified):
    """Inferred group of each example: ``2 * class_index + misclassified``."""
    return 2 * np.asarray(y_encoded) + np.asarray(misclassified, dtype=int)


#: fold_training='auto' batches the folds on the CPU only for modules up to this many
#: parameters: measured on 2 cores (benchmarks/bench_batched_folds.py), a 2048 -> 2
#: linear head trains 2.6-3.0x faster batched, a 784-256-2 MLP (200k parameters) no
#: faster than one by one (compute-bound). On a GPU it always batches.
AUTO_BATCH_MAX_CPU_PARAMETERS = 50_000


def _auto_batching_obstacle(net):
    """Why fold_training='auto' keeps a batchable net's folds one by one, if so."""
    if torch.device(net.device).type == "cuda":
        return None
    with torch.random.fork_rng(devices=[]):
        module = clone(net).initialize().module_
    n_parameters = sum(p.numel() for p in module.parameters())
    if n_parameters > AUTO_BATCH_MAX_CPU_PARAMETERS:
        return (
            f"on the CPU, batching pays only for small modules (<= "
            f"{AUTO_BATCH_MAX_CPU_PARAMETERS} parameters); this one has {n_parameters}"
        )
    return None


def _is_net(estimator):
    """Whether skmat trains ``estimator`` itself (skorch net or torch module)."""
    return isinstance(estimator, (NeuralNetClassifier, torch.nn.Module, type))


#: Parameter and attribute descriptions shared by the estimators built on
#: HeldOutNetClassifier; ``shared_docstring`` fills them into each class docstring.
SHARED_DOCS = {
    "{estimator}": """\
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
        every fit, so each held-out model and the final model start from its
        weights.""",
    "{held_out_parameters}": """\
    cv : int, cross-validation generator or iterable, default=5
        Folds of the held-out phase; anything :func:`~sklearn.model_selection.check_cv`
        accepts. An int gives stratified, shuffled folds seeded from ``random_state``.
        The test folds must partition the training set.
    held_out_estimator : estimator, torch.nn.Module subclass or instance, default=None
        Used for the held-out phase only; ``None`` means ``estimator``. Any
        scikit-learn classifier with ``predict_proba`` works here (not with
        ``held_out='xrm'``).
    held_out : {"kfold", "xrm"}, default="kfold"
        How the held-out predictions are made. ``"kfold"``: ``cv`` folds, each
        predicted by a net trained on the others. ``"xrm"``: XRM's two twin nets
        (Pezeshki et al., ICML 2024), each trained on a random half with label
        flipping (after every step, an example's working label becomes the other
        twin's prediction with probability ``(p_max - 1/K) K / (K - 1)``), trained
        together as one batched model (the net must allow batching, see
        ``fold_training``); each example's held-out prediction is the twin that did
        not train on it. ``cv`` and ``fold_training`` are then unused, and
        :meth:`infer_groups` on new data uses XRM's rule (either twin wrong).
    fold_training : {"auto", "batched", "sequential"}, default="auto"
        How the fold nets of the held-out phase train. ``"batched"``: all together
        as one stacked model (``torch.func``), which gives the same fold nets as
        training them one by one (up to float rounding) at a fraction of the cost for
        small modules; the net must allow it (no BatchNorm, Dropout or other
        buffers or randomness in the module, an element-wise optimizer such as SGD
        or Adam, no callbacks or ``train_split``, a plain loader and criterion),
        otherwise fit raises an error that says why. ``"sequential"``: one by one
        with skorch, ``n_jobs`` at a time. ``"auto"``: batched when the net allows
        it and it pays (always on a GPU; on the CPU for modules with at most
        ``AUTO_BATCH_MAX_CPU_PARAMETERS`` = 50,000 parameters), else sequential,
        saying why at ``verbose >= 1``. A scikit-learn ``held_out_estimator`` is
        always fitted sequentially.""",
    "{common_parameters}": """\
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training set from the final fit,
        score the final net on it after every epoch by worst-group accuracy, stop when
        the score has not improved for ``n_iter_no_change`` epochs, and keep the
        weights of the best epoch (ties go to the higher average validation
        accuracy, then to the later epoch). The validation groups are the ``groups``
        passed to ``fit`` when there are any, otherwise the inferred groups
        (:meth:`infer_groups`: label and whether the held-out models got the example
        wrong). The held-out phase still uses the whole training set. Where classes
        overlap, the inferred minority is mostly label noise that no model predicts,
        so its accuracy stays near 0 and the average accuracy decides.
    validation_fraction : float, default=0.1
        Fraction of the training set held out for early stopping, in (0, 1); the
        split is stratified by group (by label when a group is too small).
    n_iter_no_change : int or None, default=10
        Epochs without improvement before stopping; ``None`` trains for all the
        net's epochs and keeps the best one.
    n_jobs : int, default=None
        Number of folds trained in parallel (joblib) when they train one by one.
    verbose : int, default=0
        0 silent, 1 one line per phase and fold, >= 2 also the nets' epoch tables.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the torch RNG of every net (inside
        ``torch.random.fork_rng``: the global torch RNG is left as it was). An int is
        used as the nets' torch seed as it is.""",
    "{common_attributes}": """\
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.
    estimator_ : skorch NeuralNetClassifier
        The final net.""",
    "{held_out_attributes}": """\
    held_out_estimators_ : list of estimators
        The fitted fold models, or XRM's two twins (empty when ``held_out_proba``
        was passed to ``fit``).
    held_out_estimators_samples_ : list of ndarray
        The training examples (row indices) each held-out estimator was fitted on,
        in the order of ``held_out_estimators_``.
    held_out_proba_ : ndarray of shape (n_samples, n_classes)
        Held-out class probabilities of the training examples.
    inferred_groups_ : ndarray of shape (n_samples,)
        Group of every training example inferred from its held-out prediction:
        ``2 * class_index + misclassified`` (see :meth:`infer_groups`).""",
    "{early_stopping_attributes}": """\
    validation_indices_ : ndarray
        Training examples held out of the final fit for early stopping (only with
        ``early_stopping=True``).
    validation_scores_ : ndarray of shape (n_epochs,)
        Validation worst-group accuracy after every epoch of the final fit (only
        with ``early_stopping=True``).
    best_epoch_ : int
        Epoch (1-based) whose weights the final net kept (only with
        ``early_stopping=True``).""",
}


def shared_docstring(cls):
    """Class decorator: fill the ``{...}`` markers of SHARED_DOCS into the docstring."""
    doc = cls.__doc__
    for marker, text in SHARED_DOCS.items():
        doc = doc.replace(f"    {marker}", text)
    cls.__doc__ = doc
    return cls


class HeldOutNetClassifier(ClassifierMixin, BaseEstimator):
    """Base class: a net classifier trained on extras made from held-out predictions.

    Subclasses define ``__init__`` (their parameters, plus those of
    ``_parameter_constraints`` here), ``_needs_held_out(groups)`` and
    ``_training_extras(...)``; fit, early stopping, :meth:`infer_groups` and
    prediction are shared. Not meant to be used directly.
    """

    # Like GroupKFold.split, fit requests groups by default: with metadata routing
    # on, groups passed to a meta-estimator reach the estimator without a
    # set_fit_request call.
    __metadata_request__fit = {"groups": True}

    _parameter_constraints: dict = {
        "estimator": _NET_LIKE,
        "cv": ["cv_object"],
        "held_out_estimator": [None, *_NET_LIKE],
        "held_out": [StrOptions({"kfold", "xrm"})],
        "fold_training": [StrOptions({"auto", "batched", "sequential"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _needs_held_out(self, groups):
        """Whether fit runs the held-out phase (given the ``groups`` passed to fit)."""
        return True

    def _training_extras(self, X, y_encoded, sample_weight, groups, held_out_proba):
        """The final net's per-example extras: a dict of :func:`net_inputs` keywords
        (``logit_shift``, ``sample_weight``, ``groups``) and a dict of net parameters.
        ``held_out_proba`` is None when the held-out phase did not run."""
        raise NotImplementedError

    def _after_final_fit(self):
        """Set the attributes that need the fitted final net (subclass hook)."""

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
    def fit(
        self,
        X,
        y,
        *,
        sample_weight=None,
        groups=None,
        held_out_proba=None,
        **fit_params,
    ):
        """Fit the held-out models (when the method needs them), then the final net.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-example weight of the loss of every net (and of the calibration
            matrix); routed to a scikit-learn ``held_out_estimator`` that requests it.
        groups : array-like of shape (n_samples,), default=None
            Group labels (any hashable values). Methods that train on groups use them
            (see the class); with ``early_stopping=True`` they are the validation
            groups; they also go to a ``cv`` splitter that takes groups
            (:class:`~sklearn.model_selection.GroupKFold`). With metadata routing on,
            fit requests them by default.
        held_out_proba : array-like of shape (n_samples, n_classes), default=None
            Precomputed held-out probabilities (columns in the order of
            ``np.unique(y)``), for instance the ``held_out_proba_`` of another
            estimator fitted on the same data; the held-out phase is then skipped.
        **fit_params : dict
            Metadata routed to a scikit-learn ``held_out_estimator`` (metadata
            routing on only).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # skorch's DataLoaders draw a seed from torch's global RNG at every pass, even
        # to predict: fork it so that fit leaves the caller's RNG as it was.
        with torch.random.fork_rng(devices=[]):
            return self._fit(X, y, sample_weight, groups, held_out_proba, fit_params)

    def _fit(self, X, y, sample_weight, groups, held_out_proba, fit_params):
        X, y = validate_data(self, X, y, dtype=np.float32)
        if not X.flags.writeable:
            # e.g. a view of a pandas frame: torch warns on read-only arrays
            X = X.copy()
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
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (X.shape[0],):
                raise ValueError(
                    f"groups must have shape (n_samples,) = ({X.shape[0]},); got "
                    f"{groups.shape}."
                )
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
        routed = self._route(sample_weight, groups, fit_params)

        proba = None
        if held_out_proba is not None:
            proba = self._check_held_out_proba(held_out_proba, X.shape[0], n_classes)
            self.held_out_estimators_ = []
            self.held_out_estimators_samples_ = []
        elif self._needs_held_out(groups):
            proba = self._fit_held_out(
                X, y_encoded, sample_weight, routed, rng, make_net
            )
        if proba is not None:
            self.held_out_proba_ = proba
            self.inferred_groups_ = _group_ids(
                y_encoded, proba.argmax(axis=1) != y_encoded
            )

        start = time.perf_counter()
        extras, net_params = self._training_extras(
            X, y_encoded, sample_weight, groups, proba
        )
        final_net.set_params(**net_params)
        inputs = net_inputs(X, **extras)
        self._log(f"training extras: {time.perf_counter() - start:.2f}s")

        start = time.perf_counter()
        if self.early_stopping:
            train = self._add_early_stopping(
                final_net, X, y_encoded, sample_weight, groups, rng
            )
            self.estimator_ = final_net.fit(inputs[train], y_encoded[train])
            self.validation_scores_ = np.asarray(
                self.estimator_.history[:, VALID_SCORE_KEY]
            )
            self.best_epoch_ = int(
                dict(self.estimator_.callbacks_)[_EARLY_STOPPING].best_epoch_
            )
            self._log(
                f"early stopping: best epoch {self.best_epoch_} of "
                f"{len(self.validation_scores_)}, validation worst-group accuracy "
                f"{self.validation_scores_[self.best_epoch_ - 1]:.3f}"
            )
        else:
            self.estimator_ = final_net.fit(inputs, y_encoded)
        self._after_final_fit()
        self._log(f"final fit: {time.perf_counter() - start:.2f}s")
        return self

    def _add_early_stopping(self, net, X, y_encoded, sample_weight, groups, rng):
        """Split off the validation examples and give ``net`` the callbacks that
        score them; return the indices of the examples the net trains on."""
        if net.callbacks == "disable":
            raise ValueError(
                "early_stopping=True needs the callbacks of estimator; it has "
                "callbacks='disable'."
            )
        source = self.inferred_groups_ if groups is None else groups
        group_ids = np.unique(source, return_inverse=True)[1]
        n_samples = len(X)
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        if n_valid >= n_samples:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no training "
                f"examples out of {n_samples}; use a smaller fraction."
            )
        stratify = None
        for strata in (group_ids, y_encoded):
            counts = np.bincount(strata)
            counts = counts[counts > 0]
            if counts.min() >= 2 and len(counts) <= min(n_valid, n_samples - n_valid):
                stratify = strata
                break
        train, valid = train_test_split(
            np.arange(n_samples),
            test_size=n_valid,
            stratify=stratify,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        self.validation_indices_ = np.sort(valid)
        stopping = WorstGroupEarlyStopping(
            X[valid],
            y_encoded[valid],
            source[valid],
            None if sample_weight is None else sample_weight[valid],
            self.n_iter_no_change,
        )
        net.set_params(callbacks=[*(net.callbacks or []), (_EARLY_STOPPING, stopping)])
        self._log(
            f"early stopping: {len(valid)} validation examples, "
            f"{'given' if groups is not None else 'inferred'} groups"
        )
        return np.sort(train)

    def _route(self, sample_weight, groups, fit_params):
        """Metadata for the splitter and a scikit-learn held-out estimator."""
        if _routing_enabled():
            return process_routing(
                self, "fit", sample_weight=sample_weight, groups=groups, **fit_params
            )
        _raise_for_params(fit_params, self, "fit")
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
        # An int cv is skmat's own StratifiedKFold, which has no use for groups.
        to_splitter = groups is not None and not isinstance(self.cv, Integral)
        split = {"groups": groups} if to_splitter else {}
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

    def _fold_strategy(self, net, X):
        """'batched' or 'sequential' for the fold nets of ``net``, per fold_training."""
        if self.fold_training == "sequential":
            return "sequential"
        reason = batching_obstacle(net, X)
        if reason is None and self.fold_training == "auto":
            reason = _auto_batching_obstacle(net)
        if reason is None:
            return "batched"
        if self.fold_training == "batched":
            raise ValueError(
                f"fold_training='batched' cannot train the folds of this net as one "
                f"batched model: {reason}. Use fold_training='auto' or 'sequential'."
            )
        self._log(f"held-out folds trained one by one: {reason}")
        return "sequential"

    def _fit_held_out(self, X, y_encoded, sample_weight, routed, rng, make_net):
        template = self._held_out_template()
        is_net = _is_net(template)
        if self.held_out == "xrm":
            return self._fit_xrm_twins(
                template, X, y_encoded, sample_weight, rng, make_net
            )
        if self.held_out == "in_sample":
            return self._fit_in_sample(
                template, X, y_encoded, sample_weight, routed, make_net
            )
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
        strategy = self._fold_strategy(estimator, X) if is_net else "sequential"
        if strategy == "batched":
            models = fit_batched_folds(
                estimator, X, y_encoded, splits, sample_weight=sample_weight
            )
            fit_time = (time.perf_counter() - start) / len(splits)
            fold_probas = batched_predict_proba(models, X, [test for _, test in splits])
            folds = [(m, p, fit_time) for m, p in zip(models, fold_probas)]
            self._log("held-out folds trained together as one batched model")
        else:
            folds = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_fold)(
                    clone(estimator), inputs, y_encoded, X, train, test, params
                )
                for train, test in splits
            )
        self.held_out_estimators_ = [model for model, _, _ in folds]
        self.held_out_estimators_samples_ = [np.asarray(train) for train, _ in splits]
        n_classes = make_net["n_classes"]
        proba = np.zeros((len(X), n_classes))
        for fold, ((model, fold_proba, fit_time), (_, test)) in enumerate(
            zip(folds, splits)
        ):
            columns = getattr(model, "classes_", np.arange(n_classes))
            proba[np.ix_(test, columns)] = fold_proba
            self._log(
                f"held-out fold {fold + 1}/{len(splits)}: fit {fit_time:.2f}s"
                f"{' (share of the batched fit)' if strategy == 'batched' else ''} "
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

    def _fit_xrm_twins(self, template, X, y_encoded, sample_weight, rng, make_net):
        if not _is_net(template):
            raise ValueError(
                "held_out='xrm' trains twin nets; held_out_estimator must be a skorch "
                f"net or a torch module, not {type(template).__name__}."
            )
        net = make_shifted_net(template, param_name="held_out_estimator", **make_net)
        start = time.perf_counter()
        twins, halves, proba = fit_xrm_twins(
            net,
            X,
            y_encoded,
            sample_weight=sample_weight,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        self.held_out_estimators_ = twins
        self.held_out_estimators_samples_ = [np.asarray(half) for half in halves]
        flipped = [
            np.mean(t.working_labels_ != y_encoded[h]) for t, h in zip(twins, halves)
        ]
        self._log(
            f"held-out phase (XRM twins): {time.perf_counter() - start:.2f}s, halves of "
            f"{len(halves[0])} and {len(halves[1])} examples, final labels flipped "
            f"{flipped[0]:.1%} / {flipped[1]:.1%}"
        )
        return proba

    def _fit_in_sample(self, template, X, y_encoded, sample_weight, routed, make_net):
        """One model trained on the whole training set predicts it (JTT's rule)."""
        start = time.perf_counter()
        if _is_net(template):
            model = make_shifted_net(
                template, param_name="held_out_estimator", **make_net
            )
            model.fit(net_inputs(X, sample_weight=sample_weight), y_encoded)
        else:
            model = clone(template).fit(X, y_encoded, **routed.held_out_estimator.fit)
        self.held_out_estimators_ = [model]
        self.held_out_estimators_samples_ = [np.arange(len(X))]
        n_classes = make_net["n_classes"]
        proba = np.zeros((len(X), n_classes))
        columns = getattr(model, "classes_", np.arange(n_classes))
        proba[:, columns] = model.predict_proba(X)
        if not np.all(np.isfinite(proba)):
            raise ValueError(
                "The in-sample model predicted non-finite probabilities: its training "
                "diverged (try a smaller learning rate)."
            )
        self._log(f"in-sample model: {time.perf_counter() - start:.2f}s")
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

    def infer_groups(self, X=None, y=None):
        """Groups inferred without annotations, from the held-out models' mistakes.

        The group of an example is the pair (label, whether the held-out models
        misclassify it), as one integer id ``2 * class_index + misclassified``, with
        ``class_index`` its label's position in ``classes_``: for two classes, 0 and
        2 are the examples the held-out models get right (the majority pattern), 1
        and 3 those they get wrong (the minority, METHOD.md step 5).

        * With no arguments: the training examples, from their out-of-fold
          predictions (``held_out_proba_``); the same as ``inferred_groups_``.
        * With ``X`` and ``y`` (new data): every fold model predicts every example,
          and the example counts as misclassified when *any* fold model gets it
          wrong, as XRM does with its twins. Do not pass the training set here:
          each fold model trained on most of it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
        y : array-like of shape (n_samples,), default=None
            True labels, values of ``classes_``.

        Returns
        -------
        groups : ndarray of shape (n_samples,)
            Integer group ids.
        """
        check_is_fitted(self)
        if not hasattr(self, "held_out_estimators_"):
            raise ValueError(
                f"This {type(self).__name__} was fitted with groups and ran no "
                "held-out phase, so it has no inferred groups."
            )
        if X is None and y is None:
            return self.inferred_groups_
        if X is None or y is None:
            raise ValueError(
                "infer_groups takes both X and y (new data) or neither (the training "
                "set)."
            )
        if not self.held_out_estimators_:
            raise ValueError(
                "infer_groups(X, y) needs the held-out models, but this "
                f"{type(self).__name__} was fitted with held_out_proba; only the "
                "training set's groups (infer_groups()) are known."
            )
        X = validate_data(self, X, reset=False, dtype=np.float32)
        y = column_or_1d(y)
        check_consistent_length(X, y)
        known = np.isin(y, self.classes_)
        if not np.all(known):
            raise ValueError(
                f"y contains labels that were not seen in fit: "
                f"{np.unique(y[~known])[:5].tolist()}; classes_ = "
                f"{self.classes_.tolist()}."
            )
        y_encoded = np.searchsorted(self.classes_, y)
        misclassified = np.zeros(len(y_encoded), dtype=bool)
        with torch.random.fork_rng(devices=[]):
            for model in self.held_out_estimators_:
                columns = np.asarray(
                    getattr(model, "classes_", np.arange(len(self.classes_)))
                )
                predicted = columns[np.argmax(model.predict_proba(X), axis=1)]
                misclassified |= predicted != y_encoded
        return _group_ids(y_encoded, misclassified)

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

        ``sample_weight`` is consumed by the estimator itself (it weights the loss of
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

"""What MATClassifier and the baselines share: a neural-net classifier whose final
net trains with per-example extras (a logit shift, weights, group ids) derived from
held-out predictions of copies of the same net.

Every estimator here runs the same steps in :meth:`HeldOutNetClassifier.fit`:

1. validate the data and encode the labels (:mod:`skmat._validation`, on the
   inputs of :mod:`skmat._data`: tables, arrays of any shape, dicts of them,
   Datasets);
2. when the method needs them, get held-out predictions for every training example
   (:mod:`skmat._held_out`: k folds, XRM twins, or one in-sample model, batched when
   the net allows it);
3. turn them into the final net's per-example extras (the subclass's
   ``_training_extras``): MAT a logit shift, JTT weights, Group DRO group ids;
4. train the final net on them (:class:`skmat._net.LogitShiftMixin`: one loss that
   takes the shift, the weights and Group DRO's online group weights), with
   optional early stopping on validation worst-group accuracy.

Helpers compute, ``fit`` assigns: a fit that fails or is interrupted (Ctrl-C) leaves
the estimator as it was before.
"""

import warnings
from abc import ABCMeta, abstractmethod
from inspect import signature
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._compat import (
    HasMethods,
    StrictInterval,
    StrOptions,
    fit_context,
    raise_for_params,
)
from ._data import (
    GROUP_KEY,
    MAPPING,
    SHIFT_KEY,
    TABLE,
    WEIGHT_KEY,
    RowDataset,
)
from ._early_stopping import EARLY_STOPPING, VALID_SCORE_KEY, add_early_stopping
from ._held_out import (
    HeldOutStrategy,
    fit_held_out,
    held_out_epochs,
    misclassified_by_any,
    resolve_held_out,
)
from ._interrupt import raise_if_interrupted, watch_interrupts
from ._net import TrainingDiverged, divergence, net_logits, without_callback
from ._proba import check_proba, degenerate_classes
from ._progress import FitProgress, PhaseClock, with_progress, without_progress
from ._random import draw_seed, forked_torch_rng
from ._selection import choose_for_data
from ._shift import logits_to_log_proba
from ._user_net import is_net, make_shifted_net, probe_estimator, probe_net
from ._validation import check_fit_data, check_input
from .exceptions import DegenerateHeldOutWarning

_NET_LIKE = [HasMethods(["fit", "predict_proba"]), torch.nn.Module, type]


def inferred_group_ids(y_encoded, misclassified):
    """Inferred group of each example: ``2 * class_index + misclassified``."""
    return 2 * np.asarray(y_encoded) + np.asarray(misclassified, dtype=int)


class TrainingExtras(Bunch):
    """What a method gives its final net: per-example ``logit_shift``,
    ``sample_weight`` and ``groups`` (each None when unused), ``net_params`` (set on
    the net) and ``attributes`` (fitted attributes of the estimator)."""

    def __init__(
        self,
        *,
        logit_shift=None,
        sample_weight=None,
        groups=None,
        net_params=None,
        attributes=None,
    ):
        super().__init__(
            logit_shift=logit_shift,
            sample_weight=sample_weight,
            groups=groups,
            net_params=net_params or {},
            attributes=attributes or {},
        )

    def row_extras(self):
        """The extras as :class:`~skmat._data.RowDataset` keys."""
        keys = {"logit_shift": SHIFT_KEY, "sample_weight": WEIGHT_KEY}
        keys["groups"] = GROUP_KEY
        return {key: self[name] for name, key in keys.items() if self[name] is not None}


class HeldOutNetClassifier(ClassifierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class: a net classifier trained on extras made from held-out predictions.

    Subclasses define ``__init__`` (their parameters, plus those of
    ``_parameter_constraints`` here) and ``_training_extras``, and may define
    ``_needs_held_out`` and ``_final_attributes``; fit, early stopping,
    :meth:`infer_groups` and prediction are shared. Not meant to be used directly.
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
        "validation_fraction": [StrictInterval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [StrictInterval(Integral, 1, None, closed="left"), None],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _needs_held_out(self, groups):
        """Whether fit runs the held-out phase (given the ``groups`` passed to fit)."""
        return True

    @abstractmethod
    def _training_extras(self, y_encoded, sample_weight, groups, held_out_proba):
        """The final net's :class:`TrainingExtras`. ``held_out_proba`` is None when
        the held-out phase did not run."""

    def _selection_grid(self):
        """``(name, values)``: a parameter of ``_training_extras`` that fit chooses
        among ``values`` on held-out rows (:meth:`_select`), or None (subclass
        hook)."""
        return None

    def _selection_fraction(self):
        """The share of the training set that :meth:`_select` validates on."""
        raise NotImplementedError

    def _final_attributes(self, estimator):
        """Fitted attributes that need the fitted final net (subclass hook)."""
        return {}

    #: What to try when a net's training diverges (subclasses add their own knob).
    _divergence_remedy = "a smaller learning rate"

    def _divergence_advice(self, message, inputs):
        """``message`` with what to try: the method's remedy, and scaling X when
        its values are large."""
        advice = f"{message} Try {self._divergence_remedy}"
        largest = inputs.largest_magnitude()
        if largest is not None and largest > 1e4:
            advice += (
                f", and scale X: it holds values up to {largest:.3g} in absolute "
                "value (StandardScaler for tables, /255 for images)"
            )
        return advice + "."

    def _held_out_epochs(self):
        """How long held-out nets copied from ``estimator`` train: an int of epochs,
        a float share of its ``max_epochs``, or None for all of them (subclasses with
        a ``held_out_epochs`` parameter return it)."""
        return None

    def _held_out_template(self):
        return (
            self.estimator
            if self.held_out_estimator is None
            else self.held_out_estimator
        )

    def _held_out_kind(self):
        """The held-out strategy that runs (a subclass that offers ``"auto"``
        resolves it)."""
        return self.held_out

    def _folds(self):
        """``cv``, where None means 5 folds."""
        return 5 if self.cv is None else self.cv

    def _log(self, message):
        if self.verbose >= 1:
            print(f"[{type(self).__name__}] {message}", flush=True)

    @fit_context(
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
        X : array-like, tensor, dict of them, or Dataset
            The training inputs, in any form a skorch net takes: a 2-D table
            (array or DataFrame, validated as scikit-learn validates it; floating
            values take the dtype of the module's parameters, float32 unless they
            are float64 or float16), an array or tensor of any other shape per
            example (images, token ids: kept as they are, so give floating values
            the module's dtype), a dict of them (each key a
            keyword argument of the module's ``forward``; ``skorch.helper.SliceDict``
            in cross-validation), or a torch Dataset (``skorch.helper.SliceDataset``,
            or a Dataset of ``(x, y)`` pairs), read per batch.
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
            ``classes_``); the held-out phase is then skipped.
        **fit_params : dict
            With metadata routing on: metadata for the splitter and a scikit-learn
            ``held_out_estimator``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        before = dict(vars(self))
        try:
            # skorch's DataLoaders draw a seed from torch's global RNG at every pass,
            # even to predict: fork it so that fit leaves the caller's RNG as it was.
            with watch_interrupts(), forked_torch_rng():
                fitted = self._fit(
                    X, y, sample_weight, groups, held_out_proba, fit_params
                )
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise
        for name in [
            n for n in vars(self) if n.endswith("_") and not n.startswith("__")
        ]:
            delattr(self, name)  # stale attributes of an earlier fit
        vars(self).update(fitted)
        return self

    def _fit(self, X, y, sample_weight, groups, held_out_proba, fit_params):
        """Compute everything fit assigns; return it as a dict of attributes."""
        clock = PhaseClock()
        progress = FitProgress(type(self).__name__, self.verbose)
        fitted, inputs, y_encoded, classes, sample_weight, groups = check_fit_data(
            self, X, y, sample_weight, groups
        )
        n_samples, n_classes = len(inputs), len(classes)
        rng = check_random_state(self.random_state)
        net_seed = (
            self.random_state
            if isinstance(self.random_state, Integral)
            else draw_seed(rng)
        )
        make_net = dict(
            n_features=inputs.source.shape[1] if inputs.kind == TABLE else None,
            n_classes=n_classes,
            random_state=net_seed,
            verbose=self.verbose >= 2,
        )
        final_net = make_shifted_net(self.estimator, param_name="estimator", **make_net)
        probe, inputs = probe_estimator(final_net, inputs, n_classes)
        fitted["_input_spec_"] = Bunch(
            kind=inputs.kind,
            dtype=inputs.source.dtype if inputs.kind == TABLE else None,
            keys=sorted(inputs.source) if inputs.kind == MAPPING else None,
        )
        routed = self._route(sample_weight, groups, fit_params)
        clock.lap("validation")

        proba, held_out_times = None, None
        if held_out_proba is not None:
            proba = check_proba(held_out_proba, n_samples, n_classes, "held_out_proba")
            fitted.update(
                held_out_estimators_=[],
                held_out_estimators_samples_=[],
                held_out_strategy_=HeldOutStrategy("given"),
            )
        elif self._needs_held_out(groups):
            spec = self._held_out_spec(
                final_net, probe, inputs, y_encoded, routed, rng, make_net
            )
            result = self._held_out_phase(
                progress, spec, inputs, y_encoded, n_classes, sample_weight
            )
            proba, held_out_times = result.proba, result.fit_times
            fitted.update(
                held_out_estimators_=result.estimators,
                held_out_estimators_samples_=result.samples,
                held_out_strategy_=spec.strategy,
            )
            self._log(f"held-out phase ({spec.strategy}): {clock.lap('held_out'):.2f}s")
        clock.lap("held_out")
        if proba is not None:
            self._warn_if_degenerate(proba, y_encoded, classes, held_out_proba)
            fitted.update(
                held_out_proba_=proba,
                inferred_groups_=inferred_group_ids(
                    y_encoded, proba.argmax(axis=1) != y_encoded
                ),
            )

        chosen = {}
        grid = self._selection_grid()
        if grid is not None and proba is not None:
            chosen, attributes = self._select(
                progress, final_net, inputs, y_encoded, sample_weight, proba, grid, rng
            )
            fitted.update(attributes)
            self._log(f"selection: {clock.lap('selection'):.2f}s")
        training = self._training_extras(
            y_encoded, sample_weight, groups, proba, **chosen
        )
        fitted.update(training.attributes)
        final_net.set_params(**training.net_params)
        self._log(f"training extras: {clock.lap('training_extras'):.2f}s")

        rows = None
        if self.early_stopping:
            source = fitted["inferred_groups_"] if groups is None else groups
            rows, valid = add_early_stopping(
                final_net,
                inputs,
                y_encoded,
                sample_weight,
                source,
                validation_fraction=self.validation_fraction,
                n_iter_no_change=self.n_iter_no_change,
                seed=draw_seed(rng),
            )
            self._log(
                f"early stopping: {len(valid)} validation examples, "
                f"{'given' if groups is not None else 'inferred'} groups"
            )
            fitted["validation_indices_"] = valid
        dataset = RowDataset(inputs, y_encoded, training.row_extras(), rows=rows)
        estimator = self._final_fit(
            progress, final_net, dataset, rows, y_encoded, inputs
        )
        if self.early_stopping:
            scores = np.asarray(estimator.history[:, VALID_SCORE_KEY])
            best_epoch = int(dict(estimator.callbacks_)[EARLY_STOPPING].best_epoch_)
            fitted.update(validation_scores_=scores, best_epoch_=best_epoch)
            # The callback has served (and dropped its data): the fitted net goes on
            # as the user's net, e.g. with partial_fit.
            without_callback(estimator, EARLY_STOPPING)
            self._log(
                f"early stopping: best epoch {best_epoch} of {len(scores)}, validation "
                f"worst-group accuracy {scores[best_epoch - 1]:.3f}"
            )
        fitted.update(classes_=classes, estimator_=estimator)
        fitted.update(self._final_attributes(estimator))
        self._log(f"final net: {clock.lap('final'):.2f}s")
        fitted["fit_times_"] = dict(clock.times, held_out_models=held_out_times)
        return fitted

    def _select(
        self, progress, net, inputs, y_encoded, sample_weight, proba, grid, rng
    ):
        """Choose the value of ``grid = (name, values)`` for the data
        (:func:`skmat._selection.choose_for_data`). Return ``{name: chosen}`` and
        the fitted attributes that report the choice."""
        name, values = grid

        def extras(value, rows):
            weights = None if sample_weight is None else sample_weight[rows]
            training = self._training_extras(
                y_encoded[rows], weights, None, proba[rows], **{name: value}
            )
            return training.net_params, training.row_extras()

        def final_fit(candidate, dataset, labels, phase):
            return self._final_fit(
                progress, candidate, dataset, None, labels, inputs, phase
            )

        return choose_for_data(
            name,
            values,
            net,
            inputs,
            y_encoded,
            extras=extras,
            final_fit=final_fit,
            fraction=self._selection_fraction(),
            seed=draw_seed(rng),
            sample_weight=sample_weight,
            log=self._log,
        )

    def _warn_if_degenerate(self, proba, y_encoded, classes, given):
        """Warn (:class:`~skmat.exceptions.DegenerateHeldOutWarning`) when the
        held-out predictions leave some class without both right and wrong
        examples."""
        problem = degenerate_classes(proba.argmax(axis=1), y_encoded, classes)
        if problem is None:
            return
        if given is not None:
            source, advice = "held_out_proba", "Check how they were computed."
        else:
            kind = self._held_out_kind()
            source = f"held_out={self.held_out!r}" + (
                f", {kind}" if self.held_out == "auto" else ""
            )
            other = "kfold" if kind == "xrm" else "xrm"
            knobs = "held_out_estimator"
            if "held_out_epochs" in self.get_params(deep=False):
                knobs = "held_out_epochs, or held_out_estimator"
            advice = (
                "No mistake at all on a class usually means the held-out nets "
                f"memorised it: give them fewer epochs or a smaller net ({knobs}); "
                "a class that is always wrong means they underfit: more epochs or "
                f"a larger lr. Or try held_out={other!r}."
            )
        warnings.warn(
            DegenerateHeldOutWarning(
                f"The held-out predictions ({source}) are degenerate: {problem}. "
                "Each class needs examples they get right and examples they get "
                "wrong for the shift to single out a minority; without, the final "
                f"net trains as with a constant shift in that class. {advice}"
            ),
            stacklevel=5,
        )

    def _held_out_spec(self, final_net, probe, inputs, y, routed, rng, make_net):
        """The estimator's held-out parameters resolved into a
        :class:`~skmat._held_out.HeldOutSpec`: the model to copy (the final net
        with ``held_out_epochs``, or ``held_out_estimator``), probed once."""
        template = self._held_out_template()
        kind, cv = self._held_out_kind(), self._folds()
        if is_net(template) and self.held_out_estimator is None:
            epochs = held_out_epochs(self._held_out_epochs(), final_net.max_epochs)
            model = clone(final_net).set_params(max_epochs=epochs)
        elif is_net(template):
            model = make_shifted_net(
                template, param_name="held_out_estimator", **make_net
            )
            probe = probe_net(
                model, inputs, make_net["n_classes"], "held_out_estimator"
            )
        elif kind == "xrm":
            raise ValueError(
                "held_out='xrm' trains twin nets; held_out_estimator must be a "
                f"skorch net or a torch module, not {type(template).__name__}."
            )
        else:
            model, probe = clone(template), None
        draws = kind == "xrm" or (kind == "kfold" and isinstance(cv, Integral))
        spec = resolve_held_out(
            model,
            inputs,
            y,
            kind=kind,
            cv=cv,
            fold_training=self.fold_training,
            n_jobs=self.n_jobs,
            seed=draw_seed(rng) if draws else None,
            split_params=routed.splitter.split,
            fit_params={} if is_net(template) else routed.held_out_estimator.fit,
            probe=probe,
        )
        if kind == "xrm":
            self._log(f"held-out twins: {spec.strategy}")
        elif kind == "kfold" and spec.engine == "stacked":
            self._log("held-out folds trained together as one batched model")
        elif kind == "kfold" and probe is not None:
            self._log(f"held-out folds trained one by one: {spec.reason}")
        return spec

    def _held_out_phase(self, progress, spec, inputs, y_encoded, n_classes, weights):
        """Run ``spec`` under its ``progress`` bar (a :class:`FitProgress`);
        return its :class:`~skmat._held_out.HeldOutResult`."""
        with progress.phase(
            f"held-out phase ({spec.strategy.label})",
            spec.total_epochs,
            epoch_lines=self._epoch_line if self.verbose >= 2 else None,
        ) as phase:
            try:
                result = fit_held_out(
                    spec, inputs, y_encoded, n_classes, weights, phase=phase
                )
            except TrainingDiverged as exc:
                raise TrainingDiverged(self._divergence_advice(str(exc), inputs))
        for index, (seconds, rows) in enumerate(
            zip(result.fit_times or [], result.samples)
        ):
            self._log(
                f"held-out model {index + 1}/{len(result.samples)}: fit "
                f"{seconds:.2f}s on {len(rows)} examples"
            )
        return result

    def _final_fit(
        self, progress, net, dataset, rows, y_encoded, inputs, phase="final net"
    ):
        """Train the final net on ``dataset`` (its training ``rows``, all when
        None) under a ``progress`` bar named ``phase``; the fitted net, checked for
        divergence."""
        labels = y_encoded if rows is None else y_encoded[rows]
        with progress.phase(phase, net.max_epochs) as bar:
            estimator = with_progress(net, bar).fit(dataset, labels)
        without_progress(estimator)
        raise_if_interrupted()  # skorch ends a fit quietly on Ctrl-C
        problem = divergence(estimator)
        if problem is not None:
            message = f"The training of the {phase} diverged: {problem}."
            raise TrainingDiverged(self._divergence_advice(message, inputs))
        return estimator

    def _epoch_line(self, model, epoch, loss):
        """One row of the epoch table of held-out nets that train together
        (``verbose >= 2``), as skorch prints one for a net trained alone."""
        print(
            f"[{type(self).__name__}] held-out net {model + 1}, epoch {epoch + 1}: "
            f"train_loss {loss:.4f}",
            flush=True,
        )

    def _route(self, sample_weight, groups, fit_params):
        """Metadata for the splitter and a scikit-learn held-out estimator."""
        if get_config()["enable_metadata_routing"]:
            return process_routing(
                self, "fit", sample_weight=sample_weight, groups=groups, **fit_params
            )
        raise_for_params(fit_params, self, "fit")
        template = self._held_out_template()
        estimator_fit = {}
        if sample_weight is not None and not is_net(template):
            if "sample_weight" in signature(template.fit).parameters:
                estimator_fit["sample_weight"] = sample_weight
            else:
                warnings.warn(
                    f"held_out_estimator {type(template).__name__} does not accept "
                    "sample_weight; the held-out phase ignores the weights.",
                    UserWarning,
                )
        # An int cv is skmat's own StratifiedKFold, which has no use for groups.
        to_splitter = groups is not None and not isinstance(self._folds(), Integral)
        split = {"groups": groups} if to_splitter else {}
        return Bunch(
            splitter=Bunch(split=split), held_out_estimator=Bunch(fit=estimator_fit)
        )

    def infer_groups(self, X=None, y=None):
        """Groups inferred without annotations, from the held-out models' mistakes.

        The group of an example is the pair (label, whether the held-out models
        misclassify it), as one integer id ``2 * class_index + misclassified``, with
        ``class_index`` its label's position in ``classes_``: for two classes, 0 and
        2 are the examples the held-out models get right (the majority pattern), 1
        and 3 those they get wrong (the minority; Bayat et al., ICLR 2025, Section 4,
        model selection without group labels).

        * With no arguments: the training examples, from their out-of-fold
          predictions (``held_out_proba_``); the same as ``inferred_groups_``.
        * With ``X`` and ``y`` (new data): every held-out model predicts every
          example, and the example counts as misclassified when *any* of them gets
          it wrong, as XRM does with its twins. Do not pass the training set here:
          each fold model trained on most of it.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset, default=None
            New inputs, in the form ``fit`` took.
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
        inputs = check_input(self, X, reset=False)
        y = column_or_1d(y)
        check_consistent_length(np.empty(len(inputs)), y)
        known = np.isin(y, self.classes_)
        if not np.all(known):
            raise ValueError(
                f"y contains labels that were not seen in fit: "
                f"{np.unique(y[~known])[:5].tolist()}; classes_ = "
                f"{self.classes_.tolist()}."
            )
        y_encoded = np.searchsorted(self.classes_, y)
        misclassified = misclassified_by_any(
            self.held_out_estimators_,
            inputs,
            y_encoded,
            len(self.classes_),
            device=self.estimator_.device,
        )
        return inferred_group_ids(y_encoded, misclassified)

    def _logits(self, X):
        inputs = check_input(self, X, reset=False)
        with forked_torch_rng(self.estimator_.device):
            return net_logits(self.estimator_, inputs)

    def decision_function(self, X):
        """Logits of the final net (no shift); for two classes, ``logit_1 - logit_0``.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

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
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return logits_to_log_proba(self._logits(X))

    def predict_proba(self, X):
        """Class probabilities of the final net, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._logits(X), axis=1)

    def predict(self, X):
        """Predicted class labels (values of ``classes_``).

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

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
        if not is_net(template):
            router.add(
                held_out_estimator=template,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        router.add(
            splitter=check_cv(self._folds(), classifier=True),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router

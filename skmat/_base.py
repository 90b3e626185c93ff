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

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Bunch, check_random_state

from ._batching import choose_engine
from ._compat import (
    HasMethods,
    StrictInterval,
    StrOptions,
    fit_context,
)
from ._early_stopping import add_early_stopping, early_stopping_result
from ._held_out import (
    HeldOutStrategy,
    draws_at_random,
    resolve_held_out,
    run_held_out_phase,
    warn_if_cv_unused,
)
from ._interrupt import raise_if_interrupted, watch_interrupts
from ._net import TrainingDiverged, divergence, divergence_advice
from ._predict import FittedNetMixin, inferred_group_ids
from ._proba import check_proba, held_out_source, warn_if_degenerate
from ._progress import FitProgress, PhaseClock, with_progress, without_progress
from ._random import draw_seed, forked_torch_rng
from ._rows import GROUP_KEY, SHIFT_KEY, WEIGHT_KEY, RowDataset
from ._search import run_search
from ._user_net import (
    criterion_class_weight,
    held_out_model,
    is_net,
    make_shifted_net,
    probe_estimator,
)
from ._validation import check_fit_data, fit_router, input_spec, route_fit_params

_NET_LIKE = [HasMethods(["fit", "predict_proba"]), torch.nn.Module, type]


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
        """The extras as :class:`~skmat._rows.RowDataset` keys."""
        keys = {"logit_shift": SHIFT_KEY, "sample_weight": WEIGHT_KEY}
        keys["groups"] = GROUP_KEY
        return {key: self[name] for name, key in keys.items() if self[name] is not None}


class HeldOutNetClassifier(
    FittedNetMixin, ClassifierMixin, BaseEstimator, metaclass=ABCMeta
):
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

    # Subclass hooks: whether fit runs the held-out phase (given fit's groups); the
    # settings to choose among for the data (a list of parameter dicts, simplest
    # first; None: no choice) and the share of the training set that validates them;
    # fitted attributes that need the final net.
    def _needs_held_out(self, groups):
        return True

    def _candidates(self, y_encoded=None):
        return None

    def _selection_fraction(self):
        raise NotImplementedError

    def _final_attributes(self, estimator):
        return {}

    @abstractmethod
    def _training_extras(self, y_encoded, sample_weight, groups, held_out_proba):
        """The final net's :class:`TrainingExtras`. ``held_out_proba`` is None when
        the held-out phase did not run."""

    #: What to try when a net's training diverges (subclasses add their own knob).
    _divergence_remedy = "a smaller learning rate"

    def _held_out_epochs(self, params=None):
        """How long held-out nets copied from ``estimator`` train under the setting
        ``params`` (over the estimator's own): an int of epochs, a float share of
        its ``max_epochs``, or None for all of them (subclasses with a
        ``held_out_epochs`` parameter return it)."""
        return None

    def _held_out_template(self):
        given = self.held_out_estimator
        return self.estimator if given is None else given

    def _held_out_kind(self, params=None):
        """The held-out strategy that runs under the setting ``params`` (a subclass
        that offers ``"auto"`` resolves it)."""
        return {"held_out": self.held_out, **(params or {})}["held_out"]

    def _phase_key(self, params):
        """What tells the held-out phases of two settings apart: (kind, epochs)."""
        return self._held_out_kind(params), self._held_out_epochs(params)

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
            The training inputs, in any form a skorch net takes (:ref:`inputs`): a
            2-D table (validated as scikit-learn does; a scipy sparse matrix, such
            as OneHotEncoder's output, is made dense; floating values
            take the dtype of the module's parameters), an array or tensor of any
            other shape per example (kept as it is), a dict of them (keyword
            arguments of the module's ``forward``), or a torch Dataset, read per
            batch.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-example weight of the loss of every net (and of the calibration
            matrix); routed to a scikit-learn ``held_out_estimator`` that requests it.
        groups : array-like of shape (n_samples,), default=None
            Group labels (any hashable values), for the methods that train on groups,
            the validation groups of ``early_stopping=True`` and a ``cv`` splitter
            that takes groups (``GroupKFold``); fit requests them by default.
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
        before = dict(vars(self))  # what fit leaves when it fails
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
        stale = [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]
        for name in stale:  # attributes of an earlier fit
            delattr(self, name)
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
        rng, seed = check_random_state(self.random_state), self.random_state
        make_net = dict(
            n_features=inputs.n_features,
            n_classes=n_classes,
            random_state=seed if isinstance(seed, Integral) else draw_seed(rng),
            verbose=self.verbose >= 2,
        )
        final_net = make_shifted_net(self.estimator, param_name="estimator", **make_net)
        probe, inputs = probe_estimator(final_net, inputs, n_classes)
        fitted["_input_spec_"] = input_spec(inputs)
        routed = self._route(sample_weight, groups, fit_params)
        clock.lap("validation")

        candidates = self._candidates(y_encoded)
        settings = candidates or [{}]
        keys = [self._phase_key(params) for params in settings]
        phases, held_out_times, chosen = {}, None, 0
        if held_out_proba is not None:
            given = check_proba(held_out_proba, n_samples, n_classes, "held_out_proba")
            phases = {key: (HeldOutStrategy("given"), given, []) for key in keys}
            fitted.update(held_out_estimators_=[], held_out_estimators_samples_=[])
        elif self._needs_held_out(groups):
            draws = [draws_at_random(kind, self._folds()) for kind, _ in keys]
            seed = draw_seed(rng) if any(draws) else None  # the held-out phases'
            for key in dict.fromkeys(keys):  # each distinct phase once, in order
                spec = self._held_out_spec(
                    final_net, probe, inputs, y_encoded, routed, make_net, key, seed
                )
                result = run_held_out_phase(
                    progress,
                    spec,
                    inputs,
                    y_encoded,
                    n_classes,
                    sample_weight,
                    remedy=self._divergence_remedy,
                    log=self._log,
                )
                phases[key] = (spec.strategy, result.proba, result)
                self._log(
                    f"held-out phase ({spec.strategy}): {clock.lap('held_out'):.2f}s"
                )
        clock.lap("held_out")
        stop_seed = draw_seed(rng) if self.early_stopping else None

        if candidates is not None and phases:
            chosen, attributes = self._search(
                progress,
                final_net,
                probe,
                inputs,
                y_encoded,
                sample_weight,
                candidates,
                [phases[key][1] for key in keys],
                draw_seed(rng),
            )
            fitted.update(attributes)
            self._log(f"selection: {clock.lap('selection'):.2f}s")
        proba = None
        if phases:
            strategy, proba, result = phases[keys[chosen]]
            if strategy.kind != "given":
                held_out_times = result.fit_times
                fitted.update(
                    held_out_estimators_=result.estimators,
                    held_out_estimators_samples_=result.samples,
                )
            kind = keys[chosen][0]
            warn_if_degenerate(
                proba,
                y_encoded,
                classes,
                source=held_out_source(self.held_out, kind, held_out_proba),
                kind=kind,
                has_epochs="held_out_epochs" in self.get_params(deep=False),
                class_weight=criterion_class_weight(self._held_out_template()),
            )
            fitted.update(
                held_out_strategy_=strategy,
                held_out_proba_=proba,
                inferred_groups_=inferred_group_ids(
                    y_encoded, proba.argmax(axis=1) != y_encoded
                ),
            )
        training = self._training_extras(
            y_encoded, sample_weight, groups, proba, **settings[chosen]
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
                seed=stop_seed,
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
            fitted.update(early_stopping_result(estimator, self._log))
        fitted.update(classes_=classes, estimator_=estimator)
        fitted.update(self._final_attributes(estimator))
        self._log(f"final net: {clock.lap('final'):.2f}s")
        fitted["fit_times_"] = dict(clock.times, held_out_models=held_out_times)
        return fitted

    def _search(
        self, progress, net, probe, inputs, y, sample_weight, candidates, probas, seed
    ):
        """Choose among ``candidates`` for the data (:func:`skmat._search.
        run_search`), their nets trained together as ``fold_training`` trains the
        k-fold nets, else one by one as the final net trains. Return the chosen
        position and the attributes that report it."""

        def training_extras(params, rows, proba):
            weights = None if sample_weight is None else sample_weight[rows]
            return self._training_extras(y[rows], weights, None, proba, **params)

        def fit_one(candidate, dataset, labels, phase):
            return self._final_fit(
                progress, candidate, dataset, None, labels, inputs, phase
            )

        return run_search(
            candidates,
            probas,
            net=net,
            inputs=inputs,
            y=y,
            sample_weight=sample_weight,
            seed=seed,
            fraction=self._selection_fraction(),
            engine=choose_engine(net, probe, inputs, self.fold_training),
            training_extras=training_extras,
            fit_one=fit_one,
            progress=progress,
            check_diverged=lambda model, name: self._check_diverged(
                model, name, inputs
            ),
            log=self._log,
        )

    def _held_out_spec(self, final_net, probe, inputs, y, routed, make_net, key, seed):
        """The held-out phase ``key = (kind, epochs)`` (:meth:`_phase_key`) resolved
        into a :class:`~skmat._held_out.HeldOutSpec`: the model to copy (the final
        net with those epochs, or ``held_out_estimator``), probed once."""
        template = self._held_out_template()
        (kind, epochs), cv = key, self._folds()
        if kind == "xrm" and not is_net(template):
            raise ValueError(
                "held_out='xrm' trains twin nets; held_out_estimator must be a "
                f"skorch net or a torch module, not {type(template).__name__}."
            )
        model, probe = held_out_model(
            self.held_out_estimator,
            final_net,
            probe,
            inputs,
            epochs=epochs,
            make_net=make_net,
        )
        warn_if_cv_unused(type(self), self.cv, kind)
        spec = resolve_held_out(
            model,
            inputs,
            y,
            kind=kind,
            cv=cv,
            fold_training=self.fold_training,
            n_jobs=self.n_jobs,
            seed=seed if draws_at_random(kind, cv) else None,
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
        self._check_diverged(estimator, phase, inputs)
        return estimator

    def _check_diverged(self, net, phase, inputs):
        """Raise :class:`~skmat._net.TrainingDiverged` when the fitted ``net`` (of
        ``phase``) is not finite."""
        problem = divergence(net)
        if problem is not None:
            message = f"The training of the {phase} diverged: {problem}."
            raise TrainingDiverged(
                divergence_advice(message, self._divergence_remedy, inputs)
            )

    def _route(self, sample_weight, groups, fit_params):
        """Metadata for the splitter and a scikit-learn held-out estimator."""
        return route_fit_params(
            self,
            self._held_out_template(),
            self._folds(),
            sample_weight=sample_weight,
            groups=groups,
            fit_params=fit_params,
        )

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        ``sample_weight`` is consumed by the estimator itself (it weights the loss of
        every net) and routed to a scikit-learn ``held_out_estimator`` that requests
        it; ``groups`` goes to the splitter.

        Returns
        -------
        routing : MetadataRouter
        """
        return fit_router(self, self._held_out_template(), self._folds())

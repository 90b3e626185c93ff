"""MATClassifier: memorization-aware training as a scikit-learn meta-estimator."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import HeldOutNetClassifier, TrainingExtras
from ._baselines import balanced_group_weights
from ._compat import Interval, RealNotInt, StrictInterval, StrOptions
from ._docstrings import fill_docstring
from ._predict import inferred_group_ids
from ._shift import SHIFT_EPS, logit_shift, tempered_proba
from ._user_net import is_net

#: The share of the net's epochs that the k-fold held-out nets of
#: ``shift_strength="auto"`` train for (when ``held_out_epochs`` is unset): nets
#: that train less follow the shortcut and miss more of the minority, at a quarter
#: of the cost (user guide, "Held-out strategies").
AUTO_FOLD_EPOCHS = 0.25


@fill_docstring(
    cv="""\
    cv : int, cross-validation generator, iterable or None, default=None
        Folds of the k-fold held-out phase; anything
        :func:`~sklearn.model_selection.check_cv` accepts, None meaning 5. An int
        gives stratified, shuffled folds seeded from ``random_state``. The test folds
        must partition the training set, and no fold may train on an example it
        holds out. Setting it selects k-fold under ``held_out="auto"``.""",
)
class MATClassifier(HeldOutNetClassifier):
    """Memorization-aware training (MAT) of a neural-net classifier.

    A network that fits the majority of its training set through a shortcut (a
    spurious feature) can still reach zero training loss by memorizing the
    exceptions, and then fails on the minority groups at test time. MAT first gets
    held-out predictions for every training example (from copies of the net that
    did not train on it: XRM's twin nets by default, or k-fold cross-validation),
    turns them into a calibrated per-example logit shift, and
    trains the final net on ``f(x) + shift_strength * log(p_ho(. | x) + eps)``.
    Where the held-out model is right the shift already favours the label; where it
    is wrong the net must find features that beat the shortcut. Predictions use
    ``f(x)`` alone.

    Parameters
    ----------
    {estimator}
    temperature : float, default=0.1
        Temperature ``tau`` applied to the held-out predictions, ``> 0``.
    shift_strength : float, array-like of floats or "auto", default="auto"
        ``lambda >= 0``: 1 is the paper's method, 0 is plain ERM with the same net.
        A float trains with it, no search. ``"auto"`` (the default) searches for
        the data, without group labels, among training settings, simplest first:
        plain training (``{"shift_strength": 0.0}``), the paper's shift with
        XRM's twins (``{"held_out": "xrm", "shift_strength": 1.0}``), the shift
        with 5 folds trained for a quarter of the net's epochs (``{"held_out":
        "kfold", "held_out_epochs": 0.25, "shift_strength": 1.0}``) and
        reweighting of the groups XRM's twins infer, without shift (``{"held_out":
        "xrm", "shift_strength": 0.0, "reweight_inferred_groups": True}``). With
        ``held_out`` or ``cv`` set, or a scikit-learn ``held_out_estimator``,
        only that strategy's plain training, shift and reweighting are searched
        (k folds at a quarter of the epochs unless ``held_out_epochs`` or
        ``held_out_estimator`` is set); where a class has fewer examples than 5
        folds need, the 5-fold candidate is left out. A list of values searches
        those strengths, with the estimator's own held-out setting.

        The search, in the spirit of the paper's model selection on inferred
        groups (Section 4): every held-out phase the candidates need runs once
        on the whole training set and is shared; a copy of the final net trains
        with each candidate on the training set less a validation share
        (``selection_fraction``); the validation examples are grouped by label
        and by whether plain copies of the net, cross-fitted on the two halves of
        the share, misclassify them; each candidate scores ``(mean + 0.1 *
        worst) / 1.1`` of its accuracies within those groups
        (:class:`~skmat.metrics.CrossFitGroupScorer`), and the best wins (ties:
        the one listed first). The final net then trains on the whole training
        set exactly as if the chosen setting had been given (the candidates
        train for the net's ``max_epochs``, without ``early_stopping``, which
        applies to that last fit). The search costs its held-out phases, a final
        fit per candidate on ``1 - selection_fraction`` of the data and two plain
        fits on half the share; these nets train together as one stacked model
        where ``fold_training`` would stack the k-fold nets (user guide,
        "Choosing the setting").
    selection_fraction : float, default=0.5
        The share of the training set, in ``(0, 1)``, held out to score the
        candidates of a search (``shift_strength="auto"`` or a list), stratified
        by label. The search needs at least 1 training and 2 validation examples
        (the validation share is split in two to group it), and a validation
        example of positive ``sample_weight``; otherwise fit raises a
        ``ValueError``.
    calibrate : bool, default=True
        Map the tempered held-out predictions through the calibration matrix
        ``p(y | y_ho)`` (the paper's Algorithm 1). Without it the method fails: in
        the paper's Figure-1 setup the majority's test accuracy falls below 0.1.
    reweight_inferred_groups : bool, default=False
        Weight the final net's examples so that each group inferred from the
        held-out predictions (label x held-out mistake, ``inferred_groups_``) has
        the same total weight (times ``sample_weight``): XRM's recipe of training
        on its inferred groups (Pezeshki et al., ICML 2024), with reweighting in
        place of Group DRO. With ``shift_strength=0`` it is that baseline alone;
        it is one of the candidates of ``shift_strength="auto"``.
    {cv}
    {held_out_estimator}
    {held_out}
    held_out_epochs : int, float or None, default=None
        How long the held-out nets (XRM's twins or the k-fold nets) train when they
        are copies of ``estimator``: an int is a number of epochs, a float in
        ``(0, 1]`` that share of the net's ``max_epochs`` (rounded, at least 1), and
        None all of them. A ``held_out_estimator`` trains for its own
        ``max_epochs``. The held-out phase costs about the share given. K-fold nets
        that train less learn the shortcut but not yet the minority's exceptions,
        so their mistakes find more of the minority; XRM's twins, held to the
        shortcut by their label flips, change little (user guide, "Held-out
        strategies", where a share below 1 is measured on every benchmark task).
    {fold_training}
    {early_stopping}
    {runtime}

    Attributes
    ----------
    {common_attributes}
        Trained with the shift.
    {held_out_attributes}
    shift_strength_ : float
        The shift strength the final net trained with (the chosen setting's when
        the estimator searched).
    selection_results_ : dict of ndarray
        Only after a search (``shift_strength="auto"`` or a list): one entry per
        candidate setting, as :class:`~sklearn.model_selection.GridSearchCV`'s
        ``cv_results_``: ``"params"`` (the settings, dicts), ``"param_<name>"``
        (a masked array per parameter, masked where a setting leaves it out),
        ``"selection_score"`` (the criterion, ``(mean + 0.1 * worst) / 1.1``),
        ``"mean_group_accuracy"`` and ``"worst_group_accuracy"`` (on the
        validation examples' cross-fitted groups), ``"rank_selection_score"``
        and ``"chosen"`` (bool). ``pandas.DataFrame(selection_results_)`` shows
        it as a table.
    chosen_params_ : dict
        Only after a search: the setting the final net trained with, a copy of
        one of ``selection_results_["params"]``.
    selection_indices_ : ndarray of int
        Only after a search: the training examples that scored the candidates
        (the validation share; the candidates trained on the others).
    selection_scorer_ : CrossFitGroupScorer
        Only after a search: the scorer the candidates were ranked by, with the
        seed of its halves and copies; ``selection_scorer_(estimator, X, y)``
        scores any fitted estimator on ``X, y`` the same way.
    calibration_matrix_ : ndarray of shape (n_classes, n_classes)
        ``C[j, c] = p(y = c | held-out prediction = j)`` from the tempered held-out
        probabilities; rows sum to 1.
    logit_shift_ : ndarray of shape (n_samples, n_classes)
        The shift added to the final net's logits while it trained (a property:
        it follows from ``held_out_proba_``, ``calibration_matrix_`` and the
        parameters).
    {early_stopping_attributes}

    Notes
    -----
    The held-out models (twins or folds) are fitted on halves or folds computed once
    (like :func:`~sklearn.model_selection.cross_val_predict`), as one stacked model
    when the net allows it and it pays, else one by one (``n_jobs`` at a time), and
    kept (see ``fold_training``). The final net trains on a loss that the shift already makes small wherever the
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

    _divergence_remedy = "a smaller learning rate or shift_strength"

    _parameter_constraints: dict = {
        **HeldOutNetClassifier._parameter_constraints,
        "temperature": [StrictInterval(Real, 0, None, closed="neither")],
        "shift_strength": [
            StrictInterval(Real, 0, None, closed="left"),
            StrOptions({"auto"}),
            "array-like",
        ],
        "selection_fraction": [StrictInterval(Real, 0, 1, closed="neither")],
        "calibrate": ["boolean"],
        "reweight_inferred_groups": ["boolean"],
        "cv": ["cv_object", None],
        "held_out": [StrOptions({"auto", "kfold", "xrm"})],
        "held_out_epochs": [
            StrictInterval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
    }

    def __init__(
        self,
        estimator,
        *,
        cv=None,
        temperature=0.1,
        shift_strength="auto",
        selection_fraction=0.5,
        calibrate=True,
        reweight_inferred_groups=False,
        held_out_estimator=None,
        held_out="auto",
        held_out_epochs=None,
        fold_training="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.cv = cv
        self.temperature = temperature
        self.shift_strength = shift_strength
        self.selection_fraction = selection_fraction
        self.calibrate = calibrate
        self.reweight_inferred_groups = reweight_inferred_groups
        self.held_out_estimator = held_out_estimator
        self.held_out = held_out
        self.held_out_epochs = held_out_epochs
        self.fold_training = fold_training
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def _held_out_epochs(self, params=None):
        return {"held_out_epochs": self.held_out_epochs, **(params or {})}[
            "held_out_epochs"
        ]

    def _held_out_kind(self, params=None):
        """``held_out`` under the setting ``params``, where ``"auto"`` means
        ``"kfold"`` when ``cv`` is set or the held-out model is a scikit-learn
        estimator, and ``"xrm"`` otherwise."""
        held_out = {"held_out": self.held_out, **(params or {})}["held_out"]
        if held_out != "auto":
            return held_out
        if self.cv is not None or not is_net(self._held_out_template()):
            return "kfold"
        return "xrm"

    def _candidates(self, y_encoded=None):
        """The settings ``shift_strength`` chooses among (for the encoded labels
        ``y_encoded`` when given), simplest first; None when it is one value."""
        if isinstance(self.shift_strength, str):
            return self._auto_candidates(y_encoded)
        strength = self.shift_strength
        if isinstance(strength, Real):
            return None
        values = np.asarray(strength, dtype=object).ravel()
        try:
            strengths = values.astype(float)
        except (TypeError, ValueError):
            strengths = None
        if (
            strengths is None
            or values.size == 0
            or np.ndim(strength) > 1
            or any(isinstance(v, (bool, np.bool_, str)) for v in values)
            or not np.all(np.isfinite(strengths))
            or np.any(strengths < 0)
        ):
            raise ValueError(
                "shift_strength must be a float >= 0, 'auto', or a non-empty 1-D "
                f"list of floats >= 0 to choose among; got {self.shift_strength!r}."
            )
        if np.ndim(strength) == 0:  # a 0-d array: the float it holds, no search
            return None
        return [{"shift_strength": value} for value in strengths.tolist()]

    def _auto_candidates(self, y_encoded=None):
        """``shift_strength="auto"``: plain training, the paper's shift with each
        held-out strategy the parameters allow (XRM's twins and k folds when
        ``held_out="auto"``, ``cv`` is unset, the held-out model is a net and every
        class of ``y_encoded`` has an example per fold, else XRM's twins alone), and
        reweighting of the inferred groups (XRM's recipe, Pezeshki et al., 2024)."""
        both = (
            self.held_out == "auto"
            and self.cv is None
            and is_net(self._held_out_template())
            and (y_encoded is None or np.bincount(y_encoded).min() >= self._folds())
        )
        kinds = ["xrm", "kfold"] if both else [self._held_out_kind()]
        short_folds = self.held_out_epochs is None and self.held_out_estimator is None

        def setting(kind, **params):
            fixed = {"held_out": kind} if both else {}
            if kind == "kfold" and short_folds:
                fixed["held_out_epochs"] = AUTO_FOLD_EPOCHS
            return {**fixed, **params}

        plain = (
            {"shift_strength": 0.0} if both else setting(kinds[0], shift_strength=0.0)
        )
        return [
            plain,
            *(setting(kind, shift_strength=1.0) for kind in kinds),
            setting(kinds[0], shift_strength=0.0, reweight_inferred_groups=True),
        ]

    def _selection_fraction(self):
        return self.selection_fraction

    def _training_extras(
        self, y_encoded, sample_weight, groups, held_out_proba, **params
    ):
        setting = {
            "shift_strength": self.shift_strength,
            "reweight_inferred_groups": self.reweight_inferred_groups,
            **params,
        }
        shift_strength = setting["shift_strength"]
        if isinstance(shift_strength, np.ndarray):
            shift_strength = shift_strength.item()
        shift, calibration = logit_shift(
            held_out_proba,
            y_encoded,
            temperature=self.temperature,
            shift_strength=shift_strength,
            calibrate=self.calibrate,
            sample_weight=sample_weight,
        )
        largest = np.abs(shift).max()
        if largest > np.finfo(np.float32).max / 2:
            raise ValueError(
                f"shift_strength={shift_strength} makes logit shifts as large "
                f"as {largest:.3g}, beyond float32; use a smaller shift_strength "
                "(the paper's is 1)."
            )
        shift = shift.astype(np.float32)
        weight = sample_weight
        if setting["reweight_inferred_groups"]:
            ids = inferred_group_ids(
                y_encoded, held_out_proba.argmax(axis=1) != y_encoded
            )
            weight = balanced_group_weights(ids, sample_weight)[1]
        return TrainingExtras(
            logit_shift=shift if shift_strength != 0 else None,
            sample_weight=weight,
            attributes=dict(
                calibration_matrix_=calibration,
                shift_strength_=float(shift_strength),
            ),
        )

    @property
    def logit_shift_(self):
        """The shift added to the final net's logits while it trained, recomputed
        from ``held_out_proba_``, ``calibration_matrix_``, ``shift_strength_`` and
        the ``temperature`` and ``calibrate`` parameters (Algorithm 1)."""
        check_is_fitted(self, "calibration_matrix_")
        tempered = tempered_proba(self.held_out_proba_, self.temperature)
        if self.calibrate:
            tempered = tempered @ self.calibration_matrix_
        shift = self.shift_strength_ * np.log(tempered + SHIFT_EPS)
        return shift.astype(np.float32)

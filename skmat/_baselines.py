"""Group-robustness baselines in MATClassifier's API: JTT, Group DRO and group-balanced
reweighting.

Each is a :class:`~skmat._base.HeldOutNetClassifier`: the same fit, held-out phase,
early stopping and prediction as MATClassifier, and the same final-net loss
(:class:`skmat._net.LogitShiftMixin`); only the per-example extras differ. MAT
shifts the logits, JTT and reweighting weight the examples, Group DRO reweights the
groups online.
"""

from numbers import Real

import numpy as np

from ._base import HeldOutNetClassifier, TrainingExtras
from ._compat import StrictInterval, StrOptions
from ._docstrings import fill_docstring
from ._predict import inferred_group_ids


def _combine_weights(weights, sample_weight):
    weights = np.asarray(weights, dtype=np.float32)
    return weights if sample_weight is None else weights * sample_weight


def balanced_group_weights(ids, sample_weight=None):
    """Group-balancing weights: ``n / (n_groups * n_g)`` per group (``n_g``: the
    group's total sample weight; 0 for a group that weighs nothing), and each
    example's weight (those times ``sample_weight``).

    Parameters
    ----------
    ids : ndarray of int
        Each example's group, 0 .. n_groups - 1.
    sample_weight : ndarray, default=None

    Returns
    -------
    group_weights : ndarray of shape (n_groups,)
    example_weights : ndarray of shape (n_samples,), float32
    """
    weight = np.ones(len(ids)) if sample_weight is None else sample_weight
    mass = np.bincount(ids, weights=weight)
    group_weights = np.divide(
        mass.sum(), len(mass) * mass, out=np.zeros_like(mass), where=mass > 0
    )
    return group_weights, _combine_weights(group_weights[ids], sample_weight)


@fill_docstring(
    held_out_estimator="""\
    held_out_estimator : estimator, torch.nn.Module subclass or instance, default=None
        The first model; ``None`` means ``estimator``. Any scikit-learn classifier
        with ``predict_proba`` works here (not with ``held_out='xrm'``).""",
    held_out="""\
    held_out : {"kfold", "xrm", "in_sample"}, default="kfold"
        How the first model's predictions are made: ``"kfold"`` and ``"xrm"`` as in
        :class:`~skmat.MATClassifier` (held-out), ``"in_sample"`` by one model
        trained on the whole training set (JTT as published).""",
)
class JTTClassifier(HeldOutNetClassifier):
    """Just Train Twice (JTT): retrain with the examples a first model gets wrong
    up-weighted.

    JTT (Liu et al., ICML 2021) identifies an *error set*, the training examples
    that a first model misclassifies, and trains the final net with their loss
    weighted by ``upweight``. By default the first model's predictions are held-out
    ones (the k-fold or XRM predictions MATClassifier also uses), so every example
    is judged by a model that did not train on it. The published variant judges
    examples in-sample, by an ERM net trained for a few epochs on the whole training
    set: ``held_out="in_sample"`` with a ``held_out_estimator`` whose ``max_epochs``
    is that budget (a net trained to convergence fits nearly every training
    example, leaving the error set empty and JTT equal to ERM).

    Parameters
    ----------
    {estimator}
    upweight : float, default=20.0
        Loss weight of the error set's examples, ``>= 1`` (the others weigh 1); the
        paper tunes it on validation worst-group accuracy, from about 5 to 100.
    {cv}
    {held_out_estimator}
    {held_out}
    {fold_training}
    {early_stopping}
    {runtime}

    Attributes
    ----------
    {common_attributes}
        Trained with the error set up-weighted.
    {held_out_attributes}
    error_set_ : ndarray of shape (n_samples,), dtype=bool
        The training examples the first model misclassified (up-weighted).
    {early_stopping_attributes}

    See Also
    --------
    MATClassifier : Shifts the logits by the held-out prediction instead.

    References
    ----------
    .. [1] E. Z. Liu, B. Haghgoo, A. S. Chen, A. Raghunathan, P. W. Koh, S. Sagawa,
       P. Liang, C. Finn. "Just Train Twice: Improving Group Robustness without
       Training Group Information", ICML 2021. arXiv:2107.09044.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import make_classification
    >>> from skmat import JTTClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = JTTClassifier(torch.nn.Linear(20, 2), cv=3, random_state=0).fit(X, y)
    >>> clf.error_set_.shape
    (200,)
    """

    _parameter_constraints: dict = {
        **HeldOutNetClassifier._parameter_constraints,
        "upweight": [StrictInterval(Real, 1, None, closed="left")],
        "held_out": [StrOptions({"kfold", "xrm", "in_sample"})],
    }

    def __init__(
        self,
        estimator,
        *,
        upweight=20.0,
        cv=5,
        held_out_estimator=None,
        held_out="kfold",
        fold_training="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.upweight = upweight
        self.cv = cv
        self.held_out_estimator = held_out_estimator
        self.held_out = held_out
        self.fold_training = fold_training
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def _training_extras(self, y_encoded, sample_weight, groups, held_out_proba):
        error_set = held_out_proba.argmax(axis=1) != y_encoded
        weights = np.where(error_set, self.upweight, 1.0)
        self._log(
            f"error set: {error_set.sum()} of {len(y_encoded)} examples, up-weighted "
            f"{self.upweight:g}x"
        )
        return TrainingExtras(
            sample_weight=_combine_weights(weights, sample_weight),
            attributes=dict(error_set_=error_set),
        )


class _GroupMethod(HeldOutNetClassifier):
    """A method that trains on groups: given ones, or inferred when there are none."""

    def _needs_held_out(self, groups):
        return groups is None

    def fit(
        self, X, y, *, sample_weight=None, groups=None, held_out_proba=None, **params
    ):
        """Fit the final net on the given groups, or on groups inferred from
        held-out predictions when there are none.

        Parameters
        ----------
        X, y, sample_weight, groups, **params
            As in :meth:`MATClassifier.fit <skmat.MATClassifier.fit>`.
        held_out_proba : array-like of shape (n_samples, n_classes), default=None
            Precomputed held-out probabilities to infer the groups from; only
            without ``groups``.

        Returns
        -------
        self : object
        """
        if groups is not None and held_out_proba is not None:
            raise ValueError(
                f"{type(self).__name__} trains on the groups passed to fit, so it has "
                "no use for held_out_proba (which infers groups when there are "
                "none); pass one or the other."
            )
        return super().fit(
            X,
            y,
            sample_weight=sample_weight,
            groups=groups,
            held_out_proba=held_out_proba,
            **params,
        )

    @staticmethod
    def _training_groups(y_encoded, groups, held_out_proba):
        """The group labels (sorted), the integer id (0 .. n_groups - 1) of every
        example's group, and the attributes that say which groups they are: the
        given ones, or inferred from the held-out mistakes when there are none."""
        if groups is None:
            groups = inferred_group_ids(
                y_encoded, held_out_proba.argmax(axis=1) != y_encoded
            )
            inferred = True
        else:
            inferred = False
        labels, ids = np.unique(groups, return_inverse=True)
        attributes = dict(groups_=labels, groups_inferred_=inferred)
        return ids.astype(np.int64), attributes


_GROUP_PARAMETERS_DOC = """\
    cv : int, cross-validation generator or iterable, default=5
        Folds of the held-out phase that infers groups when ``fit`` gets none
        (:meth:`infer_groups`); unused when it gets groups. An int gives stratified,
        shuffled folds seeded from ``random_state``.
    held_out_estimator : estimator, torch.nn.Module subclass or instance, default=None
        The held-out models' net or classifier; ``None`` means ``estimator``.
    held_out : {"kfold", "xrm"}, default="kfold"
        How groups are inferred when ``fit`` gets none, as in
        :class:`~skmat.MATClassifier`: ``"xrm"`` gives XRM's twins (the
        XRM + Group DRO recipe of Pezeshki et al., ICML 2024).
    fold_training : {"auto", "batched", "sequential"}, default="auto"
        How the fold nets train, as in :class:`~skmat.MATClassifier`."""

_GROUP_ATTRIBUTES_DOC = """\
    groups_ : ndarray of shape (n_groups,)
        The group labels, sorted; group ``k`` of the loss is ``groups_[k]``.
    groups_inferred_ : bool
        Whether the groups were inferred (``fit`` got no ``groups``).
    held_out_estimators_, held_out_estimators_samples_, held_out_proba_, \
inferred_groups_
        As in :class:`~skmat.MATClassifier`; only when the groups were inferred."""


@fill_docstring(
    group_parameters=_GROUP_PARAMETERS_DOC, group_attributes=_GROUP_ATTRIBUTES_DOC
)
class GroupDROClassifier(_GroupMethod):
    """Group distributionally robust optimisation (Group DRO) of a neural net.

    Group DRO (Sagawa et al., ICLR 2020) minimises the worst group's expected loss
    by online mirror ascent on group weights ``q``: at every training step, the
    weighted mean loss ``L_g`` of each group in the batch raises its weight,
    ``q_g <- q_g exp(eta L_g)`` (then renormalised), and the net descends
    ``sum_g q_g L_g``. It needs the group of every training example: pass
    ``groups`` to ``fit`` (they are requested through metadata routing by default).
    Without them, the groups are inferred from held-out predictions
    (:meth:`infer_groups`: label and whether the held-out models got the example
    wrong), which with ``held_out="xrm"`` is the XRM + Group DRO recipe.

    The paper pairs it with strong L2 regularisation (``optimizer__weight_decay``
    of the net) and early stopping; without them an over-parameterised net fits
    every group and the group weights stop mattering.

    Parameters
    ----------
    {estimator}
    eta : float, default=0.01
        Step size of the group weights, ``> 0`` (the paper's default 0.01).
    {group_parameters}
    {early_stopping}
    {runtime}

    Attributes
    ----------
    {common_attributes}
        Trained with Group DRO's loss.
    {group_attributes}
    group_weights_ : ndarray of shape (n_groups,)
        The final net's group weights ``q`` after its last step (order of
        ``groups_``).
    {early_stopping_attributes}

    See Also
    --------
    GroupBalancedClassifier : Fixed weights that balance the groups.

    References
    ----------
    .. [1] S. Sagawa, P. W. Koh, T. B. Hashimoto, P. Liang. "Distributionally Robust
       Neural Networks for Group Shifts: On the Importance of Regularization for
       Worst-Case Generalization", ICLR 2020. arXiv:1911.08731.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn.datasets import make_classification
    >>> from skmat import GroupDROClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> groups = 2 * y + (X[:, 0] > 0)
    >>> clf = GroupDROClassifier(torch.nn.Linear(20, 2), random_state=0)
    >>> clf.fit(X, y, groups=groups).group_weights_.shape
    (4,)
    """

    _divergence_remedy = "a smaller learning rate or eta"

    _parameter_constraints: dict = {
        **HeldOutNetClassifier._parameter_constraints,
        "eta": [StrictInterval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        estimator,
        *,
        eta=0.01,
        cv=5,
        held_out_estimator=None,
        held_out="kfold",
        fold_training="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.eta = eta
        self.cv = cv
        self.held_out_estimator = held_out_estimator
        self.held_out = held_out
        self.fold_training = fold_training
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def _training_extras(self, y_encoded, sample_weight, groups, held_out_proba):
        ids, attributes = self._training_groups(y_encoded, groups, held_out_proba)
        n_groups = len(attributes["groups_"])
        return TrainingExtras(
            groups=ids,
            sample_weight=sample_weight,
            net_params=dict(group_step_size=self.eta, n_groups=n_groups),
            attributes=attributes,
        )

    def _final_attributes(self, estimator):
        return dict(group_weights_=estimator.group_weights_.cpu().numpy())


@fill_docstring(
    group_parameters=_GROUP_PARAMETERS_DOC, group_attributes=_GROUP_ATTRIBUTES_DOC
)
class GroupBalancedClassifier(_GroupMethod):
    """Group-balanced reweighting: every group weighs the same in the loss.

    Each example's loss is weighted by ``n / (n_groups * n_g)`` (``n_g``: its
    group's size, or total sample weight), the group counterpart of
    ``class_weight="balanced"`` (Idrissi et al., 2022, call it RWG). With true
    groups it is a baseline that is hard to beat; pass ``groups`` to ``fit``
    (requested through metadata routing by default). Without them, the groups are
    inferred from held-out predictions (:meth:`infer_groups`).

    Parameters
    ----------
    {estimator}
    {group_parameters}
    {early_stopping}
    {runtime}

    Attributes
    ----------
    {common_attributes}
        Trained with the balancing weights.
    {group_attributes}
    group_weights_ : ndarray of shape (n_groups,)
        Loss weight of an example of each group (order of ``groups_``).
    {early_stopping_attributes}

    See Also
    --------
    sklearn.utils.class_weight.compute_sample_weight : The same rule for classes.
    GroupDROClassifier : Online group weights that follow the worst group.

    References
    ----------
    .. [1] B. Y. Idrissi, M. Arjovsky, M. Pezeshki, D. Lopez-Paz. "Simple data
       balancing achieves competitive worst-group-accuracy", CLeaR 2022.
       arXiv:2110.14503.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn.datasets import make_classification
    >>> from skmat import GroupBalancedClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> groups = 2 * y + (X[:, 0] > 0)
    >>> clf = GroupBalancedClassifier(torch.nn.Linear(20, 2), random_state=0)
    >>> np.bincount(groups)
    array([55, 45, 57, 43])
    >>> clf.fit(X, y, groups=groups).group_weights_.round(2)
    array([0.91, 1.11, 0.88, 1.16])
    """

    def __init__(
        self,
        estimator,
        *,
        cv=5,
        held_out_estimator=None,
        held_out="kfold",
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
        self.held_out_estimator = held_out_estimator
        self.held_out = held_out
        self.fold_training = fold_training
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def _training_extras(self, y_encoded, sample_weight, groups, held_out_proba):
        ids, attributes = self._training_groups(y_encoded, groups, held_out_proba)
        group_weights, weights = balanced_group_weights(ids, sample_weight)
        return TrainingExtras(
            sample_weight=weights,
            attributes=dict(attributes, group_weights_=group_weights),
        )

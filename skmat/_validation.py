"""Input validation of skmat's estimators, as functions of the estimator (the way
scikit-learn's ``validate_data(estimator, X, ...)`` is): :func:`check_fit_data` for
fit, :func:`check_input` for the inputs of fit and of prediction, the routing of
fit's metadata (:func:`route_fit_params`, :func:`fit_router`), and the checked
folds of a ``cv`` parameter (:func:`make_splits`). Every estimator module and
:mod:`skmat.inspection` call them; none reaches into another's methods.
"""

import warnings
from collections.abc import Mapping
from inspect import signature
from numbers import Integral

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn import get_config
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.helper import SliceDict

from ._compat import check_sample_weight, raise_for_params
from ._data import (
    ArrayInput,
    MappingInput,
    TableInput,
    check_net_input,
    input_kind,
    n_rows,
    take_rows,
)
from ._random import seeded_splitter
from ._user_net import is_net


def take_fit_params(params, rows, n_samples):
    """Fit parameters for the rows ``rows``: those with one entry per example (of
    ``n_samples``) are indexed, the others passed as they are."""
    taken = {}
    for name, value in (params or {}).items():
        try:
            per_row = value is not None and n_rows(value) == n_samples
        except TypeError:
            per_row = False
        taken[name] = take_rows(value, rows) if per_row else value
    return taken


def detached(X):
    """``X`` with its tensors (and a dict's) detached from autograd's graph: skmat
    trains nets on X, never through it."""
    if torch.is_tensor(X):
        return X.detach() if X.requires_grad else X
    if isinstance(X, Mapping) and any(
        torch.is_tensor(value) and value.requires_grad for value in X.values()
    ):
        values = {key: detached(value) for key, value in X.items()}
        return SliceDict(**values) if isinstance(X, SliceDict) else values
    return X


def is_integer_table(X):
    """Whether a 2-D table holds integers or booleans only (token ids, counts);
    pandas' nullable dtypes (``Int64``, ``boolean``) count by their kind."""
    if hasattr(X, "dtypes") and hasattr(X, "columns"):
        return all(getattr(dtype, "kind", "O") in "iub" for dtype in X.dtypes)
    if torch.is_tensor(X):
        return not (X.is_floating_point() or X.is_complex())
    dtype = getattr(X, "dtype", None)
    if dtype is None:
        dtype = np.asarray(X).dtype
    return np.dtype(dtype).kind in "iub"


def non_numeric_columns(X):
    """The columns of a DataFrame that hold neither numbers nor booleans (strings,
    categories, dates), as ``{name: dtype name}``; empty for other inputs."""
    if not (hasattr(X, "dtypes") and hasattr(X, "columns")):
        return {}
    return {
        column: str(dtype)
        for column, dtype in zip(X.columns, X.dtypes)
        if getattr(dtype, "kind", "O") not in "biuf"
    }


def input_spec(inputs):
    """The form of fit's input (:class:`~skmat._data.NetInput`) that prediction
    must match (``_input_spec_``): its kind, a table's dtype, a dict's keys."""
    return Bunch(**inputs.spec())


def check_input(estimator, X, y=None, *, reset):
    """Validate ``X`` (and ``y``) as ``estimator``'s fit (``reset=True``) or, once it
    is fitted, its prediction (``reset=False``) takes them; return a
    :class:`~skmat._data.NetInput` (and y).

    With ``reset=True`` scikit-learn's validation sets ``n_features_in_`` (and
    ``feature_names_in_``) on ``estimator`` for a table; with ``reset=False`` ``X``
    must have the form that fit recorded in ``estimator._input_spec_``.
    """
    X = detached(X)  # the nets train on X, never through it
    kind = input_kind(X)
    if not reset:
        check_is_fitted(estimator)
        spec = estimator._input_spec_
        mapping = MappingInput.kind
        if (kind.kind == mapping) != (spec.kind == mapping):
            expected = (
                f"a dict with the keys {spec['keys']}"
                if spec.kind == mapping
                else "arrays, tensors or a Dataset"
            )
            raise ValueError(
                f"X must be {expected}, as in fit; got {type(X).__name__}."
            )
        if spec.kind == TableInput.kind:
            kind = TableInput  # scikit-learn's validation says what is wrong
        elif kind is TableInput:
            kind = ArrayInput
    if kind is TableInput:
        if reset:
            # float64 stays float64 until the module's dtype is known (fit casts
            # floating tables to it, float32 for most modules)
            dtype = None if is_integer_table(X) else [np.float32, np.float64]
        else:
            dtype = spec.dtype
            if np.dtype(dtype).kind in "iub" and not is_integer_table(X):
                raise ValueError(
                    "X holds non-integer values, but this "
                    f"{type(estimator).__name__} was fitted on integers of dtype "
                    f"{np.dtype(dtype)} (token ids?); pass integers."
                )
        columns = getattr(X, "columns", None)
        if columns is not None and not columns.is_unique:
            raise ValueError(
                "X has duplicate column names: "
                f"{sorted(map(str, columns[columns.duplicated()].unique()))}; give "
                "each column a unique name (e.g. with DataFrame.rename)."
            )
        # sparse tables (OneHotEncoder's output in a Pipeline) are made dense: the
        # nets take dense tensors
        sparse = dict(accept_sparse=["csr", "csc", "coo"]) if issparse(X) else {}
        try:
            if y is None:
                X = validate_data(estimator, X, reset=reset, dtype=dtype, **sparse)
            else:
                X, y = validate_data(
                    estimator, X, y, reset=reset, dtype=dtype, **sparse
                )
        except (ValueError, TypeError) as exc:
            columns = non_numeric_columns(X)
            if not columns:
                raise
            raise ValueError(
                f"X has columns that do not hold numbers: {columns}, and "
                f"they do not convert to numbers ({type(exc).__name__}: {exc}). "
                "Encode them first, e.g. with OrdinalEncoder or OneHotEncoder "
                "in a ColumnTransformer before this estimator in a Pipeline."
            ) from exc
        if issparse(X):
            X = X.toarray()
        if not X.flags.writeable:
            # e.g. a view of a pandas frame: torch warns on read-only arrays
            X = X.copy()
        if not reset and X.dtype != dtype:
            X = X.astype(dtype)
        inputs = TableInput(X)
    else:
        inputs = check_net_input(X, kind)
        if y is not None:
            y = column_or_1d(y, warn=True)
            check_consistent_length(np.empty(len(inputs)), y)
    return inputs if y is None else (inputs, y)


def _is_missing(value):
    """Whether a label is missing: None, NaN, or pandas' NA / NaT."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, (float, np.floating)) and np.isnan(value)


def check_labels(y):
    """Refuse, naming y, the labels that scikit-learn refuses obscurely: missing
    ones (None, NaN, pandas' NA) and an object array that mixes numbers and
    strings (a list of both becomes strings, as in scikit-learn)."""
    try:
        array = np.asarray(y)
    except (TypeError, ValueError):
        return  # scikit-learn's validation says what is wrong
    values = array.ravel()
    if array.dtype.kind == "f":
        missing = np.flatnonzero(np.isnan(values))
    elif array.dtype == object:
        missing = np.flatnonzero([_is_missing(value) for value in values])
    else:
        return
    if len(missing):
        raise ValueError(
            f"y holds {len(missing)} missing labels (None, NaN or pandas' NA), at "
            f"rows {missing[:5].tolist()}{' ...' if len(missing) > 5 else ''}; every "
            "example needs a class: drop those rows or fill their labels in."
        )
    strings = [isinstance(value, (str, bytes)) for value in values]
    if array.dtype == object and any(strings) and not all(strings):
        raise ValueError(
            "y mixes strings with labels of other types (numbers); the classes "
            "must be of one type, all numbers or all strings: convert them, e.g. "
            "np.asarray(y).astype(str)."
        )


def check_fit_data(estimator, X, y, sample_weight, groups):
    """The data of ``estimator``'s fit, checked: ``(fitted, inputs, y_encoded,
    classes, sample_weight, groups)``, ``fitted`` holding the attributes that
    scikit-learn's validation sets (taken off ``estimator``, for fit to assign)."""
    fitted = {}
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is "
            "None."
        )
    check_labels(y)
    inputs, y = check_input(estimator, X, y, reset=True)
    for name in ("n_features_in_", "feature_names_in_"):
        value = vars(estimator).pop(name, None)  # set by validate_data
        if value is not None and inputs.table is not None:
            fitted[name] = value
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    classes = encoder.classes_
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(
            f"y must contain at least 2 classes; got 1 class: {classes[0]!r}."
        )
    y_encoded = encoder.transform(y)
    n_samples = len(inputs)
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, n_samples)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n_samples,):
            raise ValueError(
                f"groups must have shape (n_samples,) = ({n_samples},); got "
                f"{groups.shape}."
            )
        try:
            np.unique(groups)
        except TypeError as exc:
            raise ValueError(
                "The labels in groups must be sortable (all numbers or all "
                f"strings); got values of several types: {exc}"
            ) from exc
    return fitted, inputs, y_encoded, classes, sample_weight, groups


def route_fit_params(estimator, template, folds, *, sample_weight, groups, fit_params):
    """The metadata of ``fit`` for the splitter of ``folds`` and a scikit-learn
    held-out estimator ``template``: routed by scikit-learn when metadata routing is
    on; otherwise ``groups`` to a splitter that takes them and ``sample_weight`` to
    a held-out estimator that accepts it (a warning when it does not), and an error
    for any other parameter."""
    if get_config()["enable_metadata_routing"]:
        return process_routing(
            estimator, "fit", sample_weight=sample_weight, groups=groups, **fit_params
        )
    raise_for_params(fit_params, estimator, "fit")
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
    to_splitter = groups is not None and not isinstance(folds, Integral)
    split = {"groups": groups} if to_splitter else {}
    return Bunch(
        splitter=Bunch(split=split), held_out_estimator=Bunch(fit=estimator_fit)
    )


def fit_router(estimator, template, folds):
    """The :class:`~sklearn.utils.metadata_routing.MetadataRouter` of ``estimator``:
    ``sample_weight`` consumed by itself and routed to a scikit-learn held-out
    estimator ``template``, ``groups`` to the splitter of ``folds``."""
    router = MetadataRouter(owner=estimator).add_self_request(estimator)
    if not is_net(template):
        router.add(
            held_out_estimator=template,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
    router.add(
        splitter=check_cv(folds, classifier=True),
        method_mapping=MethodMapping().add(caller="fit", callee="split"),
    )
    return router


def _too_many_folds(cv, smallest, alternative):
    """What to do when an int ``cv`` asks for more stratified folds than the rarest
    class (of ``smallest`` members) has examples."""
    options = [alternative] if alternative else []
    options.append("give that class more examples")
    if smallest >= 2:
        options.insert(0, f"use cv={smallest} (the most folds that work)")
        problem = f"the rarest class has only {smallest} members"
    else:
        problem = (
            "the rarest class has only 1 member, and k-fold needs at least 2 of "
            "every class (cv is at least 2)"
        )
    advice = (
        options[-1]
        if len(options) == 1
        else (", ".join(options[:-1]) + f" or {options[-1]}")
    )
    return f"cv asks for {cv} stratified folds, but {problem}: {advice}."


def make_splits(
    cv,
    y,
    *,
    n_samples,
    X=None,
    split_params=None,
    seed=None,
    cover=False,
    alternative=None,
):
    """The folds of a held-out phase, computed once so every fold model sees the
    same ones, and checked.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable
        An int gives stratified, shuffled folds seeded with ``seed``.
    y : ndarray of shape (n_samples,)
        Labels (for stratification).
    n_samples : int
    X : array-like, default=None
        Given to the splitter (scikit-learn's splitters only count its rows); None
        gives a placeholder of ``n_samples`` rows.
    split_params : dict, default=None
        Passed to ``split`` (e.g. ``groups``).
    seed : int, default=None
    cover : bool, default=False
        Also require every example to be in some training fold.
    alternative : str, default=None
        What else to try when an int ``cv`` asks for more folds than a class has
        members (e.g. ``held_out='xrm'``), for the error message.

    Returns
    -------
    splits : list of (train, test) int arrays
        The test folds partition the examples; no fold trains on an example it
        holds out.
    """
    if isinstance(cv, Integral):
        smallest = np.bincount(np.unique(y, return_inverse=True)[1]).min()
        if cv > smallest:
            raise ValueError(_too_many_folds(cv, smallest, alternative))
        cv = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    else:
        cv = seeded_splitter(check_cv(cv, y, classifier=True), seed)
    if X is None:
        X = np.empty((n_samples, 0))
    splits = [
        (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
        for train, test in cv.split(X, y, **(split_params or {}))
    ]
    if not splits:
        raise ValueError(
            f"cv gave no folds ({cv!r}); an iterator of splits is used up by its first "
            "fit: pass a list of (train, test) pairs or a splitter such as KFold."
        )
    tested = np.concatenate([test for _, test in splits])
    if len(tested) != n_samples or not np.array_equal(
        np.sort(tested), np.arange(n_samples)
    ):
        raise ValueError(
            "cv must give test folds that partition the training set (each example "
            f"held out exactly once), like KFold; {cv!r} does not."
        )
    for fold, (train, test) in enumerate(splits):
        if len(train) == 0:
            raise ValueError(f"cv gives fold {fold} an empty training set.")
        if len(test) == 0:
            raise ValueError(
                f"cv gives fold {fold} an empty test set: its model would hold out "
                "no example. Every fold must hold out at least one example; drop "
                "that fold or use a splitter such as KFold."
            )
        if np.intersect1d(train, test).size:
            raise ValueError(
                f"cv gives fold {fold} a model trained on examples it holds out; each "
                "fold's training and test examples must be disjoint."
            )
    if cover:
        trained = np.zeros(n_samples, dtype=bool)
        for train, _ in splits:
            trained[train] = True
        if not np.all(trained):
            raise ValueError(
                f"cv leaves {np.sum(~trained)} examples in no training fold; use folds "
                "whose training sets cover the examples (like KFold)."
            )
    return splits

"""The input of a net, whatever its kind, and the rows of it that each net sees.

skorch's ``NeuralNetClassifier.fit(X, y)`` takes arrays and tensors of any shape per
example and any dtype, dicts of them (each key reaches ``module.forward`` as a
keyword argument) and torch Datasets. skmat trains several nets on different rows of
one X and pairs each row with per-example extras (a logit shift, a weight, a group
id). This module is the one place that knows how to take rows of X:

* :func:`check_net_input` validates X and wraps it in a :class:`NetInput`;
* :meth:`NetInput.take` selects rows (lazily: a Dataset is never read whole);
* :meth:`NetInput.rows` reads rows as one batch (a Dataset's items one by one,
  collated as a ``DataLoader`` does);
* :class:`RowDataset` pairs rows with their labels and extras by row index, as a
  torch Dataset that skorch uses as it is, so rows are read per batch and a
  Dataset's random transforms run at every epoch.
"""

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from scipy.sparse import issparse
from skorch.helper import SliceDataset, SliceDict
from torch.utils.data import default_collate

from ._compat import VisibleDeprecationWarning, safe_indexing

#: Key of the input in a batch when X is not a dict (the module gets it positionally).
INPUT_KEY = "X"
#: Keys of the per-example extras that ride along with the input in a batch.
SHIFT_KEY = "skmat_logit_shift"
WEIGHT_KEY = "skmat_sample_weight"
GROUP_KEY = "skmat_group"
ROW_KEY = "skmat_row"
EXTRA_KEYS = frozenset({SHIFT_KEY, WEIGHT_KEY, GROUP_KEY, ROW_KEY})

TABLE = "table"  # 2-D numeric array or DataFrame, validated by scikit-learn
ARRAY = "array"  # numpy array or torch tensor of any other shape
MAPPING = "mapping"  # dict of arrays / tensors (skorch.helper.SliceDict, tokenizers)
DATASET = "dataset"  # skorch.helper.SliceDataset or torch Dataset, read per row


def _n_rows(value):
    if isinstance(value, Mapping):
        lengths = {key: len(v) for key, v in value.items()}
        if not lengths:
            raise ValueError("X is an empty dict; it needs at least one array.")
        if len(set(lengths.values())) != 1:
            raise ValueError(
                "The arrays of the dict X must have one row per example; got "
                f"lengths {lengths}."
            )
        return next(iter(lengths.values()))
    return len(value)


def _index(value, rows):
    if torch.is_tensor(value):
        return value[torch.as_tensor(rows, device=value.device)]
    return value[rows]


def _dataset_item(dataset, i):
    """Example ``i`` of a Dataset, without its label: a SliceDataset gives its own
    element; a torch Dataset's ``(x, y)`` pair gives ``x``."""
    item = dataset[int(i)]
    if not isinstance(dataset, SliceDataset) and isinstance(item, (tuple, list)):
        if len(item) >= 2:
            item = item[0]
    return item


class NetInput:
    """Rows of a net's input ``X``, whatever its kind.

    Parameters
    ----------
    source : ndarray, torch.Tensor, dict of them, or Dataset
        The whole input.
    kind : {"table", "array", "mapping", "dataset"}
    rows : ndarray of int, default=None
        The rows of ``source`` this input holds; ``None`` means all.
    """

    def __init__(self, source, kind, rows=None):
        self.source = source
        self.kind = kind
        self.row_index = None if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self):
        if self.row_index is not None:
            return len(self.row_index)
        if self.kind == DATASET:
            return len(self.source)
        return _n_rows(self.source)

    def source_rows(self, positions):
        positions = np.asarray(positions, dtype=np.int64)
        return positions if self.row_index is None else self.row_index[positions]

    def take(self, positions):
        """The rows at ``positions`` (of this input), without reading them."""
        return NetInput(self.source, self.kind, self.source_rows(positions))

    def rows(self, positions):
        """The rows at ``positions`` read as one batch: an array or tensor, a dict of
        them, or (Dataset) the items collated as a ``DataLoader`` collates them."""
        rows = self.source_rows(positions)
        if self.kind == MAPPING:
            return {key: _index(value, rows) for key, value in self.source.items()}
        if self.kind == DATASET:
            return default_collate([_dataset_item(self.source, i) for i in rows])
        return _index(self.source, rows)

    def row(self, position):
        """One example (for a ``DataLoader`` that fetches rows one by one)."""
        (row,) = self.source_rows([position])
        if self.kind == MAPPING:
            return {key: value[row] for key, value in self.source.items()}
        if self.kind == DATASET:
            return _dataset_item(self.source, row)
        return self.source[row]

    def head(self, n_rows=2):
        """The first ``n_rows`` rows, read as one batch (to probe a module)."""
        return self.rows(np.arange(min(n_rows, len(self))))

    def for_estimator(self):
        """These rows in a form that a scikit-learn estimator or a skorch net takes
        as X: an array or tensor, a ``SliceDict``, or a ``SliceDataset``."""
        if self.kind == DATASET:
            dataset = self.source
            if not isinstance(dataset, SliceDataset):
                dataset = SliceDataset(_ItemDataset(dataset))
            return dataset if self.row_index is None else dataset[self.row_index]
        everything = np.arange(len(self))
        if self.kind == MAPPING:
            return SliceDict(**self.rows(everything))
        return self.source if self.row_index is None else self.rows(everything)

    def largest_magnitude(self):
        """The largest absolute value of a floating table or array (None for other
        inputs: integers, dicts, Datasets)."""
        if self.kind not in (TABLE, ARRAY):
            return None
        source = self.source
        if torch.is_tensor(source):
            if not source.is_floating_point() or source.numel() == 0:
                return None
            return float(source.abs().max())
        if not np.issubdtype(source.dtype, np.floating) or source.size == 0:
            return None
        return float(np.abs(source).max())

    def describe(self):
        """A few words on what the input is, for error messages."""
        if self.kind == MAPPING:
            parts = ", ".join(
                f"{key!r}: {_shape_dtype(value)}" for key, value in self.source.items()
            )
            return f"a dict of {{{parts}}}"
        if self.kind == DATASET:
            return f"a {type(self.source).__name__} of {len(self.source)} examples"
        return f"an {'array' if self.kind == TABLE else 'input'} of " + _shape_dtype(
            self.source
        )


class _ItemDataset(torch.utils.data.Dataset):
    """A torch Dataset's inputs alone (its items' first element)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return _dataset_item(self.dataset, i)


def _shape_dtype(value):
    dtype = str(value.dtype).replace("torch.", "")
    return f"shape {tuple(value.shape)} and dtype {dtype}"


class RowDataset(torch.utils.data.Dataset):
    """Rows of a :class:`NetInput` with their labels and per-example extras, as the
    torch Dataset a skmat net trains and predicts on.

    An item is ``(features, label)``: ``features`` is a dict with the input under
    ``"X"`` (or, for dict input, its own keys) and each extra under its key; the
    shifted net's ``infer`` passes only the input to ``module.forward``. Indexed by
    an int it gives one example (for torch's ``DataLoader``); by an array of
    positions, a whole batch (for :class:`skmat.InMemoryDataLoader`).

    Parameters
    ----------
    inputs : NetInput
    y : ndarray of shape (len(inputs),), default=None
        Encoded labels; read when an item is fetched, so changes to the array show
        in later batches. ``None`` (prediction) gives a placeholder 0.
    extras : dict of str to ndarray of shape (len(inputs), ...), default=None
        Per-example extras, aligned with ``inputs``.
    rows : ndarray of int, default=None
        The positions (of ``inputs``, ``y`` and ``extras``) this dataset holds;
        ``None`` means all.
    """

    def __init__(self, inputs, y=None, extras=None, rows=None):
        self.inputs = inputs
        self.y = y
        self.extras = {key: value for key, value in (extras or {}).items()}
        self.row_index = None if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self):
        return len(self.inputs) if self.row_index is None else len(self.row_index)

    def __getitem__(self, i):
        one = isinstance(i, numbers.Integral)
        where = np.arange(len(self))[i]  # a position, or an array of them
        if self.row_index is not None:
            where = self.row_index[where]
        x = self.inputs.row(where) if one else self.inputs.rows(where)
        features = dict(x) if self.inputs.kind == MAPPING else {INPUT_KEY: x}
        for key, value in self.extras.items():
            features[key] = value[where]
        if self.y is not None:
            return features, self.y[where]
        return features, 0 if one else np.zeros(len(where), dtype=np.int64)


class RowCollate:
    """The ``collate_fn`` of a net's loader (a Dataset's own, e.g. one that pads
    variable-length sequences) for the items of a :class:`RowDataset`: it collates
    the ``(input, label)`` pairs as it would the Dataset's ``(x, y)`` items, and
    the extras are collated beside them. Items of any other dataset go to it as
    they are."""

    def __init__(self, collate_fn):
        self.collate_fn = collate_fn

    def __call__(self, items):
        first = items[0][0] if items and isinstance(items[0], (tuple, list)) else None
        if not (isinstance(first, Mapping) and INPUT_KEY in first):
            return self.collate_fn(items)
        pairs = [(features[INPUT_KEY], label) for features, label in items]
        x, label = self.collate_fn(pairs)
        features = dict(x) if isinstance(x, Mapping) else {INPUT_KEY: x}
        for key in first.keys() - {INPUT_KEY}:
            features[key] = default_collate([each[key] for each, _ in items])
        return features, label


def module_arguments(features):
    """What ``module.forward`` gets from a batch's features: the input alone (the
    extras removed), or the dict of keyword arguments of a dict input."""
    if not isinstance(features, Mapping):
        return features
    arguments = {k: v for k, v in features.items() if k not in EXTRA_KEYS}
    if arguments.keys() == {INPUT_KEY}:
        return arguments[INPUT_KEY]
    return arguments


def _check_finite(value, name):
    if torch.is_tensor(value):
        finite = not value.is_floating_point() or bool(torch.isfinite(value).all())
    else:
        finite = not np.issubdtype(value.dtype, np.inexact) or bool(
            np.isfinite(value).all()
        )
    if not finite:
        raise ValueError(f"{name} contains NaN or infinity.")


def _as_array(value, name):
    if torch.is_tensor(value):
        if value.device.type == "meta":
            raise ValueError(
                f"{name} is a tensor on the meta device, which holds no values; pass "
                "a tensor with data (on the CPU or an accelerator)."
            )
        return value
    try:
        with warnings.catch_warnings():  # numpy < 1.24 only warns on ragged nesting
            warnings.simplefilter("error", VisibleDeprecationWarning)
            array = np.asarray(value)
    except (ValueError, VisibleDeprecationWarning) as exc:  # ragged nesting
        raise ValueError(
            f"{name} must be an array with one row per example; got nested "
            "sequences of different lengths that numpy cannot make into one "
            f"({exc}). Pad them to one length (e.g. the tokenizer's padding)."
        ) from exc
    if array.dtype == object:
        raise TypeError(
            f"{name} must hold numbers; got an array of dtype object (ragged "
            "sequences? pad them to one length, e.g. with the tokenizer's padding)."
        )
    return array


def input_kind(X):
    """The kind of ``X`` (one of the module constants), or raise a TypeError."""
    if isinstance(X, torch.utils.data.IterableDataset):
        raise TypeError(
            f"X is an IterableDataset ({type(X).__name__}), which can only be read "
            "in order; skmat trains each net on its own rows, read by index. Pass a "
            "map-style torch Dataset (with __getitem__ and __len__), arrays, tensors "
            "or a dict of them."
        )
    if isinstance(X, (SliceDataset, torch.utils.data.Dataset)):
        if not hasattr(X, "__len__"):
            raise TypeError(
                f"X is a torch Dataset ({type(X).__name__}) without __len__; skmat "
                "needs the number of examples: define __len__ (or pass arrays, "
                "tensors or a dict of them)."
            )
        return DATASET
    if issparse(X):  # before Mapping: a dok_array is a dict
        return TABLE  # scikit-learn's validation says that sparse input is refused
    if isinstance(X, Mapping):
        return MAPPING
    if torch.is_tensor(X):
        return TABLE if X.ndim == 2 and X.device.type == "cpu" else ARRAY
    if hasattr(X, "iloc"):
        return TABLE  # DataFrames: scikit-learn validates them
    if isinstance(X, (list, tuple)):
        try:
            X = np.asarray(X)
        except ValueError as exc:  # ragged nesting
            raise ValueError(
                f"X is a nested sequence that numpy cannot make into an array: {exc}"
            ) from exc
    if hasattr(X, "__array__"):
        ndim = X.ndim if isinstance(X, np.ndarray) else np.asarray(X).ndim
        return TABLE if ndim == 2 else ARRAY
    raise TypeError(
        "X must be an array, a torch tensor, a dict of them (keyword arguments of "
        "the module's forward), a skorch.helper.SliceDataset or a torch Dataset; "
        f"got {type(X).__name__}, which cannot be indexed by rows."
    )


def check_net_input(X, kind=None):
    """Validate an input that is not a table (tables go through scikit-learn's
    ``validate_data``); return a :class:`NetInput`.

    Arrays keep their dtype (integer token ids stay integers; images must have the
    module's dtype, usually float32) and their shape per example, as skorch takes
    them. A dict's arrays must have one row per example and no key skmat reserves
    for its extras. A Dataset is not read.
    """
    kind = input_kind(X) if kind is None else kind
    if kind == DATASET:
        if len(X) < 1:
            raise ValueError("X is an empty Dataset.")
        return NetInput(X, DATASET)
    if kind == MAPPING:
        reserved = sorted(EXTRA_KEYS.intersection(X))
        if reserved:
            raise ValueError(
                f"X has the keys {reserved}, which skmat reserves for the extras that "
                "ride along with each batch; rename them."
            )
        source = {}
        for key, value in X.items():
            value = _as_array(value, f"X[{key!r}]")
            if value.ndim < 1:
                raise ValueError(f"X[{key!r}] must have one row per example.")
            _check_finite(value, f"X[{key!r}]")
            source[key] = value
        _n_rows(source)
        return NetInput(source, MAPPING)
    value = _as_array(X, "X")
    if value.ndim < 1:
        raise ValueError("X must have one row per example; got a scalar.")
    if value.ndim == 1:
        raise ValueError(
            "Expected 2D array, got 1D array instead: X must have one row per "
            "example (reshape a single feature with X.reshape(-1, 1))."
        )
    _check_finite(value, "X")
    return NetInput(value, kind)


def n_rows(X):
    """Number of examples in any X that skmat takes."""
    kind = input_kind(X)
    if kind == MAPPING:
        return _n_rows(X)
    if hasattr(X, "shape") and not isinstance(X, SliceDataset):
        return X.shape[0]
    return len(X)


def take_rows(X, rows):
    """Rows of any X that skmat takes, in the same form (a dict stays a dict, a
    Dataset becomes a ``SliceDataset`` of the rows); for cross-validation loops."""
    rows = np.asarray(rows)
    kind = input_kind(X)
    if kind == MAPPING:
        rows_of = {key: _index(value, rows) for key, value in X.items()}
        return SliceDict(**rows_of) if isinstance(X, SliceDict) else rows_of
    if kind == DATASET:
        if not isinstance(X, SliceDataset):
            X = SliceDataset(_ItemDataset(X))
        return X[rows]
    if torch.is_tensor(X):
        return _index(X, rows)
    return safe_indexing(X, rows)


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

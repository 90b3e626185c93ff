"""The input of a net, whatever its kind, and the rows of it that each net sees.

skorch's ``NeuralNetClassifier.fit(X, y)`` takes arrays and tensors of any shape per
example and any dtype, dicts of them (each key reaches ``module.forward`` as a
keyword argument) and torch Datasets. skmat trains several nets on different rows of
one X and pairs each row with per-example extras (a logit shift, a weight, a group
id). This module is the one place that knows the kinds of X: each is a subclass of
:class:`NetInput` (:class:`TableInput`, :class:`ArrayInput`, :class:`MappingInput`,
:class:`DatasetInput`) with every operation the phases of a fit need, and
:data:`KINDS` lists them in the order :func:`input_kind` tries them. A new kind of
input is a new subclass here, added to :data:`KINDS`; a net's own ``collate_fn``
(for Datasets of variable-length sequences) meets the rows in :class:`OwnCollate`.
:func:`check_net_input` validates X and wraps it in its kind; the rows that each
net sees are :meth:`NetInput.take` of it (lazily: a Dataset is never read whole).
"""

import copy
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from scipy.sparse import issparse
from skorch.helper import SliceDataset, SliceDict
from torch.utils.data import default_collate

from ._compat import VisibleDeprecationWarning, safe_indexing
from ._rows import EXTRA_KEYS, INPUT_KEY


def _index(value, rows):
    if torch.is_tensor(value):
        return value[torch.as_tensor(rows, device=value.device)]
    return value[rows]


def _shape_dtype(value):
    dtype = str(value.dtype).replace("torch.", "")
    return f"shape {tuple(value.shape)} and dtype {dtype}"


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


class NetInput:
    """Rows of a net's input ``X`` of one kind: the operations every phase needs.

    Subclasses define :meth:`accepts` (whether an X is of the kind), :meth:`check`
    (validate it), :meth:`n_source_rows`, :meth:`read_rows` and :meth:`read_row`;
    the other operations have defaults that subclasses refine.

    Parameters
    ----------
    source : ndarray, torch.Tensor, dict of them, or Dataset
        The whole input.
    rows : ndarray of int, default=None
        The rows of ``source`` this input holds; ``None`` means all.
    """

    #: The kind's name (recorded by fit, for prediction to match).
    kind = None

    def __init__(self, source, rows=None):
        self.source = source
        self.row_index = None if rows is None else np.asarray(rows, dtype=np.int64)

    @classmethod
    def accepts(cls, X):
        """Whether ``X`` is of this kind."""
        raise NotImplementedError

    @classmethod
    def check(cls, X):
        """``X`` validated, as an input of this kind (a ValueError or TypeError
        says what is wrong)."""
        raise NotImplementedError

    @classmethod
    def slice(cls, X, rows):
        """Rows of an unwrapped ``X`` of this kind, in the same form; for
        cross-validation loops over the caller's X."""
        if torch.is_tensor(X):
            return _index(X, rows)
        return safe_indexing(X, rows)

    def n_source_rows(self):
        return len(self.source)

    def __len__(self):
        if self.row_index is not None:
            return len(self.row_index)
        return self.n_source_rows()

    def source_rows(self, positions):
        positions = np.asarray(positions, dtype=np.int64)
        return positions if self.row_index is None else self.row_index[positions]

    def take(self, positions):
        """The rows at ``positions`` (of this input), without reading them."""
        taken = copy.copy(self)
        taken.row_index = self.source_rows(positions)
        return taken

    def read_rows(self, rows):
        """Rows ``rows`` of the source, read as one batch."""
        return _index(self.source, rows)

    def read_row(self, row):
        """Row ``row`` of the source: one example."""
        return self.source[row]

    def rows(self, positions):
        """The rows at ``positions`` read as one batch: an array or tensor, a dict of
        them, or (Dataset) the items collated as a ``DataLoader`` collates them."""
        return self.read_rows(self.source_rows(positions))

    def row(self, position):
        """One example (for a ``DataLoader`` that fetches rows one by one)."""
        (row,) = self.source_rows([position])
        return self.read_row(row)

    def head(self, n_rows=2):
        """The first ``n_rows`` rows, read as one batch (to probe a module)."""
        return self.rows(np.arange(min(n_rows, len(self))))

    def features(self, x):
        """A batch's (or one example's) features: the input under
        :data:`INPUT_KEY`; the extras are added beside it."""
        return {INPUT_KEY: x}

    def input_of(self, features):
        """The input in ``features``: the inverse of :meth:`features`."""
        return features[INPUT_KEY]

    def for_estimator(self):
        """These rows in a form that a scikit-learn estimator or a skorch net takes
        as X: an array or tensor, a ``SliceDict``, or a ``SliceDataset``."""
        if self.row_index is None:
            return self.source
        return self.rows(np.arange(len(self)))

    def tensors(self):
        """The whole source as named tensors (``{None: tensor}`` for one array, a
        dict's own keys), for an engine that gathers rows itself; None when the
        rows must be read one by one (a Dataset)."""
        return {None: torch.as_tensor(self.source)}

    @property
    def table(self):
        """The 2-D array of a table input (what a ``cv`` splitter is given as X, and
        whose columns are the net's features); None for other kinds."""
        return None

    @property
    def n_features(self):
        """The number of a table's columns (None for other kinds)."""
        return None if self.table is None else self.source.shape[1]

    def dtype_candidates(self, module_dtype):
        """The forms of this input to try on a module whose floating parameters
        have ``module_dtype`` (None: none), in order; see :class:`TableInput`."""
        return [self]

    def largest_magnitude(self):
        """The largest absolute value of a floating input (None for others:
        integers, dicts, Datasets)."""
        return None

    def spec(self):
        """What prediction's X must match (``_input_spec_``): the kind, a table's
        dtype, a dict's keys."""
        return dict(kind=self.kind, dtype=None, keys=None)

    def loader_collate(self, collate_fn):
        """The ``collate_fn`` of a loader over a :class:`~skmat._rows.RowDataset`
        of these rows when the net sets its own, ``collate_fn``, for that loader:
        :class:`OwnCollate`, so it gets the pairs skorch would give it."""
        return OwnCollate(collate_fn, self)

    def describe(self):
        """A few words on what the input is, for error messages."""
        return "an input of " + _shape_dtype(self.source)


class ArrayInput(NetInput):
    """A numpy array or torch tensor of any shape per example (images, token ids,
    sequences); not validated by scikit-learn."""

    kind = "array"

    @classmethod
    def accepts(cls, X):
        return torch.is_tensor(X) or hasattr(X, "__array__")

    @classmethod
    def check(cls, X):
        value = _as_array(X, "X")
        if value.ndim < 1:
            raise ValueError("X must have one row per example; got a scalar.")
        if value.ndim == 1:
            raise ValueError(
                "Expected 2D array, got 1D array instead: X must have one row per "
                "example (reshape a single feature with X.reshape(-1, 1))."
            )
        _check_finite(value, "X")
        return cls(value)

    def largest_magnitude(self):
        source = self.source
        if torch.is_tensor(source):
            if not source.is_floating_point() or source.numel() == 0:
                return None
            return float(source.abs().max())
        if not np.issubdtype(source.dtype, np.floating) or source.size == 0:
            return None
        return float(np.abs(source).max())


class TableInput(ArrayInput):
    """A 2-D numeric array, CPU tensor or DataFrame: features in columns, validated
    by scikit-learn (``validate_data``) before it is wrapped."""

    kind = "table"

    @classmethod
    def accepts(cls, X):
        if issparse(X) or hasattr(X, "iloc"):
            return True  # scikit-learn's validation says what it refuses
        if torch.is_tensor(X):
            return X.ndim == 2 and X.device.type == "cpu"
        if not hasattr(X, "__array__"):
            return False
        return (X.ndim if isinstance(X, np.ndarray) else np.asarray(X).ndim) == 2

    @property
    def table(self):
        return self.source if self.row_index is None else self.for_estimator()

    def dtype_candidates(self, module_dtype):
        """A floating table takes the dtype of the module's parameters when they
        are float64 or float16 (as skorch would feed it), else float32; an integer
        table stays integer when the module takes it (token ids), else becomes
        floating the same way (a linear layer on integer features)."""
        floating = TABLE_DTYPES.get(module_dtype, np.float32)
        as_floating = self
        if self.source.dtype != floating:
            as_floating = type(self)(self.source.astype(floating), self.row_index)
        source = self.source
        integer = (
            source.dtype.kind in "iub"
            if hasattr(source.dtype, "kind")
            else not (source.is_floating_point() or source.is_complex())
        )
        return [self, as_floating] if integer else [as_floating]

    def spec(self):
        return dict(kind=self.kind, dtype=self.source.dtype, keys=None)

    def describe(self):
        return "an array of " + _shape_dtype(self.source)


#: The numpy dtype a floating table takes for a module whose parameters have the
#: torch dtype (float32 for every other module).
TABLE_DTYPES = {
    torch.float64: np.float64,
    torch.float32: np.float32,
    torch.float16: np.float16,
}


class MappingInput(NetInput):
    """A dict of arrays or tensors with one row per example (a tokenizer's output,
    ``skorch.helper.SliceDict``): each key reaches ``module.forward`` as a keyword
    argument."""

    kind = "mapping"

    @classmethod
    def accepts(cls, X):
        return isinstance(X, Mapping) and not issparse(X)  # a dok_array is a dict

    @classmethod
    def check(cls, X):
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
        _n_mapping_rows(source)
        return cls(source)

    @classmethod
    def slice(cls, X, rows):
        rows_of = {key: _index(value, rows) for key, value in X.items()}
        return SliceDict(**rows_of) if isinstance(X, SliceDict) else rows_of

    def n_source_rows(self):
        return _n_mapping_rows(self.source)

    def read_rows(self, rows):
        return {key: _index(value, rows) for key, value in self.source.items()}

    def read_row(self, row):
        return {key: value[row] for key, value in self.source.items()}

    def features(self, x):
        return dict(x)

    def input_of(self, features):
        return {k: v for k, v in features.items() if k not in EXTRA_KEYS}

    def for_estimator(self):
        return SliceDict(**self.rows(np.arange(len(self))))

    def tensors(self):
        return {key: torch.as_tensor(value) for key, value in self.source.items()}

    def spec(self):
        return dict(kind=self.kind, dtype=None, keys=sorted(self.source))

    def describe(self):
        parts = ", ".join(
            f"{key!r}: {_shape_dtype(value)}" for key, value in self.source.items()
        )
        return f"a dict of {{{parts}}}"


def _n_mapping_rows(value):
    lengths = {key: len(v) for key, v in value.items()}
    if not lengths:
        raise ValueError("X is an empty dict; it needs at least one array.")
    if len(set(lengths.values())) != 1:
        raise ValueError(
            "The arrays of the dict X must have one row per example; got "
            f"lengths {lengths}."
        )
    return next(iter(lengths.values()))


def _dataset_item(dataset, i):
    """Example ``i`` of a Dataset, without its label: a SliceDataset gives its own
    element; a torch Dataset's ``(x, y)`` pair gives ``x``."""
    item = dataset[int(i)]
    if not isinstance(dataset, SliceDataset) and isinstance(item, (tuple, list)):
        if len(item) >= 2:
            item = item[0]
    return item


class _ItemDataset(torch.utils.data.Dataset):
    """A torch Dataset's inputs alone, as one-element items: the
    ``SliceDataset`` around it (``idx=0``) gives each example's input whole."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return (_dataset_item(self.dataset, i),)


class DatasetInput(NetInput):
    """A map-style torch Dataset (items ``x`` or ``(x, y)``) or a
    ``skorch.helper.SliceDataset``: read item by item, never whole, so its
    transforms run at every epoch."""

    kind = "dataset"

    @classmethod
    def accepts(cls, X):
        if isinstance(X, torch.utils.data.IterableDataset):
            raise TypeError(
                f"X is an IterableDataset ({type(X).__name__}), which can only be "
                "read in order; skmat trains each net on its own rows, read by index. "
                "Pass a map-style torch Dataset (with __getitem__ and __len__), "
                "arrays, tensors or a dict of them."
            )
        if not isinstance(X, (SliceDataset, torch.utils.data.Dataset)):
            return False
        if not hasattr(X, "__len__"):
            raise TypeError(
                f"X is a torch Dataset ({type(X).__name__}) without __len__; skmat "
                "needs the number of examples: define __len__ (or pass arrays, "
                "tensors or a dict of them)."
            )
        return True

    @classmethod
    def check(cls, X):
        if len(X) < 1:
            raise ValueError("X is an empty Dataset.")
        return cls(X)

    @classmethod
    def slice(cls, X, rows):
        return cls(X, rows).for_estimator()

    def read_rows(self, rows):
        return default_collate([_dataset_item(self.source, i) for i in rows])

    def read_row(self, row):
        return _dataset_item(self.source, row)

    def for_estimator(self):
        dataset = self.source
        if not isinstance(dataset, SliceDataset):
            dataset = SliceDataset(_ItemDataset(dataset))
        return dataset if self.row_index is None else dataset[self.row_index]

    def tensors(self):
        return None

    def describe(self):
        return f"a {type(self.source).__name__} of {len(self.source)} examples"


class OwnCollate:
    """A net's own ``collate_fn`` (one that pads variable-length sequences, say)
    over skmat's rows: it collates each row's ``(input, label)`` pair, as skorch
    would hand it a Dataset's ``(x, y)`` items or the rows of arrays, and the
    extras beside them. A whole batch (``skmat.InMemoryDataLoader``) goes to it as
    it is."""

    def __init__(self, collate_fn, inputs):
        self.collate_fn = collate_fn
        self.inputs = inputs

    def __call__(self, items):
        first = items[0][0] if isinstance(items, list) and items else None
        if not isinstance(first, Mapping):
            return self.collate_fn(items)
        pairs = [(self.inputs.input_of(each), label) for each, label in items]
        x, label = self.collate_fn(pairs)
        batch = self.inputs.features(x)
        for key in first.keys() & EXTRA_KEYS:
            batch[key] = default_collate([features[key] for features, _ in items])
        return batch, label


#: The kinds of input, in the order :func:`input_kind` tries them.
KINDS = (DatasetInput, MappingInput, TableInput, ArrayInput)


def input_kind(X):
    """The kind of ``X``: the first class of :data:`KINDS` that accepts it (a
    TypeError when none does)."""
    if isinstance(X, (list, tuple)):
        try:
            X = np.asarray(X)
        except ValueError as exc:  # ragged nesting
            raise ValueError(
                f"X is a nested sequence that numpy cannot make into an array: {exc}"
            ) from exc
    for kind in KINDS:
        if kind.accepts(X):
            return kind
    raise TypeError(
        "X must be an array, a torch tensor, a dict of them (keyword arguments of "
        "the module's forward), a skorch.helper.SliceDataset or a torch Dataset; "
        f"got {type(X).__name__}, which cannot be indexed by rows."
    )


def check_net_input(X, kind=None):
    """Validate ``X`` as an input of ``kind`` (by default, its own:
    :func:`input_kind`); return it wrapped in that kind.

    Tables are validated by scikit-learn (``validate_data``) before they get here;
    as every array, they keep their dtype (integer token ids stay integers; images
    must have the module's dtype, usually float32) and their shape per example, as
    skorch takes them. A dict's arrays must have one row per example and no key
    skmat reserves for its extras. A Dataset is not read.
    """
    return (input_kind(X) if kind is None else kind).check(X)


def n_rows(X):
    """Number of examples in any X that skmat takes."""
    kind = input_kind(X)
    if kind is MappingInput:
        return _n_mapping_rows(X)
    if hasattr(X, "shape") and not isinstance(X, SliceDataset):
        return X.shape[0]
    return len(X)


def take_rows(X, rows):
    """Rows of any X that skmat takes, in the same form (a dict stays a dict, a
    Dataset becomes a ``SliceDataset`` of the rows); for cross-validation loops."""
    return input_kind(X).slice(X, np.asarray(rows))


def table_of(X):
    """``X`` itself when it is a table, else None: what a ``cv`` splitter gets as X."""
    return X if input_kind(X) is TableInput else None

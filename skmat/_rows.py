"""The rows a skmat net trains and predicts on: rows of its input (a
:class:`skmat._data.NetInput`, of any kind) with their labels and the per-example
extras that ride along in each batch (a logit shift, a weight, a group id, a row
number), under the keys this module names.
"""

import numbers
from collections.abc import Mapping

import numpy as np
import torch

#: Key of the input in a batch when X is not a dict (the module gets it positionally).
INPUT_KEY = "X"
#: Keys of the per-example extras that ride along with the input in a batch.
SHIFT_KEY = "skmat_logit_shift"
WEIGHT_KEY = "skmat_sample_weight"
GROUP_KEY = "skmat_group"
ROW_KEY = "skmat_row"
EXTRA_KEYS = frozenset({SHIFT_KEY, WEIGHT_KEY, GROUP_KEY, ROW_KEY})


class RowDataset(torch.utils.data.Dataset):
    """Rows of a :class:`~skmat._data.NetInput` with their labels and per-example
    extras, as the torch Dataset a skmat net trains and predicts on.

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
        features = self.inputs.features(
            self.inputs.row(where) if one else self.inputs.rows(where)
        )
        for key, value in self.extras.items():
            features[key] = value[where]
        if self.y is not None:
            return features, self.y[where]
        return features, 0 if one else np.zeros(len(where), dtype=np.int64)

    def collate(self, collate_fn):
        """The ``collate_fn`` of a loader over this dataset, given the net's own
        for that loader: its input kind's :meth:`~skmat._data.NetInput.loader_collate`."""
        return self.inputs.loader_collate(collate_fn)


def module_arguments(features):
    """What ``module.forward`` gets from a batch's features: the input alone (the
    extras removed), or the dict of keyword arguments of a dict input."""
    if not isinstance(features, Mapping):
        return features
    arguments = {k: v for k, v in features.items() if k not in EXTRA_KEYS}
    if arguments.keys() == {INPUT_KEY}:
        return arguments[INPUT_KEY]
    return arguments

"""The kinds of input (skmat/_data.py): each kind's operations, on its own."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from skorch.helper import SliceDataset, SliceDict

from skmat._data import (
    KINDS,
    ArrayInput,
    DatasetInput,
    MappingInput,
    NetInput,
    TableInput,
    check_net_input,
    input_kind,
    n_rows,
    table_of,
    take_rows,
)
from skmat._rows import INPUT_KEY, WEIGHT_KEY, RowDataset

rng = np.random.RandomState(0)
TABLE = rng.randn(6, 3).astype(np.float32)
IMAGES = rng.randn(6, 1, 4, 4).astype(np.float32)
TOKENS = {"ids": rng.randint(0, 9, (6, 5)), "mask": np.ones((6, 5), dtype=np.int64)}


class Pairs(torch.utils.data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return torch.as_tensor(IMAGES[i]), i % 2


class Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter(range(3))


def _rows_of(value):
    if isinstance(value, dict):
        return {key: np.asarray(v) for key, v in value.items()}
    return np.asarray(value)


def _assert_rows_equal(got, expected):
    got, expected = _rows_of(got), _rows_of(expected)
    if isinstance(expected, dict):
        assert got.keys() == expected.keys()
        for key in expected:
            assert_array_equal(got[key], expected[key])
    else:
        assert_array_equal(got, expected)


EXAMPLES = {
    "table": (TABLE, TableInput, TABLE[[4, 1]]),
    "tensor table": (torch.as_tensor(TABLE), TableInput, TABLE[[4, 1]]),
    "images": (IMAGES, ArrayInput, IMAGES[[4, 1]]),
    "dict": (TOKENS, MappingInput, {k: v[[4, 1]] for k, v in TOKENS.items()}),
    "dataset": (Pairs(), DatasetInput, IMAGES[[4, 1]]),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_kind_reads_the_rows_it_was_asked_for(name):
    X, kind, expected = EXAMPLES[name]
    assert input_kind(X) is kind
    inputs = check_net_input(X)
    assert type(inputs) is kind and inputs.kind == kind.kind
    assert len(inputs) == n_rows(X) == 6
    taken = inputs.take([0, 4, 1]).take([1, 2])  # positions of the taken rows
    assert len(taken) == 2 and len(inputs) == 6  # take does not change the input
    _assert_rows_equal(taken.rows([0, 1]), expected)
    _assert_rows_equal(
        taken.row(1),
        _rows_of(expected)[1]
        if name != "dict"
        else {key: value[1] for key, value in expected.items()},
    )
    _assert_rows_equal(taken.head(5), expected)
    for_estimator = taken.for_estimator()
    assert n_rows(for_estimator) == 2
    _assert_rows_equal(check_net_input(for_estimator).rows([0, 1]), expected)
    _assert_rows_equal(check_net_input(take_rows(X, [4, 1])).rows([0, 1]), expected)


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_row_dataset_puts_each_kind_and_its_extras_in_a_batch(name):
    X, kind, expected = EXAMPLES[name]
    inputs = check_net_input(X)
    weight = np.arange(6.0)
    dataset = RowDataset(inputs, np.arange(6), {WEIGHT_KEY: weight}, rows=[4, 1])
    features, labels = dataset[np.arange(2)]
    assert_array_equal(labels, [4, 1])
    assert_array_equal(features.pop(WEIGHT_KEY), [4.0, 1.0])
    _assert_rows_equal(
        features if kind is MappingInput else features[INPUT_KEY], expected
    )
    one, label = dataset[1]
    assert label == 1 and one[WEIGHT_KEY] == 1.0


def test_what_the_phases_ask_of_each_kind():
    table, images = check_net_input(TABLE), check_net_input(IMAGES)
    tokens, dataset = check_net_input(TOKENS), check_net_input(Pairs())
    # a cv splitter sees a table, and a table's columns are the net's features
    assert table.table is TABLE and table.n_features == 3
    assert table_of(TABLE) is TABLE and table_of(IMAGES) is None
    for other in (images, tokens, dataset):
        assert other.table is None and other.n_features is None
    # what prediction must match
    assert table.spec() == dict(kind="table", dtype=np.float32, keys=None)
    assert tokens.spec() == dict(kind="mapping", dtype=None, keys=["ids", "mask"])
    assert dataset.spec()["kind"] == "dataset"
    # the tensors an engine gathers rows from itself; a Dataset is read by rows
    assert set(tokens.tensors()) == {"ids", "mask"} and dataset.tensors() is None
    assert images.tensors()[None].shape == (6, 1, 4, 4)
    # the largest magnitude of floating input (to warn of unscaled features)
    assert table.largest_magnitude() == pytest.approx(np.abs(TABLE).max())
    assert tokens.largest_magnitude() is None and dataset.largest_magnitude() is None
    # an integer table is tried as it is (token ids) before as floats
    integers = check_net_input(TOKENS["ids"])
    tried = integers.dtype_candidates(torch.float64)
    assert [t.source.dtype for t in tried] == [np.int64, np.float64]
    assert [t.source.dtype for t in table.dtype_candidates(None)] == [np.float32]
    # the net's own collate_fn for a loader over the rows
    assert isinstance(dataset.for_estimator(), SliceDataset)
    assert isinstance(tokens.for_estimator(), SliceDict)
    assert "dict of {'ids': shape (6, 5)" in tokens.describe()
    assert dataset.describe() == "a Pairs of 6 examples"


def test_the_kinds_are_tried_in_order_and_refuse_what_they_cannot_read():
    assert KINDS[0] is DatasetInput and all(issubclass(k, NetInput) for k in KINDS)
    with pytest.raises(TypeError, match="IterableDataset .*read by index"):
        input_kind(Stream())
    with pytest.raises(TypeError, match="cannot be indexed by rows"):
        input_kind(object())
    with pytest.raises(ValueError, match="reserves"):
        check_net_input({WEIGHT_KEY: TABLE})
    with pytest.raises(ValueError, match="one row per example; got lengths"):
        check_net_input({"a": TABLE, "b": TABLE[:2]})
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_net_input(np.full((2, 2, 2), np.nan))
    with pytest.raises(ValueError, match="reshape a single feature"):
        check_net_input(np.zeros(3), ArrayInput)


def _pad(pairs):
    sequences, labels = zip(*pairs)
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True)
    return padded, torch.as_tensor(labels)


class Sequences(torch.utils.data.Dataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return torch.arange(1, i + 2), i


@pytest.mark.parametrize("X", [Sequences(), TOKENS], ids=["dataset", "dict"])
def test_the_nets_own_collate_fn_gets_input_label_pairs_and_the_extras_ride_along(X):
    inputs = check_net_input(X)
    dataset = RowDataset(
        inputs, np.arange(3), {WEIGHT_KEY: np.arange(3.0)}, rows=[0, 1, 2]
    )
    seen = []

    def collate(pairs):
        seen.append(pairs)
        return (
            _pad(pairs)
            if isinstance(X, Sequences)
            else torch.utils.data.default_collate(pairs)
        )

    features, labels = dataset.collate(collate)([dataset[i] for i in range(3)])
    assert all(WEIGHT_KEY not in x for x, _ in seen[0] if isinstance(x, dict))
    assert_array_equal(labels, [0, 1, 2])
    assert_array_equal(features.pop(WEIGHT_KEY), [0.0, 1.0, 2.0])
    if isinstance(X, Sequences):
        assert_array_equal(features[INPUT_KEY], [[1, 0, 0], [1, 2, 0], [1, 2, 3]])
    else:
        assert set(features) == {"ids", "mask"}
        assert_array_equal(features["ids"], TOKENS["ids"][:3])

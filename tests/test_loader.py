"""InMemoryDataLoader yields the batches DataLoader would, one indexing call each."""

import numpy as np
import torch
from numpy.testing import assert_array_equal
from skorch.dataset import Dataset
from skorch.helper import SliceDict
from torch.utils.data import DataLoader

from skmat import InMemoryDataLoader


def make_dataset(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    extra = np.arange(n, dtype=np.float32)
    return Dataset(SliceDict(X=X, extra=extra), np.arange(n) % 2), X, extra


def test_sequential_batches_match_dataloader():
    dataset, _, _ = make_dataset()
    ours = list(InMemoryDataLoader(dataset, batch_size=4))
    theirs = list(DataLoader(dataset, batch_size=4))
    assert [len(b[1]) for b in ours] == [4, 4, 2]
    for (X_a, y_a), (X_b, y_b) in zip(ours, theirs):
        assert set(X_a) == {"X", "extra"}
        for key in X_a:
            assert torch.equal(X_a[key], X_b[key])
        assert torch.equal(y_a, y_b)


def test_full_batch_and_shuffle_cover_every_example_once():
    dataset, X, extra = make_dataset()
    (full,) = list(InMemoryDataLoader(dataset, batch_size=-1))
    assert_array_equal(full[0]["X"].numpy(), X)
    torch.manual_seed(0)
    batches = list(InMemoryDataLoader(dataset, batch_size=3, shuffle=True))
    seen = np.concatenate([b[0]["extra"].numpy() for b in batches])
    assert sorted(seen) == list(extra)
    assert not np.array_equal(seen, extra)  # shuffled
    # rows stay aligned across keys and with y
    for inputs, y in batches:
        assert_array_equal(inputs["X"][:, 0].numpy() / 3, inputs["extra"].numpy())
        assert_array_equal(y.numpy(), inputs["extra"].numpy().astype(int) % 2)


def test_shuffle_is_seeded_by_torch():
    dataset, _, _ = make_dataset(50)

    def order(seed):
        torch.manual_seed(seed)
        loader = InMemoryDataLoader(dataset, batch_size=7, shuffle=True)
        return np.concatenate([b[0]["extra"].numpy() for b in loader])

    assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))
    assert len(InMemoryDataLoader(dataset, batch_size=7)) == 8

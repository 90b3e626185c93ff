"""Torch modules for the tests (module level, so they pickle). The table nets are
the benchmarks' own (:mod:`skmat.benchmarks`); the others are the nets users bring:
a CNN with BatchNorm and Dropout, text models on token ids and on a tokenizer's
dict, a lazy module."""

import numpy as np
import torch
from skorch import NeuralNetClassifier

from skmat import benchmarks
from skmat.benchmarks import Linear

__all__ = [
    "BagOfWords",
    "BatchNormMLP",
    "CustomNet",
    "DropoutMLP",
    "FlatCNN",
    "LazyMLP",
    "Linear",
    "MLP",
    "MLP32",
    "MaskedMeanEmbedding",
    "SmallCNN",
    "SoftmaxLinear",
]


class MLP(benchmarks.MLP):
    """The benchmarks' MLP with a hidden layer of 16, so that tests run fast."""

    def __init__(self, n_features_in, n_classes, hidden=16):
        super().__init__(n_features_in, n_classes, hidden=hidden)


class MLP32(benchmarks.MLP):
    """A realistic small net: one hidden layer of 32."""

    def __init__(self, n_features_in, n_classes):
        super().__init__(n_features_in, n_classes, hidden=32)


class BatchNormMLP(torch.nn.Module):
    """An MLP with BatchNorm: its running statistics keep it from training batched."""

    def __init__(self, n_features_in, n_classes):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, 8),
            torch.nn.BatchNorm1d(8),
            torch.nn.ReLU(),
            torch.nn.Linear(8, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


class DropoutMLP(MLP):
    """An MLP with Dropout on its logits."""

    def __init__(self, n_features_in, n_classes):
        super().__init__(n_features_in, n_classes)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, X):
        return self.dropout(super().forward(X))


class SoftmaxLinear(Linear):
    """Returns probabilities, for skorch's default NLLLoss criterion."""

    def forward(self, X):
        return torch.softmax(self.linear(X), dim=1)


class CustomNet(NeuralNetClassifier):
    """A user's skorch subclass with its own override."""

    def on_epoch_end(self, *args, **kwargs):
        self.custom_calls = getattr(self, "custom_calls", 0) + 1
        return super().on_epoch_end(*args, **kwargs)


class SmallCNN(torch.nn.Module):
    """A CNN for (N, 3, H, W) images, with BatchNorm and Dropout unless turned off."""

    def __init__(self, n_classes, batch_norm=True, dropout=0.2, channels=4):
        super().__init__()
        layers = [torch.nn.Conv2d(3, channels, 3, padding=1)]
        if batch_norm:
            layers.append(torch.nn.BatchNorm2d(channels))
        layers += [torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten()]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        layers.append(torch.nn.Linear(4 * channels, n_classes))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


class FlatCNN(SmallCNN):
    """SmallCNN on flattened images: the rows are reshaped in forward."""

    def __init__(self, n_classes, shape=(3, 8, 8), **params):
        super().__init__(n_classes, **params)
        self.shape = shape

    def forward(self, X):
        return super().forward(X.reshape(-1, *self.shape))


class BagOfWords(torch.nn.Module):
    """Mean of token embeddings (int64 ids) through a linear layer."""

    def __init__(self, n_classes, vocabulary=50, dim=8):
        super().__init__()
        self.bag = torch.nn.EmbeddingBag(vocabulary, dim, mode="mean")
        self.out = torch.nn.Linear(dim, n_classes)

    def forward(self, X):
        return self.out(self.bag(X))


class MaskedMeanEmbedding(torch.nn.Module):
    """A tokenizer's output: ``input_ids`` with an ``attention_mask`` (1 = token)."""

    def __init__(self, n_classes, vocabulary=50, dim=8):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, dim)
        self.out = torch.nn.Linear(dim, n_classes)

    def forward(self, input_ids, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(torch.float32)
        mean = (self.embedding(input_ids) * mask).sum(1) / mask.sum(1).clamp_min(1)
        return self.out(mean)


class LazyMLP(torch.nn.Module):
    """Input size inferred at the first forward (torch.nn.LazyLinear)."""

    def __init__(self, n_classes, hidden=16):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.LazyLinear(hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


class CountingImages(torch.utils.data.Dataset):
    """Images made on the fly (3 x size x size, class 1 brighter), with a random
    transform (noise drawn from torch's RNG at every read); counts its reads."""

    def __init__(self, n_samples, size=8, seed=0):
        rng = np.random.RandomState(seed)
        self.labels = rng.randint(0, 2, n_samples)
        self.seeds = rng.randint(0, 2**31 - 1, n_samples)
        self.size = size
        self.reads = 0

    def __len__(self):
        return len(self.labels)

    def image(self, i):
        rng = np.random.RandomState(self.seeds[i])
        image = rng.normal(size=(3, self.size, self.size)).astype(np.float32)
        return image + np.float32(0.8 * self.labels[i])

    def __getitem__(self, i):
        self.reads += 1
        noise = 0.1 * torch.randn(3, self.size, self.size)
        return torch.from_numpy(self.image(i)) + noise, int(self.labels[i])

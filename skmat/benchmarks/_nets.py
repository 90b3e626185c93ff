"""The nets the benchmark tasks train."""

import torch
from skorch import NeuralNetClassifier

from .._loader import InMemoryDataLoader

#: The vocabulary size of the text task (the most frequent training words).
VOCABULARY = 5000


class Linear(torch.nn.Module):
    """Linear logits (``bias=False``: the Figure-1 net of the paper)."""

    def __init__(self, n_features_in, n_classes, bias=True):
        super().__init__()
        self.linear = torch.nn.Linear(n_features_in, n_classes, bias=bias)

    def forward(self, X):
        return self.linear(X)


class MLP(torch.nn.Module):
    """One hidden ReLU layer."""

    def __init__(self, n_features_in, n_classes, hidden=64):
        super().__init__()
        self.hidden = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, hidden), torch.nn.ReLU()
        )
        self.output = torch.nn.Linear(hidden, n_classes)

    def forward(self, X):
        return self.output(self.hidden(X))


def make_net(
    module, n_features, *, optimizer, lr, max_epochs, batch_size, **module_params
):
    """A two-class skorch net of ``module`` on ``n_features`` inputs, as every
    benchmark task configures it (logits, in-memory loaders, no validation split)."""
    if n_features is not None:
        module_params["n_features_in"] = n_features
    return NeuralNetClassifier(
        module,
        module__n_classes=2,
        **{f"module__{k}": v for k, v in module_params.items()},
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train=InMemoryDataLoader,
        iterator_train__shuffle=True,
        iterator_valid=InMemoryDataLoader,
        verbose=0,
    )


def figure1_net(max_epochs=1000, n_features=1800):
    """The paper's Figure-1 net: bias-free linear, full-batch SGD, lr 1e-2."""
    return make_net(
        Linear,
        n_features,
        bias=False,
        optimizer=torch.optim.SGD,
        lr=1e-2,
        max_epochs=max_epochs,
        batch_size=-1,
    )


class BagOfEmbeddings(torch.nn.Module):
    """Mean word embedding of token ids (0 is padding), a hidden layer, logits."""

    def __init__(self, n_classes=2, vocabulary=VOCABULARY + 1, dim=64, hidden=64):
        super().__init__()
        self.embedding = torch.nn.EmbeddingBag(
            vocabulary, dim, mode="mean", padding_idx=0
        )
        self.hidden = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU())
        self.output = torch.nn.Linear(hidden, n_classes)

    def forward(self, X):
        return self.output(self.hidden(self.embedding(X)))


class SmallCNN(torch.nn.Module):
    """Two convolutions with BatchNorm and max-pooling, then logits."""

    def __init__(self, n_classes=2, channels=1, width=16, side=14):
        super().__init__()

        def block(n_in, n_out):
            return [
                torch.nn.Conv2d(n_in, n_out, 3, padding=1),
                torch.nn.BatchNorm2d(n_out),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
            ]

        self.layers = torch.nn.Sequential(
            *block(channels, width),
            *block(width, 2 * width),
            torch.nn.Flatten(),
            torch.nn.Linear(2 * width * (side // 4) ** 2, n_classes),
        )

    def forward(self, X):
        return self.layers(X)

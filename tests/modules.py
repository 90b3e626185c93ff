"""Small torch modules for the tests (module level, so they pickle)."""

import torch


class Linear(torch.nn.Module):
    """Linear logits; dimensions filled in by MATClassifier."""

    def __init__(self, n_features_in, n_classes, bias=True):
        super().__init__()
        self.linear = torch.nn.Linear(n_features_in, n_classes, bias=bias)

    def forward(self, X):
        return self.linear(X)


class MLP(torch.nn.Module):
    def __init__(self, n_features_in, n_classes, hidden=16):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


class SoftmaxLinear(Linear):
    """Returns probabilities, for skorch's default NLLLoss criterion."""

    def forward(self, X):
        return torch.softmax(self.linear(X), dim=1)


from skorch import NeuralNetClassifier  # noqa: E402


class CustomNet(NeuralNetClassifier):
    """A user's skorch subclass with its own override."""

    def on_epoch_end(self, *args, **kwargs):
        self.custom_calls = getattr(self, "custom_calls", 0) + 1
        return super().on_epoch_end(*args, **kwargs)

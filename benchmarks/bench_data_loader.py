"""Training time of a skorch net with PyTorch's DataLoader vs skmat's InMemoryDataLoader.

Run: python benchmarks/bench_data_loader.py [--epochs 200] [--repeats 3]

Two settings: the paper's Figure-1 net (bias-free linear 1800 -> 2, full batch) and an
MLP with minibatches of 64. Prints the median fit time of each loader and the ratio.
"""

import argparse
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch.utils.data import DataLoader

from skmat import InMemoryDataLoader
from skmat.datasets import make_spurious_memorization


class Linear(torch.nn.Module):
    def __init__(self, n_features_in, hidden=0, bias=False):
        super().__init__()
        layers = (
            [torch.nn.Linear(n_features_in, hidden), torch.nn.ReLU()] if hidden else []
        )
        layers.append(torch.nn.Linear(hidden or n_features_in, 2, bias=bias))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


def median_fit_time(loader, X, y, repeats, **params):
    times = []
    for seed in range(repeats):
        net = NeuralNetClassifier(
            Linear,
            module__n_features_in=X.shape[1],
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.SGD,
            train_split=None,
            iterator_train=loader,
            iterator_train__shuffle=True,
            iterator_valid=loader,
            verbose=0,
            **params,
        )
        torch.manual_seed(seed)
        start = time.perf_counter()
        net.fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y, _ = make_spurious_memorization(1000, random_state=0)
    settings = {
        "linear 1800->2, full batch": dict(batch_size=-1, lr=1e-2),
        "MLP 1800-64-2, batch 64": dict(batch_size=64, lr=1e-2, module__hidden=64),
    }
    print(f"torch threads: {torch.get_num_threads()}, epochs: {args.epochs}")
    print(f"{'setting':<30}{'DataLoader':>12}{'InMemory':>12}{'speed-up':>10}")
    for name, params in settings.items():
        params = dict(params, max_epochs=args.epochs)
        slow = median_fit_time(DataLoader, X, y, args.repeats, **params)
        fast = median_fit_time(InMemoryDataLoader, X, y, args.repeats, **params)
        print(f"{name:<30}{slow:>11.2f}s{fast:>11.2f}s{slow / fast:>9.1f}x")


if __name__ == "__main__":
    main()

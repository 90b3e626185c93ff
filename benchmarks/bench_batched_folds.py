"""Held-out phase of MAT: k fold nets fitted one by one with skorch vs as one batched model.

Run: python benchmarks/bench_batched_folds.py [--repeats 3] [--epochs 50] [--folds 5]

Two settings, n = 5000 examples, 2 classes, Adam (lr 1e-3), shuffled minibatches of
256, 50 epochs, skmat's InMemoryDataLoader, CrossEntropyLoss:

* linear head on 2048-dim features (2048 -> 2, as on frozen image embeddings);
* MLP 784-256-2 (ReLU).

For each it prints the median wall time over ``--repeats`` runs of one ERM fit of the
net on all n examples, of the k held-out fits done one by one with skorch (each fold
net fitted on its training fold, then predicting its test fold), and of
the batched k-fold strategy (+ the same predictions), with their ratios to the ERM fit. A
full MAT fit costs about the held-out phase plus one more (final) fit, i.e. its
ratio to ERM is about ``1 + held-out / ERM`` (column "MAT est.", batched). The last
column is the largest difference between the two paths' held-out probabilities
(float32 rounding noise carried through training; see skmat/_stacked.py).

On the 2-core CPU of the development machine (torch 2.13, 2 threads, medians of 3;
three runs, which shared the machine with other jobs, gave ERM 0.70-0.78s for the
linear head and 1.69-2.03s for the MLP):

    setting            k one by one / ERM    k batched / ERM    MAT est.
    linear 2048->2     3.75x - 4.13x         1.37x - 1.61x      2.37x - 2.61x
    MLP 784-256-2      3.71x - 4.62x         3.38x - 4.98x      4.38x - 5.98x

The linear head is memory-bound (each step reads its minibatch rows), so batching
saves the per-step overhead of k skorch fits; the MLP is compute-bound on 2 cores and
gains nothing from batching there.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from skorch import NeuralNetClassifier

from skmat import InMemoryDataLoader
from skmat._data import check_net_input
from skmat._held_out import HeldOutSpec, fit_held_out
from skmat._rows import RowDataset
from skmat._user_net import make_shifted_net


class LinearHead(torch.nn.Module):
    def __init__(self, n_features_in, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features_in, n_classes)

    def forward(self, X):
        return self.linear(X)


class MLP(torch.nn.Module):
    def __init__(self, n_features_in, n_classes, hidden=256):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


def make_data(n_samples, n_features, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    w = rng.normal(size=n_features)
    y = (X @ w / np.sqrt(n_features) + 0.5 * rng.normal(size=n_samples) > 0).astype(
        np.int64
    )
    return X, y


def make_net(module, n_features, epochs, batch_size, seed):
    net = NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train=InMemoryDataLoader,
        iterator_train__shuffle=True,
        iterator_valid=InMemoryDataLoader,
    )
    return make_shifted_net(
        net,
        param_name="estimator",
        n_features=n_features,
        n_classes=2,
        random_state=seed,
        verbose=0,
    )


def erm(net, X, y, splits):
    clone(net).fit(RowDataset(check_net_input(X), y), y)


def held_out(net, X, y, splits, batched):
    engine = "stacked" if batched else "one_by_one"
    spec = HeldOutSpec("kfold", engine, None, net, splits=splits)
    return fit_held_out(spec, check_net_input(X), y, n_classes=2).proba


def sequential(net, X, y, splits):
    return held_out(net, X, y, splits, batched=False)


def batched(net, X, y, splits):
    return held_out(net, X, y, splits, batched=True)


def median_time(fn, *args, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = {
        "linear 2048->2": (LinearHead, 2048),
        "MLP 784-256-2": (MLP, 784),
    }
    print(
        f"torch {torch.__version__}, threads: {torch.get_num_threads()}, "
        f"n={args.n_samples}, k={args.folds}, epochs={args.epochs}, "
        f"batch={args.batch_size}, Adam lr=1e-3, repeats={args.repeats} (median)"
    )
    header = (
        f"{'setting':<16}{'ERM':>9}{'k one by one':>20}{'k batched':>20}"
        f"{'MAT est.':>12}"
    )
    print(header)
    for name, (module, n_features) in settings.items():
        X, y = make_data(args.n_samples, n_features)
        splits = list(
            StratifiedKFold(args.folds, shuffle=True, random_state=0).split(X, y)
        )
        net = make_net(module, n_features, args.epochs, args.batch_size, seed=0)
        check = np.abs(sequential(net, X, y, splits) - batched(net, X, y, splits)).max()
        times = [
            median_time(fn, net, X, y, splits, repeats=args.repeats)
            for fn in (erm, sequential, batched)
        ]
        base = times[0]
        cells = [f"{times[0]:>8.2f}s"] + [
            f"{t:>10.2f}s ({t / base:4.2f}x)" for t in times[1:]
        ]
        mat = (times[2] + base) / base  # held-out phase + the final fit
        print(f"{name:<16}" + "".join(cells) + f"{mat:>11.2f}x   max |dp| {check:.1e}")


if __name__ == "__main__":
    main()

"""What a MATClassifier fit costs, relative to one ERM fit of the same net.

Run: python benchmarks/bench_fit_cost.py [--repeats 3] [--epochs 50] [--progress]

For a linear head on 2048-dim features and an MLP 784-256-2 (n = 5000, 2 classes,
Adam lr 1e-3, shuffled batches of 256, 50 epochs, skmat's InMemoryDataLoader), it
prints the median wall time over ``--repeats`` full fits of:

* ERM: the skorch net's own ``fit`` on all examples;
* MAT, ``cv=5``, ``fold_training="sequential"`` (the 5 fold nets one by one, like
  ``cross_val_predict``), then the final fit;
* MAT, ``cv=5``, ``fold_training="batched"`` (the 5 fold nets as one stacked model);
* MAT, ``held_out="xrm"`` (two twins with label flipping, batched);
* MAT, ``held_out="xrm"``, ``fold_training="sequential"`` (the twins as two skorch
  fits in lockstep);

and each one's ratio to ERM, every MAT at the fixed ``shift_strength=1.0`` (no
choice of ``"auto"``), every setting passed explicitly. Pass ``--device cuda`` on a
GPU machine.

Measured on the 2-core CPU of the development machine (torch 2.13, 2 threads, median
of 3, nothing else running), 2026-11-27:

    setting          ERM     MAT sequential   MAT batched     MAT xrm
    linear 2048->2   1.01s   3.81s (3.78x)    2.03s (2.02x)   1.30s (1.29x)
    MLP 784-256-2    1.96s   9.00s (4.60x)    8.98s (4.59x)   4.01s (2.05x)

Again on 2026-12-01 (the machine ran slower that day), before and after the
redesign of the data path (skmat/_data.py) and of the held-out phase:

    setting          ERM     MAT sequential   MAT batched   MAT xrm
    linear, before   1.86s   4.43x            1.93x         1.51x
    linear, after    1.96s   3.53x            1.60x         1.29x
    MLP, before      2.73s   4.72x            3.37x         2.20x
    MLP, after       2.80s   4.24x            3.22x         1.87x

With the progress bars on (``--progress``: each MAT fit timed with ``verbose=1``,
alternating with the silent one, stderr to a file so plain lines), 2026-12-01:

    setting          ERM     MAT sequential   MAT batched   MAT xrm
    linear, silent   2.49s   9.07s (3.65x)    4.25s (1.71x) 2.73s (1.10x)
    linear, shown            9.08s (3.65x)    3.79s (1.52x) 2.71s (1.09x)
    MLP, silent      3.64s   15.47s (4.25x)   10.57s (2.90x) 6.30s (1.73x)
    MLP, shown               15.35s (4.21x)   11.17s (3.07x) 5.49s (1.51x)

The differences go both ways and stay within the run-to-run noise of this machine
(the same settings measured an hour apart differ by up to 25%).

On 2026-12-03, before (3a8caea) and after the one-loop redesign of the held-out
core, two runs of each, alternating (the xrm lockstep column is new: the twins as
two skorch fits in lockstep, the path of nets that cannot be stacked):

    setting          run      sequential  batched  xrm    xrm lockstep
    linear, before   1, 2     3.26 3.33   1.80 1.77 1.53 1.50  1.68 1.92
    linear, after    1, 2     3.96 3.38   2.62 1.90 2.07 1.74  2.91 2.35
    MLP, before      1, 2     4.03 3.86   3.19 3.13 2.08 1.83  2.27 2.31
    MLP, after       1, 2     3.24 4.56   2.83 4.20 1.53 2.04  2.20 2.10

The same code's ratios move by up to 45% from one run to the next here (the "after"
run 1 followed the test suite), so bench_fit_cost_rounds.py measures the ratios in
rounds that share the machine's state; there the redesign is within 10% of before
or faster. The lockstep twins now run skorch's own fit in two threads that hand
over before every step; on this VM a hand-over costs ~0.2-0.8 ms, which shows on
tiny nets (a linear head: 10-40% slower than the old hand-written loop) and
vanishes on nets with real work per step.

The MLP is compute-bound on 2 cores: batching its folds saves nothing there, which is
why ``fold_training="auto"`` batches on the CPU only modules of at most 50,000
parameters. XRM trains two twins on halves, about one ERM fit in all.
"""

import argparse
import contextlib
import io

import numpy as np
import torch
from bench_batched_folds import MLP, LinearHead, make_data, median_time
from sklearn.base import clone
from skorch import NeuralNetClassifier

from skmat import InMemoryDataLoader, MATClassifier


def make_net(module, n_features, epochs, batch_size, device):
    return NeuralNetClassifier(
        module,
        module__n_features_in=n_features,
        module__n_classes=2,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train=InMemoryDataLoader,
        iterator_train__shuffle=True,
        iterator_valid=InMemoryDataLoader,
        device=device,
        verbose=0,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--progress",
        action="store_true",
        help="also time each MAT fit with verbose=1 (progress bars, or plain lines, "
        "on stderr), alternating with the silent fits",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, device {args.device}, threads "
        f"{torch.get_num_threads()}, n={args.n_samples}, epochs={args.epochs}, "
        f"batch={args.batch_size}, Adam lr=1e-3, median of {args.repeats}"
    )
    settings = {"linear 2048->2": (LinearHead, 2048), "MLP 784-256-2": (MLP, 784)}
    # Every setting the figures depend on, spelled out rather than left to
    # MATClassifier's defaults: the fixed strength (no choice of "auto"), the folds.
    fixed = dict(temperature=0.1, calibrate=True, shift_strength=1.0)
    variants = {
        "MAT sequential": dict(held_out="kfold", cv=5, fold_training="sequential"),
        "MAT batched": dict(held_out="kfold", cv=5, fold_training="batched"),
        "MAT xrm": dict(held_out="xrm", cv=None, fold_training="auto"),
        "MAT xrm lockstep": dict(held_out="xrm", cv=None, fold_training="sequential"),
    }
    print(f"{'setting':<16}{'ERM':>9}" + "".join(f"{v:>24}" for v in variants))
    for name, (module, n_features) in settings.items():
        X, y = make_data(args.n_samples, n_features)
        net = make_net(module, n_features, args.epochs, args.batch_size, args.device)

        def erm():
            torch.manual_seed(0)
            net.fit(X, y)

        base = median_time(erm, repeats=args.repeats)
        cells = [f"{base:>8.2f}s"]
        progress_cells = [" " * 9]
        for params in variants.values():
            silent = MATClassifier(net, random_state=0, **fixed, **params)
            shown = clone(silent).set_params(verbose=1)
            times = {silent: [], shown: []}
            for _ in range(args.repeats):
                for mat in [silent, shown] if args.progress else [silent]:
                    with contextlib.redirect_stdout(io.StringIO()):
                        times[mat].append(median_time(mat.fit, X, y, repeats=1))
            seconds = float(np.median(times[silent]))
            cells.append(f"{seconds:>14.2f}s ({seconds / base:4.2f}x)")
            if args.progress:
                seconds = float(np.median(times[shown]))
                progress_cells.append(f"{seconds:>14.2f}s ({seconds / base:4.2f}x)")
        print(f"{name:<16}" + "".join(cells), flush=True)
        if args.progress:
            print(f"{'  progress on':<16}" + "".join(progress_cells), flush=True)


if __name__ == "__main__":
    main()

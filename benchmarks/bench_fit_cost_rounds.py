"""What a MATClassifier fit costs relative to ERM, measured in rounds so that the
machine's drift cancels: each round fits ERM, then MAT sequential, batched and XRM;
each MAT fit's time is divided by its own round's ERM time; the median over the
rounds (after a warm-up round) is printed with every round's ratio.

Run: python benchmarks/bench_fit_cost_rounds.py linear [--epochs 50] [--rounds 3]
     python benchmarks/bench_fit_cost_rounds.py mlp --epochs 20

bench_fit_cost.py times each variant's fits back to back, so a ratio mixes the
machine's state at two moments; on the 2-core development VM its ratios for the
same code moved by up to 45% between two runs on 2026-12-03. Here the ratios of
one round share the machine's state. To compare two versions of skmat, run this
script alternately with each on PYTHONPATH.

Measured on 2026-12-03 (2 CPU cores, torch 2.13, two processes per version,
alternating, each the median of 3 rounds), before (3a8caea) and after the one-loop
redesign of the held-out core:

    setting              sequential      batched         xrm
    linear, before       3.44  3.45      2.32  1.90      1.86  1.60
    linear, after        3.25  3.28      2.03  1.79      1.49  1.22
    MLP (20 ep), before  3.90  3.88      3.10  3.06      2.04  1.86
    MLP (20 ep), after   3.95  4.55      2.86  3.68      1.79  2.01
"""

import argparse
import contextlib
import io
import time

import numpy as np
import torch
from bench_batched_folds import MLP, LinearHead, make_data
from bench_fit_cost import make_net

from skmat import MATClassifier

# Every setting the figures depend on, spelled out rather than left to
# MATClassifier's defaults: the fixed strength (no choice of "auto"), the folds.
FIXED = dict(temperature=0.1, calibrate=True, shift_strength=1.0)
VARIANTS = {
    "sequential": dict(held_out="kfold", cv=5, fold_training="sequential"),
    "batched": dict(held_out="kfold", cv=5, fold_training="batched"),
    "xrm": dict(held_out="xrm", cv=None, fold_training="auto"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", choices=["linear", "mlp"])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    module, n_features = (LinearHead, 2048) if args.setting == "linear" else (MLP, 784)
    X, y = make_data(5000, n_features)
    net = make_net(module, n_features, args.epochs, 256, "cpu")
    ratios = {name: [] for name in VARIANTS}
    for round_ in range(args.rounds + 1):  # round 0 warms up
        start = time.perf_counter()
        torch.manual_seed(0)
        net.fit(X, y)
        erm = time.perf_counter() - start
        for name, params in VARIANTS.items():
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                MATClassifier(net, random_state=0, **FIXED, **params).fit(X, y)
            if round_ > 0:
                ratios[name].append((time.perf_counter() - start) / erm)
    for name, values in ratios.items():
        rounds = ", ".join(f"{value:.2f}" for value in values)
        print(f"{args.setting} {name:<10} {np.median(values):.2f}x  ({rounds})")


if __name__ == "__main__":
    main()

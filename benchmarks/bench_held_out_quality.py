"""Do batched folds and XRM twins give MAT the same quality as one-by-one folds?

On the Figure-1 data (noise std 0.5, the paper's net: bias-free linear, full-batch SGD
lr 1e-2, 1000 epochs), for every seed MAT is fitted with its held-out predictions from
5 folds trained one by one (``fold_training="sequential"``), from the same 5 folds
trained as one batched model (``"batched"``), and from XRM's twins
(``held_out="xrm"``). It prints majority / minority test accuracy and worst-group
accuracy (WGA) per seed, their mean +- std, the largest difference between the
sequential and batched held-out probabilities, and the fit times.

Run ``python benchmarks/bench_held_out_quality.py`` (about 20 s per seed on 2 cores).
"""

import argparse
import time

import numpy as np
import torch
from bench_early_stopping import figure1_net, figure1_split, group_accuracies

from skmat import MATClassifier
from skmat.metrics import worst_group_accuracy

# Every setting these figures depend on, spelled out rather than left to
# MATClassifier's defaults: a change of default does not change what they measure.
MAT_SETTINGS = dict(temperature=0.1, calibrate=True, shift_strength=1.0)
VARIANTS = {
    "sequential folds": dict(held_out="kfold", cv=5, fold_training="sequential"),
    "batched folds": dict(held_out="kfold", cv=5, fold_training="batched"),
    "XRM twins": dict(held_out="xrm", cv=None, fold_training="auto"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noise-std", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = {name: [] for name in VARIANTS}
    for seed in range(args.seeds):
        (X, y, _), (X_test, y_test, groups_test) = figure1_split(args.noise_std, seed)
        line, fitted = [f"seed {seed}"], {}
        for name, params in VARIANTS.items():
            start = time.perf_counter()
            clf = MATClassifier(
                figure1_net(args.epochs), random_state=seed, **MAT_SETTINGS, **params
            )
            fitted[name] = clf.fit(X, y)
            seconds = time.perf_counter() - start
            majority, minority = group_accuracies(clf, X_test, y_test, groups_test)
            wga = worst_group_accuracy(y_test, clf.predict(X_test), groups=groups_test)
            rows[name].append((majority, minority, wga, seconds))
            line.append(
                f"{name} {majority:.3f}/{minority:.3f} WGA {wga:.3f} ({seconds:.1f}s)"
            )
        gap = np.abs(
            fitted["sequential folds"].held_out_proba_
            - fitted["batched folds"].held_out_proba_
        ).max()
        print(
            "  ".join(line) + f"  max |dP| sequential vs batched {gap:.1e}", flush=True
        )

    print(f"\nnoise std {args.noise_std}, {args.seeds} seeds (mean +- std):")
    for name, values in rows.items():
        values = np.array(values)
        mean, std = values.mean(axis=0), values.std(axis=0)
        print(
            f"{name:17s} majority {mean[0]:.3f} +- {std[0]:.3f}  minority "
            f"{mean[1]:.3f} +- {std[1]:.3f}  WGA {mean[2]:.3f} +- {std[2]:.3f}  "
            f"fit {mean[3]:.1f}s"
        )


if __name__ == "__main__":
    main()

"""Early stopping on inferred worst-group accuracy in the harder Figure-1 setting.

Noise std 1.0 (the paper's reference implementation, measured on the development
machine, reaches 0.349 minority-test accuracy there, ERM 0.054). For every seed: ERM, MAT as in the paper (lambda = 1, all epochs), and MAT
with ``early_stopping=True`` on groups inferred from the held-out mistakes (no group
labels anywhere), at each shift strength given. Prints majority / minority test
accuracy per seed and the mean +- std.

Run ``python benchmarks/bench_early_stopping.py`` (about 2 minutes per shift strength
on 2 cores).

Measured on 2 CPU cores, 2026-11-27, ``--shift-strengths 1 1.5 2`` and ``1.5 --all-epochs``
(majority / minority test, mean over 5 seeds): ERM 0.996 / 0.050; MAT lambda=1, all
epochs 0.921 / 0.337; with early stopping lambda=1: 0.748 / 0.410, lambda=1.5: 0.655 /
0.645, lambda=2: 0.578 / 0.692; lambda=1.5, all epochs: 0.805 / 0.542. At this noise
level majority + minority stays near 1.33 along every training run: early stopping on
worst-group accuracy picks the balanced point of that trade-off.
"""

import argparse
import time

import numpy as np
import torch

import skmat.benchmarks
from skmat import MATClassifier
from skmat.benchmarks import figure1_net

# Every setting the figures depend on, spelled out rather than left to
# MATClassifier's defaults: the paper's 5-fold held-out phase and strength 1, as
# measured on 2026-11-27 (when they were the defaults).
PAPER = dict(
    held_out="kfold", cv=5, temperature=0.1, calibrate=True, shift_strength=1.0
)


def figure1_split(noise_std, seed):
    """Training set (90% majority) and test set (50%) of the Figure-1 data, as in
    tests/test_figure1.py: ``((X, y, groups), (X_test, y_test, groups_test))``."""
    splits = skmat.benchmarks.figure1_split(noise_std, seed)
    return splits["train"], splits["test"]


def group_accuracies(clf, X, y, groups):
    correct = clf.predict(X) == y
    minority = (groups == 1) | (groups == 2)
    return correct[~minority].mean(), correct[minority].mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noise-std", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--shift-strengths", type=float, nargs="+", default=[1.0, 1.5])
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--n-iter-no-change", type=int, default=None)
    parser.add_argument(
        "--all-epochs",
        action="store_true",
        help="also fit MAT at each shift strength for all epochs, on all examples",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = {}
    for seed in range(args.seeds):
        (X, y, _), (X_test, y_test, groups_test) = figure1_split(args.noise_std, seed)
        start = time.perf_counter()
        paper = MATClassifier(figure1_net(args.epochs), random_state=seed, **PAPER).fit(
            X, y
        )
        erm = MATClassifier(
            figure1_net(args.epochs), random_state=seed, **dict(PAPER, shift_strength=0)
        ).fit(X, y, held_out_proba=paper.held_out_proba_)
        models = {"ERM": erm, "MAT lambda=1, all epochs": paper}
        for strength in args.shift_strengths:
            models[f"MAT lambda={strength:g}, early stopping (inferred groups)"] = (
                MATClassifier(
                    figure1_net(args.epochs),
                    **dict(PAPER, shift_strength=strength),
                    early_stopping=True,
                    validation_fraction=args.validation_fraction,
                    n_iter_no_change=args.n_iter_no_change,
                    random_state=seed,
                ).fit(X, y, held_out_proba=paper.held_out_proba_)
            )
            if args.all_epochs:
                models[f"MAT lambda={strength:g}, all epochs"] = MATClassifier(
                    figure1_net(args.epochs),
                    **dict(PAPER, shift_strength=strength),
                    random_state=seed,
                ).fit(X, y, held_out_proba=paper.held_out_proba_)
        line = []
        for name, model in models.items():
            majority, minority = group_accuracies(model, X_test, y_test, groups_test)
            rows.setdefault(name, []).append((majority, minority))
            epoch = getattr(model, "best_epoch_", None)
            line.append(
                f"{name.split(',')[0]}{'' if epoch is None else f' (epoch {epoch})'}: "
                f"{majority:.3f}/{minority:.3f}"
            )
        print(f"seed {seed} ({time.perf_counter() - start:.0f}s)  " + "  ".join(line))

    print(f"\nnoise std {args.noise_std}, {args.seeds} seeds: majority / minority test")
    for name, values in rows.items():
        values = np.array(values)
        mean, std = values.mean(axis=0), values.std(axis=0)
        print(
            f"{name:55s} majority {mean[0]:.3f} +- {std[0]:.3f}  "
            f"minority {mean[1]:.3f} +- {std[1]:.3f}"
        )


if __name__ == "__main__":
    main()

"""Memorization scores of ERM and MAT on the Figure-1 data, per group.

Noise std 0.5, the paper's net (bias-free linear 1800 -> 2, full-batch SGD lr 1e-2,
1000 epochs). For every seed, on the 1000 training examples, both procedures are scored
on the same 5 training subsets (paired):

- ERM: plain training of the net, the score with ``procedure="erm"`` of a
  ``MATClassifier`` fitted with its defaults (``cv=5, temperature=0.1,
  shift_strength=1``): its 5 fold nets give both halves (each predicts the examples it
  trained on and its held-out fold); nothing more is trained;
- MAT: the score of the MAT procedure itself, ``memorization_score(mat, X, y,
  cv=folds, random_state=seed)`` on the training subsets of those fold nets: one whole
  MAT fit per fold (its own 5 fold nets + the shifted final net).

It prints the mean score of the minority (spurious feature disagrees with the label)
and majority training examples, with the mean in-sample and held-out probability of the
label behind each, per seed and as mean +- std over the seeds, and the drop of the
minority score from ERM to MAT. For comparison only, the summary also gives the 0/1
version of the score (right when trained on, minus right when held out; Feldman's
definition counts correct predictions, the score here averages the probability of the
label). ``--in-sample full`` takes the in-sample half from one more model trained on all
1000 examples; ``--unpaired`` scores MAT on folds of its own.

Run ``python benchmarks/bench_memorization.py`` (about 45 s per seed on one core).

Measured with one thread, 2026-11-27, mean +- std over 5 seeds (minority / majority
score):

- default (same-size in-sample half, paired folds; 226 s): ERM 0.620 +- 0.011 / 0.011,
  MAT 0.306 +- 0.018 / 0.051, a drop of the minority score of 0.314 +- 0.010 (0.304 to
  0.326 per seed);
- ``--unpaired``: drop 0.306 +- 0.016 (0.293 to 0.335);
- ``--in-sample full``: ERM 0.601, MAT 0.301, drop 0.301 +- 0.010 (0.290 to 0.313);
- ``--in-sample full --unpaired`` (the first version of this script): drop 0.292 +-
  0.015 (0.278 to 0.321); with ``--cv 10`` 0.300 +- 0.005.

Behind MAT's residual score: its held-out models give the minority's labels 0.68 (ERM's
0.26), while its nets are surer of their training minority (0.98) than ERM's (0.88).
The 0/1 version drops from 0.91 to 0.13.
"""

import argparse
import time

import numpy as np
import torch
from bench_early_stopping import figure1_net, figure1_split
from sklearn.model_selection import StratifiedKFold

from skmat import MATClassifier
from skmat.inspection import memorization_score


def group_means(scores, in_sample, held_out, y, minority):
    """Per part: mean score, in-sample and held-out probability of the label, and
    the 0/1 version of the score (right in-sample minus right held out)."""
    rows = np.arange(len(y))
    right = (in_sample.argmax(1) == y).astype(float) - (held_out.argmax(1) == y)
    parts = {}
    for part, members in [("minority", minority), ("majority", ~minority)]:
        parts[part] = (
            scores[members].mean(),
            in_sample[rows, y][members].mean(),
            held_out[rows, y][members].mean(),
            right[members].mean(),
        )
    return parts


# Every setting these figures depend on, spelled out rather than left to
# MATClassifier's defaults: a change of default does not change what they measure.
MAT_SETTINGS = dict(
    held_out="kfold", cv=5, temperature=0.1, calibrate=True, shift_strength=1.0
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noise-std", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument(
        "--cv",
        type=int,
        default=5,
        help="folds of the score (MAT itself keeps cv=5 inside)",
    )
    parser.add_argument(
        "--in-sample",
        choices=["folds", "full"],
        default="folds",
        help="in-sample half: the fold models that trained on the example (default), "
        "or one model trained on all of them",
    )
    parser.add_argument(
        "--unpaired",
        action="store_true",
        help="score MAT on folds of its own (StratifiedKFold seeded by the seed) "
        "instead of the training sets that ERM's score uses",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = {"ERM": [], "MAT": []}
    start_all = time.perf_counter()
    for seed in range(args.seeds):
        (X, y, groups), _ = figure1_split(args.noise_std, seed)
        minority = (groups == 1) | (groups == 2)
        start = time.perf_counter()
        mat = MATClassifier(figure1_net(args.epochs), random_state=seed, **MAT_SETTINGS)
        if args.cv == mat.cv:
            # reuse the held-out phase of a fitted MATClassifier
            mat.fit(X, y)
            erm = memorization_score(
                mat, X, y, procedure="erm", in_sample=args.in_sample, return_proba=True
            )
            # the training sets of its fold nets, to score MAT on the same ones
            folds = [
                (train, np.setdiff1d(np.arange(len(y)), train))
                for train in mat.held_out_estimators_samples_
            ]
        else:
            # an unfitted one runs its held-out phase with the score's folds
            folds = list(
                StratifiedKFold(args.cv, shuffle=True, random_state=seed).split(X, y)
            )
            erm = memorization_score(
                mat,
                X,
                y,
                procedure="erm",
                cv=folds,
                in_sample=args.in_sample,
                return_proba=True,
            )
        erm_seconds = time.perf_counter() - start
        start = time.perf_counter()
        mat_scores = memorization_score(
            mat,
            X,
            y,
            cv=args.cv if args.unpaired else folds,
            in_sample=args.in_sample,
            random_state=seed,
            return_proba=True,
        )
        mat_seconds = time.perf_counter() - start
        line = [f"seed {seed}"]
        for name, result in [("ERM", erm), ("MAT", mat_scores)]:
            parts = group_means(*result, y, minority)
            rows[name].append([*parts["minority"], *parts["majority"]])
            line.append(
                f"{name} minority {parts['minority'][0]:.3f} "
                f"(p_in {parts['minority'][1]:.3f}, p_out {parts['minority'][2]:.3f}) "
                f"majority {parts['majority'][0]:.3f}"
            )
        drop = rows["ERM"][-1][0] - rows["MAT"][-1][0]
        line.append(f"drop {drop:.3f}  ({erm_seconds:.0f}s + {mat_seconds:.0f}s)")
        print("  ".join(line), flush=True)

    print(
        f"\nnoise std {args.noise_std}, score cv={args.cv}, "
        f"in_sample={args.in_sample!r}, {'un' if args.unpaired else ''}paired "
        f"folds, {args.seeds} seeds, "
        "mean +- std over seeds "
        f"({time.perf_counter() - start_all:.0f}s in all):"
    )
    header = (
        "minority score",
        "p_in",
        "p_out",
        "0/1 score",
        "majority score",
        "p_in",
        "p_out",
        "0/1 score",
    )
    print(f"{'':4s}" + "".join(f"{h:>17s}" for h in header))
    for name, values in rows.items():
        values = np.array(values)
        cells = [f"{m:.3f} +- {s:.3f}" for m, s in zip(values.mean(0), values.std(0))]
        print(f"{name:4s}" + "".join(f"{c:>17s}" for c in cells))
    drops = np.array(rows["ERM"])[:, 0] - np.array(rows["MAT"])[:, 0]
    print(
        f"minority score drop ERM -> MAT: {drops.mean():.3f} +- {drops.std():.3f} "
        f"(min over seeds {drops.min():.3f})"
    )


if __name__ == "__main__":
    main()

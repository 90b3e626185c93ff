"""Why do 5-fold held-out nets miss the minority that XRM's twins find?

For each task of ``python -m skmat.benchmarks`` (synthetic and real) and each seed,
the held-out phase runs in several variants on the same training set and the same
net, and for each it prints:

* **recall**: the share of the true minority (the examples outside the largest
  group of their class) that the held-out predictions get wrong, and
  **precision**: the share of the held-out mistakes that are in the minority. MAT's
  shift pushes against exactly the held-out mistakes, so recall is the share of the
  minority MAT can help;
* **held-out accuracy** on the training set;
* **MAT WGA**: the worst-group test accuracy of MAT at ``shift_strength=1`` on those
  held-out predictions;
* the held-out phase's fit time relative to one ERM fit of the net.

The variants separate what differs between the two strategies: how much data each
held-out net trains on (5 folds: 80%; 2 folds and XRM: 50%), how long it trains
(the net's whole budget, or a quarter of its epochs), and XRM's label flips and
class-balanced loss:

* ``kfold-5``: 5 folds, the net as given (skmat's k-fold);
* ``kfold-2``: 2 folds;
* ``kfold-5/4``: 5 folds, each held-out net with a quarter of the epochs;
* ``kfold-2/4``: 2 folds, a quarter of the epochs;
* ``xrm``: XRM's twins (skmat's default);
* ``xrm/2``, ``xrm/4``: XRM's twins with half or a quarter of the epochs.

Run ``python benchmarks/bench_held_out_recall.py --quick`` (the benchmark's quick
sizes, 2 seeds) or choose ``--tasks`` and ``--seeds``. Results go to
``held_out_recall.csv`` under ``--output-dir``.
"""

import argparse
import csv
import os
import time

import numpy as np
import torch
from sklearn.base import clone

from skmat import MATClassifier
from skmat.benchmarks import make_tasks
from skmat.benchmarks._run import held_out_recall
from skmat.metrics import worst_group_accuracy

# Every setting these figures depend on, spelled out rather than left to
# MATClassifier's defaults: a change of default does not change what they measure.
MAT_SETTINGS = dict(temperature=0.1, calibrate=True, shift_strength=1.0)
VARIANTS = {
    "kfold-5": dict(held_out="kfold", cv=5),
    "kfold-2": dict(held_out="kfold", cv=2),
    "kfold-5/4": dict(held_out="kfold", cv=5, held_out_epochs=0.25),
    "kfold-2/4": dict(held_out="kfold", cv=2, held_out_epochs=0.25),
    "xrm": dict(held_out="xrm", held_out_epochs=None),
    "xrm/2": dict(held_out="xrm", held_out_epochs=0.5),
    "xrm/4": dict(held_out="xrm", held_out_epochs=0.25),
}


def run(task, seed, variants):
    data = task.load(seed)
    X, y, groups = data["train"]
    X_test, y_test, groups_test = data["test"]
    net = task.net(X.shape[1])
    start = time.perf_counter()
    torch.manual_seed(seed)
    clone(net).fit(X, y)
    erm_time = time.perf_counter() - start
    rows = []
    for name in variants:
        mat = MATClassifier(
            net, random_state=seed, **MAT_SETTINGS, **VARIANTS[name]
        ).fit(X, y)
        recall, precision = held_out_recall(mat.held_out_proba_, y, groups)
        predicted = mat.predict(X_test)
        rows.append(
            dict(
                task=task.name,
                seed=seed,
                variant=name,
                recall=recall,
                precision=precision,
                held_out_accuracy=round(
                    float(np.mean(mat.held_out_proba_.argmax(1) == y)), 4
                ),
                mat_test_wga=round(
                    worst_group_accuracy(y_test, predicted, groups=groups_test), 4
                ),
                held_out_time_vs_erm=round(mat.fit_times_["held_out"] / erm_time, 3),
            )
        )
        print(
            f"{task.name:26s} seed {seed} {name:10s} recall {recall:.2f} precision "
            f"{precision:.2f} held-out acc {rows[-1]['held_out_accuracy']:.3f} "
            f"MAT WGA {rows[-1]['mat_test_wga']:.3f} held-out cost "
            f"{rows[-1]['held_out_time_vs_erm']:.2f}x",
            flush=True,
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--output-dir", default="benchmark_results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tasks = make_tasks(quick=args.quick, suite="all")
    names = args.tasks or [name for name, task in tasks.items() if not task.missing()]
    rows = []
    for name in names:
        for seed in range(args.seeds):
            rows += run(tasks[name], seed, args.variants)
    os.makedirs(args.output_dir, exist_ok=True)
    path = os.path.join(args.output_dir, "held_out_recall.csv")
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nmean over seeds ({path}):")
    for name in names:
        for variant in args.variants:
            runs = [r for r in rows if r["task"] == name and r["variant"] == variant]
            mean = {
                key: np.mean([r[key] for r in runs])
                for key in ("recall", "precision", "mat_test_wga")
            }
            print(
                f"{name:26s} {variant:10s} recall {mean['recall']:.2f} precision "
                f"{mean['precision']:.2f} MAT WGA {mean['mat_test_wga']:.3f}"
            )


if __name__ == "__main__":
    main()

"""Which shift strength should MAT default to? Every value on every benchmark task.

For each task of ``python -m skmat.benchmarks`` (synthetic and real) and each seed,
MAT runs its held-out phase once at its defaults (XRM's twins) and then trains its
final net at every ``shift_strength`` of ``--values`` on those held-out predictions
(``fit(..., held_out_proba=...)``); it prints the worst-group and average test
accuracy of each, next to ERM's, and their mean over seeds. No validation data and
no group labels are used: this is what each fixed default would give.

Run ``python benchmarks/bench_shift_strength.py`` (all tasks whose data is
installed, 5 seeds; about 10 minutes on 2 cores with ``--n-jobs 2``), or choose
``--tasks``, ``--seeds`` and ``--values``. Results go to ``shift_strength.csv``
under ``--output-dir``.
"""

import argparse
import csv
import os

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import accuracy_score

from skmat import MATClassifier
from skmat.benchmarks import make_tasks
from skmat.metrics import worst_group_accuracy


def run(task, seed, values, budgets):
    torch.set_num_threads(1)
    data = task.load(seed)
    X, y, _ = data["train"]
    X_test, y_test, groups_test = data["test"]
    net = task.net(X.shape[1])

    def scores(model):
        predicted = model.predict(X_test)
        return (
            round(worst_group_accuracy(y_test, predicted, groups=groups_test), 4),
            round(accuracy_score(y_test, predicted), 4),
        )

    torch.manual_seed(seed)
    rows = [dict(task=task.name, seed=seed, method="ERM", shift_strength="")]
    rows[0]["test_wga"], rows[0]["test_accuracy"] = scores(clone(net).fit(X, y))
    rows[0]["held_out_budget"] = ""
    for budget in budgets:
        epochs = max(1, int(round(net.max_epochs * budget)))
        twins = clone(net).set_params(max_epochs=epochs)
        mat = MATClassifier(net, held_out_estimator=twins, random_state=seed)
        held_out = mat.fit(X, y).held_out_proba_
        for value in values:
            mat = MATClassifier(net, shift_strength=value, random_state=seed)
            wga, accuracy = scores(mat.fit(X, y, held_out_proba=held_out))
            rows.append(
                dict(
                    task=task.name,
                    seed=seed,
                    method="MAT",
                    shift_strength=value,
                    test_wga=wga,
                    test_accuracy=accuracy,
                    held_out_budget=budget,
                )
            )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--values", nargs="+", type=float, default=[0.5, 1, 2, 3])
    parser.add_argument("--budgets", nargs="+", type=float, default=[1.0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output-dir", default="benchmark_results")
    args = parser.parse_args()
    tasks = make_tasks(suite="all")
    names = args.tasks or [name for name, task in tasks.items() if not task.missing()]
    runs = Parallel(n_jobs=args.n_jobs)(
        delayed(run)(tasks[name], seed, args.values, args.budgets)
        for name in names
        for seed in range(args.seeds)
    )
    rows = [row for run_rows in runs for row in run_rows]
    os.makedirs(args.output_dir, exist_ok=True)
    path = os.path.join(args.output_dir, "shift_strength.csv")
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    settings = [(b, v) for b in args.budgets for v in args.values]
    columns = ["ERM"] + [f"{v:g}@{b:g}" for b, v in settings]
    print(f"worst-group test accuracy, mean over seeds ({path});")
    print("MAT's columns are shift_strength@held_out_budget:")
    print(f"{'task':26s}" + "".join(f"{c:>9s}" for c in columns))
    for name in names:
        mine = [r for r in rows if r["task"] == name]
        cells = [np.mean([r["test_wga"] for r in mine if r["method"] == "ERM"])]
        cells += [
            np.mean(
                [
                    r["test_wga"]
                    for r in mine
                    if (r["held_out_budget"], r["shift_strength"]) == setting
                ]
            )
            for setting in settings
        ]
        print(f"{name:26s}" + "".join(f"{c:9.3f}" for c in cells))


if __name__ == "__main__":
    main()

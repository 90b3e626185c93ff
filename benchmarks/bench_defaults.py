"""Which defaults should MAT have? Every value on every benchmark task.

For each task of ``python -m skmat.benchmarks`` (synthetic and real) and each seed,
MAT runs its held-out phase (XRM's twins) once per value of ``--held-out-epochs``,
then trains its final net at every ``shift_strength`` of ``--strengths`` and every
``temperature`` of ``--temperatures`` on those held-out predictions
(``fit(..., held_out_proba=...)``); it prints the worst-group test accuracy of each,
next to ERM's, as the mean over seeds. No validation data and no group labels are
used: this is what each fixed default would give.

Run ``python benchmarks/bench_defaults.py`` (all tasks whose data is installed, 5
seeds, the shift strengths 0.5, 1, 2 and 3 at the other defaults; about 10 minutes
on 2 cores with ``--n-jobs 2``), or choose ``--tasks``, ``--seeds`` and the values:
``--held-out-epochs 1 0.5 0.25`` sweeps the held-out nets' share of the epochs,
``--temperatures 0.01 0.1 1`` the temperature, ``--early-stopping 0 1`` early
stopping on the inferred groups, ``--held-out xrm kfold`` the held-out strategy
(5 folds). ``--suite safety`` runs the safety suite's tasks instead: with the best
value per seed picked on the test set, the ceiling of any rule that chooses among
these values (``python benchmarks/bench_defaults.py --suite safety --seeds 3
--held-out xrm kfold --strengths 1 2 4``). Results go to ``--output`` (CSV).
"""

import argparse
import csv
import itertools
import os

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import accuracy_score

from skmat import MATClassifier
from skmat.benchmarks import make_tasks
from skmat.metrics import worst_group_accuracy

# The settings every MAT fit of this script passes explicitly, besides those of
# SETTINGS: a change of MATClassifier's defaults does not change what it measures.
FIXED = dict(calibrate=True, validation_fraction=0.1, n_iter_no_change=10)
#: The folds of held_out="kfold".
KFOLD_CV = 5

SETTINGS = (
    "held_out",
    "held_out_epochs",
    "temperature",
    "shift_strength",
    "early_stopping",
)


def run(task, seed, grid):
    torch.set_num_threads(1)
    data = task.load(seed)
    X, y, _ = data["train"]
    X_test, y_test, groups_test = data["test"]
    net = task.net(X.shape[1])

    def row(method, model, **settings):
        predicted = model.predict(X_test)
        return dict(
            task=task.name,
            seed=seed,
            method=method,
            **{name: settings.get(name, "") for name in SETTINGS},
            test_wga=round(
                worst_group_accuracy(y_test, predicted, groups=groups_test), 4
            ),
            test_accuracy=round(accuracy_score(y_test, predicted), 4),
        )

    torch.manual_seed(seed)
    rows = [row("ERM", clone(net).fit(X, y))]
    for strategy, epochs in itertools.product(
        grid["held_out"], grid["held_out_epochs"]
    ):
        # The held-out phase only: a fixed strength skips the choice of "auto",
        # which would not change held_out_proba_.
        held_out = (
            MATClassifier(
                net,
                held_out=strategy,
                cv=KFOLD_CV if strategy == "kfold" else None,
                held_out_epochs=epochs,
                shift_strength=1.0,
                random_state=seed,
                **FIXED,
            )
            .fit(X, y)
            .held_out_proba_
        )
        for temperature, strength, early_stopping in itertools.product(
            grid["temperature"], grid["shift_strength"], grid["early_stopping"]
        ):
            mat = MATClassifier(
                net,
                temperature=temperature,
                shift_strength=strength,
                early_stopping=bool(early_stopping),
                random_state=seed,
                **FIXED,
            ).fit(X, y, held_out_proba=held_out)
            rows.append(
                row(
                    "MAT",
                    mat,
                    held_out=strategy,
                    held_out_epochs=epochs,
                    temperature=temperature,
                    shift_strength=strength,
                    early_stopping=early_stopping,
                )
            )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--strengths", nargs="+", type=float, default=[0.5, 1, 2, 3])
    parser.add_argument("--temperatures", nargs="+", type=float, default=[0.1])
    parser.add_argument("--held-out-epochs", nargs="+", type=float, default=[1.0])
    parser.add_argument(
        "--held-out", nargs="+", choices=["xrm", "kfold"], default=["xrm"]
    )
    parser.add_argument(
        "--suite", choices=["all", "safety"], default="all", help="the tasks' suite"
    )
    parser.add_argument("--early-stopping", nargs="+", type=int, default=[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="benchmark_results/defaults.csv")
    args = parser.parse_args()
    grid = dict(
        held_out=args.held_out,
        held_out_epochs=args.held_out_epochs,
        temperature=args.temperatures,
        shift_strength=args.strengths,
        early_stopping=args.early_stopping,
    )
    tasks = make_tasks(suite=args.suite)
    names = args.tasks or [name for name, task in tasks.items() if not task.missing()]
    runs = Parallel(n_jobs=args.n_jobs)(
        delayed(run)(tasks[name], seed, grid)
        for name in names
        for seed in range(args.seeds)
    )
    rows = [row for run_rows in runs for row in run_rows]
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    settings = list(itertools.product(*(grid[name] for name in SETTINGS)))
    print(f"worst-group test accuracy, mean over seeds ({args.output});")
    print("MAT's columns: " + "/".join(SETTINGS))
    columns = ["ERM"] + [
        "/".join(f"{v:g}" if not isinstance(v, str) else v for v in s) for s in settings
    ]
    width = max(9, *(len(c) + 1 for c in columns))
    print(f"{'task':26s}" + "".join(f"{c:>{width}s}" for c in columns))
    for name in names:
        mine = [r for r in rows if r["task"] == name]
        cells = [np.mean([r["test_wga"] for r in mine if r["method"] == "ERM"])]
        cells += [
            np.mean([r["test_wga"] for r in mine if tuple(r[n] for n in SETTINGS) == s])
            for s in settings
        ]
        print(f"{name:26s}" + "".join(f"{c:{width}.3f}" for c in cells))


if __name__ == "__main__":
    main()

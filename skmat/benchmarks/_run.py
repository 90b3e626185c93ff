"""Run every method on every task and seed, and write the tables and the figure."""

import argparse
import os
import platform
import sys
import time
from datetime import date
from numbers import Real

import numpy as np
import sklearn
import skorch
import torch
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.utils.parallel import Parallel, delayed

from .._baselines import GroupBalancedClassifier, GroupDROClassifier, JTTClassifier
from .._mat import MATClassifier
from .._random import forked_torch_rng
from .._search import describe_setting
from ..metrics import crossfit_group_scorer, worst_group_accuracy
from ._methods import (
    GRIDS,
    INFERRED_REWEIGHTING,
    JTT_CV,
    MAT_HELD_OUT,
    MAT_SETTINGS,
    METHODS,
    SELECTION,
)
from ._real import real_tasks
from ._report import (
    headroom_markdown,
    markdown,
    paired_markdown,
    plot,
    read_csv,
    summarize,
    write_csv,
    write_provenance,
)
from ._safety import SAFETY_METHODS, describe, safety_tasks
from ._synthetic import synthetic_tasks

#: The benchmark's suites of tasks ("all": synthetic and real, not safety).
SUITES = ("synthetic", "real", "safety", "all")


def make_tasks(quick=False, suite="synthetic"):
    """The tasks of ``suite`` (smaller sizes with ``quick``), by name. ``"all"`` is
    the synthetic and the real suites; the safety suite runs only on its own."""
    tasks = {}
    if suite in ("synthetic", "all"):
        tasks.update(synthetic_tasks(quick))
    if suite in ("real", "all"):
        tasks.update(real_tasks(quick))
    if suite == "safety":
        tasks.update(safety_tasks(quick))
    return tasks


# --- one run: every method on one task and seed ----------------------------------------


def _timed(fit):
    start = time.perf_counter()
    estimator = fit()
    return estimator, time.perf_counter() - start


def _final_fit_time(estimator):
    return float(sum(estimator.estimator_.history[:, "dur"]))


def _choose(candidates, X, y, groups=None):
    """The candidate with the best validation worst-group accuracy on ``groups``
    (then accuracy), or, without groups, the best ``crossfit_group_scorer`` score
    (the criterion of MATClassifier's own choice)."""

    def score(candidate):
        estimator = candidate["estimator"]
        if groups is None:
            return (crossfit_group_scorer(estimator, X, y),)
        predicted = estimator.predict(X)
        return (
            worst_group_accuracy(y, predicted, groups=groups),
            accuracy_score(y, predicted),
        )

    scores = [score(c) for c in candidates]
    best = max(range(len(candidates)), key=lambda i: scores[i])
    return dict(candidates[best], valid_wga=scores[best][0])


def _grid_with_held_out(make, grid, X, y, held_out=None):
    """Fit ``make(value)`` for every grid value. The first fit runs the held-out
    phase, unless ``held_out = (proba, seconds)`` is given; the others reuse its
    predictions, and each is charged the held-out phase's time. Returns the
    candidates, the first fitted estimator (None when ``held_out`` was given) and
    ``held_out``."""
    candidates, first = [], None
    for value in grid:
        if held_out is None:
            first, total = _timed(lambda: make(value).fit(X, y))
            held_out = (first.held_out_proba_, total - _final_fit_time(first))
            estimator, fit_time = first, total
        else:
            estimator, final_time = _timed(
                lambda: make(value).fit(X, y, held_out_proba=held_out[0])
            )
            fit_time = held_out[1] + final_time
        candidates.append(dict(estimator=estimator, fit_time=fit_time, param=value))
    return candidates, first, held_out


def minority_mask(y, groups):
    """The examples outside the largest group of their class (the minority groups:
    ``a != y`` on the synthetic tasks, the smaller group of each class on the real
    ones)."""
    minority = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        in_class = y == label
        values, counts = np.unique(groups[in_class], return_counts=True)
        minority[in_class] = groups[in_class] != values[np.argmax(counts)]
    return minority


def held_out_recall(proba, y, groups):
    """How well the held-out mistakes find the minority: the share of the minority
    they hold (recall) and the share of them in the minority (precision)."""
    mistakes = np.asarray(proba).argmax(axis=1) != y
    minority = minority_mask(y, groups)
    recall = mistakes[minority].mean() if minority.any() else float("nan")
    precision = minority[mistakes].mean() if mistakes.any() else float("nan")
    return round(float(recall), 4), round(float(precision), 4)


def run_task(task, seed, n_threads=1, methods=None):
    """Train and evaluate the methods on one task and seed; return result rows.

    ``methods`` (names of ``METHODS``; ERM always runs, every ratio needs it)
    defaults to the task's own list, or every method. MAT at its defaults is the
    default candidate of the tuned MAT row of its held-out strategy when that row
    runs, and otherwise a fit of ``MATClassifier(net, random_state=seed)``; JTT
    shares the 5-fold held-out phase of MAT (k-fold) when that row runs, and
    otherwise runs its own.
    """
    methods = set(methods or task.methods or METHODS) | {"ERM"}
    unknown = sorted(methods - set(METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {METHODS}")
    torch.set_num_threads(n_threads)
    data = task.load(seed)
    X, y, groups = data["train"]
    X_valid, y_valid, groups_valid = data["valid"]
    X_test, y_test, groups_test = data["test"]
    net = task.net(X.shape[1])
    chosen = {}

    def erm_fit():
        with forked_torch_rng(seed=seed):
            return clone(net).fit(X, y)

    erm, erm_time = _timed(erm_fit)
    chosen["ERM"] = dict(estimator=erm, fit_time=erm_time, param=None, valid_wga=None)

    # MAT and JTT share the 5-fold held-out phase; MAT (XRM) has its own. MAT at
    # its defaults is the candidate of its default held-out strategy and strength
    # when that strength is one value; otherwise (a choice) a fit of its own below.
    defaults = MATClassifier(net).get_params()
    if defaults["held_out"] == "auto":  # a net, cv unset: XRM's twins
        defaults["held_out"] = "xrm"
    kfold = None
    for method, held_out in MAT_HELD_OUT.items():
        if method not in methods:
            continue
        settings = MAT_SETTINGS[method]
        candidates, first, shared = _grid_with_held_out(
            lambda value, settings=settings: MATClassifier(
                net, shift_strength=value, random_state=seed, **settings
            ),
            GRIDS[method][1],
            X,
            y,
        )
        kfold = shared if held_out == "kfold" else kfold
        # MAT's rule, no labels: the public scorer of its own choice
        recall = held_out_recall(first.held_out_proba_, y, groups)
        candidates = [dict(c, held_out=recall) for c in candidates]
        chosen[method] = _choose(candidates, X_valid, y_valid)
        # the defaults are this row's candidate only where every setting agrees
        same_settings = all(
            defaults[name] == value
            for name, value in settings.items()
            if name not in ("held_out", "cv")
        )
        if (
            held_out == defaults["held_out"]
            and same_settings
            and isinstance(defaults["shift_strength"], Real)
        ):
            (default,) = [
                c for c in candidates if c["param"] == defaults["shift_strength"]
            ]
            chosen["MAT (defaults)"] = dict(default, param=None, valid_wga=None)
    if "MAT (defaults)" in methods and "MAT (defaults)" not in chosen:
        # nothing but the net and the seed: whatever the package's defaults are
        estimator, fit_time = _timed(
            lambda: MATClassifier(net, random_state=seed).fit(X, y)
        )
        recall = held_out_recall(estimator.held_out_proba_, y, groups)
        # the setting the estimator chose for the data, when its default chooses
        choice = getattr(estimator, "chosen_params_", None)
        chosen["MAT (defaults)"] = dict(
            estimator=estimator,
            fit_time=fit_time,
            param=None if choice is None else describe_setting(choice),
            parameter="" if choice is None else "setting",
            selection=SELECTION["MAT (defaults)"] if choice is None else "itself",
            valid_wga=None,
            held_out=recall,
        )
    if "JTT" in methods:
        candidates, _, _ = _grid_with_held_out(
            lambda value: JTTClassifier(
                net, upweight=value, cv=JTT_CV, random_state=seed
            ),
            GRIDS["JTT"][1],
            X,
            y,
            held_out=kfold,
        )
        chosen["JTT"] = _choose(candidates, X_valid, y_valid, groups_valid)

    if "GroupDRO" in methods:
        candidates = []
        for value in GRIDS["GroupDRO"][1]:
            estimator, fit_time = _timed(
                lambda: GroupDROClassifier(net, eta=value, random_state=seed).fit(
                    X, y, groups=groups
                )
            )
            candidates.append(dict(estimator=estimator, fit_time=fit_time, param=value))
        chosen["GroupDRO"] = _choose(candidates, X_valid, y_valid, groups_valid)

    if "Reweighting" in methods:
        estimator, fit_time = _timed(
            lambda: GroupBalancedClassifier(net, random_state=seed).fit(
                X, y, groups=groups
            )
        )
        chosen["Reweighting"] = dict(
            estimator=estimator, fit_time=fit_time, param=None, valid_wga=None
        )
    if "Reweighting (inferred)" in methods:
        estimator, fit_time = _timed(
            lambda: GroupBalancedClassifier(
                net, random_state=seed, **INFERRED_REWEIGHTING
            ).fit(X, y)
        )
        recall = held_out_recall(estimator.held_out_proba_, y, groups)
        chosen["Reweighting (inferred)"] = dict(
            estimator=estimator,
            fit_time=fit_time,
            param=None,
            valid_wga=None,
            held_out=recall,
        )
    if "balanced" in data and "Oracle" in methods:
        X_balanced, y_balanced, _ = data["balanced"]

        def oracle_fit():
            with forked_torch_rng(seed=seed):
                return clone(net).fit(X_balanced, y_balanced)

        estimator, fit_time = _timed(oracle_fit)
        chosen["Oracle"] = dict(
            estimator=estimator, fit_time=fit_time, param=None, valid_wga=None
        )

    rows = []
    for method in [m for m in METHODS if m in chosen]:
        result = chosen[method]
        predicted = result["estimator"].predict(X_test)
        rows.append(
            {
                "task": task.name,
                "method": method,
                "seed": seed,
                "selection": result.get("selection", SELECTION[method]),
                "parameter": (
                    GRIDS[method][0] if method in GRIDS else result.get("parameter", "")
                ),
                "chosen": "" if result["param"] is None else result["param"],
                "valid_wga": (
                    "" if result["valid_wga"] is None else round(result["valid_wga"], 4)
                ),
                "test_accuracy": round(accuracy_score(y_test, predicted), 4),
                "test_wga": round(
                    worst_group_accuracy(y_test, predicted, groups=groups_test), 4
                ),
                "held_out_recall": result.get("held_out", ("", ""))[0],
                "held_out_precision": result.get("held_out", ("", ""))[1],
                "fit_time_s": round(result["fit_time"], 3),
                "fit_time_vs_erm": round(result["fit_time"] / erm_time, 3),
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skmat.benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds and smaller tasks (minutes)"
    )
    parser.add_argument("--seeds", type=int, default=None, help="default 5 (quick: 2)")
    parser.add_argument(
        "--suite",
        choices=SUITES,
        default="synthetic",
        help="synthetic tasks (the default), real-data tasks, safety (every real "
        "dataset at its natural correlation and at agreement 0.9, 0.95 and 0.99, "
        "plus frozen text embeddings; ERM, MAT at its defaults, the baselines with "
        "true groups and the oracle), or all (synthetic and real, not safety)",
    )
    parser.add_argument(
        "--tasks", nargs="+", default=None, help="task names (default: the suite's)"
    )
    parser.add_argument(
        "--describe",
        action="store_true",
        help="print the group sizes of every task and split (seed 0) and exit, "
        "without training",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        choices=METHODS,
        metavar="METHOD",
        help="the methods to run (default: each task's own list; ERM always runs); "
        f"from {METHODS}",
    )
    parser.add_argument("--output-dir", default="benchmark_results")
    parser.add_argument(
        "--merge-with",
        default=None,
        metavar="CSV",
        help="a results.csv of an earlier run: its rows of the methods this run "
        "does not run join this run's tables (the provenance says so)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="runs in parallel processes (default: one per core; each gets "
        "cores / n_jobs torch threads)",
    )
    args = parser.parse_args(argv)
    from tqdm.auto import tqdm

    if args.tasks is None:
        tasks = make_tasks(quick=args.quick, suite=args.suite)
    else:
        tasks = make_tasks(quick=args.quick, suite="all")
        tasks.update(make_tasks(quick=args.quick, suite="safety"))
        unknown = sorted(set(args.tasks) - set(tasks))
        if unknown:
            parser.error(f"unknown task(s) {unknown}; choose from {sorted(tasks)}")
        tasks = {name: tasks[name] for name in args.tasks}
    for name, task in list(tasks.items()):
        if task.missing():
            print(
                f"skipping {name}: its data comes with a wheel that is not installed "
                f"({task.missing()})",
                file=sys.stderr,
            )
            del tasks[name]
    if args.describe:
        table = describe(tasks)
        print(table)
        return table
    n_seeds = args.seeds or (2 if args.quick else 5)
    n_cores = os.cpu_count() or 1
    n_jobs = n_cores if args.n_jobs == -1 else max(1, args.n_jobs)
    threads = max(1, n_cores // n_jobs)
    runs = [(task, seed) for task in tasks.values() for seed in range(n_seeds)]

    start = time.perf_counter()
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_task)(task, seed, threads, args.methods) for task, seed in runs
    )
    rows = []
    for run_rows in tqdm(results, total=len(runs), desc="runs", unit="run"):
        rows.extend(run_rows)
    elapsed = time.perf_counter() - start
    merged = ""
    if args.merge_with:
        ran = {r["method"] for r in rows}
        earlier = [
            r
            for r in read_csv(args.merge_with)
            if r["method"] not in ran and r["task"] in tasks and r["seed"] < n_seeds
        ]
        rows.extend(earlier)
        merged = (
            f"; rows of {sorted({r['method'] for r in earlier})} from "
            f"{args.merge_with} (an earlier run: its own provenance says which)"
        )
    order = {name: i for i, name in enumerate(tasks)}
    rows.sort(key=lambda r: (order[r["task"]], r["seed"], METHODS.index(r["method"])))

    os.makedirs(args.output_dir, exist_ok=True)
    summary = summarize(rows)
    command = "python -m skmat.benchmarks" + (" " + " ".join(argv or sys.argv[1:]))
    header = (
        f"`{command.strip()}` on {date.today().isoformat()}: {n_seeds} seeds, "
        f"{len(runs)} runs in {elapsed / 60:.1f} min ({n_cores} CPU cores, {n_jobs} "
        f"processes; torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"skorch {skorch.__version__}, Python {platform.python_version()})."
    )
    write_csv(rows, os.path.join(args.output_dir, "results.csv"))
    # the columns of every method the tasks report, in METHODS order
    reported = set().union(*(task.methods or METHODS for task in tasks.values()))
    methods = [m for m in METHODS if m in reported]
    table = markdown(summary, header, methods)
    safety = [r for r in rows if tasks[r["task"]].methods == SAFETY_METHODS]
    if safety:
        table += "\n" + paired_markdown(safety)
        present = [
            m for m in METHODS if m != "ERM" and any(r["method"] == m for r in safety)
        ]
        table += (
            "\nEvery method against ERM over the tasks (shares of the oracle's headroom "
            "over the tasks where it is at least 0.03):\n\n"
            + headroom_markdown(safety, [m for m in present if m != "Oracle"])
        )
    with open(os.path.join(args.output_dir, "results.md"), "w") as f:
        f.write(table)
    written = ["results.csv", "results.md"]
    try:
        plot(summary, os.path.join(args.output_dir, "results.png"), methods)
        written.append("results.png")
    except ImportError:
        print("matplotlib is missing: no results.png", file=sys.stderr)
    # MAT (defaults) measures the defaults of this commit: record them
    defaults = {
        name: value if isinstance(value, (str, int, float, type(None))) else repr(value)
        for name, value in MATClassifier(None).get_params().items()
        if name != "estimator"
    }
    write_provenance(
        args.output_dir,
        written,
        command=command.strip(),
        machine=(
            f"{n_cores} CPU cores ({platform.machine()}, {platform.processor() or '?'})"
            f", {n_jobs} processes; torch {torch.__version__}, scikit-learn "
            f"{sklearn.__version__}, skorch {skorch.__version__}, Python "
            f"{platform.python_version()}"
        ),
        configuration=(
            f"{n_seeds} seeds, {len(runs)} runs in {elapsed / 60:.1f} min; tasks "
            f"{list(tasks)}; methods {args.methods or 'each task: its own list'}; "
            f"tuned MAT rows {MAT_SETTINGS}; MAT (defaults) is "
            f"MATClassifier(net, random_state=seed) with the defaults {defaults}"
            f"{merged}"
        ),
    )
    print(table)
    print(f"written to {args.output_dir}/results.csv, results.md, results.png")
    return rows


if __name__ == "__main__":
    main()

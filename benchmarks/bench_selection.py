"""How should MAT choose its setting for the data, without group labels? Log every
label-free signal of the default's search, for every candidate, on the development
tasks (the synthetic and real suites) and, with ``--controls``, on controls where
MAT has nothing to find (the synthetic generators with the attribute independent of
the label, with and without label noise; fixed before MAT was run on them).

For each task and seed: each candidate of ``MATClassifier(net,
shift_strength="auto")`` (its own list: plain training, the paper's shift with XRM's
twins and with 5 folds at a quarter of the epochs, reweighting of the groups XRM's
twins infer), refitted on the whole training set as the default refits (each
held-out phase runs once and is shared), and its test accuracy; then the search's
split (``--selection-fraction`` of the training set held out), each candidate's net
trained on the rest with the held-out predictions of its own phase, and on the
validation rows: the accuracy within each group of label x mistake of plain nets
cross-fitted on those rows (group sizes ``n_g*``, accuracies ``acc_g*``), their
mean and worst, the public criterion (``selection_score`` of
:class:`skmat.metrics.CrossFitGroupScorer`, checked against the scorer), the
held-out phase's error rate on the training set, and the true-group validation
accuracy for reference only.

Every figure goes to ``--output`` (CSV, one row per task, seed and candidate);
``benchmarks/selection_rules.py`` ranks rules on it. The criterion of the default
was fixed on ``benchmarks/results/selection_search.csv`` (3 seeds, controls
included) before the safety suite ran.
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
from skmat._crossfit import crossfit_groups_of, group_scores
from skmat._search import describe_setting, selection_split
from skmat.benchmarks import MLP, Linear, make_tasks
from skmat.benchmarks._nets import make_net
from skmat.benchmarks._task import Task, split_off_validation
from skmat.datasets import make_colored_digits, make_colored_mnist, make_overparam_toy
from skmat.metrics import CrossFitGroupScorer, worst_group_accuracy


def _digits(agreement, noise):
    def load(seed):
        train, valid = split_off_validation(
            make_colored_digits(
                agreement=agreement,
                label_noise=noise,
                subset="train",
                random_state=seed,
            ),
            seed,
        )
        test = make_colored_digits(
            agreement=0.5, subset="test", random_state=1000 + seed
        )
        return {"train": train, "valid": valid, "test": test}

    return load


def _toy(seed):
    def toy(n, offset):
        return make_overparam_toy(
            n, n_noise_features=1000, majority_fraction=0.5, random_state=offset + seed
        )

    return {"train": toy(3000, 0), "valid": toy(1000, 2000), "test": toy(2000, 1000)}


def _mnist(seed):
    return {
        "train": make_colored_mnist(
            4000, agreement=0.5, label_noise=0.25, random_state=seed
        ),
        "valid": make_colored_mnist(
            1000, agreement=0.5, label_noise=0.25, subset="valid", random_state=seed
        ),
        "test": make_colored_mnist(
            agreement=0.5, subset="test", random_state=1000 + seed
        ),
    }


def control_tasks():
    """Tasks without a shortcut (the attribute is independent of the label)."""
    digits = dict(optimizer=torch.optim.Adam, lr=3e-3, max_epochs=60, batch_size=128)
    mnist = dict(optimizer=torch.optim.Adam, lr=1e-3, max_epochs=30, batch_size=256)
    tasks = [
        Task(
            "control-digits",
            "coloured digits, colour independent of the label",
            _digits(0.5, 0.0),
            lambda n: make_net(MLP, n, **digits),
        ),
        Task(
            "control-digits-noise0.2",
            "coloured digits, colour independent, 20% label noise",
            _digits(0.5, 0.2),
            lambda n: make_net(MLP, n, **digits),
        ),
        Task(
            "control-toy-N1000",
            "Sagawa's toy with 1000 noise dims, attribute independent of the label",
            _toy,
            lambda n: make_net(
                Linear,
                n,
                optimizer=torch.optim.Adam,
                lr=1e-2,
                max_epochs=300,
                batch_size=-1,
            ),
        ),
        Task(
            "control-mnist-noise0.25",
            "coloured MNIST, colour independent, 25% label noise",
            _mnist,
            lambda n: make_net(MLP, n, **mnist),
        ),
    ]
    return {task.name: task for task in tasks}


def candidate_rows(task, seed, fraction=0.5, signals=True):
    """Every candidate of ``shift_strength="auto"`` on one task and seed: its test
    accuracy (refitted on the whole training set, as the default refits) and every
    label-free signal of the search (its net trained on the search's training rows,
    scored on the validation rows grouped by cross-fitted plain nets), with the
    true-group validation accuracy beside them for reference."""
    torch.set_num_threads(1)
    data = task.load(seed)
    X, y, groups = data["train"]
    X_test, y_test, groups_test = data["test"]
    net = task.net(X.shape[1])
    default = MATClassifier(net, random_state=seed, selection_fraction=fraction)
    candidates = default._candidates()  # the default's own candidate list
    # each held-out phase once: the candidate with the shift that runs it
    phases, refits = {}, []
    for params in candidates:
        key = default._phase_key(params)
        model = clone(default).set_params(**params)
        if key in phases:
            model.fit(X, y, held_out_proba=phases[key])
        else:
            model.fit(X, y)
            phases[key] = model.held_out_proba_
        refits.append(model)
    y_encoded = np.searchsorted(refits[0].classes_, y)
    train, valid = selection_split(y_encoded, fraction, seed)
    rows = []
    if not signals:  # the refits' test accuracy only (a ceiling)
        for params, refit in zip(candidates, refits):
            predicted = refit.predict(X_test)
            rows.append(
                dict(
                    task=task.name,
                    seed=seed,
                    candidate=describe_setting(params),
                    test_wga=round(
                        worst_group_accuracy(y_test, predicted, groups=groups_test), 4
                    ),
                    test_accuracy=round(accuracy_score(y_test, predicted), 4),
                )
            )
        return rows
    for params, refit in zip(candidates, refits):
        proba = phases[default._phase_key(params)]
        model = clone(default).set_params(**params)
        model.fit(X[train], y[train], held_out_proba=proba[train])
        # the public scorer gives the criterion; its groups give the rest
        scorer = CrossFitGroupScorer(random_state=seed)
        codes, inferred = crossfit_groups_of(model, X[valid], y[valid], seed)
        predicted = model.predict(X[valid])
        scores = group_scores(codes.y, codes.encode(predicted), inferred)
        assert scores["selection_score"] == scorer(model, X[valid], y[valid])
        test_predicted = refit.predict(X_test)
        row = dict(
            task=task.name,
            seed=seed,
            candidate=describe_setting(params),
            test_wga=worst_group_accuracy(y_test, test_predicted, groups=groups_test),
            test_accuracy=accuracy_score(y_test, test_predicted),
            valid_true_wga=worst_group_accuracy(
                y[valid], predicted, groups=groups[valid]
            ),
            held_out_error=float(np.mean(proba.argmax(axis=1) != y_encoded)),
            **scores,
        )
        right = codes.encode(predicted) == codes.y
        for group in range(4):  # (label, cross-fitted mistake) of two classes
            member = inferred == group
            row[f"n_g{group}"] = int(member.sum())
            row[f"acc_g{group}"] = float(right[member].mean()) if member.any() else ""
        rows.append(
            {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--selection-fraction", type=float, default=0.5)
    parser.add_argument("--controls", action="store_true", help="the controls too")
    parser.add_argument(
        "--safety",
        action="store_true",
        help="the safety suite's tasks instead (to measure the candidates' ceiling "
        "after the default ran there, never to choose the rule)",
    )
    parser.add_argument(
        "--refits-only",
        action="store_true",
        help="only each candidate refitted on the whole training set and its test "
        "accuracy (the candidates' ceiling), no search signals",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="benchmark_results/selection.csv")
    args = parser.parse_args()
    tasks = {**make_tasks(suite="all"), **control_tasks()}
    if args.safety:
        tasks = make_tasks(suite="safety")
    names = args.tasks or [
        n
        for n, t in tasks.items()
        if not t.missing() and (args.controls or not n.startswith("control"))
    ]
    runs = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(candidate_rows)(
            tasks[n], seed, args.selection_fraction, not args.refits_only
        )
        for n in names
        for seed in range(args.seeds)
    )
    rows = []
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    for run_rows in runs:  # written as they come, so a long sweep can be read early
        rows.extend(run_rows)
        fields = list(dict.fromkeys(k for r in rows for k in r))
        with open(args.output, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()

"""Which label-free rule should choose among the default's candidates? Read the
development sweep of ``bench_selection.py`` (one row per task, seed and candidate,
with every label-free signal) and, for each rule, the candidate it picks per run.

For every rule: over the development tasks (not the controls), the share of the
candidates' headroom it takes (pooled: the sum of its gains over plain training
divided by the sum of the best candidate's, picked on the test set; clipped: the
mean per task of that ratio clipped to [0, 1], tasks with headroom >= 0.03), how
many tasks it keeps within 0.02 of plain training and how many it lifts by 0.05 or
more (mean test worst-group accuracy over seeds), and on the controls (no shortcut)
its mean and worst difference from plain training. The rule of
``skmat._crossfit.group_scores`` was fixed from this table, before the safety suite
ran.

Run::

    python benchmarks/selection_rules.py benchmarks/results/selection_search.csv
"""

import argparse

import numpy as np
import pandas as pd


def standard_error(row):
    """The standard error of the mean group accuracy of one candidate."""
    accuracies, sizes = [], []
    for group in range(4):
        if row[f"n_g{group}"] > 0 and not pd.isna(row[f"acc_g{group}"]):
            accuracies.append(row[f"acc_g{group}"])
            sizes.append(row[f"n_g{group}"])
    accuracies, sizes = np.array(accuracies), np.array(sizes)
    return np.sqrt(np.sum(accuracies * (1 - accuracies) / sizes)) / len(accuracies)


def weighted(worst_weight):
    def score(run):
        return (
            run.mean_group_accuracy + worst_weight * run.worst_group_accuracy
        ).values

    return score


SCORES = {
    "mean": lambda run: run.mean_group_accuracy.values,
    "worst": lambda run: run.worst_group_accuracy.values,
    "(mean + worst) / 2": weighted(1.0),
    "mean + 0.1 worst": weighted(0.1),
    "mean + 0.3 worst": weighted(0.3),
    "mean + 0.5 worst": weighted(0.5),
    "true validation groups (reference)": lambda run: run.valid_true_wga.values,
}


def pick(run, score, margin):
    """The position the rule picks; with ``margin``, plain training (position 0)
    unless the best beats it by more than ``margin`` standard errors."""
    values = score(run)
    best = int(np.argmax(values))
    if margin and values[best] - values[0] <= margin * run.se.values[0]:
        return 0
    return best


def evaluate(data, score, margin):
    picks = []
    for (task, seed), run in data.groupby(["task", "seed"], sort=False):
        run = run.sort_values("position")
        chosen = pick(run, score, margin)
        plain = run.test_wga.values[0]
        picks.append(
            dict(
                task=task,
                gain=run.test_wga.values[chosen] - plain,
                headroom=run.test_wga.max() - plain,
                chosen=chosen,
            )
        )
    picks = pd.DataFrame(picks)
    tasks = picks.groupby("task").agg(
        gain=("gain", "mean"), headroom=("headroom", "mean")
    )
    control = tasks.index.str.startswith("control")
    dev, ctrl = tasks[~control], tasks[control]
    ratio = dev.gain / dev.headroom.where(dev.headroom >= 0.03)
    return {
        "pooled share": round(dev.gain.sum() / dev.headroom.sum(), 3),
        "clipped share": round(float(np.clip(ratio, 0, 1).mean()), 3),
        "within 0.02": f"{int((dev.gain >= -0.02).sum())}/{len(dev)}",
        "+0.05": f"{int((dev.gain >= 0.05).sum())}/{len(dev)}",
        "controls mean": round(ctrl.gain.mean(), 3),
        "controls worst": round(ctrl.gain.min(), 3),
        "picks per candidate": np.bincount(picks.chosen, minlength=4).tolist(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv")
    args = parser.parse_args()
    data = pd.read_csv(args.csv)
    data["position"] = data.groupby(["task", "seed"]).cumcount()
    data["se"] = data.apply(standard_error, axis=1)
    rows = [
        {"rule": name, "margin (SE)": margin, **evaluate(data, score, margin)}
        for name, score in SCORES.items()
        for margin in (0, 1)
    ]
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    candidates = data.groupby("position").candidate.first().tolist()
    print("\ncandidates:", "; ".join(f"{i}: {c}" for i, c in enumerate(candidates)))


if __name__ == "__main__":
    main()

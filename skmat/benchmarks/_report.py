"""The benchmark's outputs: the summary over seeds, the Markdown tables, the figure
and the CSV of every run."""

import csv
from collections import Counter

import numpy as np

from ._methods import MAT_HELD_OUT, METHODS


def _value(value):
    """A chosen value as the tables print it: a number in its shortest form."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


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
            for key in ("held_out_recall", "held_out_precision"):
                values = [r[key] for r in runs if r.get(key, "") != ""]
                if values:
                    stats[key] = (float(np.mean(values)), float(np.std(values)))
            chosen = Counter(r["chosen"] for r in runs if r["chosen"] != "")
            summary.append(
                dict(
                    task=task,
                    method=method,
                    n_seeds=len(runs),
                    selection=runs[0]["selection"],
                    chosen=", ".join(
                        f"{_value(k)} ({n})" for k, n in sorted(chosen.items(), key=str)
                    ),
                    **stats,
                )
            )
    return summary


def _pm(mean_std, digits=3):
    mean, std = mean_std
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown(summary, header, methods=METHODS):
    """The results as Markdown: worst-group accuracy per task and method (a column
    for each of ``methods``), then every figure per task and method."""
    tasks = list(dict.fromkeys(s["task"] for s in summary))
    lines = [header, "", "Worst-group test accuracy, mean ± std over seeds:", ""]
    lines.append("| task | " + " | ".join(methods) + " |")
    lines.append("|---" * (len(methods) + 1) + "|")
    for task in tasks:
        cells = {
            s["method"]: _pm(s["test_wga"], 2) for s in summary if s["task"] == task
        }
        lines.append(
            f"| {task} | " + " | ".join(cells.get(m, "") for m in methods) + " |"
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
    held_out = [s for s in summary if "held_out_recall" in s]
    if held_out:
        lines += [
            "",
            "The held-out mistakes against the true minority of the training set "
            "(the examples outside the largest group of their class): the share of "
            "the minority they hold (recall) and their share in it (precision):",
            "",
            "| task | method | recall | precision |",
            "|---|---|---|---|",
        ]
        tuned = {s["task"] for s in held_out if s["method"] in MAT_HELD_OUT}
        for s in held_out:
            # MAT at its defaults has a row of its own where no tuned row ran
            untuned = s["method"] == "MAT (defaults)" and s["task"] not in tuned
            if s["method"] in MAT_HELD_OUT or untuned:
                lines.append(
                    f"| {s['task']} | {s['method']} | {_pm(s['held_out_recall'], 2)} "
                    f"| {_pm(s['held_out_precision'], 2)} |"
                )
    return "\n".join(lines) + "\n"


def paired_markdown(rows, minimum_headroom=0.03):
    """MAT at its defaults against ERM and the oracle, as Markdown: per task the
    worst-group test accuracy of MAT (defaults) minus ERM's, paired by seed (mean
    +- std over seeds), the oracle's headroom over ERM and MAT's share of it; then
    over the tasks, how many are at least -0.02 and at least +0.05, the mean share
    of the headroom over the tasks where the oracle is ahead of ERM by
    ``minimum_headroom`` or more, and the median fit time of MAT relative to ERM."""
    by_run = {(r["task"], r["seed"], r["method"]): r for r in rows}
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    lines = [
        "MAT at its defaults against ERM, paired by seed (worst-group test accuracy; "
        "the oracle's headroom is its mean minus ERM's, MAT's share of it is (MAT - "
        f"ERM) / (oracle - ERM) where the headroom is at least {minimum_headroom}):",
        "",
        "| task | MAT - ERM | oracle - ERM | share of the headroom | MAT fit time vs "
        "ERM |",
        "|---|---|---|---|---|",
    ]
    differences, shares, costs = {}, {}, []
    for task in tasks:
        seeds = sorted({r["seed"] for r in rows if r["task"] == task})
        pairs = [
            (by_run[task, seed, "MAT (defaults)"], by_run[task, seed, "ERM"])
            for seed in seeds
            if (task, seed, "MAT (defaults)") in by_run
        ]
        if not pairs:
            continue
        difference = [mat["test_wga"] - erm["test_wga"] for mat, erm in pairs]
        differences[task] = float(np.mean(difference))
        cost = float(np.mean([mat["fit_time_vs_erm"] for mat, _ in pairs]))
        costs.append(cost)
        oracle = [
            by_run[task, seed, "Oracle"]["test_wga"]
            - by_run[task, seed, "ERM"]["test_wga"]
            for seed in seeds
            if (task, seed, "Oracle") in by_run
        ]
        headroom = float(np.mean(oracle)) if oracle else float("nan")
        if headroom >= minimum_headroom:
            shares[task] = differences[task] / headroom
        headroom_cell = f"{headroom:.3f}" if oracle else ""
        share_cell = f"{shares[task]:.2f}" if task in shares else ""
        spread = float(np.std(difference))
        lines.append(
            f"| {task} | {_pm((differences[task], spread))} | {headroom_cell} | "
            f"{share_cell} | {cost:.2f}x |"
        )
    if differences:
        # rounded: a mean of 0.05 must count as 0.05, not 0.0499999
        values = np.round(np.array(list(differences.values())), 6)
        lines += [
            "",
            f"Over {len(values)} tasks: MAT - ERM >= -0.02 on {np.sum(values >= -0.02)}"
            f", >= +0.05 on {np.sum(values >= 0.05)}; mean share of the oracle's "
            "headroom "
            + (
                f"{np.mean(list(shares.values())):.2f} over the {len(shares)} tasks "
                f"where the headroom is at least {minimum_headroom}"
                if shares
                else f"undefined (no task has a headroom of {minimum_headroom})"
            )
            + f"; median fit time of MAT vs ERM {np.median(costs):.2f}x.",
        ]
    return "\n".join(lines) + "\n"


def headroom_markdown(rows, methods, minimum_headroom=0.03):
    """Each of ``methods`` against ERM over the tasks, as Markdown: tasks within
    0.02 of ERM and at +0.05 or more (mean over seeds of the paired difference in
    worst-group test accuracy), its share of the oracle's headroom (the mean of the
    per-task shares where the headroom is at least ``minimum_headroom``; pooled:
    the sum of the differences over the sum of the headrooms; clipped: the mean of
    the per-task shares clipped to [0, 1]) and its median fit time relative to
    ERM's."""
    by_run = {(r["task"], r["seed"], r["method"]): r for r in rows}
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    lines = [
        "| method | within 0.02 of ERM | +0.05 or more | share of the headroom | "
        "pooled share | clipped share | median fit time vs ERM |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in methods:
        differences, headrooms, costs = [], [], []
        for task in tasks:
            seeds = [
                seed
                for seed in sorted({r["seed"] for r in rows if r["task"] == task})
                if (task, seed, method) in by_run and (task, seed, "ERM") in by_run
            ]
            if not seeds:
                continue
            erm = [by_run[task, seed, "ERM"]["test_wga"] for seed in seeds]
            ours = [by_run[task, seed, method]["test_wga"] for seed in seeds]
            oracle = [
                by_run[task, seed, "Oracle"]["test_wga"]
                for seed in seeds
                if (task, seed, "Oracle") in by_run
            ]
            differences.append(float(np.mean(ours) - np.mean(erm)))
            headrooms.append(
                float(np.mean(oracle) - np.mean(erm)) if oracle else float("nan")
            )
            costs.append(
                float(
                    np.mean([by_run[task, s, method]["fit_time_vs_erm"] for s in seeds])
                )
            )
        if not differences:
            continue
        values = np.round(np.array(differences), 6)
        headroom = np.array(headrooms)
        counted = headroom >= minimum_headroom
        shares = values[counted] / headroom[counted]
        lines.append(
            f"| {method} | {np.sum(values >= -0.02)}/{len(values)} | "
            f"{np.sum(values >= 0.05)}/{len(values)} | {np.mean(shares):.2f} | "
            f"{values[counted].sum() / headroom[counted].sum():.2f} | "
            f"{np.mean(np.clip(shares, 0, 1)):.2f} | {np.median(costs):.2f}x |"
        )
    return "\n".join(lines) + "\n"


def plot(summary, path, methods=METHODS):
    """Bars of worst-group test accuracy (with std) per task and method (each of
    ``methods``), and the average accuracy as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(s["task"] for s in summary))
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(tasks)), 5))
    for i, method in enumerate(methods):
        stats = {s["task"]: s for s in summary if s["method"] == method}
        x = (
            np.array([t for t, task in enumerate(tasks) if task in stats])
            + (i - (len(methods) - 1) / 2) * width
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
    ax.legend(ncols=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.32))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def read_csv(path):
    """The rows of a results.csv, numbers as numbers."""
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            for key in ("seed",):
                row[key] = int(row[key])
            for key in ("test_wga", "test_accuracy", "fit_time_s", "fit_time_vs_erm"):
                row[key] = float(row[key])
            for key in ("held_out_recall", "held_out_precision"):
                if row.get(key, "") != "":
                    row[key] = float(row[key])
            rows.append(row)
    return rows


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _git_commit():
    """The checkout's commit (``+changes`` when it has uncommitted changes), or
    None outside a git checkout."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changes else "")


def write_provenance(directory, files, *, command, machine, configuration):
    """Record in ``directory/PROVENANCE.json`` where each of ``files`` came from:
    date, commit, machine, command and configuration (the entries of other files
    stay). The documentation prints it under every table computed from them."""
    import json
    import os
    from datetime import date

    path = os.path.join(directory, "PROVENANCE.json")
    entries = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    commit = _git_commit()
    for name in files:
        entries[name] = {
            "date": date.today().isoformat(),
            "commit": commit or "not a git checkout",
            "code": commit or "not a git checkout",
            "machine": machine,
            "command": command,
            "configuration": configuration,
        }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return path

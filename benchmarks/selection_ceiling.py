"""How far could a choice among the default's candidates go on the safety suite?

Reads the candidates' test accuracies (``bench_selection.py --safety
--refits-only``: each candidate of ``shift_strength="auto"`` refitted on the whole
training set) and the suite's results (ERM, the oracle and MAT at its defaults, same
tasks and seeds), and reports, over the tasks, how many are within 0.02 of ERM and
at +0.05 or more (mean over the seeds), and the share of the oracle's headroom (the
mean of (method - ERM) / (oracle - ERM) over the tasks where the oracle is 0.03 or
more ahead; pooled: the sums; clipped: each share clipped to [0, 1]) for:

* each candidate, fixed;
* the best candidate per seed, picked on the test set (a ceiling no rule passes);
* the candidate with the best mean over the *other* seeds of the same task (a
  ceiling a rule that knew each task, but not the seed, could reach);
* MAT at its defaults (the search), on the same seeds.

Run::

    python benchmarks/selection_ceiling.py CANDIDATES.csv benchmarks/results/safety/results.csv
"""

import argparse

import numpy as np
import pandas as pd


def summary(gains, headrooms):
    """Counts and shares over the tasks from per-task mean gains and headrooms."""
    gains = np.round(np.asarray(gains), 6)
    headrooms = np.asarray(headrooms)
    counted = headrooms >= 0.03
    shares = gains[counted] / headrooms[counted]
    return {
        "within 0.02 of ERM": f"{np.sum(gains >= -0.02)}/{len(gains)}",
        "+0.05 or more": f"{np.sum(gains >= 0.05)}/{len(gains)}",
        "share of the headroom": round(float(np.mean(shares)), 3),
        "pooled share": round(
            float(gains[counted].sum() / headrooms[counted].sum()), 3
        ),
        "clipped share": round(float(np.mean(np.clip(shares, 0, 1))), 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("candidates")
    parser.add_argument("results")
    args = parser.parse_args()
    candidates = pd.read_csv(args.candidates)
    results = pd.read_csv(args.results)
    seeds = sorted(candidates.seed.unique())
    results = results[results.seed.isin(seeds)]
    by_method = results.pivot_table(
        index=["task", "seed"], columns="method", values="test_wga"
    )
    table = candidates.pivot_table(
        index=["task", "seed"], columns="candidate", values="test_wga"
    )
    names = list(dict.fromkeys(candidates.candidate))
    tasks = list(dict.fromkeys(candidates.task))
    erm = by_method["ERM"]
    headroom = (by_method["Oracle"] - erm).groupby("task").mean()

    def row(name, picked):
        gain = (picked - erm.loc[picked.index]).groupby("task").mean()
        return {"rule": name, **summary(gain[tasks], headroom[tasks])}

    rows = [row(f"fixed: {name}", table[name]) for name in names]
    rows.append(row("best per seed, picked on the test set", table.max(axis=1)))
    other = []
    for (task, seed), values in table.iterrows():
        rest = table.loc[task].drop(index=seed).mean()
        other.append(values[rest.idxmax()])
    rows.append(
        row("best on the other seeds of the task", pd.Series(other, index=table.index))
    )
    rows.append(row("MAT at its defaults (the search)", by_method["MAT (defaults)"]))
    print(
        f"Seeds {seeds}; {len(tasks)} tasks; ERM and the oracle from {args.results}.\n"
    )
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()

"""The benchmark command (python -m skmat.benchmarks) on its smallest setting."""

import csv

import numpy as np
import pytest

from skmat import benchmarks
from skmat.benchmarks._run import _choose


class _Fixed:
    """A fitted stand-in that predicts given labels."""

    def __init__(self, predicted):
        self.predicted = np.asarray(predicted)

    def predict(self, X):
        return self.predicted


def test_choose_takes_the_best_validation_worst_group_then_accuracy():
    y = np.array([0, 0, 0, 1, 1, 1])
    groups = np.array([0, 0, 1, 2, 2, 3])
    candidates = [
        dict(estimator=_Fixed([0, 0, 1, 1, 1, 1]), param=1),  # group 1 wrong: WGA 0
        dict(estimator=_Fixed([0, 1, 0, 1, 1, 1]), param=2),  # WGA 0.5, acc 5/6
        dict(estimator=_Fixed([1, 0, 0, 1, 0, 1]), param=3),  # WGA 0.5, acc 4/6
    ]
    best = _choose(candidates, None, y, groups)
    assert best["param"] == 2 and best["valid_wga"] == 0.5


def test_summary_and_markdown():
    rows = [
        dict(
            task="t",
            method=method,
            seed=seed,
            selection="none",
            chosen=1.0,
            test_accuracy=0.5 + seed / 10,
            test_wga=0.25,
            fit_time_vs_erm=2.0,
        )
        for method in benchmarks.METHODS
        for seed in range(2)
    ]
    summary = benchmarks.summarize(rows)
    assert len(summary) == len(benchmarks.METHODS)
    assert summary[0]["test_accuracy"] == pytest.approx((0.55, 0.05))
    assert summary[0]["chosen"] == "1 (2)"
    table = benchmarks.markdown(summary, "header")
    assert "| t | 0.25 ± 0.00 |" in table
    assert (
        "| t | MAT (k-fold) | none | 1 (2) | 0.550 ± 0.050 | 0.250 ± 0.000 | 2.00x |"
        in table
    )


def test_quick_command_writes_csv_markdown_and_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rows = benchmarks.main(
        [
            "--quick",
            "--tasks",
            "colored-digits",
            "--seeds",
            "1",
            "--n-jobs",
            "1",
            "--output-dir",
            str(tmp_path),
        ]
    )
    # no oracle: the synthetic tasks have no group-balanced training set
    methods = [m for m in benchmarks.METHODS if m != "Oracle"]
    assert [row["method"] for row in rows] == methods
    with open(tmp_path / "results.csv") as f:
        saved = list(csv.DictReader(f))
    assert [row["method"] for row in saved] == methods
    for row in saved:
        assert 0 <= float(row["test_wga"]) <= float(row["test_accuracy"]) <= 1
        assert float(row["fit_time_vs_erm"]) > 0
    # MAT's grid was searched and a value chosen on validation data
    mat = next(row for row in saved if row["method"] == "MAT (k-fold)")
    assert float(mat["chosen"]) in benchmarks.GRIDS["MAT (k-fold)"][1]
    assert mat["selection"] == "inferred groups"
    # MAT at its defaults is one of the grids' candidates, chosen by nobody
    defaults = next(row for row in saved if row["method"] == "MAT (defaults)")
    assert defaults["selection"] == "none" and defaults["chosen"] == ""
    assert (tmp_path / "results.png").stat().st_size > 10_000
    table = (tmp_path / "results.md").read_text()
    assert "colored-digits" in table and "GroupDRO" in table
    assert "colored-digits" in capsys.readouterr().out


def test_unknown_task_is_an_error(capsys):
    with pytest.raises(SystemExit):
        benchmarks.main(["--tasks", "imagenet"])
    assert "unknown task" in capsys.readouterr().err

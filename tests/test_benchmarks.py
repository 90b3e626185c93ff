"""The benchmark command (python -m skmat.benchmarks) on its smallest setting."""

import csv
import json

import numpy as np
import pytest

from skmat import benchmarks
from skmat.benchmarks._real import balanced_rows, token_ids
from skmat.benchmarks._run import (
    _choose,
    held_out_recall,
    minority_mask,
    paired_markdown,
)
from skmat.benchmarks._safety import (
    CONSTRUCTIONS,
    DATASETS,
    SAFETY_METHODS,
    SIZES,
    agreement_counts,
    construction_rows,
    group_table,
    natural_counts,
)


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
    assert mat["selection"] == "crossfit_group_scorer"
    # MAT at its defaults chooses its setting itself, without labels
    defaults = next(row for row in saved if row["method"] == "MAT (defaults)")
    assert defaults["selection"] == "itself"
    assert defaults["parameter"] == "setting"
    assert "shift_strength=" in defaults["chosen"]
    assert (tmp_path / "results.png").stat().st_size > 10_000
    table = (tmp_path / "results.md").read_text()
    assert "colored-digits" in table and "GroupDRO" in table
    assert "colored-digits" in capsys.readouterr().out
    # every file written carries its provenance, for the docs that cite it
    with open(tmp_path / "PROVENANCE.json") as f:
        provenance = json.load(f)
    for name in ["results.csv", "results.md", "results.png"]:
        entry = provenance[name]
        for key in ["date", "commit", "machine", "command", "configuration"]:
            assert entry[key], (name, key)
        assert "--quick" in entry["command"]
        assert "shift_strength" in entry["configuration"]


def test_unknown_task_is_an_error(capsys):
    with pytest.raises(SystemExit):
        benchmarks.main(["--tasks", "imagenet"])
    assert "unknown task" in capsys.readouterr().err


def test_minority_and_the_recall_of_held_out_mistakes():
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    groups = np.array([0, 0, 1, 3, 3, 3, 2])
    # each class's largest group is its majority
    np.testing.assert_array_equal(
        minority_mask(y, groups), [False, False, True, False, False, False, True]
    )
    # mistakes on rows 2 (minority) and 3 (majority)
    proba = np.eye(2)[[0, 0, 1, 0, 1, 1, 1]]
    assert held_out_recall(proba, y, groups) == (0.5, 0.5)


def test_balanced_rows_take_each_group_equally_and_leave_out_rows():
    groups = np.repeat([0, 1, 2, 3], [50, 10, 30, 40])
    rows = balanced_rows(groups, 100, np.random.RandomState(0), exclude=[50, 51])
    # 25 per group asked, group 1 has 8 rows left: 8 of each
    assert np.bincount(groups[rows]).tolist() == [8, 8, 8, 8]
    assert not np.isin([50, 51], rows).any()
    assert len(np.unique(rows)) == len(rows)


def test_token_ids_rank_words_and_pad_with_zero():
    vocabulary = {"good": 0, "not": 1}
    ids = token_ids(["Not good, not good at all.", "Unknown words only"], vocabulary, 4)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [[2, 1, 2, 1], [0, 0, 0, 0]])


@pytest.mark.parametrize("name", sorted(benchmarks.make_tasks(suite="real")))
def test_real_tasks_give_their_splits_and_a_net_that_takes_them(name):
    task = benchmarks.make_tasks(quick=True, suite="real")[name]
    if task.missing():
        pytest.skip(f"needs {task.missing()}")
    data = task.load(0)
    assert set(data) == {"train", "valid", "test", "balanced"}
    for X, y, groups in data.values():
        assert len(X) == len(y) == len(groups) and np.isfinite(X).all()
        assert set(np.unique(y)) == {0, 1} and set(np.unique(groups)) == {0, 1, 2, 3}
    balanced = np.bincount(data["balanced"][2])
    assert balanced.min() == balanced.max()
    X, y, _ = data["train"]
    net = task.net(X.shape[1]).set_params(max_epochs=1)
    assert net.fit(X[:64], y[:64]).predict_proba(X[:3]).shape == (3, 2)


# --- the safety suite: the constructions ------------------------------------------


def test_agreement_counts_are_exact_and_balanced():
    assert agreement_counts(200, 0.95).tolist() == [95, 5, 5, 95]
    assert agreement_counts(200, 0.99).tolist() == [99, 1, 1, 99]
    with pytest.raises(ValueError, match="whole number"):
        agreement_counts(100, 0.99)  # 49.5 rows per class
    with pytest.raises(ValueError, match="even"):
        agreement_counts(101, 0.9)


def test_natural_counts_keep_the_proportions_and_the_size():
    counts = natural_counts(100, [300, 100, 50, 550])
    assert counts.tolist() == [30, 10, 5, 55]
    assert natural_counts(7, [1, 1, 1, 1]).sum() == 7


@pytest.mark.parametrize("agreement", [None, 0.9, 0.95, 0.99])
def test_construction_rows_fix_sizes_agreement_and_keep_splits_apart(agreement):
    groups = np.repeat([0, 1, 2, 3], [900, 700, 300, 1100])
    rows = construction_rows(groups, agreement, 400, 200, 0, test_per_group=50)
    assert len(rows["train"]) == 400 and len(rows["valid"]) == 200
    assert np.bincount(groups[rows["test"]]).tolist() == [50] * 4
    for split in ("train", "valid"):
        counts = np.bincount(groups[rows[split]], minlength=4)
        if agreement is None:  # the data's own proportions
            expected = natural_counts(len(rows[split]), np.bincount(groups))
            assert counts.tolist() == expected.tolist()
        else:  # balanced classes, exactly `agreement` of each in its agreeing group
            assert counts[0] + counts[1] == counts[2] + counts[3]
            assert counts[0] / (counts[0] + counts[1]) == agreement
            assert counts[3] / (counts[2] + counts[3]) == agreement
    # disjoint training, validation and test sets
    everything = np.concatenate([rows["train"], rows["valid"], rows["test"]])
    assert len(np.unique(everything)) == len(everything)
    # the oracle set: group-balanced, the training size, no validation or test row
    assert np.bincount(groups[rows["balanced"]]).tolist() == [100] * 4
    assert not np.isin(rows["balanced"], np.r_[rows["valid"], rows["test"]]).any()


def test_construction_rows_keep_the_test_set_across_constructions():
    groups = np.repeat([0, 1, 2, 3], [900, 700, 300, 1100])
    tests = [
        construction_rows(groups, agreement, 400, 200, 3, test_per_group=50)["test"]
        for agreement in (None, 0.9, 0.99)
    ]
    np.testing.assert_array_equal(tests[0], tests[1])
    np.testing.assert_array_equal(tests[0], tests[2])


def test_safety_suite_is_every_dataset_under_every_construction():
    tasks = benchmarks.make_tasks(suite="safety")
    assert len(tasks) == len(DATASETS) * len(CONSTRUCTIONS) >= 4 * 3
    assert set(tasks) == {f"{d}/{c}" for d in DATASETS for c in CONSTRUCTIONS}
    assert all(task.methods == SAFETY_METHODS for task in tasks.values())
    # "all" keeps its two suites
    assert not set(tasks) & set(benchmarks.make_tasks(suite="all"))


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_safety_tasks_give_their_construction(dataset):
    tasks = benchmarks.make_tasks(quick=True, suite="safety")
    task = tasks[f"{dataset}/agree0.95"]
    if task.missing():
        pytest.skip(f"needs {task.missing()}")
    data = task.load(0)
    n_train, n_valid = SIZES[dataset]["quick"]
    table = {
        row["split"]: row for row in group_table({s: d[2] for s, d in data.items()})
    }
    assert table["train"]["n"] == n_train and table["valid"]["n"] == n_valid
    assert table["train"]["agreement"] == table["valid"]["agreement"] == 0.95
    assert table["balanced"]["groups"] == [n_train // 4] * 4
    X, y, _ = data["train"]
    assert len(X) == len(y) and np.isfinite(np.asarray(X, dtype=float)).all()


def test_paired_markdown_reports_differences_and_headroom():
    wga = {"ERM": (0.5, 0.6), "MAT (defaults)": (0.6, 0.6), "Oracle": (0.7, 0.8)}
    rows = [
        dict(task="t", method=m, seed=seed, test_wga=wga[m][seed], fit_time_vs_erm=2.0)
        for m in wga
        for seed in range(2)
    ]
    table = paired_markdown(rows)
    # MAT - ERM: 0.1 and 0.0; oracle - ERM: 0.2 on both seeds; share 0.05 / 0.2
    assert "| t | 0.050 ± 0.050 | 0.200 | 0.25 | 2.00x |" in table
    assert "MAT - ERM >= -0.02 on 1, >= +0.05 on 1" in table

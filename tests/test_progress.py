"""Feedback on long fits: a progress bar per phase, plain lines where there is no
terminal, per-epoch lines of nets that train together, and what each phase cost."""

import re
import time

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from skmat import JTTClassifier, MATClassifier, _progress

from .conftest import small_net
from .modules import MLP

X, Y = make_classification(80, 6, random_state=0)
X = X.astype(np.float32)
EPOCHS = 4

SETTINGS = {
    "sequential": (dict(fold_training="sequential"), 3 * EPOCHS),
    "batched": (dict(fold_training="batched"), 3 * EPOCHS),
    "auto": (dict(), 3 * EPOCHS),
    "xrm-batched": (dict(held_out="xrm", fold_training="batched"), 2 * EPOCHS),
    "xrm-lockstep": (dict(held_out="xrm", fold_training="sequential"), 2 * EPOCHS),
}


def mat(**params):
    # a fixed strength: two phases (the default's choice: test_the_choice_has_its_bars)
    params = {"cv": 3, "random_state": 0, "shift_strength": 1.0, **params}
    estimator = params.pop("estimator", small_net(MLP, max_epochs=EPOCHS))
    return MATClassifier(estimator, **params)


def last_bar_states(text):
    """The last state written of each bar: {description: (n, total)}."""
    states = {}
    for piece in re.split(r"[\r\n]", text):
        match = re.match(r"\[MATClassifier\] (.*?): +\d+%\|.*?\| *(\d+)/(\d+)", piece)
        if match:
            states[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return states


@pytest.mark.parametrize("setting", SETTINGS)
def test_one_bar_for_the_held_out_phase_and_one_for_the_final_net(
    setting, capsys, monkeypatch
):
    monkeypatch.setattr(_progress, "display_style", lambda: "bar")
    params, held_out_epochs = SETTINGS[setting]
    mat(verbose=1, **params).fit(X, Y)
    states = last_bar_states(capsys.readouterr().err)
    assert len(states) == 2, states
    (held_out, held_out_state), (final, final_state) = states.items()
    assert held_out.startswith("held-out phase (")
    assert held_out_state == (held_out_epochs, held_out_epochs)
    assert final == "final net" and final_state == (EPOCHS, EPOCHS)


@pytest.mark.parametrize(
    "fold_training, bars",
    [
        ("batched", {"5 nets choosing among 3 settings, together": 5 * EPOCHS}),
        (
            "sequential",
            {
                # the two plain nets share a description: the second bar's state
                "plain net grouping the validation examples (choosing)": EPOCHS,
                # cv=3: the k-fold candidates, each with a quarter of the epochs
                "final net with held_out_epochs=0.25, shift_strength=0 "
                "(choosing)": EPOCHS,
                "final net with held_out_epochs=0.25, shift_strength=1 "
                "(choosing)": EPOCHS,
                "final net with held_out_epochs=0.25, shift_strength=0, "
                "reweight_inferred_groups=True (choosing)": EPOCHS,
            },
        ),
    ],
)
def test_the_choice_has_its_bars(fold_training, bars, capsys, monkeypatch):
    """The default shift_strength="auto" trains the nets of its choice between the
    held-out phase and the final net: together (one bar of all their epochs) or
    one by one (a bar each)."""
    monkeypatch.setattr(_progress, "display_style", lambda: "bar")
    clf = mat(verbose=1, shift_strength="auto", fold_training=fold_training)
    clf.fit(X, Y)
    states = last_bar_states(capsys.readouterr().err)
    names = list(states)
    assert names[0].startswith("held-out phase (") and names[-1] == "final net"
    assert states[names[0]] == (3, 3)  # 3 folds of a quarter of 4 epochs
    assert {name: states[name] for name in names[1:-1]} == {
        name: (total, total) for name, total in bars.items()
    }


LINE = re.compile(
    r"^\[MATClassifier\] (held-out phase \([^)]*\)|final net): \d+/\d+ epochs, "
    r"\d+\.\ds(, ~\d+s left)?(, train_loss=[-+.\de]+)?$"
)


@pytest.mark.parametrize("setting", SETTINGS)
def test_plain_lines_without_a_terminal(setting, capsys):
    params, held_out_epochs = SETTINGS[setting]
    mat(verbose=1, **params).fit(X, Y)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    ends = [line for line in lines if re.search(r": (\d+)/\1 epochs", line)]
    assert [line.split(":")[0] for line in ends] == [
        ends[0].split(":")[0],
        "[MATClassifier] final net",
    ]
    assert f": {held_out_epochs}/{held_out_epochs} epochs" in ends[0]


def test_early_stopping_ends_the_final_bar_where_it_stopped(capsys):
    clf = mat(verbose=1, early_stopping=True, n_iter_no_change=1)
    clf.set_params(estimator=small_net(MLP, max_epochs=30, lr=0.5)).fit(X, Y)
    n_epochs = len(clf.estimator_.history)
    assert n_epochs < 30
    assert f"final net: {n_epochs}/30 epochs" in capsys.readouterr().err


def test_silent_without_verbose(capfd):
    for params, _ in SETTINGS.values():
        mat(**params).fit(X, Y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_grid_search_with_two_jobs_writes_whole_lines(capfd):
    """Fits in joblib's worker processes write plain lines (no bar), each whole, so
    that two at a time never garble each other's output."""
    GridSearchCV(mat(verbose=1), {"shift_strength": [0, 1]}, cv=2, n_jobs=2).fit(X, Y)
    out, err = capfd.readouterr()
    lines = err.splitlines()
    assert len(lines) >= 2 * 2 * 2  # 4 fits, 2 phases each
    assert all(LINE.match(line) for line in lines), lines
    assert all(line.startswith("[MATClassifier] ") for line in out.splitlines())


def test_verbose_2_prints_the_epochs_of_nets_trained_together(capsys):
    mat(verbose=2, fold_training="batched").fit(X, Y)
    out = capsys.readouterr().out
    rows = re.findall(r"held-out net (\d), epoch (\d+): train_loss [\d.]+", out)
    assert sorted(set(rows)) == [
        (str(net), str(epoch)) for net in (1, 2, 3) for epoch in range(1, EPOCHS + 1)
    ]
    assert "train_loss" in out and "dur" in out  # the final net's skorch table


@pytest.mark.parametrize(
    "make",
    [
        *[lambda params=params: mat(**params) for params, _ in SETTINGS.values()],
        lambda: mat(early_stopping=True),
        lambda: JTTClassifier(small_net(max_epochs=EPOCHS), held_out="in_sample"),
    ],
    ids=[*SETTINGS, "early-stopping", "jtt-in-sample"],
)
def test_phase_times_add_up_to_the_fit(make):
    clf = make()
    start = time.perf_counter()
    clf.fit(X, Y)
    wall = time.perf_counter() - start
    times = clf.fit_times_
    phases = ["validation", "held_out", "selection", "training_extras", "final"]
    assert all(times[phase] >= 0 for phase in phases)
    assert sum(times[phase] for phase in phases) == pytest.approx(times["total"])
    # the clock starts after fit's parameter validation: a few ms outside it
    assert times["total"] == pytest.approx(wall, rel=0.05, abs=0.01)
    strategy = clf.held_out_strategy_
    one_by_one = strategy.engine == "one_by_one" and strategy.kind != "xrm"
    if one_by_one:
        assert len(times["held_out_models"]) == len(clf.held_out_estimators_)
        assert sum(times["held_out_models"]) <= times["held_out"]
    else:
        assert times["held_out_models"] is None


def test_fit_times_without_a_held_out_phase():
    clf = mat().fit(X, Y, held_out_proba=np.full((80, 2), 0.5))
    assert clf.fit_times_["held_out"] < 0.01 and clf.fit_times_["final"] > 0

"""Fifth round of generated cases (issue 31, item 5), in areas no earlier round
covered: the net's callbacks and checkpoints, ``set_output`` and pandas / sparse
inputs through Pipelines, fitted estimators cloned inside scikit-learn's model
selection (with :data:`skmat.metrics.crossfit_group_scorer`), very many classes,
Ctrl-C at each phase of a fit, and the default choice (``shift_strength="auto"``)
and ``reweight_inferred_groups`` on odd data; over MATClassifier (its default, and
the paper's shift with 3 folds) and the baselines, with tiny nets.

Each case is valid (the caller's intent is clear and should work), invalid (it
should be refused with a clear error) or either (a clear refusal of a degenerate
input is as good as a fit). Its outcome is

* ``ok``: a valid case works, and its checks (``classes_``, ``predict`` agreeing
  with ``predict_proba``, finite rows that sum to 1, and what the case is about:
  the callback ran, the scores are finite, the estimator is left as it was) pass;
  an interrupted fit raises KeyboardInterrupt and leaves the estimator as it was;
* ``clear``: an invalid case raises a ValueError or TypeError from skmat's or
  scikit-learn's validation (or the user's own error, unchanged);
* ``obscure``: any other error, or an error from inside torch, numpy or skorch;
* ``silent-wrong``: it runs but a check fails, or an invalid case is accepted;
* ``refused-though-valid``: a valid case raises a clear error.

Run from the repository root (under a minute on 2 cores)::

    python benchmarks/bad_inputs_round5.py [-v] [--markdown PATH]

``-v`` prints every case with its outcome and message; ``--markdown`` writes the
table of outcomes (``benchmarks/results/bad_inputs_round5.md``).
"""

import argparse
import os
import pickle
import signal
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.ensemble import BaggingClassifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.feature_selection import SelectKBest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
)
from skorch.dataset import ValidSplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skmat import (  # noqa: E402
    GroupBalancedClassifier,
    GroupDROClassifier,
    JTTClassifier,
    MATClassifier,
)
from skmat._net import TrainingDiverged  # noqa: E402
from skmat.metrics import CrossFitGroupScorer, crossfit_group_scorer  # noqa: E402
from tests.conftest import small_net  # noqa: E402

torch.set_num_threads(1)

N = 60
X, Y = make_classification(N, 5, random_state=0)
X = X.astype(np.float32)
GROUPS = 2 * Y + (X[:, 0] > 0)
_SCRATCH = tempfile.TemporaryDirectory()  # removed when the script ends

VALID, INVALID, EITHER = "valid", "invalid", "either"
#: Valid for the default (no cv given), either for an estimator given cv=3: a clear
#: refusal of stratified folds that a class cannot fill, naming cv and what works.
EXPLICIT_CV = {"mat-auto": VALID}


def net(**params):
    return small_net(
        **{"optimizer": torch.optim.SGD, "lr": 0.1, "max_epochs": 2, **params}
    )


ESTIMATORS = {
    "mat-auto": lambda n, **p: MATClassifier(n, **{"random_state": 0, **p}),
    "mat-kfold": lambda n, **p: MATClassifier(
        n, **{"cv": 3, "shift_strength": 1.0, "random_state": 0, **p}
    ),
    "jtt": lambda n, **p: JTTClassifier(n, **{"cv": 3, "random_state": 0, **p}),
    "dro": lambda n, **p: GroupDROClassifier(n, **{"cv": 3, "random_state": 0, **p}),
    "balanced": lambda n, **p: GroupBalancedClassifier(
        n, **{"cv": 3, "random_state": 0, **p}
    ),
}
ALL = tuple(ESTIMATORS)
MAT = ("mat-auto", "mat-kfold")


def check_ok(clf, X_fit, y, n=None):
    """The problems of a fitted classifier (empty: ok)."""
    problems = []
    y = np.asarray(y)
    expected = np.unique(y)
    if list(clf.classes_) != list(expected):
        problems.append(f"classes_ {list(clf.classes_)[:5]} != labels")
    proba = np.asarray(clf.predict_proba(X_fit))
    predicted = np.asarray(clf.predict(X_fit))
    n = len(y) if n is None else n
    if proba.shape != (n, len(clf.classes_)):
        problems.append(f"predict_proba shape {proba.shape}")
    elif not np.all(np.isfinite(proba)):
        problems.append("non-finite probabilities")
    elif not np.allclose(proba.sum(axis=1), 1, atol=1e-5):
        problems.append("probability rows do not sum to 1")
    elif not np.array_equal(predicted, np.asarray(clf.classes_)[proba.argmax(1)]):
        problems.append("predict disagrees with predict_proba")
    if not set(predicted.tolist()) <= set(expected.tolist()):
        problems.append("predict returns labels not in y")
    return problems


def fit_check(est, net_params=None, X_fit=X, y=Y, params=None, **fit):
    clf = ESTIMATORS[est](net(**(net_params or {})), **(params or {}))
    clf.fit(X_fit, y, **fit)
    return clf, check_ok(clf, X_fit, y)


# ----------------------------------------------------------------- callbacks
class Recorder(Callback):
    def initialize(self):
        self.epochs = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


class LossWatcher(Callback):
    """Reads the history as user callbacks do, and fails on a non-finite loss."""

    def on_epoch_end(self, net, **kwargs):
        if not np.isfinite(net.history[-1, "train_loss"]):
            raise RuntimeError("non-finite loss")


class UserError(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise ValueError("the user's callback refuses")


def named(net_, name):
    return dict(net_.callbacks_)[name]


def cb_checkpoint(est):
    dirname = tempfile.mkdtemp(dir=_SCRATCH.name)
    cb = Checkpoint(monitor="train_loss_best", dirname=dirname)
    clf, problems = fit_check(est, dict(callbacks=[cb]))
    if not (Path(dirname) / "params.pt").exists():
        problems.append("no checkpoint written")
    return problems


def cb_checkpoint_valid_split(est):
    dirname = tempfile.mkdtemp(dir=_SCRATCH.name)
    cb = Checkpoint(dirname=dirname)
    split = ValidSplit(0.2, stratified=True, random_state=0)
    return fit_check(est, dict(callbacks=[cb], train_split=split))[1]


def cb_checkpoint_load_best(est):
    """Checkpoint + load the best params at train end (skorch's LoadInitState
    is for warm starts; here: TrainEndCheckpoint)."""
    from skorch.callbacks import TrainEndCheckpoint

    dirname = tempfile.mkdtemp(dir=_SCRATCH.name)
    cb = TrainEndCheckpoint(dirname=dirname)
    clf, problems = fit_check(est, dict(callbacks=[cb]))
    if not list(Path(dirname).glob("*params.pt")):
        problems.append("no train-end checkpoint written")
    return problems


def cb_early_stopping(est):
    cb = EarlyStopping(monitor="train_loss", patience=1, threshold=1e9)
    clf, problems = fit_check(est, dict(callbacks=[cb], max_epochs=5))
    if len(clf.estimator_.history) >= 5:
        problems.append("the net's EarlyStopping did not stop the final net")
    return problems


def cb_lr_scheduler(est):
    cb = LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    clf, problems = fit_check(est, dict(callbacks=[("sched", cb)]))
    lr = clf.estimator_.optimizer_.param_groups[0]["lr"]
    if not np.isclose(lr, 0.1 * 0.25):
        problems.append(f"final net's lr {lr}, expected 0.025 after 2 steps")
    return problems


def cb_recorder(est):
    clf, problems = fit_check(est, dict(callbacks=[("rec", Recorder())]))
    if named(clf.estimator_, "rec").epochs != 2:
        problems.append("the custom callback did not see the final net's epochs")
    return problems


def cb_loss_watcher(est):
    return fit_check(est, dict(callbacks=[LossWatcher()]))[1]


def cb_epoch_scoring(est):
    cb = EpochScoring("accuracy", on_train=True, lower_is_better=False, name="acc")
    clf, problems = fit_check(est, dict(callbacks=[cb]))
    acc = clf.estimator_.history[-1, "acc"]
    if not 0 <= acc <= 1:
        problems.append(f"train accuracy {acc}")
    return problems


def cb_gradient_clipping(est):
    return fit_check(est, dict(callbacks=[GradientNormClipping(1.0)]))[1]


def cb_user_error(est):
    fit_check(est, dict(callbacks=[UserError()]))
    return ["the callback's error was swallowed"]


# ------------------------------------------------------- pipelines and tables
def frame():
    rng = np.random.RandomState(0)
    data = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    data["cat"] = pd.Categorical(rng.choice(["x", "y", "z"], N))
    data["cnt"] = pd.array(np.round(X[:, 3] * 3).astype(int), dtype="Int64")
    data.loc[[3, 7], "cnt"] = pd.NA
    data["flag"] = pd.array(X[:, 4] > 0, dtype="boolean")
    data["txt"] = pd.array(rng.choice(["u", "v"], N), dtype="string")
    return data


def preprocess(sparse=True):
    return ColumnTransformer(
        [
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=sparse),
                ["cat", "txt", "flag"],
            ),
            (
                "num",
                make_pipeline(SimpleImputer(), StandardScaler()),
                ["a", "b", "c", "cnt"],
            ),
        ],
        sparse_threshold=1.0 if sparse else 0.0,
    )


def pipe_check(est, steps, X_fit, y=Y, **fit):
    pipe = make_pipeline(*steps, ESTIMATORS[est](net()))
    pipe.fit(X_fit, y, **{f"{pipe.steps[-1][0]}__{k}": v for k, v in fit.items()})
    return pipe, check_ok(pipe, X_fit, y)


def pipe_set_output_pandas(est):
    pipe = make_pipeline(StandardScaler(), ESTIMATORS[est](net()))
    pipe.set_output(transform="pandas")
    data = pd.DataFrame(X, columns=list("abcde"))
    return check_ok(pipe.fit(data, Y), data, Y)


def pipe_config_pandas(est):
    with sklearn.config_context(transform_output="pandas"):
        return pipe_check(est, [StandardScaler(), PCA(3)], X)[1]


def pipe_sparse_onehot(est):
    return pipe_check(est, [preprocess(sparse=True)], frame())[1]


def pipe_dense_onehot_pandas(est):
    steps = [preprocess(sparse=False).set_output(transform="pandas")]
    return pipe_check(est, steps, frame())[1]


def pipe_unseen_category(est):
    data = frame()
    pipe, problems = pipe_check(est, [preprocess()], data)
    new = data.copy()
    new["cat"] = pd.Categorical(["w"] * N)
    if len(pipe.predict(new)) != N:
        problems.append("predict on an unseen category")
    return problems


def pipe_ordinal_categorical(est):
    data = frame()[["a", "b", "cat"]]
    ct = ColumnTransformer(
        [("ord", OrdinalEncoder(), ["cat"])], remainder="passthrough"
    ).set_output(transform="pandas")
    return pipe_check(est, [ct], data)[1]


def pipe_function_float64(est):
    return pipe_check(est, [FunctionTransformer(lambda a: a.astype(np.float64))], X)[1]


def pipe_select_k_best(est):
    return pipe_check(est, [SelectKBest(k=3)], X)[1]


def pipe_sample_weight(est):
    weight = np.where(Y == 0, 2.0, 1.0)
    return pipe_check(est, [StandardScaler()], X, sample_weight=weight)[1]


def pipe_raw_categorical_frame(est):
    """A frame with a categorical string column and no encoder: refused."""
    clf = ESTIMATORS[est](net())
    clf.fit(frame()[["a", "cat"]], Y)
    return ["a string category column was accepted"]


def pipe_frame_nullable_direct(est):
    data = frame()[["a", "b", "c"]].astype("Float64")
    return fit_check(est, X_fit=data)[1]


# -------------------------------------------------------------- model selection
def ms_cross_validate(est):
    clf = ESTIMATORS[est](net())
    result = cross_validate(clf, X, Y, cv=3, return_estimator=True, error_score="raise")
    problems = []
    if not np.all(np.isfinite(result["test_score"])):
        problems.append("non-finite scores")
    if any(not hasattr(e, "estimator_") for e in result["estimator"]):
        problems.append("an unfitted estimator returned")
    return problems


def ms_cross_validate_fitted(est):
    """A fitted estimator given to cross_validate: cloned, so the folds do not see
    its fit, and it is left as it was."""
    clf, problems = fit_check(est)
    before = clf.predict_proba(X)
    scores = cross_val_score(clf, X, Y, cv=3, error_score="raise")
    if not np.all(np.isfinite(scores)):
        problems.append("non-finite scores")
    if not np.array_equal(before, clf.predict_proba(X)):
        problems.append("the fitted estimator changed")
    return problems


def ms_cross_val_predict(est):
    proba = cross_val_predict(
        ESTIMATORS[est](net()), X, Y, cv=3, method="predict_proba"
    )
    if proba.shape != (N, 2) or not np.allclose(proba.sum(1), 1, atol=1e-5):
        return [f"cross_val_predict proba {proba.shape}"]
    return []


def ms_crossfit_scorer_cv(est):
    scores = cross_val_score(
        ESTIMATORS[est](net()),
        X,
        Y,
        cv=3,
        scoring=crossfit_group_scorer,
        error_score="raise",
    )
    if not np.all((scores >= 0) & (scores <= 1)):
        return [f"scores {scores}"]
    return []


def ms_grid_crossfit(est):
    search = GridSearchCV(
        ESTIMATORS[est](net()),
        {"estimator__lr": [0.05, 0.1]},
        cv=2,
        scoring=CrossFitGroupScorer(random_state=3),
        error_score="raise",
    ).fit(X, Y)
    problems = check_ok(search, X, Y)
    if not 0 <= search.best_score_ <= 1:
        problems.append(f"best_score_ {search.best_score_}")
    return problems


def ms_grid_string_labels(est):
    y = np.array(["neg", "pos"])[Y]
    search = GridSearchCV(
        ESTIMATORS[est](net()),
        {"estimator__max_epochs": [1, 2]},
        cv=2,
        scoring=crossfit_group_scorer,
        error_score="raise",
    ).fit(X, y)
    return check_ok(search, X, y)


def ms_scorer_deterministic(est):
    clf, problems = fit_check(est)
    first = crossfit_group_scorer(clf, X, Y)
    second = CrossFitGroupScorer(random_state=0)(clf, X, Y)
    if first != second:
        problems.append(f"cached and fresh scorer differ: {first} vs {second}")
    return problems


def ms_scorer_pipeline(est):
    pipe, problems = pipe_check(est, [StandardScaler()], X)
    score = crossfit_group_scorer(pipe, X, Y)
    if not 0 <= score <= 1:
        problems.append(f"score {score}")
    return problems


def ms_scorer_unseen_label(est):
    clf, _ = fit_check(est)
    crossfit_group_scorer(clf, X, np.where(Y == 1, 5, 0))
    return ["a label the estimator never saw was scored"]


def ms_scorer_bad_random_state(est):
    clf, _ = fit_check(est)
    CrossFitGroupScorer(random_state=None)(clf, X, Y)
    return ["random_state=None was accepted"]


def ms_scorer_sample_weight(est):
    clf, problems = fit_check(est)
    weight = np.where(Y == 0, 2.0, 1.0)
    score = crossfit_group_scorer(clf, X, Y, sample_weight=weight)
    if not 0 <= score <= 1:
        problems.append(f"score {score}")
    return problems


def ms_clone_pickled(est):
    clf, problems = fit_check(est)
    copy = clone(pickle.loads(pickle.dumps(clf)))
    if hasattr(copy, "estimator_"):
        problems.append("clone kept the fitted net")
    copy.fit(X, Y)
    if not np.allclose(copy.predict_proba(X), clf.predict_proba(X), atol=1e-6):
        problems.append("a clone of a pickled fit refits differently")
    return problems


def ms_group_kfold(est):
    scores = cross_val_score(
        ESTIMATORS[est](net()), X, Y, groups=GROUPS, cv=GroupKFold(3)
    )
    return [] if np.all(np.isfinite(scores)) else [f"scores {scores}"]


def ms_one_vs_rest(est):
    X3, y3 = make_classification(90, 5, n_informative=3, n_classes=3, random_state=0)
    X3 = X3.astype(np.float32)
    clf = OneVsRestClassifier(ESTIMATORS[est](net())).fit(X3, y3)
    return check_ok(clf, X3, y3)


def ms_calibrated(est):
    clf = CalibratedClassifierCV(ESTIMATORS[est](net()), cv=2).fit(X, Y)
    return check_ok(clf, X, Y)


def ms_bagging(est):
    clf = BaggingClassifier(ESTIMATORS[est](net()), n_estimators=2, random_state=0)
    return check_ok(clf.fit(X, Y), X, Y)


# ---------------------------------------------------------------- many classes
def many_classes(n_classes, per_class, strings=False, extra=None):
    def case(est):
        counts = np.full(n_classes, per_class)
        for position, count in (extra or {}).items():
            counts[position] = count
        y = np.repeat(np.arange(n_classes), counts)
        rng = np.random.RandomState(0)
        X_many = rng.normal(size=(len(y), 5)).astype(np.float32)
        X_many[:, 0] += y % 7
        if strings:
            y = np.array([f"class-{i:03d}" for i in y])
        return fit_check(est, X_fit=X_many, y=y)[1]

    return case


# --------------------------------------------------------- interrupts (Ctrl-C)
_ARMED = set()


class Interrupter(Callback):
    """Sends the process a SIGINT (a Ctrl-C) in the ``target``-th net's training
    (counted over every net the fit trains)."""

    count = 0

    def __init__(self, target=1):
        self.target = target

    def on_train_begin(self, net, **kwargs):
        type(self).count += 1
        if type(self).count == self.target:
            _ARMED.add(id(self))  # not an attribute: clones copy those

    def on_batch_end(self, net, **kwargs):
        if id(self) in _ARMED:
            _ARMED.discard(id(self))
            os.kill(os.getpid(), signal.SIGINT)


#: The nets each estimator trains on the 60 rows: MAT's default trains XRM's 2
#: twins and 5 folds, then 2 grouping nets and 4 candidates, then the final net;
#: the others 3 folds and the final net.
PHASE_NETS = {
    "mat-auto": {"held-out": 1, "choice": 10, "final": 14},
    "other": {"held-out": 1, "final": 4},
}


def interrupt(phase, refit):
    def case(est):
        nets = PHASE_NETS.get(est, PHASE_NETS["other"])
        if phase not in nets:
            return None  # the phase does not exist for this estimator
        clf = ESTIMATORS[est](net(callbacks=[("ctrl_c", Interrupter(0))]))
        if refit:
            clf.fit(X, Y)
        before = {k: v for k, v in vars(clf).items()}
        proba = clf.predict_proba(X) if refit else None
        clf.set_params(estimator__callbacks__ctrl_c__target=nets[phase])
        before["estimator"] = clf.estimator
        Interrupter.count = 0
        try:
            clf.fit(X, Y)
        except KeyboardInterrupt:
            problems = []
            if set(vars(clf)) != set(before) or any(
                vars(clf)[k] is not v for k, v in before.items()
            ):
                problems.append("the interrupted fit changed the estimator")
            if refit and not np.array_equal(proba, clf.predict_proba(X)):
                problems.append("the interrupted refit changed the predictions")
            return problems
        return [f"Ctrl-C in the {phase} phase did not stop the fit"]

    return case


# ------------------------------------------------- the default choice, odd data
def tiny(n):
    def case(est):
        X_tiny, y_tiny = X[:n], np.arange(n) % 2
        return fit_check(est, X_fit=X_tiny, y=y_tiny)[1]

    return case


def dominant(n_minority):
    def case(est):
        y = np.zeros(N, dtype=int)
        y[:n_minority] = 1
        return fit_check(est, y=y)[1]

    return case


def weights(kind):
    def case(est):
        weight = {
            "half-zero": np.where(np.arange(N) % 2 == 0, 0.0, 1.0),
            "class-zero": np.where(Y == 1, 0.0, 1.0),
            "one-nonzero": np.eye(N)[0],
            "huge": np.where(Y == 1, 1e6, 1.0),
            "integers": np.arange(N) % 3 + 1,
            "three-nonzero": np.isin(np.arange(N), [0, 1, 30]).astype(float),
            "all-zero": np.zeros(N),
            "negative": np.where(Y == 1, -1.0, 1.0),
            "inf": np.where(Y == 1, np.inf, 1.0),
        }[kind]
        clf, problems = fit_check(est, sample_weight=weight)
        if kind in ("all-zero", "negative", "inf"):
            problems.append(f"sample_weight {kind} was accepted")
        return problems

    return case


def labels(kind):
    def case(est):
        y = {
            "strings": np.array(["cat", "dog"])[Y],
            "bool": Y.astype(bool),
            "categorical": pd.Series(
                pd.Categorical(np.array(["b", "a"])[Y], categories=["b", "a"])
            ),
            "string-dtype": pd.Series(np.array(["b", "a"])[Y], dtype="string"),
            "three-strings": np.array(["x", "y", "z"])[(np.arange(N) + Y) % 3],
        }[kind]
        return fit_check(est, y=y)[1]

    return case


def auto_refit_as_chosen(est):
    """The default refits exactly as if the chosen setting had been given."""
    clf, problems = fit_check(est)
    given = ESTIMATORS[est](net(), **clf.chosen_params_).fit(X, Y)
    if not np.allclose(given.predict_proba(X), clf.predict_proba(X), atol=1e-6):
        problems.append(f"refit with {clf.chosen_params_} differs from giving it")
    return problems


def auto_results_table(est):
    clf, problems = fit_check(est)
    table = clf.selection_results_
    chosen = np.flatnonzero(table["chosen"])
    if len(chosen) != 1 or table["params"][chosen[0]] != clf.chosen_params_:
        problems.append("selection_results_ does not mark the chosen setting")
    if len(table["params"]) != 4:
        problems.append(f"{len(table['params'])} candidates, expected 4")
    return problems


def auto_with(params, X_fit=X, valid=True):
    def case(est):
        return fit_check(est, X_fit=X_fit, params=params)[1]

    return case


def reweight(value, strength, invalid=False):
    def case(est):
        clf, problems = fit_check(
            est,
            params=dict(reweight_inferred_groups=value, shift_strength=strength),
        )
        if invalid:
            problems.append(f"reweight_inferred_groups={value!r} was accepted")
        return problems

    return case


def reweight_equals_balanced(est):
    """Shift 0 with the inferred groups reweighted is GroupBalancedClassifier on
    the same held-out predictions."""
    mat = MATClassifier(
        net(), cv=3, shift_strength=0.0, reweight_inferred_groups=True, random_state=0
    ).fit(X, Y)
    balanced = GroupBalancedClassifier(net(), cv=3, random_state=0).fit(X, Y)
    problems = check_ok(mat, X, Y)
    if not np.allclose(mat.predict_proba(X), balanced.predict_proba(X), atol=1e-5):
        problems.append("differs from GroupBalancedClassifier on the same groups")
    return problems


def reweight_zero_weights(est):
    weight = np.where(np.arange(N) % 3 == 0, 0.0, 1.0)
    return fit_check(
        est,
        params=dict(reweight_inferred_groups=True, shift_strength=1.0),
        sample_weight=weight,
    )[1]


# ------------------------------------------------------------ more of each area
class ZeroInit(Callback):
    """Sets the module's weights to zero when training begins (a custom
    initializer)."""

    def on_train_begin(self, net, **kwargs):
        with torch.no_grad():
            for parameter in net.module_.parameters():
                parameter.zero_()


def cb_initializer(est):
    from skorch.callbacks import Initializer

    init = Initializer("linear.weight", torch.nn.init.zeros_)
    return fit_check(est, dict(callbacks=[init]))[1]


def cb_freezer(est):
    from skorch.callbacks import Freezer

    clf, problems = fit_check(est, dict(callbacks=[Freezer("linear.bias")]))
    if clf.estimator_.module_.linear.bias.requires_grad:
        problems.append("the final net's bias is not frozen")
    return problems


def cb_plateau(est):
    cb = LRScheduler(
        policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
        monitor="train_loss",
        patience=0,
        factor=0.5,
    )
    return fit_check(est, dict(callbacks=[cb], max_epochs=3))[1]


def cb_disabled(est):
    return fit_check(est, dict(callbacks="disable"))[1]


def cb_early_stopping_valid(est):
    """The net's own EarlyStopping on a seeded validation split, beside skmat's."""
    split = ValidSplit(0.2, stratified=True, random_state=0)
    cb = EarlyStopping(patience=1)
    return fit_check(
        est,
        dict(callbacks=[cb], train_split=split, max_epochs=4),
        params=dict(early_stopping=True),
    )[1]


def cb_warm_start(est):
    return fit_check(est, dict(warm_start=True))[1]


def cb_checkpoint_load_best_flag(est):
    dirname = tempfile.mkdtemp(dir=_SCRATCH.name)
    cb = Checkpoint(monitor="train_loss_best", dirname=dirname, load_best=True)
    return fit_check(est, dict(callbacks=[cb], max_epochs=3))[1]


def pipe_onehot_only(est):
    """OneHotEncoder's default (sparse) output straight into the estimator."""
    data = frame()[["cat", "txt"]]
    return pipe_check(est, [OneHotEncoder()], data)[1]


def pipe_tfidf(est):
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = np.array(["good", "bad", "film", "plot", "great", "awful", "the", "a"])
    rng = np.random.RandomState(0)
    docs = [
        " ".join(rng.choice(words, 5)) + (" good" if label else " bad") for label in Y
    ]
    return pipe_check(est, [TfidfVectorizer()], docs)[1]


def pipe_counts_float(est):
    from sklearn.feature_extraction.text import CountVectorizer

    rng = np.random.RandomState(0)
    words = np.array(["good", "bad", "film", "plot", "great", "awful"])
    docs = [" ".join(rng.choice(words, 4)) + (" great" if y else "") for y in Y]
    steps = [CountVectorizer(dtype=np.float32)]
    return pipe_check(est, steps, docs)[1]


def sparse_predict_dense(est):
    import scipy.sparse as sp

    clf, problems = fit_check(est, X_fit=sp.csr_matrix(X))
    if not np.allclose(clf.predict_proba(X), clf.predict_proba(sp.csr_matrix(X))):
        problems.append("sparse and dense predictions differ")
    dense = ESTIMATORS[est](net()).fit(X, Y)
    if not np.allclose(dense.predict_proba(X), clf.predict_proba(X), atol=1e-6):
        problems.append("a sparse fit differs from the dense one")
    return problems


def sparse_with_nan(est):
    import scipy.sparse as sp

    values = X.copy()
    values[3, 1] = np.nan
    fit_check(est, X_fit=sp.csr_matrix(values))
    return ["a sparse matrix with NaN was accepted"]


def frame_reordered_columns(est):
    data = pd.DataFrame(X, columns=list("abcde"))
    clf, _ = fit_check(est, X_fit=data)
    clf.predict(data[list("edcba")])
    return ["predict accepted reordered columns"]


def frame_duplicate_columns(est):
    fit_check(est, X_fit=pd.DataFrame(X, columns=list("aabcd")))
    return ["duplicate column names were accepted"]


def frame_multiindex_columns(est):
    columns = pd.MultiIndex.from_product([["x"], list("abcde")])
    return fit_check(est, X_fit=pd.DataFrame(X, columns=columns))[1]


def frame_shuffled_index(est):
    index = np.random.RandomState(0).permutation(N)
    data = pd.DataFrame(X, index=index)
    return fit_check(est, X_fit=data, y=pd.Series(Y, index=index))[1]


def frame_then_array(est):
    data = pd.DataFrame(X, columns=list("abcde"))
    clf, problems = fit_check(est, X_fit=data)
    if not np.array_equal(clf.predict_proba(X), clf.predict_proba(data)):
        problems.append("a frame and its array predict differently")
    return problems


def pipe_infer_groups(est):
    pipe = make_pipeline(StandardScaler(), ESTIMATORS[est](net()))
    pipe.set_output(transform="pandas")
    data = pd.DataFrame(X, columns=list("abcde"))
    problems = check_ok(pipe.fit(data, Y), data, Y)
    groups = pipe[-1].infer_groups(pipe[:-1].transform(data), Y)
    if len(groups) != N:
        problems.append("infer_groups through the pipeline")
    return problems


def ms_grid_reweight(est):
    search = GridSearchCV(
        ESTIMATORS[est](net()),
        {"reweight_inferred_groups": [False, True]},
        cv=2,
        scoring=crossfit_group_scorer,
        error_score="raise",
    ).fit(X, Y)
    return check_ok(search, X, Y)


def ms_multimetric(est):
    result = cross_validate(
        ESTIMATORS[est](net()),
        X,
        Y,
        cv=2,
        scoring={"accuracy": "accuracy", "crossfit": crossfit_group_scorer},
        return_train_score=True,
        error_score="raise",
    )
    values = np.concatenate([result[k] for k in result if k.endswith("crossfit")])
    if not np.all((values >= 0) & (values <= 1)):
        return [f"crossfit scores {values}"]
    return []


def ms_routing_groups(est):
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            ESTIMATORS[est](net()),
            {"estimator__lr": [0.1]},
            cv=GroupKFold(2),
            scoring=crossfit_group_scorer,
            error_score="raise",
        ).fit(X, Y, groups=np.arange(N) % 4)
    return check_ok(search, X, Y)


def ms_routing_weighted_scorer(est, request=True):
    from copy import deepcopy

    weight = np.where(Y == 0, 2.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = deepcopy(crossfit_group_scorer).set_score_request(sample_weight=True)
        clf = ESTIMATORS[est](net())
        if request:
            clf.set_fit_request(sample_weight=True)
        scores = cross_val_score(
            clf,
            X,
            Y,
            cv=2,
            scoring=scorer,
            params={"sample_weight": weight},
            error_score="raise",
        )
    return [] if np.all((scores >= 0) & (scores <= 1)) else [f"scores {scores}"]


def ms_scorer_interrupted(est):
    """Ctrl-C while the scorer trains its grouping copies stops the scoring and
    leaves no groups of a cut-short copy in its cache."""
    clf, problems = fit_check(est, dict(callbacks=[("ctrl_c", Interrupter(0))]))
    scorer = CrossFitGroupScorer(random_state=0)
    clf.estimator_.set_params(callbacks__ctrl_c__target=1)
    Interrupter.count = 0
    try:
        scorer(clf, X, Y)
        problems.append("Ctrl-C in a grouping copy did not stop the scoring")
    except KeyboardInterrupt:
        pass
    clf.estimator_.set_params(callbacks__ctrl_c__target=0)
    if scorer(clf, X, Y) != CrossFitGroupScorer(random_state=0)(clf, X, Y):
        problems.append("the scorer kept the groups of a cut-short copy")
    return problems


def ms_cross_val_predict_log(est):
    log_proba = cross_val_predict(
        ESTIMATORS[est](net()), X, Y, cv=3, method="predict_log_proba"
    )
    if not np.allclose(np.exp(log_proba).sum(1), 1, atol=1e-5):
        return ["log probabilities do not sum to 1"]
    return []


def ms_stacking(est):
    from sklearn.ensemble import StackingClassifier

    clf = StackingClassifier(
        [("mat", ESTIMATORS[est](net())), ("lr", LogisticRegression())], cv=2
    )
    return check_ok(clf.fit(X, Y), X, Y)


def ms_tuned_threshold(est):
    from sklearn.model_selection import TunedThresholdClassifierCV

    clf = TunedThresholdClassifierCV(ESTIMATORS[est](net()), cv=2).fit(X, Y)
    problems = []
    proba = clf.predict_proba(X)
    if not np.allclose(proba.sum(1), 1, atol=1e-5):
        problems.append("probability rows do not sum to 1")
    # its own threshold decides: predict is proba[:, 1] >= best_threshold_
    expected = clf.classes_[(proba[:, 1] >= clf.best_threshold_).astype(int)]
    if not np.array_equal(clf.predict(X), expected):
        problems.append("predict disagrees with the tuned threshold")
    return problems


def ms_validation_curve(est):
    from sklearn.model_selection import validation_curve

    train, test = validation_curve(
        ESTIMATORS[est](net()),
        X,
        Y,
        param_name="estimator__max_epochs",
        param_range=[1, 2],
        cv=2,
        error_score="raise",
    )
    return [] if np.all(np.isfinite(test)) else ["non-finite scores"]


def ms_scorer_logistic(est):
    search = GridSearchCV(
        LogisticRegression(),
        {"C": [0.1, 1.0]},
        cv=2,
        scoring=crossfit_group_scorer,
        error_score="raise",
    ).fit(X, Y)
    return [] if 0 <= search.best_score_ <= 1 else ["best_score_"]


def ms_clone_keeps_callbacks(est):
    clf = ESTIMATORS[est](net(callbacks=[("rec", Recorder())]))
    clf.fit(X, Y)
    copy = clone(clf).fit(X, Y)
    problems = check_ok(copy, X, Y)
    if named(copy.estimator_, "rec").epochs != 2:
        problems.append("the clone's callback did not run")
    return problems


def big_int_labels(est):
    return fit_check(est, y=np.where(Y == 1, 10**12, -(10**12)))[1]


def auto_params(**params):
    def case(est):
        return fit_check(est, params=params)[1]

    return case


def auto_given_proba(est):
    proba = np.full((N, 2), 0.5)
    proba[np.arange(N), Y] = 0.8
    proba /= proba.sum(1, keepdims=True)
    return fit_check(est, held_out_proba=proba)[1]


def minority_of(count):
    def case(est):
        y = np.zeros(N, dtype=int)
        y[:count] = 1
        clf, problems = fit_check(est, y=y)
        return problems

    return case


def constant_features(est):
    return fit_check(est, X_fit=np.zeros_like(X))[1]


def conflicting_duplicates(est):
    X_dup = np.concatenate([X[:30], X[:30]])
    y_dup = np.concatenate([Y[:30], 1 - Y[:30]])
    return fit_check(est, X_fit=X_dup, y=y_dup)[1]


def dro_given_groups_interrupt(est):
    """Group DRO with given groups trains no held-out net: Ctrl-C in its final
    net stops the fit."""
    clf = GroupDROClassifier(
        net(callbacks=[("ctrl_c", Interrupter(1))]), cv=3, random_state=0
    )
    Interrupter.count = 0
    try:
        clf.fit(X, Y, groups=GROUPS)
    except KeyboardInterrupt:
        return [] if not hasattr(clf, "estimator_") else ["fitted after Ctrl-C"]
    return ["Ctrl-C did not stop the fit"]


def jtt_in_sample_interrupt(est):
    clf = JTTClassifier(
        net(callbacks=[("ctrl_c", Interrupter(1))]),
        held_out="in_sample",
        random_state=0,
    )
    Interrupter.count = 0
    try:
        clf.fit(X, Y)
    except KeyboardInterrupt:
        return [] if not hasattr(clf, "estimator_") else ["fitted after Ctrl-C"]
    return ["Ctrl-C did not stop the fit"]


def interrupt_mat(target, **params):
    """Ctrl-C in the ``target``-th net of MAT's default with ``params``."""

    def case(est):
        clf = MATClassifier(
            net(callbacks=[("ctrl_c", Interrupter(target))]), random_state=0, **params
        )
        Interrupter.count = 0
        try:
            clf.fit(X, Y)
        except KeyboardInterrupt:
            return [] if not hasattr(clf, "estimator_") else ["fitted after Ctrl-C"]
        return [f"Ctrl-C in net {target} did not stop the fit"]

    return case


def pipe_feature_names(est):
    pipe = make_pipeline(StandardScaler(), ESTIMATORS[est](net()))
    pipe.set_output(transform="pandas")
    data = pd.DataFrame(X, columns=list("abcde"))
    problems = check_ok(pipe.fit(data, Y), data, Y)
    if list(getattr(pipe[-1], "feature_names_in_", [])) != list("abcde"):
        problems.append("feature_names_in_ of the frame's columns missing")
    return problems


def frame_int64_table(est):
    data = pd.DataFrame(np.round(X * 3).astype(int), columns=list("abcde"))
    return fit_check(est, X_fit=data.astype("Int64"))[1]


def pipe_passthrough_int(est):
    data = frame()[["a", "b", "cnt"]].fillna(0)
    ct = ColumnTransformer(
        [("scale", StandardScaler(), ["a", "b"])], remainder="passthrough"
    ).set_output(transform="pandas")
    return pipe_check(est, [ct], data)[1]


def many_classes_scorer(est):
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(40), 3)
    X_many = rng.normal(size=(len(y), 5)).astype(np.float32)
    X_many[:, 0] += y % 7
    clf, problems = fit_check(est, X_fit=X_many, y=y)
    score = crossfit_group_scorer(clf, X_many, y)
    if not 0 <= score <= 1:
        problems.append(f"score {score}")
    return problems


def many_classes_early_stopping(est):
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(30), 4)
    X_many = rng.normal(size=(len(y), 5)).astype(np.float32)
    return fit_check(est, X_fit=X_many, y=y, params=dict(early_stopping=True))[1]


def many_classes_one_row(est):
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(50), 3)
    X_many = rng.normal(size=(len(y), 5)).astype(np.float32)
    clf, problems = fit_check(est, X_fit=X_many, y=y)
    if clf.predict_proba(X_many[:1]).shape != (1, 50):
        problems.append("one row's probabilities")
    return problems


def labels_categorical_unused(est):
    y = pd.Series(pd.Categorical(Y, categories=[0, 1, 2]))
    return fit_check(est, y=y)[1]


def criterion_params(**params):
    def case(est):
        return fit_check(est, params)[1]

    return case


def reweight_class_weighted(est):
    return fit_check(
        est,
        dict(criterion__weight=torch.tensor([1.0, 3.0])),
        params=dict(reweight_inferred_groups=True, shift_strength=0.0),
    )[1]


class StopNow(Callback):
    """Raises KeyboardInterrupt at the end of the first epoch: how skorch's own
    EarlyStopping ends a net's training (not a Ctrl-C)."""

    def on_epoch_end(self, net, **kwargs):
        raise KeyboardInterrupt


def cb_keyboard_interrupt_stop(est):
    clf, problems = fit_check(est, dict(callbacks=[StopNow()], max_epochs=3))
    if len(clf.estimator_.history) != 1:
        problems.append("the callback's stop did not end the final net's training")
    return problems


def interrupt_verbose(est):
    import contextlib
    import io

    clf = ESTIMATORS[est](net(callbacks=[("ctrl_c", Interrupter(2))]), verbose=1)
    Interrupter.count = 0
    quiet = io.StringIO()  # the progress lines go to stderr, the log to stdout
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        try:
            clf.fit(X, Y)
        except KeyboardInterrupt:
            return [] if not hasattr(clf, "estimator_") else ["fitted after Ctrl-C"]
    return ["Ctrl-C did not stop the fit"]


def many_given_groups(est):
    groups = np.arange(N) % 30
    return fit_check(est, groups=groups)[1]


def string_groups_pipeline(est):
    groups = np.array(["red", "blue", "green"])[np.arange(N) % 3]
    return pipe_check(est, [StandardScaler()], X, groups=groups)[1]


def cb_user_objects_untouched(est):
    """fit trains copies: the user's net and callback objects stay unfitted."""
    recorder = Recorder()
    user_net = net(callbacks=[("rec", recorder)])
    clf = ESTIMATORS[est](user_net).fit(X, Y)
    problems = check_ok(clf, X, Y)
    if hasattr(user_net, "module_") or hasattr(recorder, "epochs"):
        problems.append("fit changed the user's net or callback")
    return problems


# name -> (area, estimators, validity, case)
CASES = {
    # callbacks and checkpoints
    "checkpoint-train-loss": ("callbacks", ALL, VALID, cb_checkpoint),
    "checkpoint-valid-split": ("callbacks", ALL, VALID, cb_checkpoint_valid_split),
    "train-end-checkpoint": ("callbacks", ALL, VALID, cb_checkpoint_load_best),
    "early-stopping-callback": ("callbacks", ALL, VALID, cb_early_stopping),
    "lr-scheduler": ("callbacks", ALL, VALID, cb_lr_scheduler),
    "custom-recorder": ("callbacks", ALL, VALID, cb_recorder),
    "custom-history-reader": ("callbacks", ALL, VALID, cb_loss_watcher),
    "epoch-scoring-on-train": ("callbacks", ALL, VALID, cb_epoch_scoring),
    "gradient-clipping": ("callbacks", ALL, VALID, cb_gradient_clipping),
    "callback-raises": ("callbacks", ALL, INVALID, cb_user_error),
    # set_output, pandas and sparse inputs through Pipelines
    "set-output-pandas": ("pipelines", ALL, VALID, pipe_set_output_pandas),
    "config-output-pandas-pca": ("pipelines", ALL, VALID, pipe_config_pandas),
    "columns-onehot-sparse": ("pipelines", ALL, VALID, pipe_sparse_onehot),
    "columns-onehot-pandas": ("pipelines", ALL, VALID, pipe_dense_onehot_pandas),
    "onehot-unseen-category": ("pipelines", ALL, VALID, pipe_unseen_category),
    "ordinal-categorical": ("pipelines", ALL, VALID, pipe_ordinal_categorical),
    "function-float64": ("pipelines", ALL, VALID, pipe_function_float64),
    "select-k-best": ("pipelines", ALL, VALID, pipe_select_k_best),
    "pipeline-sample-weight": ("pipelines", ALL, VALID, pipe_sample_weight),
    "frame-categorical-raw": ("pipelines", ALL, INVALID, pipe_raw_categorical_frame),
    "frame-Float64-direct": ("pipelines", ALL, VALID, pipe_frame_nullable_direct),
    # clones in model selection, the cross-fitted scorer
    "cross-validate": ("model selection", ALL, VALID, ms_cross_validate),
    "cross-validate-fitted": ("model selection", ALL, VALID, ms_cross_validate_fitted),
    "cross-val-predict-proba": ("model selection", ALL, VALID, ms_cross_val_predict),
    "crossfit-scorer-cv": ("model selection", ALL, VALID, ms_crossfit_scorer_cv),
    "grid-crossfit-scorer": ("model selection", ALL, VALID, ms_grid_crossfit),
    "grid-string-labels": ("model selection", MAT, VALID, ms_grid_string_labels),
    "scorer-deterministic": ("model selection", ALL, VALID, ms_scorer_deterministic),
    "scorer-pipeline": ("model selection", MAT, VALID, ms_scorer_pipeline),
    "scorer-unseen-label": ("model selection", MAT, INVALID, ms_scorer_unseen_label),
    "scorer-random-state-None": (
        "model selection",
        ("mat-auto",),
        INVALID,
        ms_scorer_bad_random_state,
    ),
    "scorer-sample-weight": ("model selection", MAT, VALID, ms_scorer_sample_weight),
    "clone-of-pickled-fit": ("model selection", ALL, VALID, ms_clone_pickled),
    "group-kfold": ("model selection", ALL, VALID, ms_group_kfold),
    "one-vs-rest": ("model selection", MAT, VALID, ms_one_vs_rest),
    "calibrated-cv": ("model selection", MAT, VALID, ms_calibrated),
    "bagging": ("model selection", MAT, VALID, ms_bagging),
    # very many classes
    "50-classes-x3": ("many classes", ALL, VALID, many_classes(50, 3)),
    "120-classes-x2-some-1": (
        "many classes",
        ALL,
        EITHER,
        many_classes(120, 2, extra={i: 1 for i in range(0, 120, 3)}),
    ),
    "200-string-classes-x1": (
        "many classes",
        ("mat-auto", "jtt"),
        EITHER,
        many_classes(200, 1, strings=True),
    ),
    "10-classes-one-single": (
        "many classes",
        ALL,
        EXPLICIT_CV,
        many_classes(10, 8, extra={3: 1}),
    ),
    "3-classes-one-pair": (
        "many classes",
        ALL,
        EXPLICIT_CV,
        many_classes(3, 20, extra={2: 2}),
    ),
    # Ctrl-C at each phase
    "ctrl-c-held-out": ("interrupts", ALL, VALID, interrupt("held-out", False)),
    "ctrl-c-choice": ("interrupts", ("mat-auto",), VALID, interrupt("choice", False)),
    "ctrl-c-final": ("interrupts", ALL, VALID, interrupt("final", False)),
    "ctrl-c-refit-held-out": ("interrupts", ALL, VALID, interrupt("held-out", True)),
    "ctrl-c-refit-choice": (
        "interrupts",
        ("mat-auto",),
        VALID,
        interrupt("choice", True),
    ),
    "ctrl-c-refit-final": ("interrupts", ALL, VALID, interrupt("final", True)),
    # the default choice and the baselines on odd data
    "tiny-20": ("odd data", ALL, VALID, tiny(20)),
    "tiny-8": ("odd data", ALL, EITHER, tiny(8)),
    "dominant-57-3": ("odd data", ALL, VALID, dominant(3)),
    "dominant-59-1": ("odd data", ALL, EITHER, dominant(1)),
    "weight-half-zero": ("odd data", ALL, VALID, weights("half-zero")),
    "weight-class-zero": ("odd data", ALL, EITHER, weights("class-zero")),
    "weight-one-nonzero": ("odd data", ALL, EITHER, weights("one-nonzero")),
    "weight-three-nonzero": ("odd data", ALL, EITHER, weights("three-nonzero")),
    "weight-all-zero": ("odd data", ALL, INVALID, weights("all-zero")),
    "weight-negative": ("odd data", ALL, INVALID, weights("negative")),
    "weight-inf": ("odd data", ("mat-auto",), INVALID, weights("inf")),
    "labels-strings": ("odd data", ALL, VALID, labels("strings")),
    "labels-bool": ("odd data", ALL, VALID, labels("bool")),
    "labels-categorical": ("odd data", ALL, VALID, labels("categorical")),
    "labels-string-dtype": ("odd data", ALL, VALID, labels("string-dtype")),
    "labels-3-strings": ("odd data", ("mat-auto",), VALID, labels("three-strings")),
    "auto-refit-as-chosen": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_refit_as_chosen,
    ),
    "auto-results-table": ("default choice", ("mat-auto",), VALID, auto_results_table),
    "auto-xrm-only": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_with(dict(held_out="xrm")),
    ),
    "auto-logistic-held-out": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_with(dict(held_out_estimator=LogisticRegression())),
    ),
    "auto-early-stopping": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_with(dict(early_stopping=True)),
    ),
    "auto-frame": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_with({}, X_fit=pd.DataFrame(X, columns=list("abcde"))),
    ),
    "auto-held-out-epochs-1": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_with(dict(held_out_epochs=1)),
    ),
    "reweight-shift-1": ("reweighting", ("mat-auto",), VALID, reweight(True, 1.0)),
    "reweight-shift-0": ("reweighting", ("mat-auto",), VALID, reweight(True, 0.0)),
    "reweight-list": ("reweighting", ("mat-auto",), VALID, reweight(True, [0.0, 1.0])),
    "reweight-auto": ("reweighting", ("mat-auto",), VALID, reweight(True, "auto")),
    "reweight-numpy-bool": (
        "reweighting",
        ("mat-auto",),
        VALID,
        reweight(np.bool_(True), 1.0),
    ),
    "reweight-string": (
        "reweighting",
        ("mat-auto",),
        INVALID,
        reweight("yes", 1.0, invalid=True),
    ),
    "reweight-int-2": (
        "reweighting",
        ("mat-auto",),
        INVALID,
        reweight(2, 1.0, invalid=True),
    ),
    "reweight-equals-balanced": (
        "reweighting",
        ("mat-auto",),
        VALID,
        reweight_equals_balanced,
    ),
    "reweight-zero-weights": (
        "reweighting",
        ("mat-auto",),
        VALID,
        reweight_zero_weights,
    ),
    # second batch
    "initializer-callback": ("callbacks", ALL, VALID, cb_initializer),
    "freezer-callback": ("callbacks", ALL, VALID, cb_freezer),
    "plateau-scheduler": ("callbacks", ALL, VALID, cb_plateau),
    "callbacks-disabled": ("callbacks", ALL, VALID, cb_disabled),
    "net-and-skmat-early-stopping": ("callbacks", ALL, VALID, cb_early_stopping_valid),
    "warm-start-net": ("callbacks", ALL, VALID, cb_warm_start),
    "checkpoint-load-best": ("callbacks", ALL, VALID, cb_checkpoint_load_best_flag),
    "onehot-sparse-direct": ("pipelines", ALL, VALID, pipe_onehot_only),
    "tfidf-text": ("pipelines", ALL, VALID, pipe_tfidf),
    "count-vectorizer-float32": ("pipelines", MAT, VALID, pipe_counts_float),
    "sparse-fit-dense-predict": ("pipelines", ALL, VALID, sparse_predict_dense),
    "sparse-with-nan": ("pipelines", MAT, INVALID, sparse_with_nan),
    "frame-reordered-columns": ("pipelines", MAT, INVALID, frame_reordered_columns),
    "frame-duplicate-columns": ("pipelines", ALL, INVALID, frame_duplicate_columns),
    "frame-multiindex-columns": ("pipelines", MAT, VALID, frame_multiindex_columns),
    "frame-shuffled-index": ("pipelines", MAT, VALID, frame_shuffled_index),
    "frame-then-array": ("pipelines", MAT, VALID, frame_then_array),
    "pipeline-infer-groups": ("pipelines", MAT, VALID, pipe_infer_groups),
    "grid-reweight": ("model selection", ("mat-auto",), VALID, ms_grid_reweight),
    "multimetric-crossfit": ("model selection", ALL, VALID, ms_multimetric),
    "routing-groups-grid": ("model selection", ALL, VALID, ms_routing_groups),
    "routing-weighted-scorer": (
        "model selection",
        MAT,
        VALID,
        ms_routing_weighted_scorer,
    ),
    "routing-weight-unrequested": (
        "model selection",
        MAT,
        INVALID,
        lambda est: ms_routing_weighted_scorer(est, request=False),
    ),
    "stacking": ("model selection", MAT, VALID, ms_stacking),
    "ctrl-c-in-crossfit-scorer": ("interrupts", MAT, VALID, ms_scorer_interrupted),
    "cross-val-predict-log-proba": (
        "model selection",
        ALL,
        VALID,
        ms_cross_val_predict_log,
    ),
    "tuned-threshold": ("model selection", MAT, VALID, ms_tuned_threshold),
    "validation-curve": ("model selection", MAT, VALID, ms_validation_curve),
    "scorer-logistic-grid": (
        "model selection",
        ("mat-auto",),
        VALID,
        ms_scorer_logistic,
    ),
    "clone-keeps-callbacks": ("model selection", ALL, VALID, ms_clone_keeps_callbacks),
    "60-classes-x2": ("many classes", ALL, EXPLICIT_CV, many_classes(60, 2)),
    "30-string-classes-x4": (
        "many classes",
        ALL,
        EXPLICIT_CV,
        many_classes(30, 4, strings=True),
    ),
    "big-int-labels": ("many classes", ALL, VALID, big_int_labels),
    "ctrl-c-xrm-second-twin": (
        "interrupts",
        ("mat-auto",),
        VALID,
        interrupt_mat(2),
    ),
    "ctrl-c-grouping-net": ("interrupts", ("mat-auto",), VALID, interrupt_mat(8)),
    "ctrl-c-last-candidate": ("interrupts", ("mat-auto",), VALID, interrupt_mat(13)),
    "ctrl-c-early-stopping-final": (
        "interrupts",
        ("mat-auto",),
        VALID,
        interrupt_mat(14, early_stopping=True),
    ),
    "ctrl-c-dro-given-groups": (
        "interrupts",
        ("dro",),
        VALID,
        dro_given_groups_interrupt,
    ),
    "ctrl-c-jtt-in-sample": ("interrupts", ("jtt",), VALID, jtt_in_sample_interrupt),
    "minority-of-5": ("odd data", ALL, VALID, minority_of(5)),
    "minority-of-4": ("odd data", ALL, VALID, minority_of(4)),
    "minority-of-2": ("odd data", ALL, EXPLICIT_CV, minority_of(2)),
    "constant-features": ("odd data", ALL, VALID, constant_features),
    "conflicting-duplicates": ("odd data", ALL, VALID, conflicting_duplicates),
    "weight-huge": ("odd data", ALL, VALID, weights("huge")),
    "weight-integers": ("odd data", ALL, VALID, weights("integers")),
    "auto-selection-fraction-0.05": (
        "default choice",
        ("mat-auto",),
        EITHER,
        auto_params(selection_fraction=0.05),
    ),
    "auto-sequential": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_params(fold_training="sequential"),
    ),
    "auto-unseeded": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_params(random_state=None),
    ),
    "auto-random-state-instance": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_params(random_state=np.random.RandomState(0)),
    ),
    "auto-held-out-kfold": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_params(held_out="kfold"),
    ),
    "auto-given-proba": ("default choice", ("mat-auto",), VALID, auto_given_proba),
    "auto-no-calibration": (
        "default choice",
        ("mat-auto",),
        VALID,
        auto_params(calibrate=False),
    ),
    # third batch
    "set-output-feature-names": ("pipelines", MAT, VALID, pipe_feature_names),
    "frame-Int64-table": ("pipelines", MAT, EITHER, frame_int64_table),
    "columns-passthrough-int": ("pipelines", ALL, VALID, pipe_passthrough_int),
    "40-classes-crossfit-scorer": ("many classes", MAT, VALID, many_classes_scorer),
    "30-classes-early-stopping": (
        "many classes",
        MAT,
        VALID,
        many_classes_early_stopping,
    ),
    "50-classes-one-row-predict": (
        "many classes",
        ALL,
        EXPLICIT_CV,
        many_classes_one_row,
    ),
    "labels-categorical-unused": (
        "odd data",
        ("mat-auto",),
        VALID,
        labels_categorical_unused,
    ),
    "class-weighted-criterion": (
        "odd data",
        ALL,
        VALID,
        criterion_params(criterion__weight=torch.tensor([1.0, 3.0])),
    ),
    "criterion-sum": (
        "odd data",
        ALL,
        VALID,
        criterion_params(criterion__reduction="sum"),
    ),
    "batch-size-1": ("odd data", ALL, VALID, criterion_params(batch_size=1)),
    "max-epochs-1": ("odd data", ALL, VALID, criterion_params(max_epochs=1)),
    "reweight-class-weighted": (
        "reweighting",
        ("mat-auto",),
        VALID,
        reweight_class_weighted,
    ),
    # fourth batch
    "callback-keyboard-interrupt-stop": (
        "callbacks",
        ALL,
        VALID,
        cb_keyboard_interrupt_stop,
    ),
    "ctrl-c-verbose": ("interrupts", ALL, VALID, interrupt_verbose),
    "30-given-groups": ("many classes", ("dro", "balanced"), VALID, many_given_groups),
    "string-groups-pipeline": (
        "pipelines",
        ("dro", "balanced"),
        VALID,
        string_groups_pipeline,
    ),
    "user-net-and-callback-untouched": (
        "callbacks",
        ALL,
        VALID,
        cb_user_objects_untouched,
    ),
}

_CLEAR_SOURCES = (
    "sklearn/utils/validation.py",
    "sklearn/utils/_param_validation.py",
    "sklearn/utils/multiclass.py",
    "sklearn/utils/_array_api.py",
    "sklearn/utils/_tags.py",
    "sklearn/utils/_metadata_requests.py",
)


def classify_error(exc):
    """``clear`` when a ValueError/TypeError comes from skmat's or scikit-learn's
    validation, or is the user's own (raised in this script), ``obscure``
    otherwise."""
    if not isinstance(exc, (ValueError, TypeError)):
        return "obscure"
    if isinstance(exc, UnsetMetadataPassedError):  # scikit-learn's routing check
        return "clear"
    frames = traceback.extract_tb(exc.__traceback__)
    raiser = frames[-1].filename if frames else ""
    if (
        "/skmat/" in raiser
        or raiser == __file__
        or any(raiser.endswith(s) for s in _CLEAR_SOURCES)
    ):
        return "clear"
    return "obscure"


def run_case(name, estimator):
    area, _, validity, case = CASES[name]
    if isinstance(validity, dict):
        validity = validity.get(estimator, EITHER)
    thread_errors = []
    hook, threading.excepthook = threading.excepthook, thread_errors.append
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            problems = case(estimator)
    except KeyboardInterrupt:
        return "obscure", "KeyboardInterrupt escaped"
    except Exception as exc:  # every error is counted
        outcome = classify_error(exc)
        if isinstance(exc, TrainingDiverged):
            # a tiny linear net at lr=0.1 does not diverge: the advice (a smaller
            # learning rate) is wrong
            outcome = "obscure"
        if outcome == "clear" and validity == VALID:
            outcome = "refused-though-valid"
        return outcome, f"{type(exc).__name__}: {exc}"
    finally:
        threading.excepthook = hook
    if thread_errors:
        error = thread_errors[0]
        return "obscure", (
            f"a thread raised {error.exc_type.__name__}: {error.exc_value} (printed "
            "to stderr)"
        )
    if problems is None:
        return None, ""
    if problems:
        return "silent-wrong", "; ".join(problems)
    return "ok", ""


OUTCOMES = ("ok", "clear", "obscure", "silent-wrong", "refused-though-valid")


def main(verbose=False):
    counts = dict.fromkeys(OUTCOMES, 0)
    rows = []
    for name, (area, estimators, validity, _) in CASES.items():
        for estimator in estimators:
            outcome, message = run_case(name, estimator)
            if outcome is None:
                continue
            counts[outcome] += 1
            if isinstance(validity, dict):
                validity = validity.get(estimator, EITHER)
            line = message.splitlines()[0][:300] if message else ""
            rows.append((area, name, estimator, validity, outcome, line))
            if verbose or outcome not in ("ok", "clear"):
                print(f"{outcome:20} {name:26} {estimator:10} {line}", flush=True)
    total = sum(counts.values())
    print(f"{total} cases: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return counts, rows


def _provenance(seconds):
    import datetime
    import platform
    import subprocess

    import skorch

    def git(*args):
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- commit: {commit}",
        "- command: `python benchmarks/bad_inputs_round5.py --markdown "
        "benchmarks/results/bad_inputs_round5.md`",
        f"- machine: {os.cpu_count()} CPU cores, {platform.platform()}; Python "
        f"{platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}; {seconds:.0f} s",
    ]


def write_markdown(path, counts, rows, seconds):
    """The table of outcomes: the counts, then every case by estimator, then the
    message of every case that is not ok."""
    total = sum(counts.values())
    lines = [
        "# Bad and unusual inputs, fifth round (issue 31)",
        "",
        *_provenance(seconds),
        "",
        "Outcomes are defined in the script's docstring; *valid* cases must work,",
        "*invalid* ones be refused clearly, *either* accepts both.",
        "",
        f"**{total} cases: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".**",
        "",
        "| area | " + " | ".join(OUTCOMES) + " |",
        "|---|" + "---|" * len(OUTCOMES),
    ]
    areas = dict.fromkeys(row[0] for row in rows)
    for area in areas:
        got = [row[4] for row in rows if row[0] == area]
        lines.append(
            f"| {area} | " + " | ".join(str(got.count(o)) for o in OUTCOMES) + " |"
        )
    lines += ["", "## Every case", ""]
    lines += ["| area | case | " + " | ".join(ESTIMATORS) + " |"]
    lines += ["|---|---|" + "---|" * len(ESTIMATORS)]
    cells = {(row[1], row[2]): f"{row[4]} ({row[3]})" for row in rows}
    order = list(areas)
    by_area = sorted(CASES.items(), key=lambda item: order.index(item[1][0]))
    for name, (area, *_) in by_area:
        lines.append(
            f"| {area} | {name} | "
            + " | ".join(cells.get((name, e), "") for e in ESTIMATORS)
            + " |"
        )
    lines += ["", "## Messages of the cases that are not ok", ""]
    lines += ["| case | estimator | outcome | message |", "|---|---|---|---|"]
    for area, name, estimator, validity, outcome, message in rows:
        if outcome != "ok":
            message = message.replace("|", "\\|")
            lines.append(f"| {name} | {estimator} | {outcome} | {message} |")
    Path(path).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--markdown", help="write the table of outcomes there")
    args = parser.parse_args()
    start = time.perf_counter()
    counts, rows = main(args.verbose)
    if args.markdown:
        write_markdown(args.markdown, counts, rows, time.perf_counter() - start)

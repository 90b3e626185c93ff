"""No silent failure: every bad input, extreme setting, net configuration and fault
gives the right result or an error that names the parameter or the problem; no fit
ends with a non-finite model; a failed or interrupted fit leaves the estimator as
it was."""

import os
import pickle
import signal
import threading
import time
from itertools import count

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.utils._param_validation import InvalidParameterError
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, Checkpoint, EpochScoring
from skorch.dataset import ValidSplit

from skmat import (
    GroupBalancedClassifier,
    GroupDROClassifier,
    JTTClassifier,
    MATClassifier,
)

from .conftest import small_net
from .modules import MLP, Linear, SoftmaxLinear

X, Y = make_classification(60, 5, random_state=0)
X = X.astype(np.float32)
GROUPS = 2 * Y + (X[:, 0] > 0)


def net(**params):
    """A CrossEntropyLoss / SGD net, as the issue's cases use."""
    return small_net(
        **{"optimizer": torch.optim.SGD, "lr": 0.1, "max_epochs": 3, **params}
    )


class TupleOutput(Linear):
    def forward(self, X):
        return self.linear(X), X.sum(1)


class DoubleLinear(Linear):
    """A module whose parameters are float64."""

    def __init__(self, n_features_in, n_classes):
        super().__init__(n_features_in, n_classes)
        self.double()


class DictOutput(Linear):
    def forward(self, X):
        return {"logits": self.linear(X)}


class ListOutput(Linear):
    def forward(self, X):
        return [self.linear(X), X.sum(1)]


class Failing(Linear):
    def forward(self, X):
        raise RuntimeError("this module always fails")


def mat(**params):
    params = {"cv": 3, "random_state": 0, **params}
    return MATClassifier(params.pop("estimator", net()), **params)


def _folds_with_overlap():
    splits = list(KFold(3).split(X))
    return [(np.r_[train, test[:2]], test) for train, test in splits]


def _folds_one_empty():
    """Two folds, and a third that holds out nothing (its model trains on all)."""
    halves = np.arange(30), np.arange(30, 60)
    return [(halves[1], halves[0]), (halves[0], halves[1]), (np.arange(60), [])]


def _generator():
    return (split for split in KFold(3).split(X))


def _not_sortable():
    return np.array([1, "a"] * 30, dtype=object)


# (id, estimator, fit keyword arguments, what happens: "ok" or (error, pattern))
CASES = [
    # --- silent wrong results, now errors or right --------------------------------
    (
        "nll-default-on-logits",
        lambda: mat(estimator=NeuralNetClassifier(Linear, max_epochs=2, lr=0.1)),
        {},
        (ValueError, "NLLLoss.*logits, set criterion=torch.nn.CrossEntropyLoss"),
    ),
    (
        "negative-weight",
        mat,
        dict(sample_weight=-np.ones(60)),
        (ValueError, "Negative values.*sample_weight"),
    ),
    (
        "negative-weight-with-held-out-proba",
        mat,
        dict(
            sample_weight=np.r_[-1.0, np.ones(59)], held_out_proba=np.full((60, 2), 0.5)
        ),
        (ValueError, "Negative values.*sample_weight"),
    ),
    (
        "nan-weight",
        mat,
        dict(sample_weight=np.full(60, np.nan)),
        (ValueError, "sample_weight contains NaN"),
    ),
    ("zero-weights", mat, dict(sample_weight=np.zeros(60)), (ValueError, "non-zero")),
    (
        "group-dro-diverges",
        lambda: GroupDROClassifier(net(lr=1e6), eta=10, random_state=0),
        dict(groups=GROUPS),
        (ValueError, "final net diverged.*eta"),
    ),
    (
        "huge-shift-strength",
        lambda: mat(shift_strength=1e40),
        {},
        (ValueError, "shift_strength=1e\\+40 makes logit shifts as large"),
    ),
    (
        "final-net-diverges",
        lambda: mat(estimator=net(lr=1e30), shift_strength=1.0),
        dict(X=X * 1e10, held_out_proba=np.tile([0.3, 0.7], (60, 1))),
        (ValueError, "final net diverged.*shift_strength, and scale X"),
    ),
    (
        # shift_strength="auto": the first net to train is a plain copy that
        # groups the validation examples of the choice
        "net-of-the-choice-diverges",
        lambda: mat(estimator=net(lr=1e30), shift_strength="auto"),
        dict(X=X * 1e10, held_out_proba=np.tile([0.3, 0.7], (60, 1))),
        (
            ValueError,
            "plain net grouping the validation examples \\(choosing\\) "
            "diverged.*shift_strength, and scale X",
        ),
    ),
    (
        "cv-trains-on-its-test-rows",
        lambda: mat(cv=_folds_with_overlap()),
        {},
        (ValueError, "disjoint"),
    ),
    (
        "validation-fraction-leaves-a-class-out",
        lambda: mat(early_stopping=True, validation_fraction=0.97),
        {},
        (ValueError, "validation_fraction=0.97 leaves 1 training examples"),
    ),
    (
        "group-dro-with-groups-and-held-out-proba",
        lambda: GroupDROClassifier(net(), random_state=0),
        dict(groups=GROUPS, held_out_proba=np.full((60, 2), 0.5)),
        (ValueError, "one or the other"),
    ),
    # --- obscure errors, now clear --------------------------------------------------
    ("tuple-output-kfold", lambda: mat(estimator=net(module=TupleOutput)), {}, "ok"),
    (
        "tuple-output-xrm",
        lambda: mat(estimator=net(module=TupleOutput), held_out="xrm"),
        {},
        "ok",
    ),
    (
        "empty-training-fold",
        lambda: mat(cv=[(np.array([], int), np.arange(60))]),
        {},
        (ValueError, "empty training set"),
    ),
    (
        "groups-of-several-types",
        lambda: GroupDROClassifier(net(), random_state=0),
        dict(groups=_not_sortable()),
        (ValueError, "groups must be sortable"),
    ),
    (
        "huge-x",
        lambda: mat(estimator=net(lr=1.0)),
        dict(X=np.full((60, 5), 1e38, dtype=np.float32)),
        (ValueError, "diverged.*scale X: it holds values up to 1e\\+38"),
    ),
    # --- bad X and y ----------------------------------------------------------------
    ("x-nan", mat, dict(X=np.where(X > 2, np.nan, X)), (ValueError, "NaN")),
    ("x-inf", mat, dict(X=np.where(X > 2, np.inf, X)), (ValueError, "infinity")),
    ("x-1d", mat, dict(X=X[:, 0]), (ValueError, "Expected 2D array")),
    (
        "x-strings",
        mat,
        dict(X=np.full((60, 5), "a")),
        (ValueError, "could not convert"),
    ),
    ("x-empty", mat, dict(X=X[:0], y=Y[:0]), (ValueError, "0 sample")),
    ("x-y-lengths", mat, dict(y=Y[:50]), (ValueError, "inconsistent numbers")),
    ("x-object", mat, dict(X=object()), (TypeError, "cannot be indexed by rows")),
    (
        "x-images-for-a-linear-net",
        mat,
        dict(X=X.reshape(60, 5, 1)),
        (ValueError, "n_features_in.*set it yourself"),
    ),
    ("y-one-class", mat, dict(y=np.zeros(60)), (ValueError, "at least 2 classes")),
    ("y-continuous", mat, dict(y=X[:, 0]), (ValueError, "Unknown label type")),
    ("y-none", mat, dict(y=None), (ValueError, "requires y")),
    ("y-2d", mat, dict(y=np.c_[Y, Y]), (ValueError, "y")),
    ("y-strings", mat, dict(y=np.array(["no", "yes"])[Y]), "ok"),
    ("y-minus-one-and-one", mat, dict(y=2 * Y - 1), "ok"),
    ("y-three-classes", mat, dict(y=np.arange(60) % 3), "ok"),
    ("x-dataframe", mat, dict(X="dataframe"), "ok"),
    ("x-float64", mat, dict(X=X.astype(np.float64)), "ok"),
    ("x-int-table", mat, dict(X=(X * 10).astype(np.int64)), "ok"),
    ("x-read-only", mat, dict(X="read-only"), "ok"),
    # --- held-out probabilities, groups, weights ------------------------------------
    (
        "proba-shape",
        mat,
        dict(held_out_proba=np.full((60, 3), 1 / 3)),
        (ValueError, "shape"),
    ),
    (
        "proba-negative",
        mat,
        dict(held_out_proba=np.tile([1.5, -0.5], (60, 1))),
        (ValueError, "non-negative"),
    ),
    (
        "proba-sum",
        mat,
        dict(held_out_proba=np.tile([0.7, 0.7], (60, 1))),
        (ValueError, "sum to 1"),
    ),
    (
        "proba-nan",
        mat,
        dict(held_out_proba=np.tile([np.nan, 0.5], (60, 1))),
        (ValueError, "finite"),
    ),
    ("proba-valid", mat, dict(held_out_proba=np.tile([0.3, 0.7], (60, 1))), "ok"),
    (
        "groups-length",
        mat,
        dict(groups=GROUPS[:10]),
        (ValueError, "groups must have shape"),
    ),
    (
        "groups-2d",
        mat,
        dict(groups=np.c_[GROUPS, GROUPS]),
        (ValueError, "groups must have shape"),
    ),
    (
        "groups-strings",
        lambda: GroupBalancedClassifier(net(), random_state=0),
        dict(groups=np.array(list("ab"))[Y]),
        "ok",
    ),
    (
        "weight-length",
        mat,
        dict(sample_weight=np.ones(10)),
        (ValueError, "sample_weight"),
    ),
    ("weight-integers", mat, dict(sample_weight=np.arange(60) % 3 + 1), "ok"),
    (
        "weight-some-zero",
        mat,
        dict(sample_weight=np.r_[np.zeros(10), np.ones(50)]),
        "ok",
    ),
    # --- parameters -----------------------------------------------------------------
    ("cv-1", lambda: mat(cv=1), {}, (InvalidParameterError, "'cv' parameter")),
    (
        "cv-too-many",
        lambda: mat(cv=40),
        {},
        (ValueError, "cv asks for 40 stratified.*use cv=30 \\(the most folds"),
    ),
    (
        "cv-not-a-partition",
        lambda: mat(cv=ShuffleSplit(3, random_state=0)),
        {},
        (ValueError, "partition"),
    ),
    ("cv-generator", lambda: mat(cv=_generator()), {}, "ok"),
    (
        "temperature-0",
        lambda: mat(temperature=0),
        {},
        (InvalidParameterError, "'temperature'"),
    ),
    ("temperature-tiny", lambda: mat(temperature=1e-6), {}, "ok"),
    ("temperature-huge", lambda: mat(temperature=1e6), {}, "ok"),
    (
        "shift-strength-negative",
        lambda: mat(shift_strength=-1),
        {},
        (InvalidParameterError, "'shift_strength'"),
    ),
    (
        "validation-fraction-1",
        lambda: mat(validation_fraction=1.0),
        {},
        (InvalidParameterError, "'validation_fraction'"),
    ),
    (
        "n-iter-no-change-0",
        lambda: mat(n_iter_no_change=0),
        {},
        (InvalidParameterError, "'n_iter_no_change'"),
    ),
    (
        "fold-training-unknown",
        lambda: mat(fold_training="fast"),
        {},
        (InvalidParameterError, "'fold_training'"),
    ),
    (
        "held-out-unknown",
        lambda: mat(held_out="loo"),
        {},
        (InvalidParameterError, "'held_out'"),
    ),
    (
        "upweight-below-1",
        lambda: JTTClassifier(net(), upweight=0.5),
        {},
        (InvalidParameterError, "'upweight'"),
    ),
    (
        "eta-0",
        lambda: GroupDROClassifier(net(), eta=0),
        {},
        (InvalidParameterError, "'eta'"),
    ),
    (
        "held-out-epochs-above-1",
        lambda: mat(held_out_epochs=1.5),
        {},
        (InvalidParameterError, "'held_out_epochs'"),
    ),
    (
        "xrm-with-sklearn",
        lambda: mat(held_out="xrm", held_out_estimator=LogisticRegression()),
        {},
        (ValueError, "held_out='xrm'.*LogisticRegression"),
    ),
    # --- issue 25: the third round of bad and unusual input --------------------------
    (
        "cv-3-with-a-class-of-one",
        mat,
        dict(y=np.r_[2, Y[1:]]),
        (ValueError, "only 1 member.*use held_out='xrm'.*more examples"),
    ),
    ("cv-2-with-a-class-of-two", lambda: mat(cv=2), dict(y=np.r_[2, 2, Y[2:]]), "ok"),
    ("x-tensor-requires-grad", mat, dict(X="tensor-requires-grad"), "ok"),
    (
        "x-tensor-requires-grad-xrm",
        lambda: mat(held_out="xrm"),
        dict(X="tensor-requires-grad"),
        "ok",
    ),
    ("x-nullable-float-frame", mat, dict(X="Float64-frame"), "ok"),
    ("x-nullable-int-frame", mat, dict(X="Int64-frame"), "ok"),
    (
        "x-nullable-frame-with-na",
        mat,
        dict(X="Float64-frame-with-NA"),
        (ValueError, "Input X contains NaN"),
    ),
    (
        "held-out-epochs-bool",
        lambda: mat(held_out_epochs=True),
        {},
        (InvalidParameterError, "'held_out_epochs'.*not a bool.*Got True"),
    ),
    (
        "cv-with-an-empty-test-fold",
        lambda: mat(cv=_folds_one_empty(), estimator=net(batch_size=-1)),
        {},
        (ValueError, "cv gives fold 2 an empty test set"),
    ),
    (
        "float64-module-instance",
        lambda: mat(estimator=net(module=torch.nn.Linear(5, 2).double())),
        dict(X=X.astype(np.float64)),
        "ok",
    ),
    (
        "float64-module-class",
        lambda: mat(estimator=net(module=DoubleLinear)),
        dict(X=X.astype(np.float64)),
        "ok",
    ),
    (
        "float64-module-on-float32",
        lambda: mat(estimator=net(module=DoubleLinear), held_out="xrm"),
        {},
        "ok",
    ),
    # --- issue 25: a sample of the generated round (benchmarks/bad_inputs_round3.py) -
    ("x-boolean-frame", mat, dict(X="frame-boolean"), "ok"),
    ("x-string-frame-of-numbers", mat, dict(X="frame-string"), "ok"),
    (
        "x-category-frame-of-words",
        mat,
        dict(X="frame-category-words"),
        (ValueError, "columns that do not hold numbers.*'f0': 'category'.*Encode"),
    ),
    (
        "x-datetime-column",
        mat,
        dict(X="frame-datetime"),
        (ValueError, "columns that do not hold numbers: \\{'t': 'datetime64"),
    ),
    (
        "x-meta-tensor",
        mat,
        dict(X="meta-tensor"),
        (ValueError, "X is a tensor on the meta device"),
    ),
    ("x-non-contiguous-tensor", mat, dict(X="non-contiguous-tensor"), "ok"),
    ("x-float16-tensor", mat, dict(X="float16-tensor"), "ok"),
    ("x-fortran-order", mat, dict(X=np.asfortranarray(X)), "ok"),
    ("x-list-of-lists", lambda: mat(held_out="xrm"), dict(X=X.tolist()), "ok"),
    (
        "module-returns-dict",
        lambda: mat(estimator=net(module=DictOutput)),
        {},
        (ValueError, "returns a dict; its forward must return one tensor"),
    ),
    (
        "module-returns-list",
        lambda: mat(estimator=net(module=ListOutput), held_out="xrm"),
        {},
        (ValueError, "returns a list.*or a tuple whose first element"),
    ),
    ("y-categorical", mat, dict(y="categorical-y"), "ok"),
    ("weight-list", mat, dict(sample_weight=[1.0, 2.0] * 30), "ok"),
    # --- extreme settings -----------------------------------------------------------
    ("no-epochs", lambda: mat(estimator=net(max_epochs=0)), {}, "ok"),
    ("batch-of-one", lambda: mat(estimator=net(batch_size=1, max_epochs=1)), {}, "ok"),
    ("full-batch", lambda: mat(estimator=net(batch_size=-1)), {}, "ok"),
    ("cv-30", lambda: mat(cv=30, estimator=net(max_epochs=1)), {}, "ok"),
    ("zero-shift", lambda: mat(shift_strength=0), {}, "ok"),
    ("held-out-epochs-tiny", lambda: mat(held_out_epochs=1e-9), {}, "ok"),
    (
        "early-stopping-1-epoch",
        lambda: mat(early_stopping=True, n_iter_no_change=1),
        {},
        "ok",
    ),
    # --- net configurations ---------------------------------------------------------
    ("module-class", lambda: mat(estimator=Linear), {}, "ok"),
    ("module-instance", lambda: mat(estimator=torch.nn.Linear(5, 2)), {}, "ok"),
    (
        "skorch-default-valid-split",
        lambda: mat(estimator=net(train_split=ValidSplit(3))),
        {},
        "ok",
    ),
    (
        "callbacks",
        lambda: mat(estimator=net(callbacks=[EpochScoring("accuracy", on_train=True)])),
        {},
        "ok",
    ),
    (
        "class-weights",
        lambda: mat(estimator=net(criterion__weight=torch.tensor([1.0, 2.0]))),
        {},
        "ok",
    ),
    (
        "lbfgs",
        lambda: mat(estimator=net(optimizer=torch.optim.LBFGS, lr=0.5, batch_size=-1)),
        {},
        "ok",
    ),
    (
        "nll-with-probabilities",
        lambda: mat(estimator=net(module=SoftmaxLinear, criterion=torch.nn.NLLLoss)),
        {},
        "ok",
    ),
    (
        "mse-criterion",
        lambda: mat(estimator=net(criterion=torch.nn.MSELoss)),
        {},
        (TypeError, "criterion of estimator must be"),
    ),
    (
        "wrong-output-size",
        lambda: mat(estimator=net(module__n_classes=3)),
        {},
        (ValueError, "one value per class"),
    ),
    (
        "failing-module",
        lambda: mat(estimator=net(module=Failing)),
        {},
        (ValueError, "fails on.*always fails"),
    ),
    ("held-out-mlp", lambda: mat(held_out_estimator=net(module=MLP)), {}, "ok"),
    (
        "held-out-logistic",
        lambda: mat(held_out_estimator=LogisticRegression()),
        {},
        "ok",
    ),
    (
        "custom-dataset",
        lambda: mat(estimator=net(dataset=torch.utils.data.TensorDataset)),
        {},
        (ValueError, "leave the net's dataset"),
    ),
]


_MORE = {
    "frame-boolean": lambda pd: pd.DataFrame(X > 0).astype("boolean"),
    "frame-string": lambda pd: pd.DataFrame(X.round(3)).astype("string"),
    "frame-category-words": lambda pd: pd.DataFrame(
        np.where(X > 0, "hi", "lo"), columns=[f"f{i}" for i in range(5)]
    ).astype("category"),
    "frame-datetime": lambda pd: pd.DataFrame(
        {"t": pd.date_range("2020", periods=60), "x": X[:, 0]}
    ),
    "meta-tensor": lambda pd: torch.empty(60, 5, device="meta"),
    "non-contiguous-tensor": lambda pd: torch.tensor(X.T.copy()).T,
    "float16-tensor": lambda pd: torch.tensor(X, dtype=torch.float16),
    "categorical-y": lambda pd: pd.Categorical(
        np.array(["b", "a"])[Y], categories=["b", "a"]
    ),
}


def _data(X_arg):
    if isinstance(X_arg, str) and X_arg == "dataframe":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    if isinstance(X_arg, str) and X_arg == "tensor-requires-grad":
        return torch.tensor(X, requires_grad=True)
    if isinstance(X_arg, str) and X_arg.endswith("-frame"):
        pd = pytest.importorskip("pandas")
        values = X if X_arg.startswith("Float") else np.round(X * 10).astype(int)
        return pd.DataFrame(values).astype(X_arg.split("-")[0])
    if isinstance(X_arg, str) and X_arg == "Float64-frame-with-NA":
        frame = _data("Float64-frame")
        frame.iloc[3, 1] = None
        return frame
    if isinstance(X_arg, str) and X_arg in _MORE:
        pd = pytest.importorskip("pandas")
        return _MORE[X_arg](pd)
    if isinstance(X_arg, str) and X_arg == "read-only":
        frozen = X.copy()
        frozen.flags.writeable = False
        return frozen
    return X_arg


@pytest.mark.parametrize(
    "make, fit_params, expected",
    [case[1:] for case in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_case_is_right_or_a_clear_error(make, fit_params, expected):
    fit_params = dict(fit_params)
    X_fit = _data(fit_params.pop("X", X))
    y_fit = _data(fit_params.pop("y", Y))
    estimator = make()
    if expected == "ok":
        estimator.fit(X_fit, y_fit, **fit_params)
        proba = estimator.predict_proba(X_fit)
        assert np.all(np.isfinite(proba)), "a fit ended with a non-finite model"
        assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
        assert set(np.unique(estimator.predict(X_fit))) <= set(np.unique(y_fit))
    else:
        error, pattern = expected
        with pytest.raises(error, match=pattern):
            estimator.fit(X_fit, y_fit, **fit_params)
        with pytest.raises(NotFittedError):
            estimator.predict(X)  # a failed first fit leaves it unfitted


def test_cv_generator_is_used_once_and_then_says_so():
    clf = mat(cv=_generator()).fit(X, Y)
    with pytest.raises(ValueError, match="iterator of splits is used up"):
        clf.fit(X, Y)


# --- faults: exceptions and Ctrl-C leave the estimator as it was ------------------

_NETS_STARTED = count()


class Fault(Callback):
    """At epoch 2 of the ``at``-th net trained from now on, raise ``error`` (or
    send this process a SIGINT, as Ctrl-C does)."""

    def __init__(self, at=1, error="sigint"):
        self.at = at
        self.error = error

    def on_train_begin(self, net, **kwargs):
        self.number_ = next(_NETS_STARTED)

    def on_epoch_end(self, net, **kwargs):
        if self.number_ - _START[0] + 1 == self.at and len(net.history) == 2:
            if self.error == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(100):  # the handler runs at the latest in here
                    time.sleep(0.01)
            raise RuntimeError("a fault in training")


_START = [0]


def faulty(at, error, **params):
    _START[0] = next(_NETS_STARTED) + 1
    return net(callbacks=[Fault(at=at, error=error)], max_epochs=4, **params)


@pytest.mark.parametrize("error", ["sigint", "exception"])
@pytest.mark.parametrize(
    "where, params",
    [
        # a fixed strength: the choice's fold nets train a quarter of the epochs
        ("first fold", dict(at=1, shift_strength=1.0)),
        ("final net", dict(at=4)),
        ("xrm twin", dict(at=1, held_out="xrm")),
    ],
    ids=["fold", "final", "xrm-twin"],
)
def test_a_fault_stops_the_whole_fit_and_leaves_the_estimator_as_it_was(
    error, where, params
):
    params = dict(params)
    at = params.pop("at")
    expected = KeyboardInterrupt if error == "sigint" else RuntimeError
    threads = threading.active_count()
    # a first fit that fails: the estimator stays unfitted
    clf = mat(estimator=faulty(at, error), **params)
    with pytest.raises(expected):
        clf.fit(X, Y)
    assert threading.active_count() == threads  # XRM's lockstep twins stopped
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [name for name in vars(clf) if name.endswith("_")]
    # a refit that fails: the previous fit is intact
    clf = mat(**params).fit(X, Y)
    proba = clf.predict_proba(X)
    clf.set_params(estimator=faulty(at, error))
    before = dict(vars(clf))
    with pytest.raises(expected):
        clf.fit(X[::-1], Y[::-1])
    assert set(vars(clf)) == set(before)
    assert all(vars(clf)[name] is value for name, value in before.items())
    assert_array_equal(clf.predict_proba(X), proba)


def test_ctrl_c_in_a_batched_held_out_phase_stops_the_fit(monkeypatch):
    from skmat import _stacked

    calls = count()
    original = _stacked.batch_loss

    def interrupted(*args, **kwargs):
        if next(calls) == 1:  # the second step
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(_stacked, "batch_loss", interrupted)
    clf = mat(fold_training="batched")
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


# --- stale attributes --------------------------------------------------------------


def test_a_refit_keeps_no_attribute_of_the_previous_fit():
    dro = GroupDROClassifier(net(), cv=3, random_state=0).fit(X, Y)
    assert dro.infer_groups().shape == (60,)
    dro.fit(X, Y, groups=GROUPS)
    with pytest.raises(ValueError, match="ran no held-out phase"):
        dro.infer_groups()
    clf = mat(early_stopping=True).fit(X, Y)
    clf.set_params(early_stopping=False).fit(X, Y)
    for name in ["validation_scores_", "best_epoch_", "validation_indices_"]:
        assert not hasattr(clf, name)
    assert clf.n_features_in_ == 5
    flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(5, 2))
    clf.set_params(estimator=flat).fit(X.reshape(60, 5, 1), Y)
    assert not hasattr(clf, "n_features_in_")  # not a table: no stale count


# --- callbacks that write files -----------------------------------------------------


def test_each_held_out_net_loads_its_own_checkpoint_in_parallel(tmp_path):
    """Checkpoint(load_best=True) with folds trained two at a time: every fold net
    writes and loads its own best weights (20 runs in a row)."""
    for run in range(20):
        dirname = tmp_path / f"run{run}"
        checkpoint = Checkpoint(dirname=str(dirname), load_best=True)
        estimator = net(
            train_split=ValidSplit(4, stratified=True),
            callbacks=[checkpoint],
            max_epochs=4,
        )
        clf = MATClassifier(estimator, cv=3, n_jobs=2, random_state=run).fit(X, Y)
        weights = []
        for k, model in enumerate(clf.held_out_estimators_):
            saved = torch.load(dirname / f"held_out_{k}" / "params.pt")
            own = model.module_.state_dict()
            for name, value in own.items():
                torch.testing.assert_close(saved[name], value, rtol=0, atol=0)
            weights.append(torch.cat([v.ravel() for v in own.values()]))
        for a in range(3):
            for b in range(a + 1, 3):
                assert not torch.equal(weights[a], weights[b])
        final = torch.load(dirname / "params.pt")
        for name, value in clf.estimator_.module_.state_dict().items():
            torch.testing.assert_close(final[name], value, rtol=0, atol=0)


# --- determinism and persistence ---------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        mat,
        lambda: mat(held_out="xrm"),
        lambda: mat(fold_training="sequential"),
        lambda: JTTClassifier(net(), held_out="in_sample", random_state=0),
        lambda: GroupDROClassifier(net(), cv=3, random_state=0),
    ],
    ids=["mat", "xrm", "sequential", "jtt", "dro"],
)
def test_determinism_and_persistence(make, tmp_path):
    state = torch.get_rng_state()
    first = make().fit(X, Y)
    assert torch.equal(torch.get_rng_state(), state)
    second = make().fit(X, Y)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    for restored in [
        pickle.loads(pickle.dumps(first)),
        joblib.load(joblib.dump(first, tmp_path / "model.joblib")[0]),
    ]:
        assert_array_equal(restored.predict_proba(X), first.predict_proba(X))
        restored.estimator_.partial_fit(X, Y)  # the fitted net trains on
    unfitted = clone(first)
    assert not hasattr(unfitted, "estimator_")


# --- tables follow the module's floating dtype ---------------------------------------


@pytest.mark.parametrize(
    "module_dtype, table_dtype",
    [
        (torch.float64, np.float64),
        (torch.float64, np.float32),
        (torch.float32, np.float64),
        (torch.float64, np.int64),
    ],
    ids=["f64-module-f64-table", "f64-module-f32", "f32-module-f64", "f64-module-int"],
)
@pytest.mark.parametrize("held_out", ["kfold", "xrm"])
def test_tables_take_the_dtype_of_the_modules_parameters(
    module_dtype, table_dtype, held_out
):
    """A float64 module gets float64 tables (as plain skorch feeds them), a float32
    module float32 ones (the common checks need that), in every net and at
    prediction; integer tables that the module does not take become floating the
    same way."""
    seen = set()

    class Recording(Linear):
        def __init__(self, n_features_in, n_classes):
            super().__init__(n_features_in, n_classes)
            self.to(module_dtype)

        def forward(self, X):
            seen.add(X.dtype)
            return super().forward(X)

    X_fit = (X * 10).astype(table_dtype)
    clf = mat(estimator=net(module=Recording), held_out=held_out).fit(X_fit, Y)
    # (an integer table is first tried as it is: token ids stay integers)
    assert seen - {torch.int64} == {module_dtype}
    seen.clear()
    assert clf.predict_proba(X_fit.astype(np.float64)).dtype == np.float64
    assert seen == {module_dtype}

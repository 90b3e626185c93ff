"""Third round of generated bad and unusual inputs (issue 25), over MATClassifier
(XRM twins, and 3 folds) and the baselines (JTT, Group DRO, group reweighting),
with tiny nets.

Each case fits an estimator and, when the fit succeeds, predicts on the same kind of
input; the outcome is counted as

* ``ok``: it fits, ``classes_`` are the labels of ``y`` (sorted), ``predict`` returns
  labels of ``classes_`` that agree with ``predict_proba``, whose rows are finite
  and sum to 1;
* ``clear``: a ValueError or TypeError raised by skmat's or scikit-learn's
  validation (the message names the parameter or the problem);
* ``obscure``: any other error (from inside torch, numpy, scipy or skorch);
* ``silent-wrong``: it fits but a check of ``ok`` fails.

Run from the repository root (about 3 minutes on 2 cores)::

    python benchmarks/bad_inputs_round3.py [-v]

``-v`` prints every case with its outcome and message.
"""

import argparse
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skmat import (  # noqa: E402
    GroupBalancedClassifier,
    GroupDROClassifier,
    JTTClassifier,
    MATClassifier,
)
from tests.conftest import small_net  # noqa: E402
from tests.modules import Linear  # noqa: E402

torch.set_num_threads(1)

N = 60
X, Y = make_classification(N, 5, random_state=0)
X = X.astype(np.float32)
GROUPS = 2 * Y + (X[:, 0] > 0)


class DictOutput(Linear):
    def forward(self, X):
        return {"logits": self.linear(X)}


class TupleOutput(Linear):
    def forward(self, X):
        return self.linear(X), X.sum(1)


class ListOutput(Linear):
    def forward(self, X):
        return [self.linear(X), X.sum(1)]


class Flat(torch.nn.Module):
    """Flattens any per-example shape into 5 features."""

    def __init__(self, n_classes=2):
        super().__init__()
        self.linear = torch.nn.Linear(5, n_classes)

    def forward(self, X):
        return self.linear(X.reshape(len(X), -1).float())


class Keywords(torch.nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.linear = torch.nn.Linear(5, n_classes)

    def forward(self, a, b):
        return self.linear(a + b)


def net(**params):
    return small_net(
        **{"optimizer": torch.optim.SGD, "lr": 0.1, "max_epochs": 2, **params}
    )


ESTIMATORS = {
    "mat-xrm": lambda n: MATClassifier(n, held_out="xrm", random_state=0),
    "mat-kfold": lambda n: MATClassifier(n, cv=3, random_state=0),
    "jtt": lambda n: JTTClassifier(n, cv=3, random_state=0),
    "dro": lambda n: GroupDROClassifier(n, cv=3, random_state=0),
    "balanced": lambda n: GroupBalancedClassifier(n, cv=3, random_state=0),
}


def frame(dtype, values=None):
    values = X if values is None else values
    return pd.DataFrame(values, columns=[f"f{i}" for i in range(5)]).astype(dtype)


def with_na(dtype):
    data = frame(dtype, X if dtype.startswith("Float") else np.round(X * 3))
    data.iloc[4, 2] = pd.NA
    return data


_SCRATCH = tempfile.TemporaryDirectory()  # removed when the script ends


def memmap():
    path = Path(_SCRATCH.name) / "X.dat"
    array = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    array[:] = X
    array.flush()
    return np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)


def read_only():
    array = X.copy()
    array.flags.writeable = False
    return array


def images_with_grad():
    return torch.tensor(X.reshape(N, 5, 1, 1), requires_grad=True)


def dict_with_grad():
    return {"a": torch.tensor(X, requires_grad=True), "b": torch.tensor(X)}


# name -> (X factory, fit keyword arguments (y, sample_weight, groups), net params)
INPUTS = {
    # pandas extension dtypes
    "frame-Float32": (lambda: frame("Float32"), {}, {}),
    "frame-Float64": (lambda: frame("Float64"), {}, {}),
    "frame-Int64": (lambda: frame("Int64", np.round(X * 3)), {}, {}),
    "frame-Int8": (lambda: frame("Int8", np.round(X * 3)), {}, {}),
    "frame-boolean": (lambda: frame("boolean", X > 0), {}, {}),
    "frame-category-numbers": (lambda: frame("category", np.round(X)), {}, {}),
    "frame-category-strings": (
        lambda: frame("category", np.where(X > 0, "hi", "lo")),
        {},
        {},
    ),
    "frame-string-numbers": (lambda: frame("string", X.round(3)), {}, {}),
    "frame-string-words": (lambda: frame("string", np.where(X > 0, "a", "b")), {}, {}),
    "frame-mixed-nullable": (
        lambda: pd.concat(
            [frame("Float64").iloc[:, :3], frame("Int64", np.round(X)).iloc[:, 3:]],
            axis=1,
        ),
        {},
        {},
    ),
    "frame-Float64-NA": (lambda: with_na("Float64"), {}, {}),
    "frame-Int64-NA": (lambda: with_na("Int64"), {}, {}),
    "frame-int-column-names": (lambda: pd.DataFrame(X), {}, {}),
    "frame-datetime": (
        lambda: pd.DataFrame({"t": pd.date_range("2020", periods=N), **frame(float)}),
        {},
        {},
    ),
    # scipy sparse
    "sparse-csr": (lambda: sp.csr_matrix(X), {}, {}),
    "sparse-csc": (lambda: sp.csc_matrix(X), {}, {}),
    "sparse-coo": (lambda: sp.coo_matrix(X), {}, {}),
    "sparse-csr-array": (lambda: sp.csr_array(X), {}, {}),
    # torch tensors
    "tensor-requires-grad": (lambda: torch.tensor(X, requires_grad=True), {}, {}),
    "tensor-non-contiguous": (lambda: torch.tensor(X.T.copy()).T, {}, {}),
    "tensor-float64": (lambda: torch.tensor(X, dtype=torch.float64), {}, {}),
    "tensor-int": (lambda: torch.tensor(np.round(X * 3), dtype=torch.int64), {}, {}),
    "tensor-float16": (lambda: torch.tensor(X, dtype=torch.float16), {}, {}),
    "tensor-bool": (lambda: torch.tensor(X > 0), {}, {}),
    "tensor-meta-device": (lambda: torch.empty(N, 5, device="meta"), {}, {}),
    "tensor-images-grad": (images_with_grad, {}, dict(module=Flat)),
    "tensor-dict-grad": (dict_with_grad, {}, dict(module=Keywords)),
    # Python lists
    "list-of-lists": (lambda: X.tolist(), {}, {}),
    "list-of-tuples": (lambda: [tuple(row) for row in X.tolist()], {}, {}),
    "list-of-int-lists": (lambda: np.round(X * 3).astype(int).tolist(), {}, {}),
    "list-ragged": (
        lambda: [row[: 4 + i % 2] for i, row in enumerate(X.tolist())],
        {},
        {},
    ),
    "list-of-strings": (lambda: [["a"] * 5] * N, {}, {}),
    # numpy layouts and dtypes
    "memmap": (memmap, {}, {}),
    "read-only": (read_only, {}, {}),
    "fortran-order": (lambda: np.asfortranarray(X), {}, {}),
    "strided-view": (lambda: np.repeat(X, 2, axis=1)[:, ::2], {}, {}),
    "float16": (lambda: X.astype(np.float16), {}, {}),
    "bool": (lambda: X > 0, {}, {}),
    "object-floats": (lambda: X.astype(object), {}, {}),
    "complex": (lambda: X.astype(np.complex64), {}, {}),
    "matrix": (lambda: np.asmatrix(X), {}, {}),
    "zero-columns": (lambda: np.empty((N, 0), dtype=np.float32), {}, {}),
    # nets whose module returns something else than a tensor
    "module-dict": (lambda: X, {}, dict(module=DictOutput)),
    "module-tuple": (lambda: X, {}, dict(module=TupleOutput)),
    "module-list": (lambda: X, {}, dict(module=ListOutput)),
    # labels
    "y-strings": (lambda: X, dict(y=np.array(["no", "yes"])[Y]), {}),
    "y-series": (lambda: X, dict(y=pd.Series(Y)), {}),
    "y-series-Int64": (lambda: X, dict(y=pd.Series(Y, dtype="Int64")), {}),
    "y-series-string": (
        lambda: X,
        dict(y=pd.Series(np.array(["b", "a"])[Y], dtype="string")),
        {},
    ),
    "y-categorical": (
        lambda: X,
        dict(y=pd.Categorical(np.array(["b", "a"])[Y], categories=["b", "a"])),
        {},
    ),
    "y-categorical-unused": (
        lambda: X,
        dict(y=pd.Series(pd.Categorical(Y, categories=[0, 1, 2]))),
        {},
    ),
    "y-bool": (lambda: X, dict(y=Y.astype(bool)), {}),
    "y-list-of-strings": (lambda: X, dict(y=list(np.array(["n", "y"])[Y])), {}),
    "y-float-integers": (lambda: X, dict(y=Y.astype(float)), {}),
    "y-tensor": (lambda: X, dict(y=torch.tensor(Y)), {}),
    "y-column": (lambda: X, dict(y=Y.reshape(-1, 1)), {}),
    "y-mixed-types": (lambda: X, dict(y=np.array([1, "a"] * 30, dtype=object)), {}),
    "y-series-with-NA": (
        lambda: X,
        dict(y=pd.Series(Y, dtype="Int64").where(np.arange(N) != 3)),
        {},
    ),
    "y-negative-and-positive": (lambda: X, dict(y=np.where(Y, 7, -3)), {}),
    # sample weights and groups
    "weight-list": (lambda: X, dict(sample_weight=[1.0] * N), {}),
    "weight-int-list": (lambda: X, dict(sample_weight=[1, 2] * (N // 2)), {}),
    "weight-series": (lambda: X, dict(sample_weight=pd.Series(np.ones(N))), {}),
    "weight-Float64-NA": (
        lambda: X,
        dict(sample_weight=pd.Series(np.ones(N), dtype="Float64").where(Y == 0)),
        {},
    ),
    "weight-tensor": (lambda: X, dict(sample_weight=torch.ones(N)), {}),
    "weight-2d": (lambda: X, dict(sample_weight=np.ones((N, 1))), {}),
    "weight-strings": (lambda: X, dict(sample_weight=["1"] * N), {}),
    "groups-list-of-strings": (lambda: X, dict(groups=list("ab" * 30)), {}),
    "groups-series": (lambda: X, dict(groups=pd.Series(GROUPS)), {}),
}


def labels(fit):
    y = fit.get("y", Y)
    if torch.is_tensor(y):
        return np.unique(y.numpy())
    return np.unique(np.asarray(y).ravel())


def check_ok(clf, X_fit, fit):
    """The problems of a fitted estimator (empty: ok)."""
    problems = []
    expected = labels(fit)
    if list(clf.classes_) != list(expected):
        problems.append(f"classes_ {list(clf.classes_)} != labels {list(expected)}")
    proba = clf.predict_proba(X_fit)
    predicted = clf.predict(X_fit)
    if proba.shape != (N, len(clf.classes_)):
        problems.append(f"predict_proba shape {proba.shape}")
    elif not np.all(np.isfinite(proba)):
        problems.append("non-finite probabilities")
    elif not np.allclose(proba.sum(axis=1), 1, atol=1e-6):
        problems.append("probability rows do not sum to 1")
    elif not np.array_equal(predicted, clf.classes_[proba.argmax(axis=1)]):
        problems.append("predict disagrees with predict_proba")
    if not set(np.asarray(predicted).tolist()) <= set(expected.tolist()):
        problems.append("predict returns labels not in y")
    return problems


_CLEAR_SOURCES = (
    f"{Path('skmat')}",
    "sklearn/utils/validation.py",
    "sklearn/utils/_param_validation.py",
    "sklearn/utils/multiclass.py",
    "sklearn/utils/_array_api.py",
    "sklearn/utils/_tags.py",
)


def classify_error(exc):
    """``clear`` when a ValueError/TypeError comes from skmat's or scikit-learn's
    validation, ``obscure`` otherwise."""
    if not isinstance(exc, (ValueError, TypeError)):
        return "obscure"
    frames = traceback.extract_tb(exc.__traceback__)
    raiser = frames[-1].filename if frames else ""
    if "/skmat/" in raiser or any(raiser.endswith(s) for s in _CLEAR_SOURCES[1:]):
        return "clear"
    return "obscure"


def run_case(estimator, kind):
    make_X, fit, net_params = INPUTS[kind]
    fit = dict(fit)
    if estimator in ("dro", "balanced") and "groups" not in fit:
        fit_groups = None
    else:
        fit_groups = fit.pop("groups", None)
    y = fit.pop("y", Y)
    X_fit = make_X()
    clf = ESTIMATORS[estimator](net(**net_params))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X_fit, y, groups=fit_groups, **fit)
            problems = check_ok(clf, X_fit, dict(y=y))
    except Exception as exc:  # every error is counted
        return classify_error(exc), f"{type(exc).__name__}: {exc}"
    if problems:
        return "silent-wrong", "; ".join(problems)
    return "ok", ""


def main(verbose=False):
    counts = {"ok": 0, "clear": 0, "obscure": 0, "silent-wrong": 0}
    for kind in INPUTS:
        for estimator in ESTIMATORS:
            outcome, message = run_case(estimator, kind)
            counts[outcome] += 1
            if verbose or outcome in ("obscure", "silent-wrong"):
                line = message.splitlines()[0][:300] if message else ""
                print(f"{outcome:12} {kind:26} {estimator:10} {line}", flush=True)
    total = sum(counts.values())
    print(f"{total} cases: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    main(parser.parse_args().verbose)

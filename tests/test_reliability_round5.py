"""Regression cases of the fifth round of generated inputs (issue 31, item 5;
``benchmarks/bad_inputs_round5.py``): each was obscure, silent-wrong or refused
though valid, and is now right."""

import os
import signal
import threading

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from skorch.callbacks import Callback

from skmat import MATClassifier
from skmat._shift import calibration_matrix
from skmat.metrics import CrossFitGroupScorer

from .conftest import small_net

X, Y = make_classification(60, 5, random_state=0)
X = X.astype(np.float32)


def net(**params):
    return small_net(
        **{"optimizer": torch.optim.SGD, "lr": 0.1, "max_epochs": 2, **params}
    )


def test_a_sparse_table_fits_as_its_dense_array():
    """OneHotEncoder's default (sparse) output in a Pipeline was refused with
    "Sparse data was passed for X, but dense data is required"."""
    clf = MATClassifier(net(), cv=3, shift_strength=1.0, random_state=0)
    sparse = clf.fit(sp.csr_matrix(X), Y).predict_proba(sp.csc_matrix(X))
    dense = MATClassifier(net(), cv=3, shift_strength=1.0, random_state=0)
    assert_allclose(sparse, dense.fit(X, Y).predict_proba(X), atol=1e-6)

    words = np.array(["a", "b", "c"])[np.arange(60) % 3].reshape(-1, 1)
    pipe = make_pipeline(OneHotEncoder(), MATClassifier(net(), random_state=0))
    assert pipe.fit(words, Y).predict_proba(words).shape == (60, 2)


class CtrlC(Callback):
    """Sends the process a SIGINT in the first batch of the first net it is in."""

    sent = []

    def on_batch_end(self, net, **kwargs):
        if not self.sent:
            self.sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_in_xrm_twins_leaves_no_thread_error(monkeypatch):
    """A Ctrl-C in XRM's lockstep twins stopped the fit, but the stopped twin's
    thread raised "RuntimeError: release unlocked lock" on stderr."""
    errors = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    CtrlC.sent.clear()
    clf = MATClassifier(net(callbacks=[CtrlC()]), held_out="xrm", random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, Y)
    assert errors == []
    assert not hasattr(clf, "estimator_")


def test_the_default_leaves_out_folds_that_a_class_cannot_fill():
    """The default (no cv) refused data whose rarest class has fewer than 5
    examples ("cv asks for 5 stratified folds"), which XRM's twins handle."""
    y = np.zeros(60, dtype=int)
    y[:3] = 1
    clf = MATClassifier(net(), random_state=0).fit(X, y)
    kinds = {params.get("held_out") for params in clf.selection_results_["params"]}
    assert "kfold" not in kinds and len(clf.selection_results_["params"]) == 3
    assert np.isfinite(clf.predict_proba(X)).all()
    assert len(MATClassifier(net())._candidates(np.arange(60) % 2)) == 4


def test_a_calibration_matrix_of_zero_weights_is_uniform_not_nan():
    """The default diverged ("Try a smaller learning rate") where the search's
    training share held only zero weights: its calibration prior was 0 / 0."""
    tempered = np.full((4, 2), 0.5)
    matrix = calibration_matrix(tempered, np.array([0, 1, 0, 1]), 2, np.zeros(4))
    assert_allclose(matrix, 0.5)
    # a fixed strength on one example of positive weight: a finite model
    weight = np.eye(60)[0]
    clf = MATClassifier(net(), shift_strength=1.0, random_state=0)
    assert np.isfinite(clf.fit(X, Y, sample_weight=weight).predict_proba(X)).all()
    # the default's search refuses to choose on training rows that weigh nothing
    with pytest.raises(ValueError, match="has zero sample_weight"):
        MATClassifier(net(), random_state=0).fit(X, Y, sample_weight=weight)


class CtrlCInFit(Callback):
    """Sends a SIGINT in the first batch of the ``target``-th net it trains in."""

    count = []

    def __init__(self, target=0):
        self.target = target

    def on_train_begin(self, net, **kwargs):
        self.count.append(None)

    def on_batch_end(self, net, **kwargs):
        if len(self.count) == self.target:
            self.count.append(None)
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_the_crossfit_scorer_and_keeps_nothing():
    """A Ctrl-C while the scorer trained its grouping copies only cut that copy
    short (skorch's behaviour) and the scoring went on, caching its groups."""
    clf = MATClassifier(net(callbacks=[("c", CtrlCInFit())]), cv=3)
    clf.set_params(shift_strength=1.0, random_state=0).fit(X, Y)
    scorer = CrossFitGroupScorer(random_state=0)
    clf.estimator_.set_params(callbacks__c__target=1)
    CtrlCInFit.count.clear()
    with pytest.raises(KeyboardInterrupt):
        scorer(clf, X, Y)
    assert scorer._cache == {}
    clf.estimator_.set_params(callbacks__c__target=0)
    assert scorer(clf, X, Y) == CrossFitGroupScorer(random_state=0)(clf, X, Y)


def test_duplicate_column_names_are_refused_by_name():
    """A frame with two columns of one name was refused by narwhals, inside
    scikit-learn's validation ("Expected unique column names")."""
    import pandas as pd

    data = pd.DataFrame(X, columns=list("aabcd"))
    with pytest.raises(ValueError, match=r"X has duplicate column names: \['a'\]"):
        MATClassifier(net(), cv=3, shift_strength=1.0).fit(data, Y)

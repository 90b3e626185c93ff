"""Issue 31's bad inputs, each with the behaviour chosen: an error that names the
parameter, the bad value and what is allowed, or the result the caller meant.
(Weights: test_reliability_weights.py; seeds: test_reliability_random.py.)"""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from torch.utils.data import default_collate

from skmat import JTTClassifier, MATClassifier
from skmat.inspection import memorization_score

from .conftest import small_net
from .modules import CountingImages, SmallCNN

X, Y = make_classification(60, 5, random_state=0)
X = X.astype(np.float32)


class KeywordLinear(torch.nn.Module):
    """A module that takes a dict input's key ``a``."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(5, 2)

    def forward(self, a):
        return self.linear(a)


class Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter(zip(X, Y))


class NoLength(torch.utils.data.Dataset):
    def __getitem__(self, i):
        return X[i], Y[i]


def mat(**params):
    return MATClassifier(small_net(max_epochs=2, **params), cv=3, random_state=0)


def _ragged():
    return {"a": [[1.0] * 5] * 59 + [[1.0] * 4]}


def _pandas_na():
    pd = pytest.importorskip("pandas")
    return pd.Series(pd.array([*Y[:-1], pd.NA], dtype="Int64"))


# (id, estimator, fit keyword arguments, what happens: "ok" or (error, pattern))
CASES = [
    (
        "criterion-bogus",
        lambda: mat(criterion__bogus=1),
        {},
        (ValueError, r"criterion__bogus=1.*CrossEntropyLoss takes no argument 'bogus'"),
    ),
    (
        "optimizer-bogus",
        lambda: mat(optimizer__bogus=1),
        {},
        (ValueError, r"optimizer__bogus=1.*Adam takes no argument 'bogus'.*'lr'"),
    ),
    (
        "module-bogus",
        lambda: mat(module__bogus=1),
        {},
        (ValueError, r"module__bogus=1.*Linear takes no argument 'bogus'"),
    ),
    (
        "criterion-instance-bogus",
        lambda: mat(criterion=torch.nn.CrossEntropyLoss(), criterion__bogus=1),
        {},
        (ValueError, r"criterion__bogus=1.*CrossEntropyLoss"),
    ),
    (
        "optimizer-momentum",
        lambda: mat(optimizer=torch.optim.SGD, optimizer__momentum=0.9),
        {},
        "ok",
    ),
    (
        "criterion-reduction-none",
        lambda: mat(criterion__reduction="none"),
        {},
        (ValueError, r"reduction='none'.*must be 'mean' \(the default\) or 'sum'"),
    ),
    (
        "criterion-instance-reduction-none",
        lambda: mat(criterion=torch.nn.CrossEntropyLoss(reduction="none")),
        {},
        (ValueError, r"reduction='none'"),
    ),
    (
        "iterable-dataset",
        mat,
        dict(X=Stream()),
        (TypeError, r"X is an IterableDataset \(Stream\).*map-style torch Dataset"),
    ),
    (
        "dataset-without-len",
        mat,
        dict(X=NoLength()),
        (TypeError, r"X is a torch Dataset \(NoLength\) without __len__"),
    ),
    (
        "dict-ragged-lists",
        lambda: mat(module=KeywordLinear),
        dict(X=_ragged()),
        (ValueError, r"X\['a'\] must be an array with one row per example.*Pad"),
    ),
    (
        "shift-strength-0d-array",
        lambda: MATClassifier(
            small_net(max_epochs=2), cv=3, shift_strength=np.array(1.0), random_state=0
        ),
        {},
        "ok",
    ),
    (
        "shift-strength-0d-negative",
        lambda: MATClassifier(small_net(), cv=3, shift_strength=np.array(-1.0)),
        {},
        (ValueError, r"shift_strength must be a float >= 0.*array\(-1\.\)"),
    ),
    (
        "y-pandas-na",
        mat,
        dict(y=_pandas_na),
        (ValueError, r"y holds 1 missing labels.*rows \[59\]"),
    ),
    (
        "y-object-none",
        mat,
        dict(y=np.array([*Y[:-1], None], dtype=object)),
        (ValueError, r"y holds 1 missing labels"),
    ),
    (
        "y-mixed-int-str",
        mat,
        dict(y=np.array([0, "a"] * 30, dtype=object)),
        (ValueError, r"y mixes strings with labels of other types.*astype\(str\)"),
    ),
    # a list of both is made strings by numpy, as scikit-learn takes it
    ("y-mixed-list", mat, dict(y=[0, "a"] * 30), "ok"),
]


@pytest.mark.parametrize(
    "make, fit_params, expected",
    [case[1:] for case in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_case_is_right_or_a_clear_error(make, fit_params, expected):
    fit_params = dict(fit_params)
    X_fit = fit_params.pop("X", X)
    y_fit = fit_params.pop("y", Y)
    y_fit = y_fit() if callable(y_fit) else y_fit
    estimator = make()
    if expected == "ok":
        proba = estimator.fit(X_fit, y_fit, **fit_params).predict_proba(X)
        assert np.all(np.isfinite(proba))
        assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    else:
        error, pattern = expected
        with pytest.raises(error, match=pattern):
            estimator.fit(X_fit, y_fit, **fit_params)
        with pytest.raises(NotFittedError):
            estimator.predict(X)


def test_a_0d_shift_strength_is_its_float():
    def fitted(shift_strength):
        return MATClassifier(
            small_net(max_epochs=2), cv=3, shift_strength=shift_strength, random_state=0
        ).fit(X, Y)

    zero_d, plain = fitted(np.array(1.0)), fitted(1.0)
    assert zero_d.shift_strength_ == 1.0 and not hasattr(zero_d, "selection_results_")
    assert_allclose(zero_d.predict_proba(X), plain.predict_proba(X))


def test_predicting_an_array_with_a_model_fitted_on_a_dict_says_so():
    clf = mat(module=KeywordLinear).fit({"a": X}, Y)
    with pytest.raises(
        ValueError,
        match=r"X must be a dict with the keys \['a'\], as in fit; got ndarray",
    ):
        clf.predict(X)


def _skorch_net():
    return small_net(max_epochs=5, module__n_features_in=5, module__n_classes=2)


def test_memorization_score_weighs_a_plain_skorch_nets_loss():
    # before: sample_weight reached the module's forward (TypeError)
    def scores(**params):
        return memorization_score(_skorch_net(), X, Y, cv=3, random_state=0, **params)

    plain = scores()
    assert_allclose(scores(sample_weight=np.ones(len(Y))), plain, atol=1e-6)
    weighted = scores(sample_weight=np.where(Y == 1, 5.0, 1.0))
    assert np.abs(weighted - plain).max() > 1e-3  # the weights do weigh


def test_memorization_score_of_a_skorch_net_takes_string_labels():
    def scores(y):
        return memorization_score(_skorch_net(), X, y, cv=3, random_state=0)

    assert_allclose(scores(np.array(["no", "yes"])[Y]), scores(Y), atol=1e-6)


def test_memorization_score_erm_refuses_other_labels_of_the_same_size():
    clf = MATClassifier(small_net(max_epochs=3), cv=3, random_state=0).fit(X, Y)
    assert memorization_score(clf, X, Y, procedure="erm").shape == (len(Y),)
    with pytest.raises(ValueError, match=r"y differs from the labels .* in 60 of 60"):
        memorization_score(clf, X, 1 - Y, procedure="erm")


def test_cv_is_ignored_with_xrm_and_says_so():
    with pytest.warns(UserWarning, match=r"cv=3 is ignored: held_out='xrm'"):
        mat_xrm = MATClassifier(small_net(max_epochs=2), held_out="xrm", cv=3)
        mat_xrm.fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # the default cv (5 for the baselines) is not a choice to warn about
        JTTClassifier(small_net(max_epochs=2), held_out="xrm").fit(X, Y)


def test_estimator_works_on_class_indices():
    labels = np.array(["no", "yes"])[Y]
    clf = mat().fit(X, labels)
    codes = clf.estimator_.predict(X)
    assert set(np.unique(codes)) <= {0, 1}
    assert_array_equal(clf.classes_[codes], clf.predict(X))
    clf.estimator_.partial_fit(X, np.searchsorted(clf.classes_, labels))
    with pytest.raises((TypeError, ValueError)):
        clf.estimator_.partial_fit(X, labels)  # the labels themselves: refused


def test_the_nets_warm_start_has_no_effect_across_fits():
    clf = mat(warm_start=True)
    first = clf.fit(X, Y).predict_proba(X)
    assert_allclose(clf.fit(X, Y).predict_proba(X), first)


REPOSITORY = Path(__file__).resolve().parents[1]

SCRIPT = """
import numpy as np, torch
from sklearn.datasets import make_classification
from skmat import JTTClassifier, MATClassifier

class Module(torch.nn.Module):
    def __init__(self, n_features_in, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features_in, n_classes)

    def forward(self, X):
        return self.linear(X)

X, y = make_classification(40, 5, random_state=0)
clf = MATClassifier(
    Module, held_out="kfold", cv=2, n_jobs=2, fold_training="sequential"
)
try:
    clf.fit(X.astype(np.float32), y)
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_n_jobs_with_a_module_class_of_main_says_so(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPOSITORY)),
    )
    assert re.search(
        r"PicklingError n_jobs=2 trains the held-out models in worker processes"
        r".*__main__.*n_jobs=None",
        result.stdout,
    ), result.stdout + result.stderr


class VariableLength(torch.utils.data.Dataset):
    """Token sequences of 2 to 6 ids whose class shows in the ids: their batches
    need a padding collate_fn."""

    def __init__(self, n=60):
        rng = np.random.RandomState(0)
        self.y = rng.randint(0, 2, size=n)
        self.sequences = [
            torch.as_tensor(rng.randint(1, 20, size=rng.randint(2, 7)) + 20 * label)
            for label in self.y
        ]

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.sequences[i], int(self.y[i])


def pad(batch):
    sequences, labels = zip(*batch)
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True)
    return padded, torch.as_tensor(labels)


class Bag(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = torch.nn.EmbeddingBag(40, 2, padding_idx=0)

    def forward(self, X):
        return self.bag(X)


def _padding_net(**params):
    return small_net(
        Bag,
        max_epochs=5,
        lr=0.1,
        batch_size=16,
        iterator_train=torch.utils.data.DataLoader,
        iterator_valid=torch.utils.data.DataLoader,
        iterator_train__collate_fn=pad,
        **params,
    )


# the uniform held_out_proba below are degenerate on purpose
@pytest.mark.filterwarnings("ignore::skmat.exceptions.DegenerateHeldOutWarning")
@pytest.mark.parametrize("held_out", ["kfold", "xrm"])
def test_a_dataset_with_a_padding_collate_fn_fits(held_out):
    data = VariableLength()
    net = _padding_net(iterator_valid__collate_fn=pad)
    clf = MATClassifier(net, held_out=held_out, cv=None, random_state=0)
    clf.fit(data, data.y, sample_weight=np.ones(len(data)))
    assert clf.predict_proba(data).shape == (len(data), 2)
    assert clf.score(data, data.y) > 0.8
    # the final net without a shift is the plain skorch fit of the same seed
    plain_mat = MATClassifier(net, shift_strength=0.0, random_state=0)
    plain_mat.fit(data, data.y, held_out_proba=np.full((len(data), 2), 0.5))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        plain = clone(net).fit(data, data.y)
    assert_allclose(plain_mat.predict_proba(data), plain.predict_proba(data), atol=1e-6)


def _pad_with_lengths(batch):
    sequences, labels = zip(*batch)
    tokens = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True)
    lengths = torch.as_tensor([len(s) for s in sequences])
    return {"tokens": tokens, "lengths": lengths}, torch.as_tensor(labels)


class PackedGRU(torch.nn.Module):
    """A recurrent net over packed variable-length sequences, as users write one."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(40, 8, padding_idx=0)
        self.gru = torch.nn.GRU(8, 8, batch_first=True)
        self.out = torch.nn.Linear(8, 2)

    def forward(self, tokens, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            self.embed(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        return self.out(self.gru(packed)[1][-1])


@pytest.mark.filterwarnings("ignore::skmat.exceptions.DegenerateHeldOutWarning")
def test_a_recurrent_net_on_packed_sequences_from_a_collate_fn_that_gives_a_dict():
    data = VariableLength(n=80)
    net = small_net(
        PackedGRU,
        max_epochs=15,
        batch_size=16,
        iterator_train=torch.utils.data.DataLoader,
        iterator_valid=torch.utils.data.DataLoader,
        iterator_train__collate_fn=_pad_with_lengths,
        iterator_valid__collate_fn=_pad_with_lengths,
    )
    # the held-out nets and the final net train through the collate_fn (the shift
    # itself is not the subject: on these separable data it is degenerate)
    clf = MATClassifier(net, held_out="kfold", cv=3, shift_strength=0.0, random_state=0)
    clf.fit(data, data.y)
    assert np.mean(clf.held_out_proba_.argmax(1) == data.y) > 0.9
    assert clf.score(data, data.y) > 0.9


def test_a_padding_collate_fn_for_training_only_says_what_to_add():
    data = VariableLength()
    with pytest.raises(ValueError, match="set iterator_valid__collate_fn too"):
        MATClassifier(_padding_net(), random_state=0).fit(data, data.y)


def test_a_collate_fn_on_arrays_and_dicts_trains_as_without_it(noisy_data):
    # the net's own collate_fn gets skorch's (x, y) pairs whatever the input
    X, y = noisy_data
    loaders = dict(
        iterator_train=torch.utils.data.DataLoader,
        iterator_valid=torch.utils.data.DataLoader,
        iterator_train__shuffle=True,
    )
    collate = dict(
        iterator_train__collate_fn=default_collate,
        iterator_valid__collate_fn=default_collate,
    )
    proba = np.full((len(y), 2), 0.5)
    for data in (X, {"X": X}):
        fits = [
            MATClassifier(
                small_net(max_epochs=3, module__n_features_in=6, **loaders, **extra),
                shift_strength=0.0,
                random_state=0,
            ).fit(data, y, held_out_proba=proba)
            for extra in ({}, collate)
        ]
        assert_allclose(
            fits[0].predict_proba(data), fits[1].predict_proba(data), atol=1e-6
        )


@pytest.mark.filterwarnings("ignore::skmat.exceptions.DegenerateHeldOutWarning")
def test_memorization_scores_on_the_folds_of_a_torch_dataset_see_whole_examples():
    # the folds' rows of an (x, y) Dataset once reached the estimator as x[0]: here
    # the CNN got 2 of an image's 3 colour planes and failed
    data = CountingImages(40)
    net = small_net(SmallCNN, module__n_classes=2, max_epochs=2, batch_size=16)
    clf = MATClassifier(net, held_out="kfold", cv=2, shift_strength=1.0, random_state=0)
    scores = memorization_score(clf, data, data.labels, cv=2, random_state=0)
    assert scores.shape == (40,) and np.all(np.isfinite(scores))

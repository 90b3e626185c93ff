"""Any net on any input: images, token ids, tokenizer dicts, Datasets and lazy
modules, through every held-out strategy, for MAT and a baseline."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.helper import SliceDataset, SliceDict

from skmat import JTTClassifier, MATClassifier
from skmat.inspection import memorization_score
from skmat.metrics import inferred_worst_group_scorer

from .conftest import small_net
from .modules import (
    BagOfWords,
    CountingImages,
    FlatCNN,
    LazyMLP,
    MaskedMeanEmbedding,
    SmallCNN,
)

N = 48


def _labels():
    return np.random.RandomState(0).randint(0, 2, N)


def images():
    y = _labels()
    rng = np.random.RandomState(1)
    X = rng.normal(size=(N, 3, 8, 8)) + y[:, None, None, None]
    return X.astype(np.float32), y


def token_ids():
    y = _labels()
    ids = np.random.RandomState(2).randint(1, 50, size=(N, 6))
    ids[:, 0] = np.where(y == 1, 0, ids[:, 0])  # token 0 marks class 1
    return ids.astype(np.int64), y


def tokenizer_dict():
    ids, y = token_ids()
    mask = np.ones_like(ids)
    mask[:, 4:] = 0  # padding
    return {"input_ids": ids, "attention_mask": mask}, y


def dataset():
    data = CountingImages(N)
    return SliceDataset(data), data.labels


def table():
    y = _labels()
    X = np.random.RandomState(3).normal(size=(N, 5)) + y[:, None]
    return X.astype(np.float32), y


INPUTS = {
    # CNN with BatchNorm and Dropout: cannot be batched
    "images-cnn": (images, dict(module=SmallCNN, module__n_classes=2), False),
    "token-ids": (token_ids, dict(module=BagOfWords), True),
    "tokenizer-dict": (tokenizer_dict, dict(module=MaskedMeanEmbedding), True),
    "slice-dataset": (dataset, dict(module=SmallCNN), False),
    "lazy-linear": (table, dict(module=LazyMLP), True),
}
STRATEGIES = [
    ("kfold", "sequential"),
    ("kfold", "batched"),
    ("kfold", "auto"),
    ("xrm", "batched"),
    ("xrm", "sequential"),
]


def net_for(params, **more):
    params = {"max_epochs": 2, "batch_size": 16, **params, **more}
    return small_net(params.pop("module"), **params)


def check_fitted(clf, X, y):
    proba = clf.predict_proba(X)
    assert proba.shape == (N, 2) and np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.decision_function(X).shape == (N,)
    assert 0 <= clf.score(X, y) <= 1
    assert clf.held_out_proba_.shape == (N, 2)
    assert clf.infer_groups(X, y).shape == (N,)
    assert not hasattr(clf, "n_features_in_") or X.ndim == 2


@pytest.mark.parametrize(
    "held_out, fold_training", STRATEGIES, ids=["-".join(s) for s in STRATEGIES]
)
@pytest.mark.parametrize("kind", INPUTS)
def test_mat_on_every_input_kind_and_strategy(kind, held_out, fold_training):
    make_data, params, batchable = INPUTS[kind]
    X, y = make_data()
    clf = MATClassifier(
        net_for(params),
        cv=3,
        held_out=held_out,
        fold_training=fold_training,
        random_state=0,
    )
    if fold_training == "batched" and not batchable:
        with pytest.raises(ValueError, match="fold_training='batched'.*BatchNorm"):
            clf.fit(X, y)
        return
    clf.fit(X, y)
    check_fitted(clf, X, y)
    one_by_one = fold_training == "sequential" or (
        fold_training == "auto" and not batchable
    )
    assert (clf.held_out_strategy_.engine == "stacked") is not one_by_one


@pytest.mark.parametrize("held_out", ["kfold", "xrm", "in_sample"])
@pytest.mark.parametrize("kind", INPUTS)
def test_jtt_on_every_input_kind(kind, held_out):
    make_data, params, _ = INPUTS[kind]
    X, y = make_data()
    clf = JTTClassifier(net_for(params), cv=3, held_out=held_out, random_state=0)
    clf.fit(X, y)
    assert clf.error_set_.shape == (N,)
    assert clf.predict_proba(X).shape == (N, 2)


def test_integer_ids_stay_integers_and_float_images_stay_as_they_are():
    seen = []

    class Recording(BagOfWords):
        def forward(self, X):
            seen.append(X.dtype)
            return super().forward(X)

    X, y = token_ids()
    MATClassifier(net_for(dict(module=Recording)), cv=3, random_state=0).fit(X, y)
    assert set(seen) == {torch.int64}
    # a linear module on an integer table gets float32 (integer-valued features)
    X_int = np.random.RandomState(0).randint(0, 5, size=(N, 4))
    clf = MATClassifier(small_net(max_epochs=2), cv=3, random_state=0).fit(X_int, y)
    assert clf.n_features_in_ == 4 and clf.predict(X_int).shape == (N,)
    with pytest.raises(ValueError, match="fitted on integers.*token ids"):
        MATClassifier(net_for(dict(module=BagOfWords)), cv=3).fit(X, y).predict(X + 0.5)


def test_dict_keys_reach_forward_as_keyword_arguments():
    X, y = tokenizer_dict()
    clf = MATClassifier(net_for(dict(module=MaskedMeanEmbedding)), cv=3).fit(X, y)
    # SliceDict and a plain dict give the same model
    other = MATClassifier(net_for(dict(module=MaskedMeanEmbedding)), cv=3)
    other.fit(SliceDict(**X), y)
    with pytest.raises(ValueError, match="X must be a dict with the keys"):
        clf.predict(X["input_ids"])
    with pytest.raises(ValueError, match="reserves"):
        MATClassifier(net_for(dict(module=MaskedMeanEmbedding)), cv=3).fit(
            {**X, "skmat_logit_shift": X["input_ids"]}, y
        )


def test_dataset_rows_are_read_per_batch_at_every_epoch():
    """The Dataset is read a batch at a time (never whole), at every epoch of every
    net, so its random transform runs each time."""
    data = CountingImages(N)
    X, y = SliceDataset(data), data.labels
    reads_at_forward = []

    class Recording(SmallCNN):
        def forward(self, X):
            reads_at_forward.append(data.reads)
            return super().forward(X)

    epochs, batch_size = 3, 8
    net = small_net(Recording, max_epochs=epochs, batch_size=batch_size)
    net.set_params(module__n_classes=2, iterator_train=torch.utils.data.DataLoader)
    MATClassifier(net, cv=3, random_state=0).fit(X, y)
    gaps = np.diff(reads_at_forward)
    assert gaps.max() <= batch_size  # never more rows read than one batch
    # every fold net reads its 32 training rows at each epoch, the final net its 48
    assert data.reads >= 3 * epochs * 32 + epochs * N


def test_torch_dataset_of_pairs_with_y_given():
    data = CountingImages(N)
    net = net_for(dict(module=SmallCNN, module__n_classes=2))
    clf = MATClassifier(net, cv=3, random_state=0).fit(data, data.labels)
    assert clf.predict(data).shape == (N,)


@pytest.mark.parametrize("fold_training", ["auto", "batched", "sequential"])
def test_lazy_module_under_every_fold_training(fold_training):
    X, y = table()
    net = small_net(LazyMLP, max_epochs=3, batch_size=16)
    clf = MATClassifier(net, cv=3, fold_training=fold_training, random_state=0).fit(
        X, y
    )
    check_fitted(clf, X, y)
    if fold_training == "batched":
        # the lazy layers get their weights as in their own fits: same folds
        reference = MATClassifier(
            net, cv=3, fold_training="sequential", random_state=0
        ).fit(X, y)
        assert_allclose(clf.held_out_proba_, reference.held_out_proba_, atol=1e-5)


def test_batched_cnn_on_images_equals_the_same_net_on_flattened_rows():
    X, y = images()
    params = dict(max_epochs=3, batch_size=16, module__n_classes=2)
    plain = dict(module__batch_norm=False, module__dropout=0)
    on_images = MATClassifier(
        small_net(SmallCNN, **params, **plain),
        cv=3,
        fold_training="batched",
        random_state=0,
    ).fit(X, y)
    on_rows = MATClassifier(
        small_net(FlatCNN, **params, **plain),
        cv=3,
        fold_training="batched",
        random_state=0,
    ).fit(X.reshape(N, -1), y)
    assert_allclose(on_images.held_out_proba_, on_rows.held_out_proba_, atol=1e-6)
    assert on_rows.n_features_in_ == 3 * 8 * 8


def test_xrm_one_by_one_equals_batched_on_a_batchable_net():
    """Two skorch nets in lockstep give the twins of the stacked model: the same
    flips, and held-out probabilities within 1e-7 in float32 after 10 epochs
    (measured 3e-8 for this linear net, 9e-8 for a small MLP); 1e-5 leaves room
    for other BLAS builds."""
    X, y = table()
    net = small_net(max_epochs=10, batch_size=16)
    batched = MATClassifier(
        net, held_out="xrm", fold_training="batched", random_state=0
    )
    lockstep = MATClassifier(
        net, held_out="xrm", fold_training="sequential", random_state=0
    )
    batched.fit(X, y)
    lockstep.fit(X, y)
    assert_allclose(lockstep.held_out_proba_, batched.held_out_proba_, atol=1e-5)
    for ours, theirs in zip(
        lockstep.held_out_estimators_, batched.held_out_estimators_
    ):
        assert_array_equal(ours.working_labels_, theirs.working_labels_)
        assert len(ours.history) == len(theirs.history) == 10


def test_xrm_with_batchnorm_and_dropout_fits_and_predicts():
    X, y = images()
    clf = MATClassifier(
        net_for(dict(module=SmallCNN, module__n_classes=2, max_epochs=3)),
        held_out="xrm",
        random_state=0,
    ).fit(X, y)
    check_fitted(clf, X, y)
    assert clf.held_out_strategy_.engine == "one_by_one"  # twins in lockstep
    # reproducible: each twin draws its dropout masks from its own seeded stream
    again = MATClassifier(clf.estimator, held_out="xrm", random_state=0).fit(X, y)
    assert_allclose(again.held_out_proba_, clf.held_out_proba_)


def test_grid_search_and_pipeline_over_slice_dataset_and_slice_dict():
    X, y = dataset()
    net = net_for(dict(module=SmallCNN, module__n_classes=2))
    search = GridSearchCV(
        MATClassifier(net, cv=2, random_state=0),
        {"shift_strength": [0, 1]},
        cv=KFold(2),
        scoring=inferred_worst_group_scorer,
    ).fit(X, y)
    assert search.best_params_["shift_strength"] in (0, 1)
    X, y = tokenizer_dict()
    pipeline = make_pipeline(
        FunctionTransformer(lambda d: SliceDict(**d)),
        MATClassifier(net_for(dict(module=MaskedMeanEmbedding)), cv=2),
    )
    search = GridSearchCV(pipeline, {"matclassifier__shift_strength": [0, 1]}, cv=2)
    search.fit(SliceDict(**X), y)
    assert search.predict(SliceDict(**X)).shape == (N,)


def test_early_stopping_on_images():
    X, y = images()
    clf = MATClassifier(
        net_for(dict(module=SmallCNN, module__n_classes=2, max_epochs=4)),
        cv=3,
        early_stopping=True,
        validation_fraction=0.25,
        random_state=0,
    ).fit(X, y)
    assert 1 <= clf.best_epoch_ <= 4 and len(clf.validation_indices_) == 12


def test_memorization_score_on_dicts_and_datasets():
    X, y = tokenizer_dict()
    mat = MATClassifier(net_for(dict(module=MaskedMeanEmbedding)), cv=3, random_state=0)
    erm = memorization_score(mat.fit(X, y), X, y, procedure="erm")
    assert erm.shape == (N,) and np.all(np.abs(erm) <= 1)
    X, y = dataset()
    scores = memorization_score(
        MATClassifier(net_for(dict(module=SmallCNN, module__n_classes=2)), cv=2),
        X,
        y,
        cv=2,
        random_state=0,
    )
    assert scores.shape == (N,)


@pytest.mark.parametrize(
    "X, match",
    [
        (object(), "cannot be indexed by rows"),
        (np.zeros((N - 1, 3, 4, 4), dtype=np.float32), "inconsistent numbers"),
        ({"a": np.zeros(N), "b": np.zeros(N - 1)}, "one row per example"),
        (np.full((N, 3, 4, 4), np.nan, dtype=np.float32), "NaN or infinity"),
        ([[[1.0], [2.0, 3.0]]] * N, "must hold numbers|inhomogeneous"),
    ],
    ids=["not-indexable", "length", "dict-lengths", "nan", "object"],
)
def test_bad_inputs_are_clear_errors(X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MATClassifier(small_net(), cv=3).fit(X, _labels())

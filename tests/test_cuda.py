"""device='cuda': every held-out strategy and input kind on the GPU (skipped where
CUDA is not available), and the error on a machine without it."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from skmat import GroupDROClassifier, JTTClassifier, MATClassifier

from .conftest import small_net
from .modules import MLP, LazyMLP, SmallCNN
from .test_inputs import dataset, images, table, tokenizer_dict

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_on_a_machine_without_it_names_the_device():
    X, y = table()
    with pytest.raises(ValueError, match="estimator has device='cuda'.*CUDA is not"):
        MATClassifier(small_net(device="cuda"), cv=3).fit(X, y)
    with pytest.raises(ValueError, match="held_out_estimator has device='cuda'"):
        MATClassifier(
            small_net(), held_out_estimator=small_net(device="cuda"), cv=3
        ).fit(X, y)


def _on(device, module=MLP, **params):
    params = {"max_epochs": 3, "batch_size": 16, **params}
    return small_net(module, device=device, **params)


def _check_on_cuda(clf, X, y):
    assert next(clf.estimator_.module_.parameters()).is_cuda
    for model in clf.held_out_estimators_:  # kept on the CPU, without optimizer state
        assert not next(model.module_.parameters()).is_cuda
        assert not model.optimizer_.state
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba)) and proba.shape == (len(y), 2)
    assert clf.infer_groups(X, y).shape == (len(y),)
    for model in clf.held_out_estimators_:  # and back on the CPU after predicting
        assert not next(model.module_.parameters()).is_cuda


@cuda
@pytest.mark.parametrize(
    "held_out, fold_training",
    [
        ("kfold", "sequential"),
        ("kfold", "batched"),
        ("xrm", "batched"),
        ("xrm", "sequential"),
    ],
)
def test_every_held_out_strategy_on_cuda(held_out, fold_training):
    X, y = table()
    params = dict(cv=3, held_out=held_out, fold_training=fold_training)
    on_gpu = MATClassifier(_on("cuda"), random_state=0, **params).fit(X, y)
    _check_on_cuda(on_gpu, X, y)
    on_cpu = MATClassifier(_on("cpu"), random_state=0, **params).fit(X, y)
    # other kernels, same training: close after a short fit
    assert_allclose(on_gpu.held_out_proba_, on_cpu.held_out_proba_, atol=0.05)


@cuda
@pytest.mark.parametrize(
    "make_data, module",
    [(images, SmallCNN), (tokenizer_dict, None), (dataset, SmallCNN), (table, LazyMLP)],
    ids=["images-batchnorm", "dict", "dataset", "lazy"],
)
def test_input_kinds_on_cuda(make_data, module):
    from .modules import MaskedMeanEmbedding

    X, y = make_data()
    extra = {"module__n_classes": 2} if module is SmallCNN else {}
    net = _on("cuda", module or MaskedMeanEmbedding, **extra)
    for held_out in ["kfold", "xrm"]:
        clf = MATClassifier(net, cv=3, held_out=held_out, random_state=0).fit(X, y)
        _check_on_cuda(clf, X, y)


@cuda
def test_baselines_and_early_stopping_on_cuda():
    X, y = table()
    groups = 2 * y + (X[:, 0] > 1)
    dro = GroupDROClassifier(_on("cuda"), random_state=0).fit(X, y, groups=groups)
    assert np.all(np.isfinite(dro.group_weights_))
    jtt = JTTClassifier(_on("cuda"), held_out="in_sample", random_state=0).fit(X, y)
    _check_on_cuda(jtt, X, y)
    stopped = MATClassifier(
        _on("cuda"), cv=3, early_stopping=True, validation_fraction=0.25
    ).fit(X, y)
    assert 1 <= stopped.best_epoch_ <= 3

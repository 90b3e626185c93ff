"""Held-out probabilities and predictions on 2-D float tables stay those of the
release before the data path was redesigned (skmat at commit e9be407, torch
2.13.0 on the CPU): the redesign changed no arithmetic.

``tests/data/held_out_reference.npz`` holds what that release computed for the
settings below (and the same with sample weights); the redesign reproduces them to
1.2e-7 (the fold probabilities are now the float64 softmax of the logits, as XRM's
already were). XRM's entries were recomputed when the twins took XRM's
class-balanced loss (a deliberate change of arithmetic: the twins' loss is the mean
of the per-class mean losses). Other torch builds sum in other orders, so the
comparison runs on the build the reference was made with.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from skmat import GroupDROClassifier, JTTClassifier, MATClassifier

from .conftest import small_net
from .modules import MLP, Linear

REFERENCE = Path(__file__).parent / "data" / "held_out_reference.npz"

pytestmark = pytest.mark.skipif(
    torch.__version__ != "2.13.0+cpu",
    reason="the reference was computed with torch 2.13.0+cpu",
)

SETTINGS = {
    "seq": lambda: MATClassifier(
        small_net(MLP), cv=3, fold_training="sequential", random_state=0
    ),
    "batched": lambda: MATClassifier(
        small_net(MLP), cv=3, fold_training="batched", random_state=0
    ),
    "xrm": lambda: MATClassifier(small_net(MLP), held_out="xrm", random_state=0),
    "es": lambda: MATClassifier(
        small_net(Linear), cv=3, early_stopping=True, random_state=0
    ),
    "jtt_in": lambda: JTTClassifier(
        small_net(Linear), held_out="in_sample", random_state=0
    ),
    "dro": lambda: GroupDROClassifier(small_net(Linear), cv=3, random_state=0),
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("setting", SETTINGS)
def test_same_held_out_probabilities_and_predictions(setting, weighted):
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    X_test, _ = make_classification(
        n_samples=40, n_features=6, n_informative=4, n_classes=3, random_state=1
    )
    weight = np.random.RandomState(0).uniform(0.5, 2, len(X)) if weighted else None
    reference = np.load(REFERENCE)
    key = f"{setting}_{'w' if weighted else 'u'}"
    clf = SETTINGS[setting]().fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(
        clf.held_out_proba_, reference[f"{key}_held_out"], atol=1e-5, rtol=0
    )
    np.testing.assert_allclose(
        clf.predict_proba(X_test), reference[f"{key}_proba"], atol=1e-5, rtol=0
    )

"""Class probabilities (skmat._proba): the one check of given probabilities, and the
one mapping of a model's columns into the estimator's classes."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skmat._net import TrainingDiverged
from skmat._proba import check_finite, check_proba, class_columns, in_class_columns


def test_check_proba_accepts_rows_of_probabilities_as_float64():
    proba = np.array([[0.2, 0.8], [1.0, 0.0]], dtype=np.float32)
    checked = check_proba(proba, 2, 2, "p")
    assert checked.dtype == np.float64
    assert_array_equal(checked, proba)
    # float32 rounding (and rounded files) within the tolerance
    check_proba([[0.3333, 0.3333, 0.3333]], 1, 3, "p")


@pytest.mark.parametrize(
    "proba, match",
    [
        (
            np.full((3, 2), 0.5),
            r"p must have shape \(n_samples, n_classes\) = \(2, 2\)",
        ),
        ([[1.5, -0.5], [0.5, 0.5]], "p must hold probabilities: finite, non-negative"),
        ([[np.nan, 0.5], [0.5, 0.5]], "finite"),
        ([[0.7, 0.7], [0.5, 0.5]], "Each row of p must sum to 1"),
    ],
)
def test_check_proba_names_the_parameter_and_the_rule(proba, match):
    with pytest.raises(ValueError, match=match):
        check_proba(proba, 2, 2, "p")


def test_check_finite_names_the_model():
    check_finite(np.array([[0.5, 0.5]]), "fold net 1")
    with pytest.raises(TrainingDiverged, match="training of the fold net 1 diverged"):
        check_finite(np.array([[np.nan, 0.5]]), "fold net 1")


def test_class_columns_follow_the_models_classes():
    classes = np.array(["a", "b", "c"])
    # a model that saw only two classes, in its own order
    assert_array_equal(class_columns(["c", "a"], 2, classes, "m"), [2, 0])
    # no classes_: the columns must be the classes in order
    assert_array_equal(class_columns(None, 3, classes, "m"), [0, 1, 2])
    # classes_ that do not describe the columns (a net's): the columns are the classes
    assert_array_equal(class_columns(["a"], 3, classes, "m"), [0, 1, 2])


def test_class_columns_errors_name_the_model():
    classes = np.array([0, 1])
    with pytest.raises(ValueError, match=r"model 2 predicts classes \[7\]"):
        class_columns([0, 7], 2, classes, "model 2")
    with pytest.raises(ValueError, match="model 2 returns 3 probability columns"):
        class_columns(None, 3, classes, "model 2")


def test_in_class_columns_gives_unseen_classes_zero():
    full = in_class_columns([[0.25, 0.75]], [2, 0], np.arange(3), "m")
    assert_array_equal(full, [[0.75, 0.0, 0.25]])

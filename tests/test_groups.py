"""MATClassifier's inferred groups: from the held-out models' mistakes, on the
training set and on new data, and model selection with them."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skmat import MATClassifier
from skmat.metrics import (
    inferred_worst_group_scorer,
)

from .conftest import small_net

# --- inferred groups ---------------------------------------------------------------


def test_training_groups_come_from_the_out_of_fold_predictions(
    noisy_data, noisy_fitted
):
    _, y = noisy_data
    wrong = noisy_fitted.held_out_proba_.argmax(axis=1) != y
    assert_array_equal(noisy_fitted.inferred_groups_, 2 * y + wrong)
    assert_array_equal(noisy_fitted.infer_groups(), noisy_fitted.inferred_groups_)
    assert 0 < wrong.mean() < 0.5  # the fixture has mistakes to find


def test_new_data_is_misclassified_when_any_fold_model_errs(noisy_data, noisy_fitted):
    X, y = noisy_data
    X_new, y_new = X[::2] + 0.1, y[::2]
    predictions = np.array(
        [
            model.predict_proba(X_new).argmax(axis=1)
            for model in noisy_fitted.held_out_estimators_
        ]
    )
    any_wrong = (predictions != y_new).any(axis=0)
    assert_array_equal(noisy_fitted.infer_groups(X_new, y_new), 2 * y_new + any_wrong)
    # "any" is stricter than the majority vote: some examples differ
    majority_wrong = (predictions != y_new).mean(axis=0) > 0.5
    assert np.all(any_wrong >= majority_wrong)


def test_inferred_groups_with_string_labels(noisy_data):
    X, y = noisy_data
    labels = np.array(["no", "yes"])[y]
    clf = MATClassifier(small_net(), cv=3, random_state=0).fit(X, labels)
    reference = MATClassifier(small_net(), cv=3, random_state=0).fit(X, y)
    assert_array_equal(clf.infer_groups(), reference.infer_groups())
    assert_array_equal(
        clf.infer_groups(X[:20], labels[:20]), reference.infer_groups(X[:20], y[:20])
    )


def test_inferred_groups_with_a_sklearn_held_out_estimator(noisy_data):
    X, y = noisy_data
    clf = MATClassifier(
        small_net(), held_out_estimator=LogisticRegression(), cv=3, random_state=0
    ).fit(X, y)
    predictions = np.array([m.predict(X[:30]) for m in clf.held_out_estimators_])
    expected = 2 * y[:30] + (predictions != y[:30]).any(axis=0)
    assert_array_equal(clf.infer_groups(X[:30], y[:30]), expected)


def test_infer_groups_errors(noisy_data, noisy_fitted):
    X, y = noisy_data
    with pytest.raises(ValueError, match="both X and y"):
        noisy_fitted.infer_groups(X)
    with pytest.raises(ValueError, match="not seen in fit"):
        noisy_fitted.infer_groups(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="held_out_proba"):
        MATClassifier(small_net(), random_state=0).fit(
            X, y, held_out_proba=noisy_fitted.held_out_proba_
        ).infer_groups(X, y)


def test_inferred_scorer_selects_without_group_labels(noisy_data):
    X, y = noisy_data
    search = GridSearchCV(
        MATClassifier(small_net(max_epochs=10), cv=2, random_state=0),
        {"shift_strength": [0, 1]},
        cv=2,
        scoring=inferred_worst_group_scorer,
        error_score="raise",
    ).fit(X, y)
    assert search.best_params_["shift_strength"] in (0, 1)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

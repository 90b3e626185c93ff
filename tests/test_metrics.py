"""Worst-group accuracy, its report and the scorers (routed and inferred groups)."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmat.metrics import (
    group_accuracy_report,
    inferred_worst_group_scorer,
    worst_group_accuracy,
    worst_group_scorer,
)

ROUTING_HINT = "enable_metadata_routing=True"

# a: 1/2 right, b: 2/2, c: 1/2 (worst, tied with a), d: one example, right
Y_TRUE = np.array([0, 0, 1, 1, 1, 1, 0])
Y_PRED = np.array([0, 1, 1, 1, 1, 0, 0])
GROUPS = np.array(["a", "a", "b", "b", "c", "c", "d"])


class GroupInferringLR(LogisticRegression):
    """A classifier that infers groups the way MATClassifier does: ``2 * class_index
    + misclassified``, misclassified by a second, weaker model (on feature 0 only)."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.shortcut_ = LogisticRegression().fit(X[:, :1], y)
        return self

    def infer_groups(self, X, y):
        wrong = self.shortcut_.predict(X[:, :1]) != y
        return 2 * np.searchsorted(self.classes_, y) + wrong


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=160, n_features=5, n_informative=3, flip_y=0.1, random_state=0
    )
    groups = 2 * y + (X[:, 0] > 0)
    return X, y, groups


def manual_cv_wga(X, y, groups, cv, estimator, sample_weight=None):
    """Worst-group accuracy of every test fold, computed by hand."""
    scores = []
    for train, test in cv.split(X, y):
        pred = clone(estimator).fit(X[train], y[train]).predict(X[test])
        accuracies = []
        for g in np.unique(groups[test]):
            in_g = test[groups[test] == g]
            right = pred[groups[test] == g] == y[in_g]
            w = np.ones(len(in_g)) if sample_weight is None else sample_weight[in_g]
            if w.sum() > 0:
                accuracies.append(np.sum(w * right) / w.sum())
        scores.append(min(accuracies))
    return np.array(scores)


# --- worst_group_accuracy ---------------------------------------------------------


def test_hand_computed_string_groups_and_single_example_group():
    score = worst_group_accuracy(Y_TRUE, Y_PRED, groups=GROUPS)
    assert score == 0.5 and type(score) is float
    # the one-example group decides when it is wrong
    assert worst_group_accuracy(Y_TRUE, 1 - Y_TRUE, groups=GROUPS) == 0.0
    y_pred = Y_PRED.copy()
    y_pred[[1, 5]] = Y_TRUE[[1, 5]]  # a and c all right
    y_pred[6] = 1  # d wrong
    assert worst_group_accuracy(Y_TRUE, y_pred, groups=GROUPS) == 0.0


def test_int_groups_and_lists():
    groups = [3, 3, 1, 1, 7, 7, 7]
    y_pred = [0, 0, 1, 0, 1, 1, 1]  # 3: 2/2, 1: 1/2, 7: 2/3
    assert worst_group_accuracy(Y_TRUE.tolist(), y_pred, groups=groups) == 0.5
    assert worst_group_accuracy(Y_TRUE, Y_TRUE, groups=groups) == 1.0


def test_string_class_labels():
    y_true = np.array(["cat", "dog", "dog", "cat"])
    y_pred = np.array(["cat", "cat", "dog", "cat"])
    assert worst_group_accuracy(y_true, y_pred, groups=[0, 0, 1, 1]) == 0.5


def test_sample_weight_and_zero_weight_group():
    # a: (1*1 + 3*0) / 4, b: 1, c: 1 right / (1 + 0.5), d (weight 0): not counted
    weights = np.array([1, 3, 2, 2, 1, 0.5, 0])
    y_pred = Y_PRED.copy()
    y_pred[6] = 1  # d wrong, but it weighs nothing
    score = worst_group_accuracy(Y_TRUE, y_pred, groups=GROUPS, sample_weight=weights)
    assert score == pytest.approx(0.25)
    weights[:2] = [3, 1]  # a: 3/4, c: 1/1.5 is now the worst
    score = worst_group_accuracy(Y_TRUE, y_pred, groups=GROUPS, sample_weight=weights)
    assert score == pytest.approx(2 / 3)
    # unit weights are the unweighted score
    ones = np.ones(len(Y_TRUE))
    assert worst_group_accuracy(Y_TRUE, Y_PRED, groups=GROUPS, sample_weight=ones) == (
        worst_group_accuracy(Y_TRUE, Y_PRED, groups=GROUPS)
    )


def test_only_groups_that_occur_count():
    # an unused category of a pandas Categorical is not a group
    groups = pd.Series(pd.Categorical(GROUPS, categories=["a", "b", "c", "d", "z"]))
    assert worst_group_accuracy(Y_TRUE, Y_PRED, groups=groups) == 0.5
    # a subset of the examples: only its groups count (b alone here)
    assert worst_group_accuracy(Y_TRUE[2:4], Y_PRED[2:4], groups=GROUPS[2:4]) == 1.0


def test_pandas_and_tuple_groups():
    series = pd.Series(GROUPS, index=np.arange(10, 17))
    assert worst_group_accuracy(pd.Series(Y_TRUE), Y_PRED, groups=series) == 0.5
    tuples = np.empty(len(GROUPS), dtype=object)
    tuples[:] = [(g, 0) for g in GROUPS]
    assert worst_group_accuracy(Y_TRUE, Y_PRED, groups=tuples) == 0.5


def test_multilabel_uses_subset_accuracy():
    y_true = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    y_pred = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    assert worst_group_accuracy(y_true, y_pred, groups=[0, 0, 1, 1]) == 0.5


def test_missing_groups_error_explains_routing():
    with pytest.raises(ValueError, match="`groups`.*" + ROUTING_HINT):
        worst_group_accuracy(Y_TRUE, Y_PRED, groups=None)
    with pytest.raises(TypeError, match="groups"):
        worst_group_accuracy(Y_TRUE, Y_PRED)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(groups=GROUPS[:-1]), ValueError, "inconsistent numbers of samples"),
        (dict(groups=GROUPS, sample_weight=np.ones(3)), ValueError, "inconsistent"),
        (dict(groups=GROUPS, sample_weight=-np.ones(7)), ValueError, "sample_weight"),
        (dict(groups=GROUPS, sample_weight=np.zeros(7)), ValueError, "non-zero"),
        (dict(groups=np.array([1, "a"] * 3 + [2], dtype=object)), TypeError, "groups"),
        (dict(groups=np.zeros((7, 2))), ValueError, "groups"),
        (dict(groups=3), ValueError, "groups"),
    ],
)
def test_invalid_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        worst_group_accuracy(Y_TRUE, Y_PRED, **kwargs)


def test_empty_input():
    with pytest.raises(ValueError, match="empty"):
        worst_group_accuracy([], [], groups=[])


# --- group_accuracy_report --------------------------------------------------------


def test_report_dict():
    report = group_accuracy_report(Y_TRUE, Y_PRED, groups=GROUPS, output_dict=True)
    assert report == {
        "a": {"size": 2, "accuracy": 0.5},
        "b": {"size": 2, "accuracy": 1.0},
        "c": {"size": 2, "accuracy": 0.5},
        "d": {"size": 1, "accuracy": 1.0},
        "average": pytest.approx(5 / 7),
        "worst": 0.5,
        "worst_group": "a",  # first of the tied groups
    }
    assert list(report)[:4] == ["a", "b", "c", "d"]
    assert type(report["a"]["size"]) is int
    assert report["worst"] == worst_group_accuracy(Y_TRUE, Y_PRED, groups=GROUPS)


def test_report_dict_int_groups_are_python_ints():
    report = group_accuracy_report(
        [0, 1, 1, 0], [0, 1, 0, 0], groups=np.array([2, 1, 1, 2]), output_dict=True
    )
    assert list(report)[:2] == [1, 2]
    assert all(type(key) is int for key in list(report)[:2])
    assert type(report["worst_group"]) is int and report["worst_group"] == 1
    assert repr(report[1]) == "{'size': 2, 'accuracy': 0.5}"


def test_report_weighted():
    weights = np.array([1, 3, 2, 2, 1, 0.5, 0])
    report = group_accuracy_report(
        Y_TRUE, Y_PRED, groups=GROUPS, sample_weight=weights, output_dict=True
    )
    assert report["a"] == {"size": 2, "weight": 4.0, "accuracy": 0.25}
    assert report["c"]["accuracy"] == pytest.approx(2 / 3)
    # a zero-weight group is listed, with no accuracy, and cannot be the worst
    assert report["d"]["size"] == 1 and report["d"]["weight"] == 0.0
    assert np.isnan(report["d"]["accuracy"])
    assert report["average"] == pytest.approx((1 + 4 + 1) / 9.5)
    assert report["worst"] == 0.25 and report["worst_group"] == "a"
    text = group_accuracy_report(Y_TRUE, Y_PRED, groups=GROUPS, sample_weight=weights)
    assert text.splitlines()[0].split() == ["size", "weight", "accuracy"]
    assert text.splitlines()[-1].split() == [
        "worst",
        "2",
        "4.000",
        "0.250",
        "(group",
        "a)",
    ]


def test_report_text():
    text = group_accuracy_report(Y_TRUE, Y_PRED, groups=GROUPS, digits=2)
    lines = text.splitlines()
    assert lines[0].split() == ["size", "accuracy"]
    assert lines[1] == "" and lines[6] == ""
    assert [line.split() for line in lines[2:6]] == [
        ["a", "2", "0.50"],
        ["b", "2", "1.00"],
        ["c", "2", "0.50"],
        ["d", "1", "1.00"],
    ]
    assert lines[7].split() == ["average", "7", "0.71"]
    assert lines[8].split() == ["worst", "2", "0.50", "(group", "a)"]
    # every line right-aligns the same columns
    assert len({len(line) for line in lines[2:8] if line}) == 1
    assert "0.71429" in group_accuracy_report(Y_TRUE, Y_PRED, groups=GROUPS, digits=5)


def test_report_errors():
    with pytest.raises(ValueError, match="clash"):
        group_accuracy_report([0, 1], [0, 1], groups=["worst", "x"], output_dict=True)
    # the text table has no such problem
    assert "worst" in group_accuracy_report([0, 1], [0, 1], groups=["worst", "x"])
    with pytest.raises(ValueError, match=ROUTING_HINT):
        group_accuracy_report(Y_TRUE, Y_PRED, groups=None)
    with pytest.raises(ValueError, match="digits"):
        group_accuracy_report(Y_TRUE, Y_PRED, groups=GROUPS, digits=-1)


# --- worst_group_scorer -----------------------------------------------------------


def test_scorer_requests_groups_by_default():
    # available with routing off (no set_score_request needed at import time)
    routing = worst_group_scorer.get_metadata_routing()
    assert routing.score.requests == {"groups": True, "sample_weight": None}
    routing = inferred_worst_group_scorer.get_metadata_routing()
    assert routing.score.requests == {"sample_weight": None}
    assert repr(worst_group_scorer) == "worst_group_scorer"
    assert repr(inferred_worst_group_scorer) == "inferred_worst_group_scorer"


def test_set_score_request_keeps_groups_and_copies_are_independent():
    with pytest.raises(RuntimeError, match="metadata routing"):
        copy.deepcopy(worst_group_scorer).set_score_request(sample_weight=True)
    with config_context(enable_metadata_routing=True):
        weighted = copy.deepcopy(worst_group_scorer).set_score_request(
            sample_weight=True
        )
        renamed = copy.deepcopy(worst_group_scorer).set_score_request(groups="g")
    assert weighted.get_metadata_routing().score.requests == {
        "groups": True,
        "sample_weight": True,
    }
    assert renamed.get_metadata_routing().score.requests["groups"] == "g"
    assert worst_group_scorer.get_metadata_routing().score.requests["groups"] is True
    # pickling keeps the requests
    restored = pickle.loads(pickle.dumps(weighted))
    assert restored.get_metadata_routing().score.requests["sample_weight"] is True
    assert type(restored) is type(worst_group_scorer)


@pytest.mark.parametrize("routing", [False, True])
def test_scorer_direct_call(data, routing):
    X, y, groups = data
    clf = LogisticRegression().fit(X, y)
    expected = worst_group_accuracy(y, clf.predict(X), groups=groups)
    w = np.arange(len(y)) % 3
    expected_w = worst_group_accuracy(y, clf.predict(X), groups=groups, sample_weight=w)
    with config_context(enable_metadata_routing=routing):
        assert worst_group_scorer(clf, X, y, groups=groups) == expected
        assert worst_group_scorer(clf, X, y, groups=groups, sample_weight=w) == (
            expected_w
        )
        with pytest.raises(ValueError, match=ROUTING_HINT):
            worst_group_scorer(clf, X, y)


def test_cross_validate_routes_groups(data):
    X, y, groups = data
    cv = KFold(4, shuffle=True, random_state=0)
    expected = manual_cv_wga(X, y, groups, cv, LogisticRegression())
    assert len(np.unique(expected)) > 1
    with config_context(enable_metadata_routing=True):
        result = cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=cv,
            scoring=worst_group_scorer,
            params={"groups": groups},
            error_score="raise",
        )
    assert_allclose(result["test_score"], expected)


def test_grid_search_routes_groups_single_and_multi_metric(data):
    X, y, groups = data
    cv = KFold(3, shuffle=True, random_state=1)
    grid = {"C": [0.01, 1.0]}
    expected = [
        manual_cv_wga(X, y, groups, cv, LogisticRegression(C=C)) for C in grid["C"]
    ]
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            LogisticRegression(), grid, cv=cv, scoring=worst_group_scorer
        ).fit(X, y, groups=groups)
        multi = GridSearchCV(
            LogisticRegression(),
            grid,
            cv=cv,
            scoring={"wga": worst_group_scorer, "acc": "accuracy"},
            refit="wga",
        ).fit(X, y, groups=groups)
        # GridSearchCV.score routes groups to the scorer too
        assert search.score(X, y, groups=groups) == worst_group_accuracy(
            y, search.predict(X), groups=groups
        )
    for i in range(2):
        assert_allclose(
            [search.cv_results_[f"split{k}_test_score"][i] for k in range(3)],
            expected[i],
        )
        assert_allclose(
            [multi.cv_results_[f"split{k}_test_wga"][i] for k in range(3)],
            expected[i],
        )
    assert_allclose(
        multi.cv_results_["mean_test_wga"], search.cv_results_["mean_test_score"]
    )
    assert np.all(
        multi.cv_results_["mean_test_acc"] > multi.cv_results_["mean_test_wga"]
    )
    assert multi.best_params_ == search.best_params_


def test_grid_search_n_jobs_and_clone(data):
    X, y, groups = data
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0]}, cv=3, scoring=worst_group_scorer
    )
    with config_context(enable_metadata_routing=True):
        serial = clone(search).fit(X, y, groups=groups)
        parallel = clone(search).set_params(n_jobs=2).fit(X, y, groups=groups)
    assert_allclose(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert clone(search).scoring.get_metadata_routing().score.requests["groups"]


def test_routing_with_group_kfold_and_aliased_groups(data):
    X, y, groups = data
    split_groups = np.arange(len(y)) % 4
    cv = GroupKFold(4)
    with config_context(enable_metadata_routing=True):
        scorer = copy.deepcopy(worst_group_scorer).set_score_request(
            groups="eval_groups"
        )
        result = cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=cv,
            scoring=scorer,
            params={"groups": split_groups, "eval_groups": groups},
            error_score="raise",
        )
    expected = []
    for train, test in cv.split(X, y, split_groups):
        pred = LogisticRegression().fit(X[train], y[train]).predict(X[test])
        expected.append(worst_group_accuracy(y[test], pred, groups=groups[test]))
    assert_allclose(result["test_score"], expected)


def test_weighted_scorer_through_routing(data):
    X, y, groups = data
    w = 1.0 + np.arange(len(y)) % 3
    cv = KFold(3)
    expected = manual_cv_wga(X, y, groups, cv, LogisticRegression(), sample_weight=w)
    with config_context(enable_metadata_routing=True):
        scorer = copy.deepcopy(worst_group_scorer).set_score_request(sample_weight=True)
        result = cross_validate(
            LogisticRegression().set_fit_request(sample_weight=False),
            X,
            y,
            cv=cv,
            scoring=scorer,
            params={"groups": groups, "sample_weight": w},
            error_score="raise",
        )
    assert_allclose(result["test_score"], expected)


@pytest.mark.parametrize("multi", [False, True])
def test_routing_on_but_groups_not_passed(data, multi):
    X, y, _ = data
    scoring = {"wga": worst_group_scorer, "acc": "accuracy"} if multi else None
    scoring = scoring or worst_group_scorer
    with config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="`groups`.*" + ROUTING_HINT):
            GridSearchCV(
                LogisticRegression(),
                {"C": [1.0]},
                scoring=scoring,
                refit=False,
                error_score="raise",
            ).fit(X, y)
        with pytest.raises(ValueError, match=ROUTING_HINT):
            cross_validate(
                LogisticRegression(), X, y, scoring=scoring, error_score="raise"
            )
        # with the default error_score the same message is in the warning
        with pytest.warns(UserWarning, match=ROUTING_HINT):
            result = cross_validate(LogisticRegression(), X, y, cv=2, scoring=scoring)
    key = "test_wga" if multi else "test_score"
    assert np.isnan(result[key]).all()


def test_routing_off_is_a_clear_error(data):
    X, y, groups = data
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The groups parameter is ignored")
        with pytest.raises(ValueError, match="`groups`.*" + ROUTING_HINT):
            GridSearchCV(
                LogisticRegression(),
                {"C": [1.0]},
                scoring=worst_group_scorer,
                error_score="raise",
            ).fit(X, y, groups=groups)
        with pytest.raises(ValueError, match=ROUTING_HINT):
            cross_validate(
                LogisticRegression(),
                X,
                y,
                groups=groups,
                scoring={"wga": worst_group_scorer, "acc": "accuracy"},
                error_score="raise",
            )


# --- inferred_worst_group_scorer --------------------------------------------------


def test_inferred_scorer_hand_computed(data):
    X, y, _ = data
    clf = GroupInferringLR().fit(X, y)
    inferred = 2 * y + (clf.shortcut_.predict(X[:, :1]) != y)
    assert len(np.unique(inferred)) == 4
    expected = worst_group_accuracy(y, clf.predict(X), groups=inferred)
    assert inferred_worst_group_scorer(clf, X, y) == expected
    w = 1.0 + np.arange(len(y)) % 2
    assert inferred_worst_group_scorer(clf, X, y, sample_weight=w) == (
        worst_group_accuracy(y, clf.predict(X), groups=inferred, sample_weight=w)
    )


def test_inferred_scorer_pipeline(data):
    X, y, _ = data
    X = X * 10 + 3
    pipe = make_pipeline(StandardScaler(), GroupInferringLR()).fit(X, y)
    Xt = pipe[0].transform(X)
    inferred = pipe[-1].infer_groups(Xt, y)
    expected = worst_group_accuracy(y, pipe.predict(X), groups=inferred)
    assert inferred_worst_group_scorer(pipe, X, y) == expected
    # a one-step pipeline infers from X itself
    single = make_pipeline(GroupInferringLR()).fit(X, y)
    assert inferred_worst_group_scorer(single, X, y) == inferred_worst_group_scorer(
        single[-1], X, y
    )


@pytest.mark.parametrize("routing", [False, True])
def test_inferred_scorer_in_cross_validate(data, routing):
    X, y, _ = data
    cv = KFold(3)
    expected = []
    for train, test in cv.split(X, y):
        clf = GroupInferringLR().fit(X[train], y[train])
        groups = clf.infer_groups(X[test], y[test])
        expected.append(
            worst_group_accuracy(y[test], clf.predict(X[test]), groups=groups)
        )
    with config_context(enable_metadata_routing=routing):
        result = cross_validate(
            GroupInferringLR(),
            X,
            y,
            cv=cv,
            scoring={"wga": inferred_worst_group_scorer, "acc": "accuracy"},
            error_score="raise",
        )
    assert_allclose(result["test_wga"], expected)


def test_inferred_scorer_errors(data):
    X, y, groups = data
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(TypeError, match="infer_groups.*LogisticRegression"):
        inferred_worst_group_scorer(clf, X, y)
    with pytest.raises(TypeError, match="infer_groups"):
        inferred_worst_group_scorer(
            make_pipeline(StandardScaler(), clf).fit(X, y), X, y
        )
    with pytest.raises(TypeError, match="takes no `groups`"):
        inferred_worst_group_scorer(GroupInferringLR().fit(X, y), X, y, groups=groups)


def test_scorers_pickle(data):
    X, y, groups = data
    clf = GroupInferringLR().fit(X, y)
    for scorer in (worst_group_scorer, inferred_worst_group_scorer):
        restored = pickle.loads(pickle.dumps(scorer))
        kwargs = {"groups": groups} if scorer is worst_group_scorer else {}
        assert restored(clf, X, y, **kwargs) == scorer(clf, X, y, **kwargs)

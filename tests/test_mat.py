"""MATClassifier behaviour: API, scikit-learn integration, reproducibility, errors."""

import io
import pickle
import re
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, ShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skmat import MATClassifier

from .conftest import small_net
from .modules import MLP, Linear, SoftmaxLinear


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=150,
        n_features=6,
        n_informative=4,
        n_clusters_per_class=1,
        class_sep=1.5,
        flip_y=0,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def data3():
    X, y = make_blobs(n_samples=150, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


def mat(**params):
    # the paper's fixed strength: these tests are about the shift itself (the
    # default "auto" chooses it for the data: tests/test_selection.py)
    params = {"cv": 3, "random_state": 0, "shift_strength": 1.0, **params}
    return MATClassifier(params.pop("estimator", small_net()), **params)


# --- fitted attributes and prediction API ---------------------------------------


def test_fitted_attributes(data):
    X, y = data
    clf = mat().fit(X, y)
    n, K = len(y), 2
    assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_features_in_ == 6
    assert len(clf.held_out_estimators_) == 3
    assert clf.held_out_proba_.shape == (n, K)
    assert_allclose(clf.held_out_proba_.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.calibration_matrix_.shape == (K, K)
    assert_allclose(clf.calibration_matrix_.sum(axis=1), 1.0)
    assert clf.logit_shift_.shape == (n, K)
    assert np.all(np.isfinite(clf.logit_shift_))
    assert clf.estimator_.initialized_


def test_shift_is_the_documented_function_of_the_held_out_proba(data):
    from skmat._shift import logit_shift

    X, y = data
    clf = mat(temperature=0.5, shift_strength=2.0).fit(X, y)
    expected, C = logit_shift(
        clf.held_out_proba_, y, temperature=0.5, shift_strength=2.0
    )
    assert_allclose(clf.logit_shift_, expected, rtol=1e-5, atol=1e-5)
    assert_allclose(clf.calibration_matrix_, C)


def test_held_out_proba_is_out_of_fold(data):
    """Each example's held-out probability comes from the fold model that never saw it."""
    X, y = data
    clf = mat(cv=KFold(3)).fit(X, y)
    assert len(clf.held_out_estimators_samples_) == 3
    for model, train, (expected_train, test) in zip(
        clf.held_out_estimators_, clf.held_out_estimators_samples_, KFold(3).split(X)
    ):
        assert_array_equal(train, expected_train)
        assert_allclose(
            clf.held_out_proba_[test], model.predict_proba(X[test]), rtol=1e-6
        )


def test_prediction_methods_agree(data3):
    X, y = data3
    clf = mat().fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)
    assert_array_equal(clf.predict(X), clf.classes_[clf.decision_function(X).argmax(1)])
    assert clf.score(X, y) > 0.9


def test_binary_decision_function_is_one_column(data):
    X, y = data
    clf = mat().fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (len(y),)
    assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])


def test_prediction_uses_the_net_without_shift(data):
    X, y = data
    clf = mat(shift_strength=2.0).fit(X, y)
    logits = clf.estimator_.forward(X).numpy()
    assert_allclose(clf.decision_function(X), logits[:, 1] - logits[:, 0], rtol=1e-5)


# --- labels -------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog", "emu"]), np.array([-7, 3, 40]), np.array([1.0, 3.0, 8.0])],
)
def test_labels_of_any_kind_round_trip(data3, labels):
    X, y = data3
    y_labels = labels[y]
    clf = mat().fit(X, y_labels)
    assert_array_equal(clf.classes_, np.sort(labels))
    predicted = clf.predict(X)
    assert set(predicted) <= set(labels)
    assert np.mean(predicted == y_labels) > 0.9
    # columns follow classes_
    proba = clf.predict_proba(X)
    assert_array_equal(clf.classes_[proba.argmax(1)], predicted)


def test_string_labels_binary(data):
    X, y = data
    y_str = np.array(["no", "yes"])[y]
    clf = mat().fit(X, y_str)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.score(X, y_str) > 0.8


def test_single_class_is_an_error(data):
    X, _ = data
    with pytest.raises(ValueError, match="at least 2 classes"):
        mat().fit(X, np.zeros(len(X)))


# --- shift_strength=0 is plain ERM ----------------------------------------------


def test_zero_shift_equals_fitting_the_net_directly(data):
    X, y = data
    net = small_net()
    clf = mat(estimator=net, shift_strength=0.0, random_state=3).fit(X, y)
    direct = clone(net).set_params(
        classes=[0, 1], module__n_features_in=6, module__n_classes=2
    )
    with torch.random.fork_rng():
        torch.manual_seed(3)
        direct.fit(X, y)
    assert_array_equal(clf.predict(X), direct.predict(X))
    assert_allclose(clf.predict_proba(X), direct.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_shift_changes_the_fit(data):
    X, y = data
    erm = mat(shift_strength=0.0).fit(X, y)
    shifted = mat(shift_strength=2.0).fit(X, y)
    assert not np.allclose(erm.predict_proba(X), shifted.predict_proba(X))


# --- estimators ----------------------------------------------------------------


def test_module_class_is_wrapped(data3):
    X, y = data3
    clf = mat(estimator=MLP).fit(X, y)
    assert isinstance(clf.estimator_.criterion_, torch.nn.CrossEntropyLoss)
    assert clf.score(X, y) > 0.8


def test_module_instance_is_not_trained_in_place_and_every_fit_starts_from_it(data):
    X, y = data
    module = Linear(6, 2)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    net = small_net(module=module, max_epochs=0)  # no training: weights stay as passed
    clf = mat(estimator=net).fit(X, y)
    for k, v in module.state_dict().items():
        assert torch.equal(v, before[k])
    for fitted in [*clf.held_out_estimators_, clf.estimator_]:
        for k, v in fitted.module_.state_dict().items():
            assert torch.equal(v, before[k])
    # a second fit starts from the same weights, not from the first fit's
    trained = mat(estimator=small_net(module=module)).fit(X, y)
    again = clone(trained).fit(X, y)
    assert_allclose(trained.predict_proba(X), again.predict_proba(X))
    for k, v in module.state_dict().items():
        assert torch.equal(v, before[k])


def test_skorch_internal_validation_split_and_callbacks(data):
    from skorch.callbacks import EarlyStopping
    from skorch.dataset import ValidSplit

    X, y = data
    net = small_net(
        train_split=ValidSplit(5, stratified=True),
        callbacks=[EarlyStopping(patience=3)],
        max_epochs=50,
    )
    # the shift (its held-out nets make no mistake here, so "auto" would choose
    # plain training, whose validation loss keeps falling for 50 epochs)
    clf = mat(estimator=net, shift_strength=1.0)
    clf.fit(X, y, sample_weight=np.linspace(0.5, 1.5, len(y)))
    history = clf.estimator_.history
    assert "valid_loss" in history[-1] and np.isfinite(history[-1, "valid_loss"])
    assert len(history) < 50  # early stopping ran on the weighted validation loss
    assert clf.score(X, y) > 0.8


def test_user_net_is_never_fitted_in_place(data):
    X, y = data
    net = small_net()
    mat(estimator=net).fit(X, y)
    assert not net.initialized_


def test_nll_loss_net_with_probability_outputs(data):
    X, y = data
    net = small_net(module=SoftmaxLinear, criterion=torch.nn.NLLLoss)
    clf = mat(estimator=net).fit(X, y)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    assert clf.score(X, y) > 0.8


def test_unsupported_criterion_is_an_error(data):
    X, y = data
    with pytest.raises(TypeError, match="criterion of estimator"):
        mat(estimator=small_net(criterion=torch.nn.MSELoss)).fit(X, y)


def test_wrong_module_output_size_is_an_error(data3):
    X, y = data3
    net = small_net(module__n_classes=2)
    with pytest.raises(ValueError, match="one value per class"):
        mat(estimator=net).fit(X, y)


@pytest.mark.parametrize(
    "held_out", [LogisticRegression(), HistGradientBoostingClassifier(max_iter=20)]
)
def test_any_sklearn_classifier_as_held_out_estimator(data3, held_out):
    X, y = data3
    clf = mat(held_out_estimator=held_out).fit(X, y)
    assert all(type(m) is type(held_out) for m in clf.held_out_estimators_)
    assert clf.score(X, y) > 0.8
    assert_allclose(clf.held_out_proba_.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "params, strategy",
    [
        ({}, ("xrm", 2)),
        ({"cv": 3}, ("kfold", 3)),
        ({"held_out_estimator": LogisticRegression()}, ("kfold", 5)),
        ({"held_out": "kfold"}, ("kfold", 5)),
        ({"held_out": "xrm"}, ("xrm", 2)),
    ],
    ids=["default", "cv", "sklearn-held-out-estimator", "kfold", "xrm"],
)
def test_auto_held_out_is_xrm_unless_cv_or_a_sklearn_model_asks_for_folds(
    data, params, strategy
):
    X, y = data
    clf = MATClassifier(small_net(), random_state=0, **params).fit(X, y)
    kind, n_models = strategy
    assert clf.held_out_strategy_.kind == kind
    assert clf.held_out_strategy_.n_models == len(clf.held_out_estimators_) == n_models


def test_held_out_estimator_missing_a_class_in_a_fold(data3):
    X, y = data3
    order = np.argsort(
        y, kind="stable"
    )  # KFold(3) on sorted y: each fold lacks a class
    clf = mat(held_out_estimator=LogisticRegression(), cv=KFold(3)).fit(
        X[order], y[order]
    )
    assert clf.held_out_proba_.shape == (len(y), 3)
    assert_allclose(clf.held_out_proba_.sum(axis=1), 1.0, rtol=1e-6)


def test_precomputed_held_out_proba_skips_the_held_out_phase(data):
    X, y = data
    proba = np.full((len(y), 2), 0.5)
    proba[np.arange(len(y)), y] = 0.9
    proba[np.arange(len(y)), 1 - y] = 0.1
    clf = mat(temperature=1.0).fit(X, y, held_out_proba=proba)
    assert clf.held_out_estimators_ == []
    assert clf.held_out_estimators_samples_ == []
    assert_allclose(clf.held_out_proba_, proba)
    assert_allclose(clf.calibration_matrix_, np.eye(2) * 0.9 + (1 - np.eye(2)) * 0.1)


# --- scikit-learn integration --------------------------------------------------


def test_pipeline(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), mat()).fit(X * 100 + 5, y)
    assert pipe.score(X * 100 + 5, y) > 0.8


def test_grid_search_is_identical_with_one_and_two_jobs(data):
    X, y = data
    grid = {"shift_strength": [0, 0.5, 1, 2], "temperature": [0.01, 0.1, 1]}
    base = mat(estimator=small_net(max_epochs=5), cv=2)
    results = []
    for n_jobs in (1, 2):
        search = GridSearchCV(base, grid, cv=2, n_jobs=n_jobs).fit(X, y)
        results.append(search)
    one, two = results
    assert_allclose(
        one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"]
    )
    assert one.best_params_ == two.best_params_
    assert_allclose(one.predict_proba(X), two.predict_proba(X), rtol=1e-6)


def test_n_jobs_gives_the_same_fit(data):
    X, y = data
    one = mat(n_jobs=1).fit(X, y)
    two = mat(n_jobs=2).fit(X, y)
    assert_allclose(one.held_out_proba_, two.held_out_proba_, rtol=1e-6)
    assert_allclose(one.predict_proba(X), two.predict_proba(X), rtol=1e-6)


def test_clone_pickle_and_joblib_round_trips(data, tmp_path):
    X, y = data
    clf = mat().fit(X, y)
    expected = clf.predict_proba(X)
    assert_allclose(clone(clf).fit(X, y).predict_proba(X), expected)
    assert_allclose(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "clf.joblib")
    assert_allclose(joblib.load(tmp_path / "clf.joblib").predict_proba(X), expected)


def test_pickle_round_trip_of_a_skorch_subclass(data):
    from .modules import CustomNet

    X, y = data
    clf = mat(estimator=small_net(net_class=CustomNet)).fit(X, y)
    assert type(clf.estimator_).__name__ == "LogitShiftCustomNet"
    assert clf.estimator_.custom_calls > 0  # the user's override still runs
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_pandas_input_and_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = mat().fit(frame, pd.Series(np.array(["a", "b"])[y]))
    assert_array_equal(clf.feature_names_in_, frame.columns)
    assert_array_equal(
        clf.predict(frame), mat().fit(X, np.array(["a", "b"])[y]).predict(X)
    )


def test_group_kfold_receives_routed_groups(data):
    X, y = data
    groups = np.arange(len(y)) % 5
    with config_context(enable_metadata_routing=True):
        clf = mat(cv=GroupKFold(5)).fit(X, y, groups=groups)
    assert len(clf.held_out_estimators_) == 5
    # the folds are GroupKFold's on these groups: same fit as passing those splits
    splits = list(GroupKFold(5).split(X, y, groups))
    assert_allclose(
        mat(cv=splits).fit(X, y).held_out_proba_, clf.held_out_proba_, rtol=1e-6
    )
    # without routing, groups go straight to the splitter as in cross_validate
    clf_off = mat(cv=GroupKFold(5)).fit(X, y, groups=groups)
    assert_allclose(clf_off.held_out_proba_, clf.held_out_proba_, rtol=1e-6)


def test_group_kfold_without_groups_is_an_error(data):
    X, y = data
    with pytest.raises(ValueError, match="groups"):
        mat(cv=GroupKFold(5)).fit(X, y)


def test_unknown_fit_params_without_routing_are_an_error(data):
    X, y = data
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        mat().fit(X, y, something=np.ones(len(y)))


# --- sample weights ---------------------------------------------------------------


def test_sample_weight_changes_the_fit():
    X, y = make_classification(
        n_samples=150, n_features=4, class_sep=0.5, random_state=0
    )
    weights = np.ones(len(y))
    weights[y == 1] = 5.0
    plain = mat(shift_strength=0.0).fit(X, y)
    weighted = mat(shift_strength=0.0).fit(X, y, sample_weight=weights)
    # the weights reach the fold fits and the final fit
    assert not np.allclose(plain.held_out_proba_, weighted.held_out_proba_)
    assert not np.allclose(plain.predict_proba(X), weighted.predict_proba(X))
    # class 1 weighted up: the net leans to it
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_sample_weight_routing_to_a_sklearn_held_out_estimator(data):
    X, y = data
    weights = np.linspace(0.1, 2, len(y))
    with config_context(enable_metadata_routing=True):
        held_out = LogisticRegression().set_fit_request(sample_weight=True)
        clf = mat(held_out_estimator=held_out).fit(X, y, sample_weight=weights)
        unweighted = mat(
            held_out_estimator=LogisticRegression().set_fit_request(sample_weight=False)
        ).fit(X, y, sample_weight=weights)
    assert not np.allclose(clf.held_out_proba_, unweighted.held_out_proba_)
    # routing off: passed directly to an estimator that accepts it
    direct = mat(held_out_estimator=LogisticRegression()).fit(
        X, y, sample_weight=weights
    )
    assert_allclose(direct.held_out_proba_, clf.held_out_proba_)


def test_sample_weight_inside_a_routed_grid_search(data):
    X, y = data
    weights = np.ones(len(y))
    with config_context(enable_metadata_routing=True):
        est = mat(estimator=small_net(max_epochs=3), cv=2)
        est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        search = GridSearchCV(est, {"shift_strength": [0, 1]}, cv=2)
        search.fit(X, y, sample_weight=weights)
    assert search.best_params_["shift_strength"] in (0, 1)


# --- reproducibility -------------------------------------------------------------


def test_same_random_state_same_predictions(data):
    X, y = data
    a = mat(random_state=7).fit(X, y)
    b = mat(random_state=7).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = mat(random_state=8).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_random_state_instance_is_accepted(data):
    X, y = data
    a = mat(random_state=np.random.RandomState(1)).fit(X, y)
    b = mat(random_state=np.random.RandomState(1)).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_fit_leaves_the_global_torch_rng_alone(data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    mat(random_state=0).fit(X, y)
    mat(random_state=None).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


# --- verbosity -------------------------------------------------------------------


def test_verbose_levels(data):
    X, y = data
    for verbose, fold_training, expected_lines in [
        (0, "auto", 0),
        (1, "sequential", 7),
        (1, "batched", 4),
    ]:
        out = io.StringIO()
        with redirect_stdout(out):
            mat(verbose=verbose, fold_training=fold_training).fit(X, y)
        lines = out.getvalue().splitlines()
        assert len(lines) == expected_lines, lines
    assert lines[0] == (
        "[MATClassifier] held-out folds trained together as one batched model"
    )
    out = io.StringIO()
    with redirect_stdout(out):
        mat(verbose=1, fold_training="sequential").fit(X, y)
    lines = out.getvalue().splitlines()
    assert re.match(r"\[MATClassifier\] held-out model 1/3: fit \d+\.\d\ds", lines[1])
    out = io.StringIO()
    with redirect_stdout(out):
        mat(verbose=2, estimator=small_net(max_epochs=2)).fit(X, y)
    assert "train_loss" in out.getvalue()


# --- bad input -------------------------------------------------------------------


class NoProba:
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"estimator": NoProba()}, InvalidParameterError, "'estimator' parameter"),
        ({"estimator": LogisticRegression()}, TypeError, "estimator must be a skorch"),
        ({"estimator": len}, InvalidParameterError, "'estimator' parameter"),
        ({"estimator": dict}, TypeError, "estimator must be a skorch"),
        (
            {"held_out_estimator": NoProba()},
            InvalidParameterError,
            "'held_out_estimator'",
        ),
        ({"temperature": 0}, InvalidParameterError, "'temperature' parameter"),
        ({"temperature": -1.0}, InvalidParameterError, "'temperature' parameter"),
        ({"shift_strength": -0.5}, InvalidParameterError, "'shift_strength' parameter"),
        ({"shift_strength": float("nan")}, InvalidParameterError, "'shift_strength'"),
        ({"cv": "five"}, InvalidParameterError, "'cv' parameter"),
        ({"cv": 100}, ValueError, "cv asks for 100 stratified folds.*rarest class"),
        ({"cv": ShuffleSplit(3, random_state=0)}, ValueError, "partition"),
        ({"calibrate": "yes"}, InvalidParameterError, "'calibrate' parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(data, params, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        mat(**params).fit(X, y)


@pytest.mark.parametrize(
    "proba, match",
    [
        (np.full((150, 3), 1 / 3), "shape"),
        (np.full((10, 2), 0.5), "shape"),
        (np.tile([1.5, -0.5], (150, 1)), "non-negative"),
        (np.tile([0.7, 0.7], (150, 1)), "sum to 1"),
        (np.tile([np.nan, 0.5], (150, 1)), "finite"),
    ],
)
def test_bad_held_out_proba(data, proba, match):
    X, y = data
    with pytest.raises(
        ValueError, match=f"held_out_proba.*{match}|{match}.*held_out_proba"
    ):
        mat().fit(X, y, held_out_proba=proba)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X_is_an_error(data, bad):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        mat().fit(X, y)


def test_wrong_number_of_features_at_predict(data):
    X, y = data
    clf = mat().fit(X, y)
    with pytest.raises(
        ValueError, match="X has 5 features, but MATClassifier is expecting 6"
    ):
        clf.predict(X[:, :5])


def test_diverging_held_out_training_is_an_error(data):
    X, y = data
    net = small_net(optimizer=torch.optim.SGD, lr=1e30)
    with pytest.raises(ValueError, match="held-out fold net 1 of 3 diverged.*not fin"):
        mat(estimator=net).fit(X * 1e10, y)


def test_bare_module_instance_and_module_held_out_estimator(data):
    X, y = data
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = Linear(6, 2)
    clf = mat(estimator=module, held_out_estimator=MLP).fit(X, y)
    assert all(isinstance(m.module_, MLP) for m in clf.held_out_estimators_)
    assert isinstance(clf.estimator_.module_, Linear)
    # the default training (MLPClassifier's: Adam, lr 1e-3, 200 steps here) is short
    assert (clf.held_out_proba_.argmax(axis=1) == y).mean() > 0.9
    assert clf.score(X, y) > 0.8

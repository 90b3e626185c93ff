"""Synthetic benchmarks where memorization hurts the minority groups."""

import numpy as np
from sklearn.utils import check_random_state


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

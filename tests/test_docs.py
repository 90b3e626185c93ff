"""The API reference (docs/api.rst) lists every public name, and nothing else.

The public names are each public module's ``__all__`` (minus ``__version__``); the
reference lists them in ``.. autosummary::`` directives, each under the
``.. currentmodule::`` that precedes it.
"""

import importlib
import pkgutil
import re
from pathlib import Path

import skmat

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def public_modules():
    """skmat and its public submodules that declare ``__all__``."""
    modules = [skmat]
    for info in pkgutil.iter_modules(skmat.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"skmat.{info.name}")
            if hasattr(module, "__all__"):
                modules.append(module)
    return modules


def public_names():
    return {
        f"{module.__name__}.{name}"
        for module in public_modules()
        for name in module.__all__
        if name != "__version__"
    }


def autosummary_entries(text):
    """Fully qualified names of the entries of every autosummary directive."""
    entries = set()
    current = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        module = re.match(r"^\.\. currentmodule::\s*(\S+)\s*$", line)
        if module:
            current = module.group(1)
        if re.match(r"^\.\. autosummary::\s*$", line):
            i += 1
            # the directive's block: indented lines (options, then entries)
            while i < len(lines) and (not lines[i].strip() or lines[i][0] == " "):
                entry = lines[i].strip()
                if entry and not entry.startswith(":"):
                    name = entry.lstrip("~")
                    entries.add(name if current is None else f"{current}.{name}")
                i += 1
            continue
        i += 1
    return entries


def test_parser_reads_directives():
    text = """
.. currentmodule:: pkg

.. autosummary::
   :toctree: generated/
   :nosignatures:

   One
   ~Two

Text.

.. currentmodule:: pkg.sub

.. autosummary::

   three
"""
    assert autosummary_entries(text) == {"pkg.One", "pkg.Two", "pkg.sub.three"}


def test_api_reference_lists_every_public_name():
    listed = autosummary_entries(API_RST.read_text())
    public = public_names()
    assert {m.__name__ for m in public_modules()} >= {
        "skmat",
        "skmat.datasets",
        "skmat.inspection",
        "skmat.metrics",
    }
    missing = sorted(public - listed)
    extra = sorted(listed - public)
    assert not missing, f"public names with no entry in docs/api.rst: {missing}"
    assert not extra, f"entries of docs/api.rst that are not public names: {extra}"

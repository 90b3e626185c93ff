"""The API reference (docs/api.rst) lists every public name, and nothing else; the
README and the user guide cite only results files that exist and carry their
provenance (``PROVENANCE.json`` beside them), and show only images that exist (the
README's: tracked by git).

The public names are each public module's ``__all__`` (minus ``__version__``); the
reference lists them in ``.. autosummary::`` directives, each under the
``.. currentmodule::`` that precedes it.
"""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

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


# --- results files and images the README and the user guide cite -------------------
ROOT = API_RST.parents[1]
RESULTS = re.compile(r"benchmarks/results(?:/[\w.\-]+)*/?")
IMAGE = re.compile(r"^\s*\.\. (?:image|figure)::\s*(\S+)", re.MULTILINE)


def _provenance_module():
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import _results
    finally:
        sys.path.remove(str(ROOT / "docs"))
    return _results


def _pages():
    """The README and every hand-written page of the documentation."""
    pages = [ROOT / "README.rst"]
    for page in sorted((ROOT / "docs").rglob("*.rst")):
        parts = page.relative_to(ROOT / "docs").parts
        if parts[0] not in {"_build", "auto_examples", "generated"}:
            pages.append(page)
    return pages


def _git_tracked():
    import subprocess

    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return {name for name in listed.decode().split("\0") if name}


def cited_results(text):
    return {m.group(0).rstrip("/.") for m in RESULTS.finditer(text)}


def test_cited_results_exist_with_provenance():
    results = _provenance_module()
    problems = []
    for page in _pages():
        for cited in sorted(cited_results(page.read_text(encoding="utf-8"))):
            path = ROOT / cited
            where = f"{page.relative_to(ROOT)} cites {cited}"
            if not path.exists():
                problems.append(f"{where}: no such file or directory")
                continue
            files = (
                sorted(p for p in path.rglob("*") if p.is_file())
                if (path.is_dir())
                else [path]
            )
            for file in files:
                if file.name == "PROVENANCE.json":
                    continue
                entry = results.provenance(file.relative_to(ROOT))
                missing = [
                    k for k in results.PROVENANCE_FIELDS if not (entry or {}).get(k)
                ]
                if missing:
                    problems.append(
                        f"{where}: {file.relative_to(ROOT)} lacks {missing} in "
                        f"{file.parent.relative_to(ROOT)}/PROVENANCE.json"
                    )
    assert not problems, "\n".join(problems)


def test_every_results_file_has_provenance():
    results = _provenance_module()
    tracked = _git_tracked()
    missing = sorted(
        name
        for name in tracked
        if name.startswith("benchmarks/results/")
        and not name.endswith("PROVENANCE.json")
        and any(
            not (results.provenance(name) or {}).get(k)
            for k in results.PROVENANCE_FIELDS
        )
    )
    assert not missing, f"results files without full provenance: {missing}"


def test_readme_images_are_tracked():
    tracked = _git_tracked()
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    untracked = [
        target
        for target in IMAGE.findall(text)
        if "://" not in target and target not in tracked
    ]
    assert not untracked, (
        f"images the README shows that git does not track: {untracked}"
    )


def test_guide_images_exist():
    problems = []
    for page in _pages()[1:]:
        for target in IMAGE.findall(page.read_text(encoding="utf-8")):
            # the gallery's images are written by the build itself
            if "auto_examples/" in target or "://" in target:
                continue
            path = (page.parent / target).resolve()
            if not path.is_file():
                problems.append(f"{page.relative_to(ROOT)}: {target}")
    assert not problems, f"images that do not exist: {problems}"


def test_cited_results_parser():
    text = "see ``benchmarks/results/safety/`` and benchmarks/results/x.csv."
    assert cited_results(text) == {
        "benchmarks/results/safety",
        "benchmarks/results/x.csv",
    }

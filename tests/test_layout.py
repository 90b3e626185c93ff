"""The package's layout rules: no skmat module imports a private name of another
(each module's public names are its interface to the others)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "skmat"


def private_imports(path):
    """``(module, name)`` of every private name that ``path`` imports from skmat."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0 and not (node.module or "").startswith("skmat"):
            continue  # another package (scikit-learn's private names: _compat)
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append((node.module, alias.name))
    return found


def test_no_module_imports_a_private_name_of_another():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    offenders = {
        str(path.relative_to(PACKAGE)): names
        for path in modules
        if (names := private_imports(path))
    }
    assert not offenders, offenders


def test_the_rule_sees_a_private_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("from ._data import _hidden, public\nfrom sklearn import _x\n")
    assert private_imports(module) == [("_data", "_hidden")]

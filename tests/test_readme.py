"""The README's usage code runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.rst"


def test_readme_usage_runs():
    text = README.read_text()
    usage = text[text.index("Usage\n=====") :]
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", usage)
    code = "\n".join(
        "\n".join(line[4:] for line in block.splitlines()) for block in blocks
    )
    assert "MATClassifier" in code and "GridSearchCV" in code
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["search"].best_params_["shift_strength"] in (0, 0.5, 1, 2)

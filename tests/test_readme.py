"""The README's usage code runs as written, without a warning."""

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.rst"


def usage_code():
    text = README.read_text()
    usage = text[text.index("Usage\n=====") : text.index("What it does\n====")]
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", usage)
    return "\n".join(
        "\n".join(line[4:] for line in block.splitlines()) for block in blocks
    )


def test_readme_usage_is_short():
    assert len(usage_code().strip().splitlines()) <= 30


def test_readme_usage_runs_without_warnings(capsys):
    code = usage_code()
    assert "MATClassifier" in code
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        exec(compile(code, str(README), "exec"), namespace)
    mat = namespace["mat"]
    y = namespace["y"]
    assert mat.held_out_proba_.shape == (len(y), 2)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3
    # the worst-group accuracies it prints are accuracies
    assert all(0 <= float(line) <= 1 for line in printed[1:])

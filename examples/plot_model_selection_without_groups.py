"""
==========================================================
Choosing MAT's shift strength without group labels
==========================================================

Coloured digits: scikit-learn's 8x8 digits, label ``digit >= 5``, each image drawn in
red or green. In training the colour agrees with the label for 95% of the images, so
a net can fit the majority by colour alone and memorize the 5% minority; at test time
the colour is random and a net that leaned on it fails on the minority groups (the
red large digits and the green small ones).

Model selection by worst-group accuracy needs groups on the validation data. Here we
pick :class:`skmat.MATClassifier`'s ``shift_strength`` twice with
:class:`~sklearn.model_selection.GridSearchCV`: once with the true groups
(:data:`skmat.metrics.worst_group_scorer`, groups passed through metadata routing), and
once with no group labels at all (:data:`skmat.metrics.crossfit_group_scorer`, the
criterion of the default ``shift_strength="auto"``: the validation fold is grouped by
label and by the mistakes of two plain copies of the net cross-fitted on its halves,
and each candidate scores ``(mean + 0.1 * worst) / 1.1`` of its accuracies within
those groups). Both are compared with plain training (ERM) on a test set where colour
and label are independent.

Run ``python examples/plot_model_selection_without_groups.py``; it prints per-group test accuracies and writes
``plot_model_selection_without_groups.png``.
"""

# %%
# Data and net
# ------------
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn import config_context  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402

from skmat import InMemoryDataLoader, MATClassifier  # noqa: E402
from skmat.datasets import make_colored_digits  # noqa: E402
from skmat.metrics import (  # noqa: E402
    crossfit_group_scorer,
    group_accuracy_report,
    worst_group_scorer,
)

X_train, y_train, groups_train = make_colored_digits(
    agreement=0.95, subset="train", random_state=0
)
X_test, y_test, groups_test = make_colored_digits(
    agreement=0.5, subset="test", random_state=1
)
GROUP_NAMES = {0: "<5 red", 1: "<5 green", 2: ">=5 red", 3: ">=5 green"}


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


net = NeuralNetClassifier(
    MLP,
    criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=3e-3,
    max_epochs=60,
    batch_size=128,
    train_split=None,
    iterator_train=InMemoryDataLoader,
    iterator_train__shuffle=True,
    iterator_valid=InMemoryDataLoader,
    verbose=0,
)

# %%
# ERM: the net on its own
# -----------------------
# ``shift_strength=0`` is plain training of the same net (the held-out phase is skipped
# by passing uninformative held-out probabilities).
erm = MATClassifier(net, shift_strength=0, random_state=0).fit(
    X_train, y_train, held_out_proba=np.full((len(y_train), 2), 0.5)
)

# %%
# Selecting the shift strength with group labels
# ----------------------------------------------
# The true groups reach the scorer through scikit-learn's metadata routing.
param_grid = {"shift_strength": [0.0, 0.5, 1.0, 2.0]}
with config_context(enable_metadata_routing=True):
    with_groups = GridSearchCV(
        MATClassifier(net, cv=3, random_state=0),
        param_grid,
        scoring=worst_group_scorer,
        cv=3,
    ).fit(X_train, y_train, groups=groups_train)

# %%
# Selecting it without group labels
# ---------------------------------
# The validation fold is grouped by (label, whether a plain copy of the net trained on
# the other half of the fold gets the example wrong): models that share no example
# with the candidates. The copies train once per fold and serve every candidate.
without_groups = GridSearchCV(
    MATClassifier(net, cv=3, random_state=0),
    param_grid,
    scoring=crossfit_group_scorer,
    cv=3,
).fit(X_train, y_train)

# %%
# Per-group test accuracy
# -----------------------
models = {
    "ERM": erm,
    f"MAT, chosen with groups (lambda={with_groups.best_params_['shift_strength']:g})": (
        with_groups.best_estimator_
    ),
    "MAT, chosen without groups "
    f"(lambda={without_groups.best_params_['shift_strength']:g})": (
        without_groups.best_estimator_
    ),
}
reports = {}
for name, model in models.items():
    reports[name] = group_accuracy_report(
        y_test, model.predict(X_test), groups=groups_test, output_dict=True
    )
    print(
        f"{name}: average {reports[name]['average']:.3f}, "
        f"worst group {reports[name]['worst']:.3f}"
    )
    print(group_accuracy_report(y_test, model.predict(X_test), groups=groups_test))
print(
    f"validation scores per shift strength {param_grid['shift_strength']}:\n"
    "  worst-group accuracy, true groups      "
    f"{np.round(with_groups.cv_results_['mean_test_score'], 3)}\n"
    "  (mean + 0.1 worst) / 1.1, cross-fitted "
    f"{np.round(without_groups.cv_results_['mean_test_score'], 3)}"
)

fig, ax = plt.subplots(figsize=(8, 5.5))
width = 0.8 / len(models)
for i, (name, report) in enumerate(reports.items()):
    accuracies = [report[group]["accuracy"] for group in GROUP_NAMES]
    label = f"{name}: worst group {report['worst']:.2f}"
    ax.bar(np.arange(4) + (i - 1) * width, accuracies, width, label=label)
ax.set_xticks(np.arange(4))
ax.set_xticklabels(
    [
        f"{GROUP_NAMES[g]}\n({'majority' if g in (0, 3) else 'minority'})"
        for g in GROUP_NAMES
    ]
)
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1.05)
ax.set_title("Coloured digits: per-group test accuracy (colour random at test time)")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=9)
fig.tight_layout()
fig.savefig("plot_model_selection_without_groups.png", dpi=120)

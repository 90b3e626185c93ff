"""Group-robustness metrics: worst-group accuracy, its per-group report and scorers.

Worst-group accuracy (WGA) is the lowest accuracy over the groups of a data set (for
instance the four ``(label, spurious attribute)`` pairs of a shortcut benchmark). It is
the usual model-selection criterion of group-robust learning.

- :func:`worst_group_accuracy` and :func:`group_accuracy_report` compute it from
  predictions and group labels.
- ``worst_group_scorer`` is a scorer for ``scoring=`` in
  :class:`~sklearn.model_selection.GridSearchCV`,
  :func:`~sklearn.model_selection.cross_validate` and the like. It requests ``groups``
  through scikit-learn's metadata routing, so enable routing and pass the groups with
  the data.
- ``crossfit_group_scorer`` needs no group labels: it groups the scored examples by
  label and by whether plain copies of the estimator's net, cross-fitted on those
  examples, misclassify them, and scores the estimator on those groups. It is the
  criterion ``MATClassifier``'s default choice uses; pass it to your own
  ``GridSearchCV`` to choose as the default does.
- ``inferred_worst_group_scorer`` also needs no group labels: the fitted estimator
  infers them with its own held-out models (:meth:`MATClassifier.infer_groups
  <skmat.MATClassifier.infer_groups>`). It favours the shift whether or not it
  helps: prefer ``crossfit_group_scorer`` to choose MAT's settings.
"""

from ._group_accuracy import group_accuracy_report, worst_group_accuracy
from ._scorer import (
    CrossFitGroupScorer,
    crossfit_group_scorer,
    inferred_worst_group_scorer,
    worst_group_scorer,
)

__all__ = [
    "CrossFitGroupScorer",
    "crossfit_group_scorer",
    "group_accuracy_report",
    "inferred_worst_group_scorer",
    "worst_group_accuracy",
    "worst_group_scorer",
]

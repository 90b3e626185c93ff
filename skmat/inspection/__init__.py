"""Memorization diagnostics: which training examples does a model memorize?

- :func:`memorization_score` estimates, for every training example, how much more
  probability a training procedure gives the example's label when the example is in
  the training set than when it is not (Feldman's memorization, or self-influence,
  score, estimated by cross-validation).
- :class:`MemorizationDisplay` plots the per-group distributions of the score, for
  one or several procedures side by side (for instance plain training and MAT).

Under plain training (ERM) the minority groups of a shortcut benchmark carry high
scores: the model is right on them only because it trained on them. MAT lowers them.
"""

from ._memorization import memorization_score
from ._plot.memorization import MemorizationDisplay

__all__ = ["MemorizationDisplay", "memorization_score"]

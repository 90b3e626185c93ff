"""What a fitted :class:`~skmat._base.HeldOutNetClassifier` answers: its final net's
logits, probabilities and predictions (no shift: the shift is for training only),
and the groups its held-out models infer."""

import numpy as np
from scipy.special import softmax
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._held_out import misclassified_by_any
from ._net import net_logits
from ._random import forked_torch_rng
from ._shift import logits_to_log_proba
from ._validation import check_input


def inferred_group_ids(y_encoded, misclassified):
    """Inferred group of each example: ``2 * class_index + misclassified``."""
    return 2 * np.asarray(y_encoded) + np.asarray(misclassified, dtype=int)


class FittedNetMixin:
    """Prediction and group inference for an estimator whose fit sets
    ``estimator_`` (the final net), ``classes_`` and the held-out attributes."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # sparse tables are made dense
        return tags

    def infer_groups(self, X=None, y=None):
        """Groups inferred without annotations, from the held-out models' mistakes.

        The group of an example is the pair (label, whether the held-out models
        misclassify it), as one integer id ``2 * class_index + misclassified``, with
        ``class_index`` its label's position in ``classes_``: for two classes, 0 and
        2 are the examples the held-out models get right (the majority pattern), 1
        and 3 those they get wrong (the minority; Bayat et al., ICLR 2025, Section 4,
        model selection without group labels).

        * With no arguments: the training examples, from their out-of-fold
          predictions (``held_out_proba_``); the same as ``inferred_groups_``.
        * With ``X`` and ``y`` (new data): every held-out model predicts every
          example, and the example counts as misclassified when *any* of them gets
          it wrong, as XRM does with its twins. Do not pass the training set here:
          each fold model trained on most of it.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset, default=None
            New inputs, in the form ``fit`` took.
        y : array-like of shape (n_samples,), default=None
            True labels, values of ``classes_``.

        Returns
        -------
        groups : ndarray of shape (n_samples,)
            Integer group ids.
        """
        check_is_fitted(self)
        if not hasattr(self, "held_out_estimators_"):
            raise ValueError(
                f"This {type(self).__name__} was fitted with groups and ran no "
                "held-out phase, so it has no inferred groups."
            )
        if X is None and y is None:
            return self.inferred_groups_
        if X is None or y is None:
            raise ValueError(
                "infer_groups takes both X and y (new data) or neither (the training "
                "set)."
            )
        if not self.held_out_estimators_:
            raise ValueError(
                "infer_groups(X, y) needs the held-out models, but this "
                f"{type(self).__name__} was fitted with held_out_proba; only the "
                "training set's groups (infer_groups()) are known."
            )
        inputs = check_input(self, X, reset=False)
        y = column_or_1d(y)
        check_consistent_length(np.empty(len(inputs)), y)
        known = np.isin(y, self.classes_)
        if not np.all(known):
            raise ValueError(
                f"y contains labels that were not seen in fit: "
                f"{np.unique(y[~known])[:5].tolist()}; classes_ = "
                f"{self.classes_.tolist()}."
            )
        y_encoded = np.searchsorted(self.classes_, y)
        misclassified = misclassified_by_any(
            self.held_out_estimators_,
            inputs,
            y_encoded,
            len(self.classes_),
            device=self.estimator_.device,
        )
        return inferred_group_ids(y_encoded, misclassified)

    def _logits(self, X):
        inputs = check_input(self, X, reset=False)
        with forked_torch_rng(self.estimator_.device):
            return net_logits(self.estimator_, inputs)

    def decision_function(self, X):
        """Logits of the final net (no shift); for two classes, ``logit_1 - logit_0``.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        logits = self._logits(X)
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_log_proba(self, X):
        """Log class probabilities of the final net.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return logits_to_log_proba(self._logits(X))

    def predict_proba(self, X):
        """Class probabilities of the final net, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._logits(X), axis=1)

    def predict(self, X):
        """Predicted class labels (values of ``classes_``).

        Parameters
        ----------
        X : array-like, tensor, dict of them, or Dataset
            Inputs in the form ``fit`` took.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

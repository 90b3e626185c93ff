"""Early stopping of the final net on validation worst-group accuracy: the
validation split, and the skorch callback that scores it."""

from copy import deepcopy

import numpy as np
from skorch.callbacks import Callback

from ._net import net_logits, without_callback
from ._random import forked_torch_rng
from ._split import stratified_split

#: History keys: validation worst-group and average accuracy, one value per epoch.
VALID_SCORE_KEY = "valid_worst_group_accuracy"
VALID_ACCURACY_KEY = "valid_accuracy"
#: Name of the callback in the final net's callbacks.
EARLY_STOPPING = "skmat_early_stopping"


class WorstGroupEarlyStopping(Callback):
    """Score the net on a fixed validation set after every epoch, keep the best
    epoch's weights, and stop when the score has not improved for a while.

    The score is the worst-group accuracy; ties (frequent on small validation sets,
    and when a group cannot be predicted at all, such as label noise among the
    inferred minority) are broken by the average accuracy, then by the later epoch.

    Parameters
    ----------
    X : NetInput
        Validation inputs (never trained on).
    y : ndarray
        Their encoded labels.
    groups : ndarray
        Group of each validation example.
    sample_weight : ndarray or None
    n_iter_no_change : int or None
        Epochs without improvement before stopping; None never stops early.
    """

    def __init__(self, X, y, groups, sample_weight=None, n_iter_no_change=10):
        self.X = X
        self.y = y
        self.groups = groups
        self.sample_weight = sample_weight
        self.n_iter_no_change = n_iter_no_change

    def on_train_begin(self, net, **kwargs):
        self.best_ = (-np.inf, -np.inf)
        self.best_epoch_ = 0
        self.best_weights_ = None
        self.misses_ = 0

    def on_epoch_end(self, net, **kwargs):
        from .metrics import worst_group_accuracy

        # torch's DataLoader draws a seed from the global RNG even to predict: fork
        # it, so that scoring leaves the training run exactly as it would be without.
        with forked_torch_rng(net.device):
            predicted = net_logits(net, self.X).argmax(axis=1)
        score = worst_group_accuracy(
            self.y, predicted, groups=self.groups, sample_weight=self.sample_weight
        )
        accuracy = np.average(predicted == self.y, weights=self.sample_weight)
        net.history.record(VALID_SCORE_KEY, float(score))
        net.history.record(VALID_ACCURACY_KEY, float(accuracy))
        if (score, accuracy) > self.best_:
            self.misses_ = 0
        else:
            self.misses_ += 1
        if (score, accuracy) >= self.best_:
            self.best_ = (score, accuracy)
            self.best_epoch_ = len(net.history)
            self.best_weights_ = deepcopy(net.module_.state_dict())
        if self.misses_ == self.n_iter_no_change:
            raise KeyboardInterrupt  # skorch ends training cleanly on it

    def on_train_end(self, net, **kwargs):
        if self.best_weights_ is not None and self.best_epoch_ != len(net.history):
            net.module_.load_state_dict(self.best_weights_)
        # The validation data and weights have served; keep them out of pickles.
        self.X = self.y = self.groups = self.sample_weight = None
        self.best_weights_ = None


def add_early_stopping(
    net,
    inputs,
    y,
    sample_weight,
    groups,
    *,
    validation_fraction,
    n_iter_no_change,
    seed,
):
    """Split off the validation examples (stratified by ``groups`` when every group
    has two examples, else by class) and give ``net`` the callback that scores them.

    Parameters
    ----------
    net : skorch net
        The final net, before fit; its ``callbacks`` get :class:`WorstGroupEarlyStopping`.
    inputs : NetInput
    y : ndarray
        Encoded labels.
    sample_weight : ndarray or None
    groups : ndarray
        The group of every example, given or inferred.
    validation_fraction : float
    n_iter_no_change : int or None
    seed : int
        Seed of the split.

    Returns
    -------
    train, valid : ndarray
        The sorted training and validation rows.
    """
    if net.callbacks == "disable":
        raise ValueError(
            "early_stopping=True needs the callbacks of estimator; it has "
            "callbacks='disable'."
        )
    group_ids = np.unique(groups, return_inverse=True)[1]
    n_samples = len(inputs)
    n_valid = int(np.ceil(validation_fraction * n_samples))
    if n_valid >= n_samples:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves no training "
            f"examples out of {n_samples}; use a smaller fraction."
        )
    train, valid = stratified_split(n_samples, n_valid, seed, strata=(group_ids, y))
    missing = np.setdiff1d(np.unique(y), y[train])
    if missing.size:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves {len(train)} "
            f"training examples, which miss {missing.size} of the classes (class "
            f"indices {missing[:5].tolist()}); use a smaller validation_fraction."
        )
    stopping = WorstGroupEarlyStopping(
        inputs.take(valid),
        y[valid],
        groups[valid],
        None if sample_weight is None else sample_weight[valid],
        n_iter_no_change,
    )
    net.set_params(callbacks=[*(net.callbacks or []), (EARLY_STOPPING, stopping)])
    return train, valid


def early_stopping_result(net, log):
    """The fitted attributes of early stopping from the final ``net`` it stopped
    (``validation_scores_``, ``best_epoch_``); the callback, which has served and
    dropped its data, leaves the net, which goes on as the user's net (e.g. with
    ``partial_fit``)."""
    scores = np.asarray(net.history[:, VALID_SCORE_KEY])
    best_epoch = int(dict(net.callbacks_)[EARLY_STOPPING].best_epoch_)
    without_callback(net, EARLY_STOPPING)
    log(
        f"early stopping: best epoch {best_epoch} of {len(scores)}, validation "
        f"worst-group accuracy {scores[best_epoch - 1]:.3f}"
    )
    return {"validation_scores_": scores, "best_epoch_": best_epoch}

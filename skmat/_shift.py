"""Held-out probabilities to a calibrated per-example logit shift (Bayat et al.,
ICLR 2025, Algorithm 1: the calibrated held-out probability and the shifted loss)."""

import numpy as np
from scipy.special import log_softmax, softmax

#: Added to the calibrated held-out probability before the log, so that a class
#: the held-out model rules out gets a large but finite negative shift.
SHIFT_EPS = 1e-8


def tempered_proba(held_out_proba, temperature):
    """Sharpen or soften held-out probabilities: ``softmax(log(p) / temperature)``.

    Parameters
    ----------
    held_out_proba : ndarray of shape (n_samples, n_classes)
        Held-out class probabilities; exact zeros are allowed.
    temperature : float
        Strictly positive. Small values give (nearly) one-hot rows.

    Returns
    -------
    q : ndarray of shape (n_samples, n_classes)
        Rows sum to 1.
    """
    tiny = np.finfo(np.float64).tiny
    logits = np.log(np.maximum(np.asarray(held_out_proba, dtype=np.float64), tiny))
    return softmax(logits / temperature, axis=1)


def calibration_matrix(tempered, y, n_classes, sample_weight=None):
    """Estimate ``C[j, c] = p(y = c | held-out prediction = j)`` from soft predictions.

    Parameters
    ----------
    tempered : ndarray of shape (n_samples, n_classes)
        Tempered held-out probabilities ``q``.
    y : ndarray of shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1``.
    n_classes : int
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    C : ndarray of shape (n_classes, n_classes)
        Rows sum to 1. A row whose predicted class received no mass at all is the
        (weighted) class prior: with nothing to condition on, it is the best guess
        (uniform when every weight is 0).
    """
    weight = (
        np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    )
    onehot = np.eye(n_classes)[y] * weight[:, None]
    joint = tempered.T @ onehot  # joint[j, c] = sum_i q_ij w_i [y_i = c]
    mass = joint.sum(axis=1, keepdims=True)
    total = onehot.sum()
    # no example weighs anything (a search's training share of zero weights): the
    # prior is uniform, not 0 / 0
    prior = (
        onehot.sum(axis=0) / total if total > 0 else np.full(n_classes, 1 / n_classes)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, joint / np.where(mass > 0, mass, 1.0), prior)


def logit_shift(
    held_out_proba,
    y,
    *,
    temperature,
    shift_strength,
    calibrate=True,
    sample_weight=None,
):
    """Per-example logit shift ``shift_strength * log(p_ho + eps)`` of MAT.

    Parameters
    ----------
    held_out_proba : ndarray of shape (n_samples, n_classes)
    y : ndarray of shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1``.
    temperature : float
    shift_strength : float
        ``lambda`` of the paper; 0 gives an all-zero shift (plain ERM).
    calibrate : bool, default=True
        Multiply the tempered probabilities by the calibration matrix. Without it
        ``p_ho`` is the tempered held-out probability itself.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights used in the calibration matrix.

    Returns
    -------
    shift : ndarray of shape (n_samples, n_classes)
        Finite, float64.
    calibration : ndarray of shape (n_classes, n_classes)
        The calibration matrix (computed even when ``calibrate=False``).
    """
    n_classes = held_out_proba.shape[1]
    q = tempered_proba(held_out_proba, temperature)
    calibration = calibration_matrix(q, y, n_classes, sample_weight)
    p_held_out = q @ calibration if calibrate else q
    return shift_strength * np.log(p_held_out + SHIFT_EPS), calibration


def logits_to_log_proba(logits):
    """Row-wise log-softmax in float64."""
    return log_softmax(np.asarray(logits, dtype=np.float64), axis=1)

"""Held-out predictions from XRM's twin nets (METHOD.md, step 1, the paper's choice).

Cross-risk minimization (XRM; Pezeshki, Bouchacourt, Ibrahim, Ballas, Vincent and
Lopez-Paz, "Discovering environments with XRM", ICML 2024, arXiv 2309.16748) trains
two twin nets, each on a random half of the training set. After every step, the
working label of each example the step trained on may be replaced by the argmax of
the other twin, which never trains on it, with probability
``(p_max - 1/K) * K / (K - 1)`` (``p_max``: that twin's top softmax probability): a
twin is fed its sibling's confident opinion, so an example the held-out twin
confidently gets "wrong" (an exception to the majority pattern) is relabelled
instead of memorized. At the end, each example's held-out logits are those of the
twin that did not train on it; MAT (Bayat et al., ICLR 2025) uses them in place of
k-fold out-of-fold predictions.

Design
------
* **Halves.** One split, stratified by label and seeded: the examples of each class
  are shuffled and dealt alternately to the twins, so the halves differ in size by
  at most one example, and so does each class's share.
* **Training.** Both twins train as one stacked ``torch.func`` model
  (:func:`skmat._batched.train_stacked`, the machinery of the batched k-fold
  fits): each twin is a clone of the net template with its own seed (own initial
  weights, own batch order), runs ``max_epochs`` epochs over its own half with the
  net's batch size, criterion and optimizer, and both step in lockstep. Nets that
  cannot be batched (:func:`skmat._batched.batching_obstacle`) raise a
  ``ValueError``: lockstep flipping needs control over every step, which a skorch
  ``fit`` does not give.
* **Flip timing.** At every step, for the batch each twin is about to train on, the
  other twin predicts that batch with its current weights (before the step's
  update) and the flips are drawn; the step itself trains on the labels as they
  were before these flips, which are used from the next step on. This is the
  reference implementation's order (its ``update`` trains, then flips the trained
  batch from the same forward pass). Only the examples of the batches just trained
  are flipped, not the whole training set: with full-batch training (``batch_size
  = -1``) this is the whole set at every step; with minibatches every example is
  revisited once per epoch. It costs one gradient-free forward of both twins per
  step.
* **Current labels.** A flip replaces the *current* working label, which may have
  been flipped before, and may set it back to the original label; an example that
  is not drawn keeps its current label.
* **Randomness.** The split, the twins' seeds and the seed of the flips come from
  ``random_state``. The flips draw from their own ``torch.Generator`` on the
  net's device, so the result is deterministic for a given ``random_state`` and
  device, and the global torch and numpy RNGs are left as they were.

Differences with the reference code: there the two twins share each minibatch
(each example's loss goes to the twin that owns it) and the loss is class-balanced;
here each twin draws its own minibatches from its half and uses the net's own
criterion (mean over the batch, or sample-weighted), exactly as a k-fold held-out
net would.
"""

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import clone
from sklearn.utils import check_random_state
from torch.func import functional_call

from ._batched import (
    _device,
    _FoldBatches,
    _Gather,
    _initialized,
    batching_obstacle,
    train_stacked,
)
from ._net import net_logits

__all__ = [
    "fit_xrm_twins",
    "xrm_flip_labels",
    "xrm_flip_probability",
    "xrm_infer_misclassified",
]

_MAX_SEED = np.iinfo(np.int32).max


def xrm_flip_probability(proba):
    """XRM's probability to relabel an example: ``(p_max - 1/K) * K / (K - 1)``.

    Parameters
    ----------
    proba : torch.Tensor of shape (n_samples, n_classes)
        Class probabilities of the held-out twin.

    Returns
    -------
    probability : torch.Tensor of shape (n_samples,)
        0 for a uniform prediction, 1 for a one-hot one (clipped to [0, 1]).
    """
    n_classes = proba.shape[-1]
    if n_classes < 2:
        return proba.new_zeros(proba.shape[:-1])
    p_max = proba.max(dim=-1).values
    return ((p_max - 1 / n_classes) * n_classes / (n_classes - 1)).clamp(0, 1)


def xrm_flip_labels(labels, proba, generator):
    """Working labels after one XRM flip.

    Each label becomes the held-out twin's argmax with probability
    :func:`xrm_flip_probability`, and stays as it is otherwise.

    Parameters
    ----------
    labels : torch.Tensor of shape (n_samples,)
        The current working labels (int64).
    proba : torch.Tensor of shape (n_samples, n_classes)
        Class probabilities of the held-out twin, on the device of ``labels``.
    generator : torch.Generator
        The random stream of the flips, on the device of ``proba``.

    Returns
    -------
    labels : torch.Tensor of shape (n_samples,)
        A new tensor.
    """
    probability = xrm_flip_probability(proba)
    draw = torch.rand(
        probability.shape,
        generator=generator,
        device=probability.device,
        dtype=probability.dtype,
    )
    return torch.where(draw < probability, proba.argmax(dim=-1), labels)


def _halves(y, rng):
    """Two halves of ``range(len(y))``, stratified by label: each class's examples
    shuffled and dealt alternately, so sizes differ by at most one overall and per
    class."""
    shuffled = rng.permutation(len(y))
    dealt = shuffled[np.argsort(y[shuffled], kind="stable")]
    return [np.sort(dealt[0::2]), np.sort(dealt[1::2])]


def _as_proba(output, criterion):
    """Class probabilities from a module's output: softmax of logits, or the
    (renormalized) probabilities of an ``NLLLoss`` module."""
    if isinstance(criterion, torch.nn.NLLLoss):
        output = output.clamp_min(0)
        return output / output.sum(dim=-1, keepdim=True).clamp_min(
            torch.finfo(output.dtype).tiny
        )
    return torch.softmax(output, dim=-1)


class _Flipper:
    """The ``before_step`` hook of :func:`skmat._batched.train_stacked` that flips the
    working labels of the batches about to be trained on."""

    def __init__(self, labels, criterion, generator):
        self.labels = labels  # the gather's label tensor, updated in place
        self.criterion = criterion
        self.generator = generator
        self.n_flips = 0

    def _held_out_outputs(self, step):
        """Row r: the other twin's output on the batch of the model in row r."""
        if len(step.active) == 2:
            # Each twin on the other's batch, rows swapped back.
            return step.forward(step.params, step.x.flip(0)).flip(0)
        # One twin finished its steps first: the other one's batches are predicted
        # by the finished twin's final weights.
        (model,) = step.active
        params, _ = step.finished[1 - model]
        return functional_call(step.module, params, (step.x[0],)).unsqueeze(0)

    def __call__(self, step):
        with torch.no_grad():
            outputs = self._held_out_outputs(step)
            for row, batch in enumerate(step.batches):
                proba = _as_proba(outputs[row, : len(batch)], self.criterion)
                index = torch.as_tensor(batch, device=self.labels.device)
                current = self.labels[index]
                flipped = xrm_flip_labels(current, proba, self.generator)
                self.n_flips += int((flipped != current).sum())
                self.labels[index] = flipped


def _fit_twins(net, X, y, halves, seeds, *, sample_weight=None, flip_seed=None):
    """Train the twins of ``net`` on ``halves``; no flips when ``flip_seed`` is None
    (then each twin is the fold net that :func:`fit_batched_folds` would give)."""
    twins, schedules = [], []
    for half, seed in zip(halves, seeds):
        twin = clone(net).set_params(random_state=seed)
        twin, state = _initialized(twin)
        twins.append(twin)
        schedules.append(_FoldBatches(twin, state, half, twin.max_epochs))
    device = _device(twins[0])
    # A copy: the gather may share memory with its labels, which flips overwrite.
    gather = _Gather(X, np.array(y, dtype=np.int64), sample_weight, device)
    flipper = None
    if flip_seed is not None:
        generator = torch.Generator(device=device)
        generator.manual_seed(int(flip_seed))
        flipper = _Flipper(gather.y, twins[0].criterion_, generator)
    train_stacked(twins, schedules, gather, before_step=flipper)
    labels = gather.y.cpu().numpy()
    for twin, half in zip(twins, halves):
        twin.working_labels_ = labels[half].copy()
    return twins


def fit_xrm_twins(net, X, y, *, sample_weight=None, random_state=None):
    """Train XRM's two twin nets and return the held-out probabilities they give.

    Parameters
    ----------
    net : skorch NeuralNetClassifier
        The unfitted shifted net template (:func:`skmat._net.make_shifted_net`);
        not modified. Its ``max_epochs``, ``batch_size``, optimizer, criterion and
        loaders define each twin's training, as for a k-fold held-out net; its
        ``random_state`` is replaced by a seed per twin drawn from
        ``random_state``. :func:`skmat._batched.batching_obstacle` must return
        ``None`` for it.
    X : ndarray of shape (n_samples, n_features)
        Input, float32.
    y : ndarray of shape (n_samples,)
        Encoded labels (int64, ``0 .. n_classes - 1``).
    sample_weight : ndarray of shape (n_samples,), default=None
        Per-example weights of the twins' losses.
    random_state : int, RandomState instance or None, default=None
        Seeds the split into halves, the twins' seeds and the flips.

    Returns
    -------
    twins : list of 2 skorch NeuralNetClassifier
        Fitted clones of ``net`` (weights, optimizer state and one history row
        per epoch, as :func:`skmat._batched.fit_batched_folds` returns them).
        ``twins[j].working_labels_`` holds the final working labels of
        ``halves[j]``; where they differ from ``y`` the twins flipped the label.
    halves : list of 2 ndarray of int
        The sorted indices of the examples each twin trained on; together a
        partition of ``range(n_samples)``.
    held_out_proba : ndarray of shape (n_samples, n_classes)
        Float64; row i is the softmax of the final logits of the twin that did
        not train on example i.

    Raises
    ------
    ValueError
        If ``net`` cannot be trained as a stacked model (the reason is named), or
        there are fewer than two examples.

    References
    ----------
    Pezeshki, Bouchacourt, Ibrahim, Ballas, Vincent and Lopez-Paz, "Discovering
    environments with XRM", ICML 2024 (arXiv 2309.16748).
    """
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.int64)
    if len(X) < 2:
        raise ValueError(f"XRM needs at least 2 examples (one per twin); got {len(X)}.")
    reason = batching_obstacle(net, X)
    if reason is not None:
        raise ValueError(
            "held_out='xrm' trains the two twin nets in lockstep as one batched "
            f"model, which needs a batchable net; this one is not: {reason}."
        )
    rng = check_random_state(random_state)
    halves = _halves(y, rng)
    seeds = [int(seed) for seed in rng.randint(_MAX_SEED, size=2)]
    flip_seed = int(rng.randint(_MAX_SEED))
    twins = _fit_twins(
        net, X, y, halves, seeds, sample_weight=sample_weight, flip_seed=flip_seed
    )
    n_classes = len(net.classes) if net.classes is not None else int(y.max()) + 1
    held_out_proba = np.zeros((len(X), n_classes))
    with torch.random.fork_rng(devices=[]):
        for twin, other_half in zip(twins, halves[::-1]):
            logits = net_logits(twin, X[other_half])
            held_out_proba[other_half] = softmax(logits, axis=1)
    if not np.all(np.isfinite(held_out_proba)):
        raise ValueError(
            "The XRM twins predicted non-finite probabilities: their training "
            "diverged (try a smaller learning rate)."
        )
    return twins, halves, held_out_proba


def xrm_infer_misclassified(twins, X, y_encoded):
    """XRM's rule for new data: an example is misclassified when either twin's
    argmax differs from its label.

    Parameters
    ----------
    twins : list of fitted skorch NeuralNetClassifier
    X : ndarray of shape (n_samples, n_features)
    y_encoded : ndarray of shape (n_samples,)
        Encoded labels.

    Returns
    -------
    misclassified : ndarray of shape (n_samples,) of bool
    """
    y_encoded = np.asarray(y_encoded)
    misclassified = np.zeros(len(y_encoded), dtype=bool)
    with torch.random.fork_rng(devices=[]):
        for twin in twins:
            misclassified |= twin.predict_proba(X).argmax(axis=1) != y_encoded
    return misclassified

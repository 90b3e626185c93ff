"""Held-out predictions from XRM's twin nets (the held-out phase MAT's paper uses,
Bayat et al., ICLR 2025, Section 3).

Cross-risk minimization (XRM; Pezeshki, Bouchacourt, Ibrahim, Ballas, Vincent and
Lopez-Paz, "Discovering environments with XRM", ICML 2024, arXiv 2309.16748) trains
two twin nets, each on a random half of the training set, with a class-balanced
loss. After every step, the working label of each example the step trained on may
be replaced by the argmax of the other twin, which never trains on it, with
probability ``(p_max - 1/K) * K / (K - 1)``: an example the held-out twin
confidently gets "wrong" (an exception to the majority pattern) is relabelled
instead of memorized. Each example's held-out logits are those of the twin that did
not train on it. The twins train stacked (:func:`skmat._stacked.fit_stacked`) or as
two skorch fits in lockstep (:func:`skmat._lockstep.train_lockstep`); the halves,
the flip timing and the randomness are described in the user guide, "How the
engines agree". The reference also rejects degenerate runs and tunes by flip rate;
skmat warns of a degenerate held-out phase
(:class:`~skmat.exceptions.DegenerateHeldOutWarning`).
"""

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._lockstep import train_lockstep
from ._net import with_own_files
from ._progress import with_progress, without_progress
from ._random import MAX_SEED, forked_torch_rng
from ._rows import ROW_KEY, WEIGHT_KEY, RowDataset
from ._split import stratified_split
from ._stacked import fit_stacked


def xrm_flip_probability(proba):
    """XRM's probability to relabel each example, ``(p_max - 1/K) * K / (K - 1)``
    from the held-out twin's class probabilities ``proba`` (n_samples, K): 0 for a
    uniform prediction, 1 for a one-hot one."""
    n_classes = proba.shape[-1]
    if n_classes < 2:
        return proba.new_zeros(proba.shape[:-1])
    p_max = proba.max(dim=-1).values
    return ((p_max - 1 / n_classes) * n_classes / (n_classes - 1)).clamp(0, 1)


def xrm_flip_labels(labels, proba, generator):
    """New working ``labels``: each becomes the held-out twin's argmax with
    probability :func:`xrm_flip_probability`, drawn from ``generator`` (on the
    device of ``proba``), and stays as it is otherwise."""
    probability = xrm_flip_probability(proba)
    draw = torch.rand(
        probability.shape,
        generator=generator,
        device=probability.device,
        dtype=probability.dtype,
    )
    return torch.where(draw < probability, proba.argmax(dim=-1), labels)


def _halves(y, rng):
    """Two halves of ``range(len(y))`` (:func:`skmat._split.stratified_split`),
    stratified by label so that sizes differ by at most one overall and per class;
    the examples of classes with a single one are pooled into one stratum, or join a
    class of odd size when there is only one of them (then the halves are at random
    if every other class has an even size)."""
    codes, counts = np.unique(y, return_inverse=True, return_counts=True)[1:]
    lone = counts[codes] == 1
    odd = np.flatnonzero((counts % 2 == 1) & (counts > 1))
    # A lone example beside an odd class's: their stratum, of even size, halves
    # exactly, so the class still splits within one.
    codes[lone] = odd[0] if lone.sum() == 1 and odd.size else len(counts)
    return list(stratified_split(len(y), len(y) // 2, rng, strata=(codes,)))


def _probabilities(net):
    """Whether ``net``'s module outputs probabilities (an ``NLLLoss`` criterion)."""
    criterion = (
        net.criterion if isinstance(net.criterion, type) else type(net.criterion)
    )
    return issubclass(criterion, torch.nn.NLLLoss)


def _as_proba(output, probabilities):
    """Class probabilities from a module's output: softmax of logits, or the
    (renormalized) probabilities of an ``NLLLoss`` module."""
    if probabilities:
        output = output.clamp_min(0)
        return output / output.sum(dim=-1, keepdim=True).clamp_min(
            torch.finfo(output.dtype).tiny
        )
    return torch.softmax(output, dim=-1)


class _Flipper:
    """Flips the working labels of the batches the twins are about to train on:
    ``flipper(models, batches, outputs)``, with for each twin in ``models`` (which
    says whose batches these are, for whoever watches the flips) its batch (rows)
    and the other twin's output on it; ``labels`` is the tensor of working labels
    to change in place (on the twins' device)."""

    def __init__(self, probabilities, seed):
        self.probabilities = probabilities
        self.seed = seed
        self.labels = self.generator = None

    def __call__(self, models, batches, outputs):
        if self.generator is None:  # the flips' own stream, on the labels' device
            self.generator = torch.Generator(device=self.labels.device)
            self.generator.manual_seed(int(self.seed))
        with torch.no_grad():
            for batch, output in zip(batches, outputs):
                proba = _as_proba(output[: len(batch)], self.probabilities)
                index = torch.as_tensor(batch, device=self.labels.device)
                current = self.labels[index]
                self.labels[index] = xrm_flip_labels(current, proba, self.generator)


def _leaves(x, function):
    """``function`` applied to a batch's tensor, or to each tensor of a dict input."""
    if isinstance(x, dict):
        return {key: function(value) for key, value in x.items()}
    return function(x)


def _stacked_flips(flipper):
    """The ``before_step`` hook of :func:`skmat._stacked.fit_stacked`."""

    def before_step(step):
        flipper.labels = step.y
        with torch.no_grad():
            if len(step.active) == 2:
                # Each twin on the other's batch, rows swapped back.
                swapped = _leaves(step.x, lambda value: value.flip(0))
                outputs = step.forward(step.params, swapped).flip(0)
            else:
                # One twin took all its steps: its final weights predict the other's
                # batches.
                (model,) = step.active
                params, _ = step.finished[1 - model]
                x = _leaves(step.x, lambda value: value[0])
                outputs = step.forward_one(params, x).unsqueeze(0)
        flipper(step.active, step.batches, outputs)

    return before_step


def _lockstep_flips(twins, flipper, working):
    """The ``before_step`` hook of :func:`skmat._lockstep.train_lockstep`; the flips
    are copied to ``working``, the labels the twins' datasets read."""

    def before_step(active, batches):
        rows, outputs = [], []
        for model, (features, _) in zip(active, batches):
            other = twins[1 - model]
            with forked_torch_rng(other.device):
                output = other.evaluation_step((features, None))
            outputs.append(output[0] if isinstance(output, tuple) else output)
            rows.append(np.asarray(features[ROW_KEY]))
        if flipper.labels is None:
            flipper.labels = torch.as_tensor(working).to(outputs[0].device)
        flipper(active, rows, outputs)
        for batch in rows:
            index = torch.as_tensor(batch, device=flipper.labels.device)
            working[batch] = flipper.labels[index].cpu().numpy()

    return before_step


def _fit_twins(
    net,
    inputs,
    y,
    halves,
    seeds,
    *,
    batched,
    sample_weight=None,
    flip_seed=None,
    phase=None,
):
    """Train the twins of ``net`` on ``halves`` (stacked, or by their own skorch
    fits in lockstep); no flips when ``flip_seed`` is None (then each twin is the
    net its own ``fit`` on its half gives). ``phase`` hears of every epoch."""
    twins = [
        with_own_files(clone(net), f"held_out_{index}").set_params(
            random_state=seed, class_balanced=True
        )
        for index, seed in enumerate(seeds)
    ]
    flipper = None if flip_seed is None else _Flipper(_probabilities(net), flip_seed)
    working = np.array(y, dtype=np.int64)
    if batched:
        hook = None if flipper is None else _stacked_flips(flipper)
        fit_stacked(
            twins,
            halves,
            inputs,
            working,
            sample_weight=sample_weight,
            before_step=hook,
            phase=phase,
        )
        if flipper is not None and flipper.labels is not None:
            working = flipper.labels.cpu().numpy()
    else:
        extras = {ROW_KEY: np.arange(len(working))}
        if sample_weight is not None:
            extras[WEIGHT_KEY] = np.asarray(sample_weight)
        datasets = [RowDataset(inputs, working, extras, rows=half) for half in halves]
        hook = None if flipper is None else _lockstep_flips(twins, flipper, working)
        if phase is not None:
            twins = [with_progress(twin, phase) for twin in twins]
        train_lockstep(twins, datasets, [y[half] for half in halves], before_step=hook)
        twins = [without_progress(twin) for twin in twins]
    for twin, half in zip(twins, halves):
        twin.working_labels_ = working[half].copy()
    return twins


def fit_xrm_twins(
    net, inputs, y, *, batched, sample_weight=None, random_state=None, phase=None
):
    """Train XRM's two twins of ``net`` (an unfitted shifted net: each twin is a
    clone with its own seed) on the halves of ``inputs`` and encoded labels ``y``;
    return the fitted twins and their halves (sorted rows, a partition of the
    examples).

    ``random_state`` seeds the halves, the twins' seeds and the flips; ``batched``
    trains them stacked (the net must allow it,
    :func:`skmat._batching.batching_obstacle`) or as two skorch fits in lockstep,
    with the same result up to float rounding. ``twins[j].working_labels_`` holds
    the final working labels of ``halves[j]``.
    """
    y = np.asarray(y, dtype=np.int64)
    if len(y) < 2:
        raise ValueError(f"XRM needs at least 2 examples (one per twin); got {len(y)}.")
    rng = check_random_state(random_state)
    halves = _halves(y, rng)
    seeds = [int(seed) for seed in rng.randint(MAX_SEED, size=2)]
    flip_seed = int(rng.randint(MAX_SEED))
    twins = _fit_twins(
        net,
        inputs,
        y,
        halves,
        seeds,
        batched=batched,
        sample_weight=sample_weight,
        flip_seed=flip_seed,
        phase=phase,
    )
    return twins, halves

"""Class probabilities from any model: checked, and placed in the class order of the
estimator that uses them (the columns of ``classes_``)."""

import warnings

import numpy as np

from ._net import TrainingDiverged
from .exceptions import DegenerateHeldOutWarning

#: How far from 1 a row of probabilities may sum (float32 softmax, rounding in files).
ROW_SUM_ATOL = 1e-3


def check_proba(proba, n_samples, n_classes, name):
    """``proba`` (a parameter given by the user, named ``name``) as float64, after
    checking that it holds one row of class probabilities per example."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n_samples, n_classes):
        raise ValueError(
            f"{name} must have shape (n_samples, n_classes) = ({n_samples}, "
            f"{n_classes}), columns in the order of the sorted classes; got "
            f"{proba.shape}."
        )
    if not np.all(np.isfinite(proba)) or np.any(proba < 0) or np.any(proba > 1):
        raise ValueError(
            f"{name} must hold probabilities: finite, non-negative and at most 1."
        )
    if not np.allclose(proba.sum(axis=1), 1.0, atol=ROW_SUM_ATOL):
        raise ValueError(f"Each row of {name} must sum to 1.")
    return proba


def check_finite(proba, who):
    """Raise :class:`~skmat._net.TrainingDiverged`, naming the model ``who``, when
    the probabilities it predicted hold NaN or infinity."""
    if not np.all(np.isfinite(proba)):
        raise TrainingDiverged(
            f"The training of the {who} diverged: it predicts non-finite probabilities."
        )


def class_columns(model_classes, n_columns, classes, who):
    """Positions in ``classes`` of a model's ``n_columns`` probability columns.

    ``model_classes`` is the model's ``classes_`` (None when it has none: its columns
    must then be ``classes`` in order). A model fitted on a subset of the classes
    has fewer columns; one that predicts a class outside ``classes`` is an error
    that names ``who``.
    """
    n_classes = len(classes)
    if model_classes is not None and len(model_classes) == n_columns:
        model_classes = np.asarray(model_classes)
        known = np.isin(model_classes, classes)
        if not np.all(known):
            raise ValueError(
                f"{who} predicts classes {model_classes[~known].tolist()} that are not "
                f"in y (classes {np.asarray(classes).tolist()})."
            )
        return np.searchsorted(classes, model_classes)
    if n_columns == n_classes:
        return np.arange(n_classes)
    raise ValueError(
        f"{who} returns {n_columns} probability columns for {n_classes} classes, "
        "and no classes_ attribute to say which ones they are."
    )


def in_class_columns(proba, model_classes, classes, who):
    """``proba`` (float64) widened to one column per class of ``classes``; a class
    the model never saw gets probability 0."""
    proba = np.asarray(proba, dtype=np.float64)
    full = np.zeros((proba.shape[0], len(classes)))
    full[:, class_columns(model_classes, proba.shape[1], classes, who)] = proba
    return full


def degenerate_classes(predicted, y, classes):
    """Where the held-out predictions leave a class without both right and wrong
    examples, in words (one sentence per such class), or None.

    ``predicted`` and ``y`` are encoded labels; only classes present in ``y``
    count, and there must be at least two of them (one class has nothing to
    split).
    """
    present = np.unique(y)
    if len(present) < 2:
        return None
    names = [repr(name) for name in np.asarray(classes).tolist()]
    problems = []
    for code in present:
        right = predicted[y == code] == code
        if right.all():
            problems.append(f"no mistake on class {names[code]}")
        elif not right.any():
            problems.append(f"every example of class {names[code]} wrong")
    if not problems:
        return None
    shares = np.bincount(predicted, minlength=len(classes)) / len(predicted)
    spread = ", ".join(
        f"{names[code]}: {share:.2f}" for code, share in enumerate(shares)
    )
    return "; ".join(problems) + f" (share of predictions per class: {spread})"


def held_out_source(held_out, kind, given):
    """What made the held-out predictions, as a warning names it: the estimator's
    ``held_out`` parameter (and the strategy it ran, ``kind``), or
    ``held_out_proba`` when ``given`` is not None."""
    if given is not None:
        return "held_out_proba"
    return f"held_out={held_out!r}" + (f", {kind}" if held_out != kind else "")


def warn_if_degenerate(
    proba, y, classes, *, source, kind, has_epochs, class_weight=None, stacklevel=6
):
    """Warn (:class:`~skmat.exceptions.DegenerateHeldOutWarning`) when held-out
    probabilities ``proba`` leave a class of ``y`` (encoded) without both right and
    wrong examples (:func:`degenerate_classes`), naming their ``source`` and what to
    try: for a held-out phase of ``kind``, the other kind, fewer epochs
    (``has_epochs``: the estimator has ``held_out_epochs``) or another net, and a
    criterion without the ``class_weight`` the held-out nets trained with (not XRM's
    twins, whose class-balanced loss replaces them)."""
    problem = degenerate_classes(proba.argmax(axis=1), y, classes)
    if problem is None:
        return
    advice = "Check how they were computed."
    if source != "held_out_proba":
        knobs = (
            "held_out_epochs, or held_out_estimator"
            if has_epochs
            else ("held_out_estimator")
        )
        advice = (
            "No mistake at all on a class usually means the held-out nets "
            f"memorised it: give them fewer epochs or a smaller net ({knobs}); a "
            "class that is always wrong means they underfit: more epochs or a "
            f"larger lr. Or try held_out={'kfold' if kind == 'xrm' else 'xrm'!r}."
        )
        if class_weight is not None and kind != "xrm":  # the twins' loss replaces them
            advice += (
                f" The held-out nets' criterion has class weights {class_weight}, "
                "which push their predictions toward the heavier classes: give "
                "held_out_estimator a net without criterion__weight, or use "
                "held_out='xrm', whose class-balanced twin loss replaces the class "
                "weights."
            )
    warnings.warn(
        DegenerateHeldOutWarning(
            f"The held-out predictions ({source}) are degenerate: {problem}. "
            "Each class needs examples they get right and examples they get "
            "wrong for the shift to single out a minority; without, the final "
            f"net trains as with a constant shift in that class. {advice}"
        ),
        stacklevel=stacklevel,
    )

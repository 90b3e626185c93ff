"""Every private name skmat takes from scikit-learn, skorch and torch, in one place,
with the versions each was checked against (imbalanced-learn's ``sklearn_compat`` is
the model). Public APIs are used wherever one exists; the names here have none.

They are given public names here, so that no other skmat module touches a private
name of another package (``tests/test_layout.py`` checks it). Where a name or its
behaviour differs within the supported range, the difference is gated by the
installed version (``sklearn_version``), as scikit-learn's own ``utils.fixes`` does.
Checked against scikit-learn 1.6.1 and 1.9.1, skorch 1.1.0 and 1.4.0, torch 2.1.2
and 2.13.0 (the minimum versions of ``setup.py`` and ``.ci/minimum-versions.txt``,
and the current ones, both run by ``.ci/run``); the torch names here are public
classes, each there since torch 1.12.
"""

import numpy as np
import sklearn
import torch

# scikit-learn's decorator of ``fit``: validates the parameters once and sets the
# global config for nested estimators (every scikit-learn estimator uses it; there is
# no public equivalent). sklearn.base since 1.3; the same in 1.6.1 and 1.9.1.
from sklearn.base import _fit_context as fit_context

# Scorer internals: the inferred-groups scorer computes its groups from the fitted
# estimator, which ``make_scorer`` cannot express, and both scorers keep ``groups``
# requested through ``set_score_request``. skmat's scorers subclass ``_Scorer`` and
# override its ``_score(method_caller, estimator, X, y_true, **kwargs)``; that
# signature, ``_Scorer(score_func, sign, kwargs, response_method)`` and
# ``_cached_call(cache, estimator, response_method, *args, **kwargs)`` are the same
# in 1.6.1 and 1.9.1. sklearn.metrics._scorer since 1.4.
from sklearn.metrics._scorer import _cached_call as cached_call
from sklearn.metrics._scorer import _Scorer as Scorer

# Rows of an array, a DataFrame or a list, in the same form: the indexing that
# cross-validation applies to X (``_safe_indexing(X, indices, *, axis=0)``, the same
# in 1.6.1 and 1.9.1; re-exported by sklearn.utils for backward compatibility, with
# no public name).
from sklearn.utils import _safe_indexing as safe_indexing

# Parameter constraints (``_parameter_constraints`` and ``validate_params``), as
# every scikit-learn estimator and imbalanced-learn declare them; the module is
# private but stable since 1.2 (the same names and signatures in 1.6.1 and 1.9.1).
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    validate_params,
)

# parse_version: scikit-learn's own version parser (public module, what its fixes and
# imbalanced-learn use).
from sklearn.utils.fixes import parse_version

# Raises the error scikit-learn's own meta-estimators raise for unknown fit
# parameters when metadata routing is off. sklearn.utils.metadata_routing since 1.4;
# 1.8 has an optional ``allow`` more than 1.6.1, unused here.
from sklearn.utils.metadata_routing import _raise_for_params as raise_for_params
from sklearn.utils.validation import _check_sample_weight

# numpy's warning for arrays made from ragged nested sequences: numpy < 1.24 makes an
# object array and warns (numpy.VisibleDeprecationWarning), later ones raise a
# ValueError; numpy.exceptions holds the class from 1.25, the main namespace drops
# it in 2.0. Delete with numpy 1.24 as the minimum.
VisibleDeprecationWarning = getattr(
    getattr(np, "exceptions", None), "VisibleDeprecationWarning", None
) or getattr(np, "VisibleDeprecationWarning")

__all__ = [
    "VisibleDeprecationWarning",
    "DROPOUT_LAYERS",
    "NORMALIZATION_LAYERS",
    "HasMethods",
    "Interval",
    "RealNotInt",
    "Scorer",
    "StrOptions",
    "StrictInterval",
    "cached_call",
    "check_sample_weight",
    "fit_context",
    "raise_for_params",
    "safe_indexing",
    "sklearn_version",
    "validate_params",
]

#: The installed scikit-learn's release, for the version gates below (a development
#: build counts as its release: ``1.10`` for ``1.10.dev0``).
sklearn_version = parse_version(parse_version(sklearn.__version__).base_version)


class StrictInterval(Interval):
    """An :class:`Interval` that a boolean does not satisfy (scikit-learn's takes
    ``True`` as 1): for counts, sizes, fractions and strengths (the data generators'
    and the estimators', e.g. ``held_out_epochs``), where a boolean is always a
    mistake."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return f"{super().__str__()} (not a bool)"


#: Layers whose state training changes besides their parameters (running
#: statistics): such modules cannot be trained as a stacked model. torch's public
#: classes that derive from its private ``torch.nn.modules.batchnorm._NormBase`` (no
#: public base class exists): the whole set in torch 2.13.0, each one there since
#: torch 1.12 at the latest, so that the check need not name the private base. A
#: lazy layer becomes its plain class at its first forward. Other buffers are caught
#: by the buffer check.
NORMALIZATION_LAYERS = (
    torch.nn.BatchNorm1d,
    torch.nn.BatchNorm2d,
    torch.nn.BatchNorm3d,
    torch.nn.LazyBatchNorm1d,
    torch.nn.LazyBatchNorm2d,
    torch.nn.LazyBatchNorm3d,
    torch.nn.SyncBatchNorm,
    torch.nn.InstanceNorm1d,
    torch.nn.InstanceNorm2d,
    torch.nn.InstanceNorm3d,
    torch.nn.LazyInstanceNorm1d,
    torch.nn.LazyInstanceNorm2d,
    torch.nn.LazyInstanceNorm3d,
)

#: Layers that draw random masks in training: torch's public classes that derive
#: from its private ``torch.nn.modules.dropout._DropoutNd`` (no public base class
#: exists): the whole set in torch 2.13.0, each one there since torch 1.12.
DROPOUT_LAYERS = (
    torch.nn.Dropout,
    torch.nn.Dropout1d,
    torch.nn.Dropout2d,
    torch.nn.Dropout3d,
    torch.nn.AlphaDropout,
    torch.nn.FeatureAlphaDropout,
)

# scikit-learn 1.9 rejects all-zero weights in ``_check_sample_weight`` with its own
# message unless told ``allow_all_zero_weights=True`` (a flag that 1.8 and earlier
# do not have): skmat checks them itself, with one message for every version.
_ALL_ZERO_WEIGHTS = (
    {"allow_all_zero_weights": True} if sklearn_version >= parse_version("1.9") else {}
)


def check_sample_weight(sample_weight, n_samples, dtype=np.float32):
    """``sample_weight`` as a 1-d array of ``n_samples`` finite, non-negative weights
    that do not all vanish, or a ValueError that says which rule it breaks.

    scikit-learn's ``_check_sample_weight`` (sklearn.utils.validation; it has no
    public equivalent) checks the shape and, for arrays, that the weights are finite;
    the other rules are checked here, with the same messages on every version.
    """
    weight = _check_sample_weight(
        sample_weight, np.empty((n_samples, 0)), dtype=dtype, **_ALL_ZERO_WEIGHTS
    )
    if not np.all(np.isfinite(weight)):  # a scalar weight skips scikit-learn's check
        raise ValueError("sample_weight must be finite; it contains NaN or infinity.")
    if np.any(weight < 0):
        raise ValueError(
            "Negative values in data passed to sample_weight: weights must be >= 0."
        )
    if not np.any(weight > 0):
        raise ValueError("sample_weight must have at least one non-zero weight.")
    return weight

"""Every private name skmat takes from scikit-learn and torch, in one place, with the
versions each was checked against (imbalanced-learn's ``sklearn_compat`` is the
model). Public APIs are used wherever one exists; the names here have none.

They are given public names here, so that no skmat module imports a private name
of another. Checked against scikit-learn 1.6.1 and 1.9.1, skorch 1.0.0 and 1.4.0, torch 2.1.2
and 2.13.0 (the minimum versions of ``setup.py`` and the current ones, both run by
``.ci/run``).
"""

import numpy as np
import torch

# scikit-learn's decorator of ``fit``: validates the parameters once and sets the
# global config for nested estimators (every scikit-learn estimator uses it; there is
# no public equivalent). sklearn.base since 1.3.
from sklearn.base import _fit_context as fit_context  # noqa: F401

# Scorer internals: the inferred-groups scorer computes its groups from the fitted
# estimator, which ``make_scorer`` cannot express, and both scorers keep ``groups``
# requested through ``set_score_request``. sklearn.metrics._scorer since 1.4.
from sklearn.metrics._scorer import _cached_call as cached_call  # noqa: F401
from sklearn.metrics._scorer import _Scorer as Scorer  # noqa: F401

# Parameter constraints (``_parameter_constraints`` and ``validate_params``), as
# every scikit-learn estimator and imbalanced-learn declare them; the module is
# private but stable since 1.2.
from sklearn.utils._param_validation import (  # noqa: F401
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    validate_params,
)

# Raises the error scikit-learn's own meta-estimators raise for unknown fit
# parameters when metadata routing is off. sklearn.utils.metadata_routing since 1.4.
from sklearn.utils.metadata_routing import (  # noqa: F401
    _raise_for_params as raise_for_params,
)
from sklearn.utils.validation import _check_sample_weight


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
#: statistics), from torch's public classes: such modules cannot be trained as a
#: stacked model. Other buffers are caught by the buffer check.
NORMALIZATION_LAYERS = (
    torch.nn.BatchNorm1d,
    torch.nn.BatchNorm2d,
    torch.nn.BatchNorm3d,
    torch.nn.SyncBatchNorm,
    torch.nn.InstanceNorm1d,
    torch.nn.InstanceNorm2d,
    torch.nn.InstanceNorm3d,
)

#: Layers that draw random masks in training (torch's public dropout classes).
DROPOUT_LAYERS = (
    torch.nn.Dropout,
    torch.nn.Dropout1d,
    torch.nn.Dropout2d,
    torch.nn.Dropout3d,
    torch.nn.AlphaDropout,
    torch.nn.FeatureAlphaDropout,
)


def check_sample_weight(sample_weight, n_samples, dtype=np.float32):
    """``sample_weight`` as a 1-d array of ``n_samples`` finite, non-negative weights
    that do not all vanish, or a ValueError that says which rule it breaks.

    scikit-learn's ``_check_sample_weight`` names its non-negativity flag
    ``only_non_negative`` up to 1.5 and ``ensure_non_negative`` from 1.6: the check is
    done here for every version.
    """
    weight = _check_sample_weight(sample_weight, np.empty((n_samples, 0)), dtype=dtype)
    if not np.all(np.isfinite(weight)):
        raise ValueError("sample_weight must be finite; it contains NaN or infinity.")
    if np.any(weight < 0):
        raise ValueError(
            "Negative values in data passed to sample_weight: weights must be >= 0."
        )
    if not np.any(weight > 0):
        raise ValueError("sample_weight must have at least one non-zero weight.")
    return weight

"""The warnings and errors skmat raises, to catch or filter by class."""

from ._net import TrainingDiverged

__all__ = ["DegenerateHeldOutWarning", "TrainingDiverged"]


class DegenerateHeldOutWarning(UserWarning):
    """The held-out predictions split some class into no right and wrong examples.

    MAT's shift and JTT's error set come from where the held-out models are right
    and where they are wrong, within each class (the inferred groups ``(y,
    mistake)`` of Bayat et al., ICLR 2025). When the held-out models are right on
    every example of a class, or wrong on every one (for instance when they
    predict one class for every example), that class has one inferred group only:
    the shift of its examples points the same way for all of them, and there is
    no minority to find. The reference implementation of XRM (Pezeshki et al.,
    ICML 2024) discards such a run. Turn the warning into an error with
    ``warnings.simplefilter("error", DegenerateHeldOutWarning)``.
    """

"""skmat: memorization-aware training and group-robust learning, scikit-learn style."""

from ._baselines import GroupBalancedClassifier, GroupDROClassifier, JTTClassifier
from ._loader import InMemoryDataLoader
from ._mat import MATClassifier

__version__ = "0.1.0"

__all__ = [
    "GroupBalancedClassifier",
    "GroupDROClassifier",
    "InMemoryDataLoader",
    "JTTClassifier",
    "MATClassifier",
    "__version__",
]

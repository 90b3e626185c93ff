import re
from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
version = re.search(
    r'^__version__ = "([^"]+)"', (here / "skmat" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="skmat",
    version=version,
    description=(
        "Memorization-aware training (MAT) and group-robust learning with neural nets, "
        "scikit-learn style"
    ),
    long_description=(here / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["skmat", "skmat.*"]),
    python_requires=">=3.9",
    install_requires=[
        "numpy>=1.22",
        "scipy>=1.8",
        "scikit-learn>=1.6",
        "skorch>=1.0",
        "torch>=2.1",
        "joblib>=1.2",
        "tqdm>=4.40",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pandas>=1.4",
            "matplotlib>=3.5",
            "dask[distributed]>=2023.1",
        ],
        "examples": ["matplotlib>=3.5"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)

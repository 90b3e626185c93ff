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
    license_files=["LICENSE"],
    packages=find_packages(include=["skmat", "skmat.*"]),
    # the frozen text embeddings of the benchmark's affect-words task
    package_data={"skmat.benchmarks": ["data/*.npz"]},
    python_requires=">=3.9",
    # The minimums are the oldest versions .ci/run installs and tests
    # (.ci/minimum-versions.txt, on Python 3.9): skorch 1.1 is the first that
    # declares scikit-learn >= 1.6's estimator tags, joblib 1.4 the first with
    # return_as="generator_unordered", matplotlib 3.6 the first with legend(ncols=).
    install_requires=[
        "numpy>=1.22.4",
        "scipy>=1.8.1",
        "scikit-learn>=1.6.1",
        "skorch>=1.1.0",
        "torch>=2.1.2",
        "joblib>=1.4.0",
        "tqdm>=4.40.0",
    ],
    extras_require={
        "test": [
            "pytest>=7.0",
            # the suite runs on two workers (pytest.ini), each on one torch thread
            "pytest-xdist>=3.6",
            "pandas>=1.4.4",
            "matplotlib>=3.6.0",
            "dask[distributed]>=2023.1",
        ],
        "examples": ["matplotlib>=3.6.0"],
        # The documentation (docs/conf.py), built offline; the versions it was
        # built and checked with.
        "docs": [
            "sphinx>=9.0.4",
            "pydata-sphinx-theme>=0.24.0",
            "numpydoc>=1.11.0",
            "sphinx-gallery>=0.22.1",
            "sphinx-mathjax-offline>=0.0.2",
            "matplotlib>=3.6.0",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)

"""``python -m skmat.benchmarks``."""

from ._run import main

main()

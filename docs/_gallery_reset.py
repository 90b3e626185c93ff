"""Run every gallery example as in a fresh Python process.

sphinx-gallery runs the examples one after another in the build's process;
``examples/plot_memorization.py`` calls ``torch.set_num_threads(1)``, which would
otherwise slow down every example after it.
"""

import torch

_THREADS = torch.get_num_threads()


def reset_torch(gallery_conf, fname):
    """Restore torch's thread count as it was when the build started."""
    torch.set_num_threads(_THREADS)

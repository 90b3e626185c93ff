"""Randomness: seeds drawn from ``random_state`` and torch's RNG forked around work
that must leave the caller's global RNG as it was."""

import copy
from contextlib import contextmanager

import numpy as np
import torch

#: Seeds are drawn in [0, MAX_SEED), the range ``np.random.RandomState`` takes.
MAX_SEED = np.iinfo(np.int32).max


def draw_seed(rng):
    """An int seed drawn from a ``numpy.random.RandomState``."""
    return int(rng.randint(MAX_SEED))


def seeded_splitter(cv, seed):
    """The scikit-learn splitter ``cv``, or a copy of it seeded with ``seed`` when it
    draws from numpy's global RNG: it has a ``random_state`` of None and shuffles
    (``shuffle=True``, or no such switch: ``ShuffleSplit`` always draws)."""
    unseeded = getattr(cv, "random_state", 0) is None and getattr(cv, "shuffle", True)
    if seed is None or not hasattr(cv, "split") or not unseeded:
        return cv
    seeded = copy.copy(cv)
    seeded.random_state = seed
    return seeded


def rng_devices(device):
    """CUDA devices whose RNG state ``fork_rng`` must restore for work on ``device``."""
    device = torch.device(device if device is not None else "cpu")
    if device.type != "cuda" or not torch.cuda.is_available():
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


@contextmanager
def forked_torch_rng(device=None, seed=None):
    """Run a block on a fork of torch's global RNG (CPU, and ``device``'s CUDA RNG),
    seeded with ``seed`` when it is not None; the caller's RNG is left as it was."""
    with torch.random.fork_rng(devices=rng_devices(device)):
        if seed is not None:
            torch.manual_seed(seed)
        yield


class TorchRNGStream:
    """A torch random stream of its own: the state of the CPU generator and of the
    device's CUDA generator, carried from one block of work to the next.

    A net trained in steps interleaved with other nets' (the stacked and lockstep
    held-out training) draws from its stream exactly what its own ``fit`` would
    draw from torch's global RNG, and the caller's global RNG is left as it was.

    Parameters
    ----------
    device : str or torch.device, default=None
    seed : int, default=None
        Seeds the stream as ``torch.manual_seed`` would; ``None`` starts it from the
        caller's current global state (as an unseeded ``fit`` would).
    """

    def __init__(self, device=None, seed=None):
        self.device = device
        with forked_torch_rng(device, seed):
            self.state = get_torch_rng_state(device)

    @contextmanager
    def active(self):
        """Run a block on this stream (torch's global RNG set to it, then restored)."""
        with forked_torch_rng(self.device):
            set_torch_rng_state(self.state)
            try:
                yield
            finally:
                self.state = get_torch_rng_state(self.device)


def get_torch_rng_state(device=None):
    """torch's global RNG state (CPU, and ``device``'s CUDA generator)."""
    devices = rng_devices(device)
    return torch.get_rng_state(), [(d, torch.cuda.get_rng_state(d)) for d in devices]


def set_torch_rng_state(state):
    """Set torch's global RNG to a state from :func:`get_torch_rng_state`."""
    cpu, cuda = state
    torch.set_rng_state(cpu)
    for device, cuda_state in cuda:
        torch.cuda.set_rng_state(cuda_state, device)

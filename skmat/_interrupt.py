"""Ctrl-C stops a whole fit.

skorch ends a net's training on ``KeyboardInterrupt`` and returns as if it had
finished (that is how its ``EarlyStopping`` stops a fit), so a Ctrl-C during one of a
MAT fit's nets would only cut that net short. :func:`watch_interrupts` notes the
SIGINT itself while a fit runs; :func:`raise_if_interrupted`, called after each
net's training, turns a noted one back into a ``KeyboardInterrupt`` that stops
everything.
"""

import signal
import threading
from contextlib import contextmanager

_interrupted = threading.Event()
_depth = 0


@contextmanager
def watch_interrupts():
    """Note every SIGINT received during the block (in the main thread; elsewhere
    the signal is not ours to watch). Nested blocks share one watch."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if _depth == 0:
        _interrupted.clear()

        def handler(signum, frame):
            _interrupted.set()
            if callable(previous):
                previous(signum, frame)
            else:
                raise KeyboardInterrupt

        signal.signal(signal.SIGINT, handler)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            signal.signal(signal.SIGINT, previous)
            _interrupted.clear()


def raise_if_interrupted():
    """Raise KeyboardInterrupt if a SIGINT arrived during the watched fit."""
    if _interrupted.is_set():
        raise KeyboardInterrupt("interrupted during a net's training")

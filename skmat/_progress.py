"""What a fit reports while it runs (``verbose >= 1``), and what each phase cost.

A MAT fit trains k + 1 nets (or two twins and a final net): minutes to hours for a
CNN or a transformer. :class:`FitProgress` shows one progress bar per phase (the
held-out phase, the final net), counting epochs, with the time left:

* in a terminal, a tqdm bar on stderr; in a Jupyter notebook, tqdm's widget
  (``tqdm.auto``);
* elsewhere (output to a file or a CI log, a joblib worker, a thread other than the
  main one) plain lines on stderr, one per tenth of the phase, each written whole,
  so that fits running side by side (``GridSearchCV(n_jobs=2)``) never garble each
  other's output.

It costs one ``tqdm.update`` (or a comparison) per epoch of each net.
"""

import functools
import multiprocessing
import sys
import threading
import time
from contextlib import contextmanager

from skorch.callbacks import Callback

from ._net import without_callback

#: Name of the progress callback while a skorch net trains (removed after fit).
CALLBACK_NAME = "skmat_progress"


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def display_style():
    """``"bar"`` in the main thread of the main process of a terminal or a
    notebook, else ``"lines"``."""
    in_child = multiprocessing.parent_process() is not None
    in_thread = threading.current_thread() is not threading.main_thread()
    if in_child or in_thread:
        return "lines"
    if _in_notebook():
        return "bar"
    isatty = getattr(sys.stderr, "isatty", None)
    return "bar" if isatty is not None and isatty() else "lines"


class _Lines:
    """A progress 'bar' written as whole lines: at every tenth of the total and at
    the end."""

    def __init__(self, total, desc):
        self.total = max(int(total), 0)
        self.desc = desc
        self.n = 0
        self.postfix = ""
        self.start = time.perf_counter()
        self.next_tenth = 1
        self.lock = threading.Lock()

    def set_postfix_str(self, postfix, refresh=False):
        self.postfix = postfix

    def update(self, n=1):
        with self.lock:
            self.n += n
            if self.total and self.n * 10 >= self.next_tenth * self.total:
                self.next_tenth = self.n * 10 // self.total + 1
                if self.n < self.total:
                    self._write()

    def _write(self):
        elapsed = time.perf_counter() - self.start
        line = f"{self.desc}: {self.n}/{self.total} epochs, {elapsed:.1f}s"
        if 0 < self.n < self.total:
            line += f", ~{elapsed / self.n * (self.total - self.n):.0f}s left"
        if self.postfix:
            line += f", {self.postfix}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self):
        self._write()


class FitProgress:
    """Progress bars of one fit, one per phase.

    Parameters
    ----------
    owner : str
        The estimator's class name, shown before every bar and line.
    verbose : int
        Nothing is shown below 1; from 2 on, every epoch of the held-out nets that
        train together gets a line (skorch prints one for a net trained alone).
    """

    def __init__(self, owner, verbose):
        self.owner = owner
        self.enabled = verbose >= 1
        self.epoch_table = verbose >= 2
        self.style = display_style() if self.enabled else None

    def epoch_line(self, noun, model, epoch, loss):
        """One row of the epoch table of nets that train together (each one a
        ``noun``, such as "held-out net")."""
        print(
            f"[{self.owner}] {noun} {model + 1}, epoch {epoch + 1}: "
            f"train_loss {loss:.4f}",
            flush=True,
        )

    @contextmanager
    def phase(self, description, total, epoch_lines=None):
        """A bar of ``total`` epochs for one phase; yields a :class:`Phase`
        (``epoch_lines``: what its nets are called in the epoch table of nets that
        train together, printed at ``verbose >= 2``)."""
        epoch_lines = (
            functools.partial(self.epoch_line, epoch_lines)
            if epoch_lines and self.epoch_table
            else None
        )
        if not self.enabled:
            yield Phase(None, epoch_lines)
            return
        desc = f"[{self.owner}] {description}"
        if self.style == "bar":
            from tqdm.auto import tqdm

            bar = tqdm(
                total=total,
                desc=desc,
                unit="epoch",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
                mininterval=0.5,
            )
        else:
            bar = _Lines(total, desc)
        try:
            yield Phase(bar, epoch_lines)
        finally:
            bar.close()


class Phase:
    """The bar of a running phase; ``epoch_done`` after each epoch of any of its nets
    (a no-op when progress is off).

    Parameters
    ----------
    bar : tqdm bar or None
    epoch_lines : callable, default=None
        Called as ``epoch_lines(model, epoch, loss)`` for each epoch that the
        stacked engine reports (``verbose >= 2``: the epoch table of nets that
        train together, which skorch does not print for them).
    """

    def __init__(self, bar, epoch_lines=None):
        self.bar = bar
        self.epoch_lines = epoch_lines

    def epoch_done(self, loss=None, n=1, model=None, epoch=None):
        if model is not None and self.epoch_lines is not None:
            self.epoch_lines(model, epoch, loss)
        if self.bar is None:
            return
        if loss is not None:
            self.bar.set_postfix_str(f"train_loss={loss:.4g}", refresh=False)
        self.bar.update(n)

    def callback(self):
        """A skorch callback that reports each epoch of the net it is added to, or
        None when progress is off."""
        return None if self.bar is None else EpochProgress(self)


class EpochProgress(Callback):
    """skorch callback: report each finished epoch (with its train_loss) to a
    :class:`Phase`. Added by skmat to the nets it trains one by one in this
    process, and removed after their fit."""

    def __init__(self, phase):
        self.phase = phase

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1].get("train_loss") if len(net.history) else None
        self.phase.epoch_done(loss)

    def __getstate__(self):
        # a tqdm bar does not pickle, and is of no use anywhere else
        return {"phase": Phase(None)}


def with_progress(net, phase):
    """``net`` (changed in place) with ``phase``'s callback, when progress is on."""
    callback = phase.callback()
    if callback is not None and net.callbacks != "disable":
        # first, so that it hears of the epoch at which a callback stops training
        net.callbacks = [(CALLBACK_NAME, callback), *(net.callbacks or [])]
    return net


def without_progress(net):
    """``net`` (changed in place) without skmat's progress callback."""
    return without_callback(net, CALLBACK_NAME)


class PhaseClock:
    """Seconds spent in each phase of a fit (``fit_times_``): ``lap(name)`` adds the
    time since the previous lap to ``name`` (and returns it); ``times["total"]`` is
    their sum."""

    def __init__(self):
        self.last = time.perf_counter()
        self.times = {
            "validation": 0.0,
            "held_out": 0.0,
            "selection": 0.0,
            "training_extras": 0.0,
            "final": 0.0,
            "total": 0.0,
        }

    def lap(self, name):
        now = time.perf_counter()
        seconds, self.last = now - self.last, now
        self.times[name] += seconds
        self.times["total"] += seconds
        return self.times[name]

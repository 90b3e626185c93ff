"""Several skorch nets trained side by side, a step each in turn, each by its own
``fit``.

XRM's twins must step together (after every step each twin relabels the other's
batch), which one skorch ``fit`` does not allow: it runs all its epochs in one call.
:func:`train_lockstep` runs each net's own ``fit`` (skorch's loop, its callbacks,
its ``train_split``, its checks) in a thread of its own, and each hands over to
the others before every training step: only one net runs at a time, and each
draws from its own torch random stream, so its loader order and dropout masks are
those of a solo fit. The stacked engine (:mod:`skmat._stacked`) is the fast path of
the same contract.
"""

import threading

from sklearn import config_context, get_config

from ._random import forked_torch_rng, get_torch_rng_state, set_torch_rng_state


class _Stopped(Exception):
    """Ends a parked net's fit when the whole training stops (an error, Ctrl-C)."""


class _Lane:
    """One net's ``fit``, in a thread that runs only while the conductor waits.

    Two locks pass the turn (the cheapest hand-over Python has): the conductor
    releases ``resume`` and waits on ``parked``; the lane, at its next batch or at
    its end, leaves a message and releases ``parked``.
    """

    def __init__(self, net, dataset, y):
        self.net, self.dataset, self.y = net, dataset, y
        self.resume, self.parked = threading.Lock(), threading.Lock()
        self.resume.acquire()
        self.parked.acquire()
        self.message = None  # ("batch", batch), ("done", None) or ("error", exc)
        self.stopped = False
        config = get_config()  # scikit-learn's config is per thread: carry it over
        self.thread = threading.Thread(target=self._fit, args=(config,), daemon=True)

    def _fit(self, config):
        message = ("done", None)
        try:
            self._wait()
            with config_context(**config):
                self.net.fit(self.dataset, self.y)
        except _Stopped:
            # the conductor has stopped (an error, Ctrl-C) and reads no message: it
            # may have left this lane's last one unread, so saying another would
            # release an unlocked lock
            return
        except BaseException as exc:  # handed to the conductor, which raises it
            message = ("error", exc)
        self._say(message)

    def _say(self, message):
        self.message = message
        self.parked.release()

    def _wait(self):
        self.resume.acquire()
        if self.stopped:
            raise _Stopped

    def park(self, batch):
        """Called by the net's fit before each training step: hand over, then go
        on with this net's own random stream."""
        state = get_torch_rng_state(self.net.device)
        self._say(("batch", batch))
        self._wait()
        set_torch_rng_state(state)

    def advance(self):
        """Let the net run up to its next training batch; that batch, or None when
        its fit has ended (all epochs, or a callback such as EarlyStopping)."""
        if self.thread.ident is None:  # first call: start its fit
            self.thread.start()
        self.resume.release()
        self.parked.acquire()
        kind, value = self.message
        if kind == "error":
            raise value
        return value if kind == "batch" else None

    def stop(self):
        self.stopped = True
        if self.resume.locked():
            self.resume.release()
        self.thread.join()


def _hand_over(net, lane):
    """Make ``net`` park its fit before every training step: its own
    ``on_batch_begin`` (the first that skorch's ``notify`` calls) hands over to
    the conductor, whatever its callbacks."""
    own = net.on_batch_begin

    def on_batch_begin(_, batch=None, training=False, **kwargs):
        own(net, batch=batch, training=training, **kwargs)
        if training:
            lane.park(batch)

    net.on_batch_begin = on_batch_begin


def train_lockstep(nets, datasets, labels, *, before_step=None):
    """Fit unfitted skorch nets in lockstep, each as its own ``fit`` on its data.

    At every step each net still training runs to its next batch (ending and
    starting its epochs as its fit loop does); then ``before_step(active,
    batches)`` sees the indices of those nets and their batches; then each takes
    its training step, one after the other.

    Parameters
    ----------
    nets : list of skorch NeuralNet
        Unfitted nets, each with its own ``random_state``.
    datasets : list of torch Dataset
        The training data of each net (``fit``'s X).
    labels : list of array-like
        The labels of each dataset (``fit``'s y, for its ``train_split``).
    before_step : callable, default=None

    Returns
    -------
    nets : list
        The fitted nets.
    """
    lanes = [_Lane(net, data, y) for net, data, y in zip(nets, datasets, labels)]
    for lane in lanes:
        _hand_over(lane.net, lane)
    # the nets' fits fork torch's RNG in turn: the caller's is restored at the end
    with forked_torch_rng(nets[0].device):
        _conduct(lanes, before_step)
    return nets


def _conduct(lanes, before_step):
    """Run the lanes' fits step by step (see :func:`train_lockstep`)."""
    try:
        batches = {index: lane.advance() for index, lane in enumerate(lanes)}
        while True:
            batches = {i: batch for i, batch in batches.items() if batch is not None}
            if not batches:
                break
            if before_step is not None:
                before_step(list(batches), list(batches.values()))
            batches = {i: lanes[i].advance() for i in batches}
    finally:
        for lane in lanes:
            if lane.thread.is_alive():
                lane.stop()
            vars(lane.net).pop("on_batch_begin", None)

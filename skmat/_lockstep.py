"""Several skorch nets trained one step each in turn, each exactly as its own ``fit``.

XRM's twins must step together (after every step each twin relabels the other's
batch), which a skorch ``fit`` does not allow: it runs all epochs in one call. When
the twins cannot train as one stacked model (:mod:`skmat._stacked`: BatchNorm,
Dropout, callbacks, ...), :func:`train_lockstep` runs skorch's own fit loop for each
net, interleaved step by step: the same callbacks (``on_train_begin``,
``on_epoch_begin``, ``on_batch_begin``, ...), the same ``train_step``, the same
history, the same internal validation split, and each net draws from its own torch
random stream (:class:`skmat._random.TorchRNGStream`), so that its loader order and
dropout masks are those of a solo fit.
"""

from skorch.dataset import get_len

from ._interrupt import raise_if_interrupted


class _SoloRun:
    """One net's fit loop, advanced one batch at a time."""

    def __init__(self, net, stream, dataset, y, on_epoch_end=None):
        self.on_epoch_end = on_epoch_end
        self.net = net
        self.stream = stream
        self.dataset = dataset
        self.y = y
        self.epoch = 0
        self.iterator = None
        self.batch_count = 0
        self.done = False

    def begin(self):
        net = self.net
        with self.stream.active():
            net.notify("on_train_begin", X=self.dataset, y=self.y)
            train, valid = net.get_split_datasets(self.dataset, self.y)
            self.epoch_kwargs = {"dataset_train": train, "dataset_valid": valid}
            self.loader_train = net.get_iterator(train, training=True)
            self.loader_valid = (
                None if valid is None else net.get_iterator(valid, training=False)
            )

    def _end_epoch(self):
        net = self.net
        net.history.record("train_batch_count", self.batch_count)
        net.run_single_epoch(
            self.loader_valid,
            training=False,
            prefix="valid",
            step_fn=net.validation_step,
        )
        net.notify("on_epoch_end", **self.epoch_kwargs)
        if self.on_epoch_end is not None:
            self.on_epoch_end(self.epoch, net.history[-1].get("train_loss"))
        self.epoch += 1
        self.iterator = None

    def next_batch(self):
        """The next training batch, ending and starting epochs on the way; None when
        the net has trained all its epochs (or a callback stopped it)."""
        net = self.net
        with self.stream.active():
            try:
                while not self.done:
                    if self.iterator is None:
                        if self.epoch >= net.max_epochs:
                            break
                        net.notify("on_epoch_begin", **self.epoch_kwargs)
                        self.iterator = iter(self.loader_train)
                        self.batch_count = 0
                    batch = next(self.iterator, None)
                    if batch is not None:
                        return batch
                    self._end_epoch()
            except KeyboardInterrupt:
                # skorch's way for a callback (EarlyStopping) to end training; a
                # Ctrl-C stops everything
                raise_if_interrupted()
            self._finish()
        return None

    def train(self, batch):
        net = self.net
        with self.stream.active():
            try:
                net.notify("on_batch_begin", batch=batch, training=True)
                step = net.train_step(batch)
                net.history.record_batch("train_loss", step["loss"].item())
                net.history.record_batch("train_batch_size", get_len(batch[0]))
                net.notify("on_batch_end", batch=batch, training=True, **step)
                self.batch_count += 1
            except KeyboardInterrupt:
                raise_if_interrupted()
                self._finish()

    def _finish(self):
        if not self.done:
            self.done = True
            self.net.notify("on_train_end", X=self.dataset, y=self.y)


def train_lockstep(
    nets, streams, datasets, labels, *, before_step=None, on_epoch_end=None
):
    """Train initialized skorch nets in lockstep, each as its own ``fit`` would.

    At every step each net still training fetches its next batch (its loader,
    ending and starting its epochs as its fit loop does); then ``before_step`` sees
    all of them; then each net takes its training step on its batch.

    Parameters
    ----------
    nets : list of skorch NeuralNet
        Initialized nets (:func:`skmat._stacked.initialized_net`).
    streams : list of TorchRNGStream
        The random stream of each net (from its initialization).
    datasets : list of torch Dataset
        The training data of each net (passed to its ``train_split`` as ``fit``
        passes X).
    labels : list of array-like
        The labels of each dataset, for the ``train_split`` (stratification).
    before_step : callable, default=None
        Called as ``before_step(active, batches)`` with the indices of the nets that
        take a step and their batches (as their loaders yield them), before any of
        them steps.
    on_epoch_end : callable, default=None
        Called as ``on_epoch_end(net_index, epoch, loss)`` after each epoch of each
        net (0-based epoch, its mean training loss).
    """

    def reporter(index):
        if on_epoch_end is None:
            return None
        return lambda epoch, loss: on_epoch_end(index, epoch, loss)

    runs = [
        _SoloRun(net, stream, dataset, y, reporter(index))
        for index, (net, stream, dataset, y) in enumerate(
            zip(nets, streams, datasets, labels)
        )
    ]
    for run in runs:
        run.begin()
    while True:
        batches = {}
        for index, run in enumerate(runs):
            if not run.done:
                batch = run.next_batch()
                if batch is not None:
                    batches[index] = batch
        if not batches:
            break
        if before_step is not None:
            before_step(list(batches), list(batches.values()))
        for index, batch in batches.items():
            runs[index].train(batch)
    return nets

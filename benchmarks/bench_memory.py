"""Memory of a MAT fit: Datasets are read per batch, and the held-out nets are kept
small after fit.

Run: python benchmarks/bench_memory.py [--sizes 5000 20000 40000] [--skip-resnet]

1. **Rows are never all in memory.** MATClassifier (cv=3, 1 epoch, a tiny CNN,
   batches of 64) fits a torch Dataset that makes 3 x 64 x 64 float32 images on the
   fly (48 KiB each; 40,000 of them would take 1.8 GiB), at each size in
   ``--sizes``, each in a fresh process. The peak resident memory must grow with the
   batch, not with n.
2. **What a fitted MATClassifier keeps.** A ResNet-18-sized CNN (11.2 M parameters,
   BatchNorm, so the 5 fold nets train one by one) fitted with cv=5 for 1 epoch on
   100 images of 3 x 32 x 32: the pickle size of the estimator, of one held-out net
   (kept on the CPU without its optimizer state) and of the final net (with its Adam
   state), and the peak resident memory of the fit.

Measured on the 2-core CPU of the development machine (torch 2.13, 1 thread),
2026-12-01:

    1. n        fit    peak RSS   all images
       5000     3.6s    477 MiB      234 MiB
       20000   10.8s    564 MiB      938 MiB
       40000   19.4s    561 MiB     1875 MiB

    (the Python heap holds 63 MiB after the 20,000-image fit, by tracemalloc: the
    rise from 5,000 to 20,000 is the allocator's high-water mark, and it stops)

    2. 11.2 M parameters (43 MiB); fit 21s; pickled: estimator 341 MiB, one
       held-out net 43 MiB (no optimizer state, on the CPU), final net 128 MiB
       (with Adam's state); peak RSS 2236 MiB (328 MiB after imports)

Kept with their optimizer state, the 5 fold nets would pickle at 128 MiB each: 768
MiB for the estimator instead of 341.
"""

import argparse
import io
import json
import pickle
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from skmat import MATClassifier


class GeneratedImages(torch.utils.data.Dataset):
    """3 x size x size images made from their index (class 1 brighter); only the
    labels are stored."""

    def __init__(self, n_samples, size=64, seed=0):
        self.labels = np.random.RandomState(seed).randint(0, 2, n_samples)
        self.size = size

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        generator = torch.Generator().manual_seed(int(i))
        image = torch.randn(3, self.size, self.size, generator=generator)
        return image + 0.5 * float(self.labels[i]), int(self.labels[i])


class TinyCNN(torch.nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 5, stride=4),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(4, n_classes),
        )

    def forward(self, X):
        return self.layers(X)


class Block(torch.nn.Module):
    def __init__(self, channels_in, channels, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels_in, channels, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(channels)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(channels)
        self.shortcut = torch.nn.Sequential()
        if stride != 1 or channels_in != channels:
            self.shortcut = torch.nn.Sequential(
                torch.nn.Conv2d(channels_in, channels, 1, stride, bias=False),
                torch.nn.BatchNorm2d(channels),
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(torch.nn.Module):
    """ResNet-18's layout (BasicBlocks 2-2-2-2, 64-512 channels) for 32 x 32 input."""

    def __init__(self, n_classes):
        super().__init__()
        layers = [
            torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False),
            torch.nn.BatchNorm2d(64),
            torch.nn.ReLU(),
        ]
        channels_in = 64
        for channels, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [
                Block(channels_in, channels, stride),
                Block(channels, channels, 1),
            ]
            channels_in = channels
        layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()]
        self.features = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(512, n_classes)

    def forward(self, X):
        return self.head(self.features(X))


def net(module, batch_size):
    return NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=1,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pickled_mib(obj):
    buffer = io.BytesIO()
    pickle.dump(obj, buffer)
    return buffer.tell() / 2**20


def run_dataset(n_samples):
    data = GeneratedImages(n_samples)
    start = time.perf_counter()
    MATClassifier(
        net(TinyCNN, 64), held_out="kfold", cv=3, shift_strength=1.0, random_state=0
    ).fit(data, data.labels)
    return dict(
        n=n_samples,
        seconds=time.perf_counter() - start,
        peak_rss_mib=peak_rss_mib(),
        all_images_mib=n_samples * 3 * 64 * 64 * 4 / 2**20,
    )


def run_resnet():
    data = GeneratedImages(100, size=32)
    before = peak_rss_mib()
    start = time.perf_counter()
    mat = MATClassifier(
        net(ResNet18, 50), held_out="kfold", cv=5, shift_strength=1.0, random_state=0
    ).fit(data, data.labels)
    seconds = time.perf_counter() - start
    n_parameters = sum(p.numel() for p in mat.estimator_.module_.parameters())
    held_out = mat.held_out_estimators_[0]
    return dict(
        seconds=seconds,
        parameters_m=n_parameters / 1e6,
        parameters_mib=n_parameters * 4 / 2**20,
        estimator_mib=pickled_mib(mat),
        held_out_net_mib=pickled_mib(held_out),
        held_out_optimizer_state=len(held_out.optimizer_.state),
        held_out_device=str(next(held_out.module_.parameters()).device),
        final_net_mib=pickled_mib(mat.estimator_),
        peak_rss_before_mib=before,
        peak_rss_mib=peak_rss_mib(),
    )


def in_subprocess(job, *args):
    command = [sys.executable, __file__, "--job", job, *map(str, args)]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 40000])
    parser.add_argument("--skip-resnet", action="store_true")
    parser.add_argument("--job", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.job:
        job, *rest = args.job
        result = run_dataset(int(rest[0])) if job == "dataset" else run_resnet()
        print(json.dumps(result))
        return
    print(f"torch {torch.__version__}, 1 thread; each run in a fresh process")
    print("1. Dataset of generated 3x64x64 images, cv=3, 1 epoch, batches of 64")
    print(f"{'n':>8}{'fit':>9}{'peak RSS':>12}{'all images':>13}")
    for n_samples in args.sizes:
        r = in_subprocess("dataset", n_samples)
        print(
            f"{r['n']:>8}{r['seconds']:>8.1f}s{r['peak_rss_mib']:>9.0f} MiB"
            f"{r['all_images_mib']:>9.0f} MiB"
        )
    if args.skip_resnet:
        return
    r = in_subprocess("resnet")
    print("2. ResNet-18-sized CNN, cv=5, 1 epoch on 100 images of 3x32x32")
    print(
        f"   {r['parameters_m']:.1f} M parameters ({r['parameters_mib']:.0f} MiB); "
        f"fit {r['seconds']:.0f}s\n"
        f"   pickled: estimator {r['estimator_mib']:.0f} MiB, one held-out net "
        f"{r['held_out_net_mib']:.0f} MiB (optimizer state entries: "
        f"{r['held_out_optimizer_state']}, on {r['held_out_device']}), final net "
        f"{r['final_net_mib']:.0f} MiB (with Adam's state)\n"
        f"   peak RSS {r['peak_rss_mib']:.0f} MiB (after imports "
        f"{r['peak_rss_before_mib']:.0f} MiB)"
    )


if __name__ == "__main__":
    main()

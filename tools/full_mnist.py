"""The full MNIST, read from an mnist.npz file and checked to be all of it: what render.py
and choose_exercise1.py run on."""

import sys

import numpy as np


def load_full(data):
    """The arrays of data, ((x_train, y_train), (x_test, y_test)); stop with one line unless
    it is a full MNIST."""
    try:
        with open(data, "rb") as file, np.load(file, allow_pickle=False) as f:
            mnist = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except Exception as err:
        sys.exit(f"Cannot read {data} as an mnist.npz file: {type(err).__name__}")
    sizes = len(mnist[0][1]), len(mnist[1][1])
    if sizes != (60000, 10000):
        sys.exit(
            f"{data} holds {sizes[0]} training and {sizes[1]} test images, not 60000 and 10000"
        )
    return mnist

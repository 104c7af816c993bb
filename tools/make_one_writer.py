"""Lesson 09's bundled hand: every MNIST test digit of one writer, as PNG files in folders named
by their digit (data/one_writer/7/...), the layout a learner's own examples take.

Run with the team's data: python tools/make_one_writer.py ../shared/mnist/mnist.npz
../shared/writers/qmnist-test-labels.tsv.gz

Who wrote each MNIST digit comes from QMNIST's label tables (Yadav and Bottou, 2019; BSD licence,
copied beside the digits). The writer is NIST's form series 0, writer 370: of the 41 writers of
MNIST's test set with at least 5 of every digit, the hand that the video's network, trained on
all of MNIST, misreads most (7 of 97 digits). A test writer is in no training image, so the
model of the bundled sample (drawn from MNIST's training set) never learned from this hand.
"""

import gzip
import os
import shutil
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "one_writer")
WRITER = (0, 370)  # (NIST form series, writer id)


def main(mnist_npz, qmnist_test_labels):
    with np.load(mnist_npz, allow_pickle=False) as mnist:
        x_test, y_test = mnist["x_test"], mnist["y_test"]
    with gzip.open(qmnist_test_labels) as table:
        rows = np.loadtxt(table, dtype=int)[: len(y_test)]  # the rest are QMNIST's own digits
    if not np.array_equal(rows[:, 0], y_test):
        raise SystemExit("the QMNIST table does not match this mnist.npz")
    mine = np.flatnonzero((rows[:, 1] == WRITER[0]) & (rows[:, 2] == WRITER[1]))
    shutil.rmtree(OUT, ignore_errors=True)
    for index in mine:
        folder = os.path.join(OUT, str(y_test[index]))
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(x_test[index]).save(os.path.join(folder, f"mnist_test_{index:04d}.png"))
    licence = os.path.join(os.path.dirname(qmnist_test_labels), "LICENSE-QMNIST")
    shutil.copy(licence, os.path.join(OUT, "LICENSE-QMNIST"))
    print(f"wrote {len(mine)} digits of writer {WRITER} into {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])

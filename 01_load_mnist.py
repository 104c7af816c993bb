"""Lesson 01: load MNIST and get it ready for a dense network.

What the video does first: load the 70,000 handwritten digits with
keras.datasets.mnist.load_data(), flatten each 28x28 image into 784 numbers,
turn them into float32 and divide by 255. This lesson prints the data before and
after those steps, counts the labels and draws the first digit as text.

Run:
    python 01_load_mnist.py            # full MNIST (downloads 11 MB once)
    python 01_load_mnist.py --sample   # the bundled sample, no network
The training flags (--epochs and so on) are shared by all lessons; this one trains nothing.
"""

# ---- Preamble: the same in every lesson, so that each file runs on its own ----
import argparse
import os
import socket
import sys

import numpy as np


def count(text):
    """argparse type: a whole number of 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def positive(text):
    """argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


# Flags come first, so that --help or a bad value answers before TensorFlow loads.
# The defaults are the video's values.
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=count, default=5, help="passes over the training images (default: 5)")
parser.add_argument("--batch-size", type=count, default=32, help="images per training step (default: 32)")
parser.add_argument("--learning-rate", type=positive, default=0.001, help="Adam's learning rate (default: 0.001)")
parser.add_argument("--seed", type=int, default=42, help="random seed; the same seed repeats a run (default: 42)")
parser.add_argument("--sample", action="store_true", help="use the bundled sample of real digits; don't download")
parser.add_argument("--data", metavar="FILE", help="read MNIST from this mnist.npz instead of downloading it")
parser.add_argument(
    "--timeout", type=positive, default=30, help="give up the download after this many silent seconds (default: 30)"
)
parser.add_argument("--quick", action="store_true", help="one-minute check: --sample and 1 epoch")
# ---- This lesson's own flags: none ----
# ---- Preamble, continued ----
args = parser.parse_args()
if args.quick:
    args.sample, args.epochs = True, 1

# Quiet TensorFlow's C++ info logs. This must happen before TensorFlow is imported.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
from tensorflow import keras

# Let TensorFlow take GPU memory as it needs it. The video's physical_devices[0]
# fails on a machine without a GPU; this loop just does nothing there.
for gpu in tf.config.list_physical_devices("GPU"):
    tf.config.experimental.set_memory_growth(gpu, True)

# The same seed gives the same starting weights and shuffling, so a run repeats.
keras.utils.set_random_seed(args.seed)

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist_sample.npz")
KERAS_CACHE = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "datasets", "mnist.npz")


def read_mnist_npz(path):
    """Read a file laid out like Keras's mnist.npz; exit with one clear message if it is missing or damaged."""
    try:
        # allow_pickle=False: reading a data file must never run code from it.
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as f:
            x_train, y_train, x_test, y_test = (f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
        for x, y in ((x_train, y_train), (x_test, y_test)):
            if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or len(x) == 0:
                raise ValueError("it does not hold 28x28 uint8 images")
            if y.shape != (len(x),) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() > 9:
                raise ValueError("its labels are not one whole number from 0 to 9 per image")
    except Exception as err:
        sys.exit(f"Cannot read MNIST from {path}: {err}\nReplace the file with a fresh copy (README: 'No internet').")
    return (x_train, y_train), (x_test, y_test)


if args.data:
    (x_train_raw, y_train), (x_test_raw, y_test) = read_mnist_npz(args.data)
elif args.sample:
    (x_train_raw, y_train), (x_test_raw, y_test) = read_mnist_npz(SAMPLE)
else:
    socket.setdefaulttimeout(args.timeout)  # a network that drops packets can't hang the lesson
    try:
        (x_train_raw, y_train), (x_test_raw, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:
        print(
            f"NOTICE: the MNIST download failed ({err}).\n"
            "  Going on with the bundled sample of real MNIST digits. For the full set, save the\n"
            f"  official mnist.npz as {KERAS_CACHE} (Keras checks its sha256)\n"
            "  or pass --data FILE. 无法下载 MNIST：见 README「No internet / 无法下载 MNIST」。",
            file=sys.stderr,  # stderr never fails on a character the console can't show
        )
        (x_train_raw, y_train), (x_test_raw, y_test) = read_mnist_npz(SAMPLE)
    socket.setdefaulttimeout(None)
print(f"MNIST: {len(x_train_raw)} training and {len(x_test_raw)} test images")

# Flatten each 28x28 image into 784 numbers and scale the pixels from 0..255 to 0..1.
x_train = x_train_raw.reshape(-1, 28 * 28).astype("float32") / 255.0
x_test = x_test_raw.reshape(-1, 28 * 28).astype("float32") / 255.0
# ---- End of preamble ----


def describe(name, array):
    return f"{name:8} {str(array.shape):16} {str(array.dtype):8} values {array.min()} .. {array.max()}"


print("\nRaw, as load_data() returns it:")
print(describe("x_train", x_train_raw))
print(describe("x_test", x_test_raw))
print(describe("y_train", y_train))

print("\nPrepared for a dense network (flattened, float32, divided by 255):")
print(describe("x_train", x_train))
print(describe("x_test", x_test))

print("\nImages of each digit in the training set:")
digits, counts = np.unique(y_train, return_counts=True)
print("  ".join(f"{digit}: {n}" for digit, n in zip(digits, counts)))

# Draw the first training image in the terminal, in a frame that shows the 28x28
# grid: stronger ink gets a denser character, two per pixel to keep the shape square.
shades = " .:-=+*#%@"
border = "+" + "-" * 56 + "+"
print(f"\nThe first training image, labelled {y_train[0]}:")
print(border)
for row in x_train[0].reshape(28, 28):
    print("|" + "".join(shades[min(int(value * len(shades)), len(shades) - 1)] * 2 for value in row) + "|")
print(border)

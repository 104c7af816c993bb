"""Lesson 01: load MNIST and get it ready for a dense network.

As the video does first: load the 70,000 digits, flatten each 28x28 image into 784
numbers, float32, divided by 255. Prints the data before and after, counts each
digit and draws the first one. It trains nothing, so --epochs changes nothing.
Run: python 01_load_mnist.py [--quick]   (--help: the flags; README: as a notebook)
"""

# The setup, the same in every lesson: quiet logs, GPU memory growth, a fixed seed, flags, then MNIST.
import argparse
import os
import socket

import numpy as np

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # quiet TensorFlow's C++ logs: this works only before the import
import tensorflow as tf
from tensorflow import keras

for gpu in tf.config.list_physical_devices("GPU"):  # the video's physical_devices[0] fails without a GPU
    tf.config.experimental.set_memory_growth(gpu, True)
keras.utils.set_random_seed(42)  # the same starting weights and shuffling, so that a run repeats

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=5, metavar="N", help="passes over the training images (default: 5)")
parser.add_argument("--quick", action="store_true", help="a one-minute check: 1 epoch on the bundled sample")
parser.add_argument("--data", metavar="FILE", help="read MNIST from this mnist.npz instead of downloading it")
args = parser.parse_args([] if "get_ipython" in globals() else None)  # a notebook has no flags: the defaults
args.epochs >= 1 or parser.error("argument --epochs: must be 1 or more")  # a bad value stops here, in one line
epochs = 1 if args.quick else args.epochs

# %% [markdown]
# ## Load MNIST / 加载 MNIST
#
# As in the video. Without a network, 5,000 real digits bundled in `data/` stand in.

# %%
# The bundled sample lies in data/ beside this file; a notebook has no __file__, but runs in its own folder.
SAMPLE = os.path.join(os.path.dirname(globals().get("__file__", "")), "data", "mnist_sample.npz")


def load_mnist(path):  # a file laid out like Keras's mnist.npz; one clear line and a stop if it can't be read
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as f:  # a data file must never run code
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except Exception as err:  # not numpy's message, which can advise allow_pickle=True: never do that
        raise SystemExit(f"Cannot read {path}: {getattr(err, 'strerror', None) or 'not an mnist.npz file'}") from None


socket.setdefaulttimeout(30)  # a network that accepts the connection, then goes silent, can't hang the lesson
try:  # --data names a file and --quick takes the bundled sample; otherwise download, as the video does
    mnist = load_mnist(args.data or SAMPLE) if args.data or args.quick else keras.datasets.mnist.load_data()
except Exception as err:  # the download failed: no network, a blocked host, an SSL error, a timeout
    print(f"NOTICE: {err}\nGoing on with the bundled sample. For all of MNIST, save mnist.npz in ~/.keras/datasets/")
    mnist = load_mnist(SAMPLE)
if not all(x.dtype == np.uint8 and x.shape == y.shape + (28, 28) and np.isin(y, range(10)).all() for x, y in mnist):
    raise SystemExit(f"Cannot use {args.data or SAMPLE}: it must hold 28x28 uint8 images, each with a label 0-9")
(x_train, y_train), (x_test, y_test) = mnist
x_train = x_train.reshape(-1, 28 * 28).astype("float32") / 255.0
x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0

# %% [markdown]
# ## Before and after / 处理前后
#
# `load_data()` returns each image as a 28x28 grid of `uint8` pixels, from 0
# (black) to 255 (white), and each label as a whole number. A Dense layer wants
# one row of numbers per image, in floats near 0..1, which is what the setup made.


# %%
def describe(name, array):
    return f"{name:8} {str(array.shape):16} {str(array.dtype):8} values {array.min()} .. {array.max()}"


(x_train_raw, _), (x_test_raw, _) = mnist  # the arrays as load_data() returned them
print(f"MNIST: {len(x_train)} training and {len(x_test)} test images")
print("\nRaw, as load_data() returns it:")
print(describe("x_train", x_train_raw))
print(describe("x_test", x_test_raw))
print(describe("y_train", y_train))

print("\nPrepared for a dense network (flattened, float32, divided by 255):")
print(describe("x_train", x_train))
print(describe("x_test", x_test))

# %% [markdown]
# ## Count the digits / 每个数字有多少张
#
# MNIST has about as many images of each digit, so no digit dominates training.

# %%
print("\nImages of each digit in the training set:")
digits, counts = np.unique(y_train, return_counts=True)
print("  ".join(f"{digit}: {n}" for digit, n in zip(digits, counts)))

# %% [markdown]
# ## Draw the first digit / 画出第一张图
#
# The same 784 numbers, put back into 28 rows of 28. Stronger ink gets a denser
# character, two per pixel so that the digit keeps its shape.

# %%
shades = " .:-=+*#%@"
border = "+" + "-" * 56 + "+"
print(f"\nThe first training image, labelled {y_train[0]}:")
print(border)
for row in x_train[0].reshape(28, 28):
    print("|" + "".join(shades[min(int(value * len(shades)), len(shades) - 1)] * 2 for value in row) + "|")
print(border)

"""Lesson 02: a Sequential model built from a list of layers.

The video's first network, 784 -> 512 -> 256 -> 10, as keras.Sequential([...]): its
summary, 5 epochs of training (batch size 32, Adam at 0.001), and the test set.
Run: python 02_sequential_model.py [--quick]   (--help: the flags; README: as a notebook)
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
# ## A Sequential model from a list / 用列表构建 Sequential 模型
#
# Very convenient, not very flexible: one input, one output, a plain stack of layers.

# %%
from tensorflow.keras import layers

model = keras.Sequential(
    [
        keras.Input(shape=(784,)),  # Keras 3 needs a tuple: the video's shape=(784) is an error now
        layers.Dense(512, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(10),  # ten raw scores (logits), no softmax: hence from_logits=True below
    ]
)
model.summary()  # each layer's output shape and parameters: 784 x 512 weights + 512 biases = 401,920 first

# %% [markdown]
# ## Train and evaluate / 训练和评估
#
# The labels are whole numbers 0-9, hence the *sparse* categorical cross-entropy,
# and `from_logits=True` because the last layer has no softmax. `verbose=2`
# prints one line per epoch. Then the test set, which training never saw, tells
# how well the model does on new digits.

# %%
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.Adam(learning_rate=0.001),  # Keras 3: learning_rate=, not lr=
    metrics=["accuracy"],
    # Not in the video: 512 training steps per call into TensorFlow. Faster on a CPU, same numbers.
    steps_per_execution=512,
)
history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=32, verbose=2)
print(f"Final train accuracy: {history.history['accuracy'][-1]:.4f}")
print(f"Test accuracy: {test_accuracy:.4f}")

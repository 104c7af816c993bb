"""Lesson 05: pull the output of any layer out of a model.

A keras.Model from a model's inputs to one layer's output is a feature extractor.
Three ways: by index, by name, and all layers at once; it prints the shapes they
return for the training images. As in the video nothing is trained: the shapes are
the point. Run: python 05_extract_layer_outputs.py [--quick]   (README: as a notebook)
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
# ## A model with a named layer / 给一层起个名字
#
# The video's Sequential model, with the middle layer named `my_layer` so that
# it can be found by name below.

# %%
from tensorflow.keras import layers

model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(256, activation="relu", name="my_layer"),
        layers.Dense(10),
    ]
)

# %% [markdown]
# ## By index / 按索引
#
# `model.layers[-2]` is the second-to-last layer, the 256-unit `my_layer`. The
# extractor goes from `model.inputs` to that layer's output.

# %%
# Not in the video: predict() takes batches of 1,000 rather than the default 32,
# which is faster and gives the same outputs. 1,000 divides 60,000 (and the
# sample's 4,000), so no short last batch makes TensorFlow trace the model twice.
# Keras 3: model.inputs, because the video's model.input fails on a Sequential model.
extractor = keras.Model(inputs=model.inputs, outputs=[model.layers[-2].output])
features = extractor.predict(x_train, batch_size=1000, verbose=0)
print(f"model.layers[-2] ({model.layers[-2].name}): {features.shape}")

# %% [markdown]
# ## By name / 按名字
#
# The same layer, found without counting. Safer when the model changes.

# %%
extractor = keras.Model(inputs=model.inputs, outputs=[model.get_layer("my_layer").output])
features = extractor.predict(x_train, batch_size=1000, verbose=0)
print(f'model.get_layer("my_layer"): {features.shape}')

# %% [markdown]
# ## Every layer at once / 所有层
#
# With a list of outputs, `predict()` returns a list: one array per layer.

# %%
extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
features = extractor.predict(x_train, batch_size=1000, verbose=0)
for layer, feature in zip(model.layers, features):
    print(f"{layer.name}: {feature.shape}")

"""Lesson 05: pull the output of any layer out of a model.

A keras.Model from a model's inputs to one layer's output is a feature extractor. Three
ways: by index, by name, and all layers at once. As in the video nothing is trained: the
shapes of what they return for the training images are the point.

Run:
  python 05_extract_layer_outputs.py               as in the video: downloads MNIST once
  python 05_extract_layer_outputs.py --quick       on the bundled sample: seconds, no download
  python 05_extract_layer_outputs.py --data FILE   on your own copy of mnist.npz
"""

import argparse
import os
import socket

import numpy as np

# The bundled sample lies in data/ beside the lesson (a notebook has no __file__: its own folder),
# and load_data() keeps its download in Keras's cache: ~/.keras/datasets/, or $KERAS_HOME/datasets/.
sample_file = os.path.join(os.path.dirname(globals().get("__file__", "")), "data/mnist_sample.npz")
cached_file = os.path.expanduser(f"{os.environ.get('KERAS_HOME', '~/.keras')}/datasets/mnist.npz")
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
parser.add_argument("--quick", action="store_true", help="the bundled sample: seconds, no download")
parser.add_argument("--data", metavar="FILE", help="read MNIST from FILE, or set MNIST_NPZ=FILE")
parser.set_defaults(data=os.environ.get("MNIST_NPZ", cached_file))
in_notebook = "get_ipython" in globals()
# A notebook has no flags: it runs with the defaults.
args, unknown = parser.parse_known_args([] if in_notebook else None)
if unknown:
    parser.error(f"unrecognized arguments: {' '.join(unknown)} (epochs=5 etc. are in the code)")
if args.quick and args.data != cached_file:
    print(f"--quick: the bundled sample is read, not {args.data}")
elif args.data != cached_file and not os.path.isfile(args.data):
    parser.error(f"not a file: {args.data} (named by --data or MNIST_NPZ)")
if args.quick:
    args.data = sample_file

# %% [markdown]
# ## Set up TensorFlow / 准备 TensorFlow
#
# The video's imports. `TF_CPP_MIN_LOG_LEVEL` quiets TensorFlow's C++ logs, and only works
# when it is set before the import. Memory growth is set for each GPU there is, so that a
# laptop without one runs too. A fixed seed makes every run print the same numbers.

# %%
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
from tensorflow import keras

for gpu in tf.config.list_physical_devices("GPU"):  # the video's physical_devices[0] needs a GPU
    tf.config.experimental.set_memory_growth(gpu, True)
keras.utils.set_random_seed(42)  # not in the video

# %% [markdown]
# ## Load MNIST / 加载 MNIST
#
# As in the video, `load_data()` downloads MNIST once into Keras's cache. A copy already
# there, or one named with `--data FILE` or `MNIST_NPZ=FILE`, is read and checked by
# `read_mnist_npz()` instead, and left as it is: Keras would download over a copy that is not
# byte for byte its own, or delete it offline. When the download fails (no network, a blocked
# host, an SSL error, 30 seconds of silence), 5,000 real digits bundled in `data/` stand in.
# `train_images` and `test_images` keep the 28x28 pictures; the last two lines flatten and
# scale `x_train` and `x_test` for a Dense layer.


# %%
def read_mnist_npz(path):
    """The arrays of a file laid out like Keras's mnist.npz (x: images, y: labels), checked.

    Anything wrong stops the lesson with one line. Never numpy's own message: for some files it
    advises allow_pickle=True, which would let a data file run code."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            mnist = (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])
    except Exception as err:
        raise SystemExit(f"Cannot read {path} as an mnist.npz file: {type(err).__name__}") from None
    for x, y in mnist:
        if x.dtype != np.uint8 or x.shape != y.shape + (28, 28) or not np.isin(y, range(10)).all():
            raise SystemExit(f"Cannot use {path}: it must hold 28x28 uint8 images, labelled 0-9")
    return mnist


socket.setdefaulttimeout(30)
if args.data == cached_file and not os.path.exists(cached_file):
    print("MNIST is downloaded once (11 MB), waiting 30 s at most; --quick skips it")
    try:
        (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    except Exception as err:
        print(f"NOTICE: {err}\nFor all of MNIST: --data FILE, MNIST_NPZ or a copy at {cached_file}")
        args.data = sample_file
        (x_train, y_train), (x_test, y_test) = read_mnist_npz(args.data)
else:
    (x_train, y_train), (x_test, y_test) = read_mnist_npz(args.data)
data_name = "Bundled sample" if args.data == sample_file else "MNIST"
print(f"{data_name}: {len(x_train)} training and {len(x_test)} test images")
train_images, test_images = x_train, x_test
x_train = x_train.reshape(-1, 28 * 28).astype("float32") / 255.0
x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0

# %% [markdown]
# ## A model with a named layer / 给一层起个名字
#
# The video's model, with the middle layer named `my_layer` so that it can be found by name
# below. It is never trained: its outputs come from the random starting weights, and their
# shapes are the same as a trained model's.

# %%
from tensorflow.keras import layers

model = keras.Sequential(
    [
        keras.Input(shape=(784,)),  # Keras 3 needs a tuple: the video's shape=(784) fails
        layers.Dense(512, activation="relu"),
        layers.Dense(256, activation="relu", name="my_layer"),
        layers.Dense(10),
    ]
)

# %% [markdown]
# ## By index / 按索引
#
# `model.layers[-2]` is the second-to-last layer, the 256-unit `my_layer`. The extractor
# goes from `model.inputs` to that layer's output: the video's `model.input` fails on a
# Sequential model in Keras 3. `predict()` takes batches of 1,000 rather than the default 32:
# faster, and the same outputs.

# %%
extractor = keras.Model(inputs=model.inputs, outputs=[model.layers[-2].output])  # Keras 3: inputs
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

# %% [markdown]
# ## Pictures / 画图
#
# MNIST is pictures, so the lesson draws them with matplotlib. In a notebook or an editor's
# cell, each figure shows under its cell. A script saves it as a PNG in `figures/` beside the
# lesson instead, prints where, and never opens a window to wait for.

# %%
import matplotlib

if not in_notebook:
    matplotlib.use("Agg")  # draw into files only
import matplotlib.pyplot as plt


def show(figure, name):
    """Show the figure under its cell; a script saves it as figures/NAME beside the lesson."""
    if in_notebook:
        plt.show()
        return
    path = os.path.join(os.path.dirname(__file__), "figures", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"Figure saved: {path}")


# %% [markdown]
# ## What a layer's output looks like / 层的输出是什么样子
#
# The 256 outputs of `my_layer` for four digits, put into 16x16 squares beside each digit.
# Dark squares are units that ReLU set to zero. The model is untrained, yet each digit already
# lights up its own pattern: these numbers are what the last layer gets to work with.

# %%
extractor = keras.Model(inputs=model.inputs, outputs=[model.get_layer("my_layer").output])
features = extractor.predict(x_train[:4], verbose=0)
figure, axes = plt.subplots(2, 4, figsize=(8, 4.4), layout="constrained")
for i in range(4):
    digit_axes, output_axes = axes.flat[2 * i], axes.flat[2 * i + 1]
    digit_axes.imshow(train_images[i], cmap="gray_r")
    digit_axes.set_title(f"digit {y_train[i]}")
    output_axes.imshow(features[i].reshape(16, 16), cmap="magma")
    output_axes.set_title("my_layer: 256")
    for ax in (digit_axes, output_axes):
        ax.axis("off")
show(figure, "05_my_layer_outputs.png")

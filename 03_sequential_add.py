# %% [markdown]
# # Lesson 03: the same network, built one layer at a time with model.add()
#
# Run it with `python 03_sequential_add.py` (`--quick`: the bundled sample, seconds; `--data
# FILE`: your own mnist.npz), or run this notebook's cells in order.
#
# **第 03 课：同一个网络，用 model.add() 一层一层地搭**
#
# 用 `python 03_sequential_add.py` 运行（`--quick`：用自带样本，几秒钟；`--data 文件`：用你自己
# 的 mnist.npz），或者按顺序运行这个 notebook 的单元格。

# %%
"""Lesson 03: the same network, built one layer at a time with model.add().

Start from an empty keras.Sequential() and an Input, add a layer, print the summary, and go
on: the video's way to check each layer's output shape as it appears. Training and
evaluation are those of lesson 02, and so are the numbers.

Run:
  python 03_sequential_add.py               as in the video: downloads MNIST once
  python 03_sequential_add.py --quick       on the bundled sample: seconds, no download
  python 03_sequential_add.py --data FILE   on your own copy of mnist.npz

There is no --epochs flag: the video's epochs=5, batch_size=32 and learning_rate=0.001
stand in the code. To try other values, edit that line.
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
#
# 视频里的导入语句。`TF_CPP_MIN_LOG_LEVEL` 用来减少 TensorFlow 的 C++ 日志，只有在导入之前设置才
# 有效。对每一块 GPU 都打开显存按需增长，这样没有 GPU 的笔记本电脑也能运行。固定的随机种子让每次
# 运行都打印同样的数字。

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
#
# 和视频一样，`load_data()` 第一次运行时把 MNIST 下载到 Keras 的缓存里。如果缓存里已经有一份，或
# 者用 `--data 文件`、`MNIST_NPZ=文件` 指定了一份，就改由 `read_mnist_npz()` 读取并检查，文件保
# 持原样：Keras 遇到不是它原版的文件会重新下载覆盖，没有网络时甚至会删掉它。下载失败时（没有网络、
# 网站被屏蔽、SSL 错误、30 秒没有回应），就用 `data/` 里自带的 5,000 张真实手写数字代替。
# `train_images` 和 `test_images` 保留 28x28 的图片；最后两行把 `x_train` 和 `x_test` 展平并缩放，
# 供全连接层（Dense）使用。


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


# %%
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
# ## Add one layer at a time / 一层一层地添加
#
# `model.add()` puts one more layer on the stack. The model starts with an `Input`, so
# Keras knows the shapes at once and `summary()` works after every step.
#
# `model.add()` 在层的堆叠上再加一层。模型从 `Input` 开始，所以 Keras 马上就知道各层的形状，每加
# 一步都可以调用 `summary()`。

# %%
from tensorflow.keras import layers

model = keras.Sequential()
model.add(keras.Input(shape=(784,)))  # Keras 3 needs a tuple: the video's shape=(784) fails
model.add(layers.Dense(512, activation="relu"))
model.summary()
model.add(layers.Dense(256, activation="relu"))
model.summary()
model.add(layers.Dense(10))
model.summary()

# %% [markdown]
# ## Train and evaluate / 训练和评估
#
# The same compile, fit and evaluate as in lesson 02. With the same seed, the same network
# starts from the same weights, so it prints the same numbers.
#
# 编译、训练和评估都和第 02 课一样。随机种子相同，同样的网络从同样的权重开始，所以打印的数字也完
# 全相同。

# %%
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.Adam(learning_rate=0.001),  # Keras 3: learning_rate=, not lr=
    metrics=["accuracy"],
    steps_per_execution=512,  # not in the video: faster on a CPU, same numbers
)
history = model.fit(x_train, y_train, batch_size=32, epochs=5, verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=32, verbose=2)
print(f"Final train accuracy: {history.history['accuracy'][-1]:.4f}")
print(f"Test accuracy: {test_accuracy:.4f}")
if data_name == "Bundled sample":  # 4,000 training images, not 60,000
    print("Expected: about 0.93 on the sample; 0.9787 on full MNIST, as in the video (~0.98)")

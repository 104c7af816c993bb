# %% [markdown]
# # Lesson 01: load MNIST and get it ready for a dense network
#
# Run it with `python 01_load_mnist.py` (`--quick`: the bundled sample, seconds; `--data FILE`:
# your own mnist.npz), or run this notebook's cells in order.
#
# **第 01 课：加载 MNIST，为全连接网络做准备**
#
# 用 `python 01_load_mnist.py` 运行（`--quick`：用自带样本，几秒钟；`--data 文件`：用你自己的
# mnist.npz），或者按顺序运行这个 notebook 的单元格。

# %%
"""Lesson 01: load MNIST and get it ready for a dense network.

As the video does first: load the 70,000 handwritten digits, flatten each 28x28 image into
784 numbers, as float32, divided by 255. Then look at the data before and after, count each
digit and draw the first one.

Run:
  python 01_load_mnist.py               as in the video: downloads MNIST once
  python 01_load_mnist.py --quick       on the bundled sample: seconds, no download
  python 01_load_mnist.py --data FILE   on your own copy of mnist.npz
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
# ## Before and after / 处理前后
#
# `load_data()` returns each image as a 28x28 grid of `uint8` pixels, from 0 (black) to 255
# (white), and each label as a whole number 0-9. A Dense layer wants one row of numbers per
# image, as floats near 0..1: that is what the setup's last two lines made of them.
#
# `load_data()` 返回的每张图片是 28x28 的 `uint8` 像素，从 0（黑）到 255（白），每个标签是 0 到
# 9 的整数。全连接层要的是每张图片一行数字，而且是接近 0..1 的浮点数：准备代码的最后两行就是把数
# 据变成了这样。


# %%
def describe(name, array):
    return f"{name:8} {array.shape!s:16} {array.dtype!s:8} values {array.min()} .. {array.max()}"


print("\nRaw, as load_data() returns it:")
print(describe("x_train", train_images))
print(describe("x_test", test_images))
print(describe("y_train", y_train))

print("\nPrepared for a dense network (flattened, float32, divided by 255):")
print(describe("x_train", x_train))
print(describe("x_test", x_test))

# %% [markdown]
# ## Count the digits / 每个数字有多少张
#
# MNIST has about as many images of each digit, so no digit dominates training.
#
# MNIST 里每个数字的图片数量差不多，所以训练时没有哪个数字占绝对多数。

# %%
print("\nImages of each digit in the training set:")
digits, counts = np.unique(y_train, return_counts=True)
print("  ".join(f"{digit}: {count}" for digit, count in zip(digits, counts)))

# %% [markdown]
# ## Pictures / 画图
#
# MNIST is pictures, so the lesson draws them with matplotlib. In a notebook or an editor's
# cell, each figure shows under its cell. A script saves it as a PNG in `figures/` beside the
# lesson instead, prints where, and never opens a window to wait for.
#
# MNIST 是图片，所以课程用 matplotlib 把它们画出来。在 notebook 或编辑器的单元格里，图显示在单元
# 格下面；用 `python` 运行脚本时，图保存为课程旁边 `figures/` 里的 PNG 文件，并打印路径，不会弹
# 出窗口等你关闭。

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
# ## The first 25 digits / 前 25 个数字
#
# `train_images` as pictures, each titled with its label. Look at how differently people write
# the same digit: thick or thin, slanted or upright. That is what the network has to learn.
#
# 把 `train_images` 画成图片，标题是它的标签。看看同一个数字大家写得多么不同：粗的细的，斜的正的。
# 这正是网络要学会的东西。

# %%
figure, axes = plt.subplots(5, 5, figsize=(6, 6.6), layout="constrained")
for image, label, ax in zip(train_images, y_train, axes.flat):
    ax.imshow(image, cmap="gray_r")  # dark ink on white paper
    ax.set_title(f"{label}")
    ax.axis("off")
figure.suptitle(f"The first 25 training digits, with their labels; {data_name}")
show(figure, "01_first_25_digits.png")

# %% [markdown]
# ## Draw the first digit / 画出第一张图
#
# The same 784 numbers, put back into 28 rows of 28. Stronger ink gets a denser
# character, two per pixel so that the digit keeps its shape.
#
# 同样的 784 个数字，重新排成 28 行、每行 28 个。笔迹越重，用的字符越密；每个像素用两个字符，让
# 数字保持原来的形状。

# %%
shades = " .:-=+*#%@"
border = "+" + "-" * 56 + "+"
print(f"\nThe first training image, labelled {y_train[0]}:")
print(border)
for row in x_train[0].reshape(28, 28):
    characters = "".join(shades[min(int(value * 10), 9)] * 2 for value in row)
    print(f"|{characters}|")
print(border)

# %% [markdown]
# # Lesson 05: pull the output of any layer out of a model
#
# Run it with `python 05_extract_layer_outputs.py` (`--quick`: the bundled sample, seconds;
# `--data FILE`: your own mnist.npz), or run this notebook's cells in order.
#
# **第 05 课：取出模型中任意一层的输出**
#
# 用 `python 05_extract_layer_outputs.py` 运行（`--quick`：用自带样本，几秒钟；`--data 文件`：
# 用你自己的 mnist.npz），或者按顺序运行这个 notebook 的单元格。

# %%
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
# ## A model with a named layer / 给一层起个名字
#
# The video's model, with the middle layer named `my_layer` so that it can be found by name
# below. It is never trained: its outputs come from the random starting weights, and their
# shapes are the same as a trained model's.
#
# 视频里的模型，中间一层命名为 `my_layer`，下面就可以按名字找到它。这个模型没有训练：它的输出来
# 自随机的初始权重，但形状和训练过的模型一样。

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
#
# `model.layers[-2]` 是倒数第二层，也就是有 256 个单元的 `my_layer`。特征提取器从 `model.inputs`
# 到这一层的输出：视频里的 `model.input` 在 Keras 3 的 Sequential 模型上会报错。`predict()` 每批
# 1,000 张，而不是默认的 32 张：更快，输出相同。

# %%
extractor = keras.Model(inputs=model.inputs, outputs=[model.layers[-2].output])  # Keras 3: inputs
features = extractor.predict(x_train, batch_size=1000, verbose=0)
print(f"model.layers[-2] ({model.layers[-2].name}): {features.shape}")

# %% [markdown]
# ## By name / 按名字
#
# The same layer, found without counting. Safer when the model changes.
#
# 同一层，不用数位置就能找到。模型改动时更安全。

# %%
extractor = keras.Model(inputs=model.inputs, outputs=[model.get_layer("my_layer").output])
features = extractor.predict(x_train, batch_size=1000, verbose=0)
print(f'model.get_layer("my_layer"): {features.shape}')

# %% [markdown]
# ## Every layer at once / 所有层
#
# With a list of outputs, `predict()` returns a list: one array per layer.
#
# 输出是一个列表时，`predict()` 也返回一个列表：每层一个数组。

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
# ## What a layer's output is for / 层的输出有什么用
#
# `my_layer` turns each digit into 256 numbers. Here they are for 2,000 test digits, turned
# into two numbers each (their two main directions, PCA with numpy's SVD) and drawn as one
# point per digit, coloured by its true label. Untrained, the digits lie mixed together.
# The figure then trains the same model for one epoch, compiled as lesson 02 compiles it
# (not in the video: the extraction above needs no training), and the same digits fall apart
# into groups: those 256 numbers are what the last layer tells the digits apart with.
#
# `my_layer` 把每个数字变成 256 个数。这里取 2,000 张测试图片，把这 256 个数压缩成两个（它们变化
# 最大的两个方向，用 numpy 的 SVD 做 PCA），每张图片画成一个点，颜色是它的真实标签。没有训练时，
# 各个数字混在一起。然后图里按第 02 课的方法编译同一个模型，训练一个 epoch（不在视频里：上面的
# 提取不需要训练），同样的数字就分成了一团一团：最后一层正是靠这 256 个数来区分数字的。


# %%
def main_directions(outputs):
    """Each row's two coordinates along the directions the rows vary most (PCA)."""
    centred = outputs - outputs.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    return centred @ directions[:2].T


digits, labels = x_test[:2000], y_test[:2000]
extractor = keras.Model(inputs=model.inputs, outputs=[model.get_layer("my_layer").output])
untrained = main_directions(extractor.predict(digits, batch_size=1000, verbose=0))
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
    metrics=["accuracy"],
    steps_per_execution=512,  # as in 02: faster on a CPU, same numbers
)
model.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0)  # for this figure only
trained = main_directions(extractor.predict(digits, batch_size=1000, verbose=0))

figure, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for ax, points, state in zip(axes, (untrained, trained), ("untrained", "trained, 1 epoch")):
    dots = ax.scatter(*points.T, c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=5)
    ax.set(title=f"my_layer, {state}", xlabel="first main direction", ylabel="second")
figure.colorbar(dots, ax=axes, ticks=range(10), label="true digit")
figure.suptitle(f"The 256 outputs of my_layer for {len(digits)} test digits; {data_name}")
show(figure, "05_my_layer_outputs.png")

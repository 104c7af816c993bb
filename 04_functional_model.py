# %% [markdown]
# # Lesson 04: the same network with the Functional API
#
# Run it with `python 04_functional_model.py` (`--quick`: the bundled sample, seconds; `--data
# FILE`: your own mnist.npz), or run this notebook's cells in order.
#
# **第 04 课：用函数式 API 构建同一个网络**
#
# 用 `python 04_functional_model.py` 运行（`--quick`：用自带样本，几秒钟；`--data 文件`：用你自
# 己的 mnist.npz），或者按顺序运行这个 notebook 的单元格。

# %%
"""Lesson 04: the same network with the Functional API.

Call each layer on a tensor and wire the graph yourself: more flexible than Sequential.
The layers get names, the output applies softmax (so from_logits=False), and the text
shows the two mistakes the video makes on the way.

Run:
  python 04_functional_model.py               as in the video: downloads MNIST once
  python 04_functional_model.py --quick       on the bundled sample: seconds, no download
  python 04_functional_model.py --data FILE   on your own copy of mnist.npz

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
# ## The Functional API / 函数式 API
#
# Each layer is called on the output of the one before, from `inputs` to `outputs`, and
# `keras.Model` ties the two ends together; the video first forgets that line, and without
# it there is no model to compile. The layer names show in the summary.
#
# 每一层都作用在前一层的输出上，从 `inputs` 一直到 `outputs`，再由 `keras.Model` 把两端连起来；
# 视频里一开始忘了这一行，没有它就没有可以编译的模型。层的名字会显示在 summary 里。

# %%
from tensorflow.keras import layers

inputs = keras.Input(shape=(784,))  # Keras 3 needs a tuple: the video's shape=(784) fails
x = layers.Dense(512, activation="relu", name="first_layer")(inputs)
x = layers.Dense(256, activation="relu", name="second_layer")(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()

# %% [markdown]
# ## Train and evaluate / 训练和评估
#
# The output is softmax now: ten probabilities, not logits. So the loss must be told
# `from_logits=False`. The video first kept `True`, which trains on the wrong loss.
#
# 现在输出层是 softmax：给出十个概率，而不是 logits。所以损失函数要设置 `from_logits=False`。视
# 频里一开始还保留着 `True`，那样训练用的是错误的损失。

# %%
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
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
# ## What the model predicts / 模型的预测
#
# With softmax, `predict()` gives ten probabilities per digit that add up to 1. Here are the
# first 12 test digits and, so that a mistake shows too, the first 3 the model gets wrong,
# each with its ten probabilities as bars: the true digit's bar is blue, and a wrong
# prediction's bar and title are red. A tall single bar means a confident model.
#
# 有了 softmax，`predict()` 对每个数字给出十个加起来等于 1 的概率。这里画出前 12 张测试图片，以
# 及模型认错的前 3 张（让错误也能看到），每张旁边是十个概率的柱状图：真实数字的柱子是蓝色，预测
# 错时那根柱子和标题是红色。只有一根高柱子，说明模型很有把握。

# %%
probabilities = model.predict(x_test, batch_size=1000, verbose=0)
wrong = np.flatnonzero(probabilities.argmax(axis=1) != y_test)
shown = [*range(12), *[i for i in wrong if i >= 12][:3]]  # the first 12, then 3 mistakes
figure, axes = plt.subplots(5, 6, figsize=(12, 10), layout="constrained")
for i, image_axes, bar_axes in zip(shown, axes.flat[0::2], axes.flat[1::2]):
    predicted = probabilities[i].argmax()
    color = "tab:blue" if predicted == y_test[i] else "tab:red"
    image_axes.imshow(test_images[i], cmap="gray_r")
    title = f"#{i + 1}: predicted {predicted} ({probabilities[i].max():.0%})"
    image_axes.set_title(title, color=color, fontsize=9)
    image_axes.axis("off")
    bars = bar_axes.bar(range(10), probabilities[i], color="lightgray")
    bars[predicted].set_color("tab:red")
    bars[y_test[i]].set_color("tab:blue")
    bar_axes.set(xticks=range(10), ylim=(0, 1), yticks=[])
figure.suptitle(
    f"Test digits 1-12, then the first {len(shown) - 12} the model gets wrong; "
    f"trained on {data_name}"
)
show(figure, "04_predictions.png")

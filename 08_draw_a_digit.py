# %% [markdown]
# # Lesson 08: draw a digit in your browser
#
# Run it with `python 08_draw_a_digit.py [--quick] [--port N] [--no-browser]` and open the address
# it prints; Ctrl-C stops it. In a notebook, run the cells in order, and interrupt the last one to
# stop the server.
#
# **第 08 课：在浏览器里写一个数字**
#
# 用 `python 08_draw_a_digit.py [--quick] [--port N] [--no-browser]` 运行，打开它打印的地址；按
# Ctrl-C 停止。在 notebook 里按顺序运行单元格，中断最后一个单元格即可停止服务器。

# %%
"""Lesson 08: draw a digit in your browser and watch the model read it.

Not in the video: the model of lesson 07 at work on a digit you draw. The page is served by
page_server.py beside this file, with Python's standard library, on this machine only
(127.0.0.1); it loads nothing from anywhere else, so it works offline and behind any firewall.
Each stroke is prepared as lesson 07 prepares a photo (handwriting.py), and the page shows the
guess, the ten probabilities and the 28x28 input the model saw. Copy both files with the lesson.

Run:
  python 08_draw_a_digit.py                 the best model 07 saved in models/ (or trains one)
  python 08_draw_a_digit.py --quick         the model of the bundled sample: seconds
  python 08_draw_a_digit.py --port 8000     on this port instead of a free one
  python 08_draw_a_digit.py --no-browser    print the address and wait, open no browser
  python 08_draw_a_digit.py --model FILE    read with this saved model

Stop it with Ctrl-C (in a notebook: interrupt the cell).
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
parser.add_argument("--port", type=int, default=0, help="listen on this port (default: a free one)")
parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
parser.add_argument("--model", metavar="FILE", help="read with this model, not yours or 07's")
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
# ## The model lesson 07 saved / 第 07 课保存的模型
#
# Lesson 07 saves the video's network in `models/`: `mnist_dense.keras` when it learned all of
# MNIST, `mnist_dense_sample.keras` from the bundled sample; lesson 09 saves yours beside it,
# `..._yours.keras`, taught your hand. This cell loads the best one there (yours first;
# `--quick`: the sample's; `--model FILE`: that one), and says which and how well it reads
# MNIST's test digits; with none saved yet, it trains the network as lesson 02 does and saves it
# as 07 would.
#
# 第 07 课把视频里的网络保存在 `models/` 里：学过完整 MNIST 的是 `mnist_dense.keras`，用自带样本训练
# 的是 `mnist_dense_sample.keras`；第 09 课把学会你笔迹的模型保存在旁边，名为 `..._yours.keras`。这
# 个单元格加载其中最好的一个（先找你的；`--quick` 时用样本的；`--model 文件` 时用那个文件），并说明
# 加载了哪个、它在 MNIST 测试集上的准确率；如果还没有保存过，就像第 02 课那样训练网络，再像 07 那样
# 保存。

# %%
from tensorflow.keras import layers

models_folder = os.path.join(os.path.dirname(globals().get("__file__", "")), "models")
best_first = ["mnist_dense_yours.keras", "mnist_dense.keras"]  # yours: lesson 09 saves it
best_first += ["mnist_dense_sample_yours.keras", "mnist_dense_sample.keras"]
if args.quick:
    best_first = best_first[2:]
saved = [os.path.join(models_folder, name) for name in best_first]
saved = [model_file for model_file in saved if os.path.exists(model_file)]
if args.model:
    saved = [args.model]
if saved:
    model_file = saved[0]
    try:
        model = keras.models.load_model(model_file)
    except Exception as err:  # a damaged file, or one another Keras saved
        raise SystemExit(f"Cannot load {model_file}: {err}. Delete it to train again.") from None
else:
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),  # Keras 3 needs a tuple: the video's shape=(28 * 28) fails
            layers.Dense(512, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(10),
        ]
    )
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(learning_rate=0.001),  # Keras 3: learning_rate=, not lr=
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=5, verbose=2)
    trained_on = "mnist_dense.keras" if data_name == "MNIST" else "mnist_dense_sample.keras"
    model_file = os.path.join(models_folder, trained_on)
    os.makedirs(models_folder, exist_ok=True)
    model.save(model_file)  # Keras 3: a .keras file, not the video's series' folder
model.compile()  # predict_on_batch() below: one batch a call (Keras 2: not 512, as 07 compiled it)
test_accuracy = np.mean(np.argmax(model(x_test, training=False), axis=1) == y_test)
model_name = f"{os.path.basename(model_file)}, test accuracy {test_accuracy:.4f}"
print(f"The model: {model_file}, test accuracy {test_accuracy:.4f} on {data_name}")
if model_file.endswith("_yours.keras"):
    print("It is yours: lesson 09 taught it your hand (--model FILE chooses another)")

# %% [markdown]
# ## A drawing, read / 读一幅画
#
# The page sends the canvas as a PNG: white strokes on black. `handwriting.read_page()` takes it
# through lesson 07's steps: two digits side by side are read as two, and a dash or a dot is no
# digit. The answer is what the page shows: the digits, and for each its ten probabilities and
# the 28x28 grey levels the model saw; a digit the model is not sure of names both candidates.
# With ten outputs the network always names a digit: a letter may still get a sure one.
# `digit`, `probabilities` and `input` are the first digit's. The model's lock covers its call
# alone: each request prepares its drawing in its own thread.
#
# 网页把画布以 PNG 发过来：黑底白字。`handwriting.read_page()` 让它走第 07 课的步骤：并排写的两个数
# 字读成两个，一条短横或一个点不算数字。回答的就是网页要显示的内容：读出的数字，以及每个数字的十个概
# 率和模型看到的 28x28 灰度；模型拿不准的数字会给出两个候选。网络只有十个输出，总会说出一个数字：写
# 一个字母，也可能得到一个有把握的数字。`digit`、`probabilities` 和 `input` 是第一个数字的。模型的锁
# 只包住模型调用本身：每个请求在自己的线程里准备它的画。

# %%
import io
import threading

import handwriting

SURE = 0.95  # a guess less probable is shown as not sure, with the next one: see the README
model_lock = threading.Lock()  # one prediction at a time, whatever the threads


def read_drawing(png):
    """What the model reads in a PNG of the canvas, as the page shows it. ValueError when the
    bytes are no image, or hold thousands of marks."""
    try:
        grey = handwriting.open_grey(io.BytesIO(png))
    except Exception:
        raise ValueError("the body is not a PNG image that Pillow can read") from None
    try:
        page = handwriting.read_page(grey)
    except handwriting.NotHandwriting:  # no drawing: a bad request
        raise
    except ValueError as err:  # an empty canvas, a dash, a dot
        return {"digit": None, "digits": "", "details": [], "message": str(err)}
    inputs = np.array([digit.input for digit in page.digits])
    with model_lock:
        logits = model.predict_on_batch(inputs)  # compiled once: faster than model(inputs) here
    probabilities = tf.nn.softmax(logits).numpy()
    details = [detail(scores, digit) for scores, digit in zip(probabilities, inputs)]
    first = details[0]
    return {
        "digit": first["digit"],
        "probabilities": first["probabilities"],
        "input": first["input"],
        "digits": "".join(str(d["digit"]) for d in details),
        "details": details,
    }


def detail(scores, digit_input):
    """One digit's answer: the guess, whether the model is SURE, the next guess, the ten
    probabilities, and the 28x28 grey levels it saw."""
    first, second = np.argsort(scores)[::-1][:2]
    return {
        "digit": int(first),
        "sure": bool(scores[first] >= SURE),
        "or": int(second),
        "probabilities": [round(float(p), 4) for p in scores],
        "input": np.round(digit_input.reshape(28, 28) * 255).astype(int).tolist(),
    }


# %% [markdown]
# ## Open the page / 打开网页
#
# `page_server.serve()` listens on 127.0.0.1 only, on a free port unless `--port` names one, and
# prints the address; your browser opens it unless you pass `--no-browser`. It runs until you
# press Ctrl-C, or interrupt the cell in a notebook. It is as careful as Jupyter's server, since
# any site you visit can make your browser send it requests: see `page_server.py`. Under the
# answer, "this is a 7" saves your drawing in `my_digits/7/`, under a name the server makes:
# lesson 09 learns your hand from them.
#
# `page_server.serve()` 只在 127.0.0.1 上监听，端口是一个空闲端口（除非用 `--port` 指定），并打印地
# 址；除非加了 `--no-browser`，浏览器会自动打开它。按 Ctrl-C（在 notebook 里是中断这个单元格）就会停
# 止。你访问的任何网站都能让你的浏览器向它发请求，所以它和 Jupyter 的服务器一样谨慎，详见
# `page_server.py` 的说明。在答案下面点"这是 7"，你的画就会保存到 `my_digits/7/`，文件名由服务器来
# 起：第 09 课用它们学习你的笔迹。

# %%
import page_server

examples_folder = os.path.join(os.path.dirname(globals().get("__file__", "")), "my_digits")
page_server.serve(
    read_drawing,
    args.port,
    open_browser=not args.no_browser,
    model=model_name,
    examples_folder=examples_folder,  # "this is a 7" saves the drawing in my_digits/7/
)

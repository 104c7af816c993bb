# %% [markdown]
# # Lesson 07: your own handwriting
#
# Run it with `python 07_your_own_digits.py [--quick] [--data FILE] [IMAGE_OR_FOLDER ...]`. In a
# notebook, name your photos in `my_images` below, and run the cells in order.
#
# **第 07 课：读你自己写的数字**
#
# 用 `python 07_your_own_digits.py [--quick] [--data FILE] [图片或文件夹 ...]` 运行。在
# notebook 里，把你的照片写进下面的 `my_images`，然后按顺序运行单元格。

# %%
"""Lesson 07: your own handwriting. Save the trained model, prepare a photo of a digit the way
MNIST was made, and read every digit on it.

Not in the video: what a learner asks next. The video's network is saved in models/ and loaded
by every later run. A clean digit is prepared as MNIST's were; a photo needs more, which
handwriting.py beside this file does (copy it with the lesson), and every digit is read.

Run:
  python 07_your_own_digits.py                     the bundled examples in data/own_digits/
  python 07_your_own_digits.py photo.jpg folder/   your own photos (files or folders)
  python 07_your_own_digits.py --quick             trained on the bundled sample: seconds
  python 07_your_own_digits.py --data FILE         trained on your own copy of mnist.npz
  python 07_your_own_digits.py --model FILE        read with this saved model

Name a photo by its digits (7.jpg, 7-anna.jpg, a sheet 12345_67890.jpg) or put it in a folder
named by its digit (7/photo.jpg), and the lesson counts how many it reads right.
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
parser.add_argument("--model", metavar="FILE", help="read with this model, not yours or 07's")
parser.add_argument("images", nargs="*", metavar="IMAGE_OR_FOLDER", help="photos to read")
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
# ## Train once, save, load / 训练一次，保存，再加载
#
# The video's network, trained as lesson 02 trains it, saved with `model.save()` as one `.keras`
# file in `models/` (architecture, weights and optimizer), and loaded by every later run with
# `keras.models.load_model()` in a second or two: the same scores, exactly. `save_weights()` keeps
# the weights alone, for any model of the same layers. A model of the bundled sample has a name of
# its own. Keras 3 refuses the video's `model.save("saved_model/")`: a name ends in `.keras`.
# Once lesson 09 has saved yours beside it (`..._yours.keras`), the photos are read with yours,
# and the lesson says so; `--model FILE` chooses another.
#
# 网络和视频里的一样，按第 02 课的方法训练，用 `model.save()` 保存成 `models/` 里的一个 `.keras` 文
# 件（结构、权重和优化器都在里面），以后每次运行都用 `keras.models.load_model()` 在一两秒内加载，给
# 出的分数完全相同。`save_weights()` 只保存权重，可以装进任何结构相同的模型。用自带样本训练的模型另
# 有文件名。Keras 3 不接受视频里的 `model.save("saved_model/")`：文件名要以 `.keras` 结尾。第 09 课
# 把学会你笔迹的模型（`..._yours.keras`）保存在旁边之后，照片就用你的模型来读，课程会说明这一点；
# `--model 文件` 可以指定别的模型。

# %%
from tensorflow.keras import layers

model_name = "mnist_dense.keras" if data_name == "MNIST" else "mnist_dense_sample.keras"
model_file = os.path.join(os.path.dirname(globals().get("__file__", "")), "models", model_name)
if os.path.exists(model_file):
    try:
        model = keras.models.load_model(model_file)
    except Exception as err:  # a damaged file, or one another Keras saved
        raise SystemExit(f"Cannot load {model_file}: {err}. Delete it to train again.") from None
    print(f"Loaded {model_file}, trained on {data_name} by an earlier run (delete it to retrain)")
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
        steps_per_execution=512,  # not in the video: faster on a CPU, same numbers
    )
    model.fit(x_train, y_train, batch_size=32, epochs=5, verbose=2)
    os.makedirs(os.path.dirname(model_file) or ".", exist_ok=True)
    model.save(model_file)  # Keras 3: a .keras file, not the video's series' folder
    print(f"Saved {model_file}, trained on {data_name} ({len(x_train)} training images)")
    # Loaded back, the model gives exactly the same scores; its weights alone fit a fresh copy.
    scores = model(x_test[:1000], training=False).numpy()
    loaded = keras.models.load_model(model_file)
    same = np.array_equal(scores, loaded(x_test[:1000], training=False).numpy())
    print(f"load_model({model_name!r}) predicts exactly what the model did: {same}")
    weights_file = model_file.replace(".keras", ".weights.h5")
    model.save_weights(weights_file)  # Keras 3: the name must end in .weights.h5
    fresh = keras.models.clone_model(model)  # the same layers, new random weights
    fresh.load_weights(weights_file)
    same = np.array_equal(scores, fresh(x_test[:1000], training=False).numpy())
    print(f"load_weights({os.path.basename(weights_file)!r}) into a fresh copy, the same: {same}")
yours_file = model_file.replace(".keras", "_yours.keras")  # lesson 09 saves it
if args.model or os.path.exists(yours_file):
    model_file = args.model or yours_file
    try:
        model = keras.models.load_model(model_file)
    except Exception as err:
        raise SystemExit(f"Cannot load {model_file}: {err}") from None
    print(f"Reading with {model_file} (lesson 09 saves yours; --model FILE chooses another)")
test_logits = model(x_test, training=False)  # at once: evaluate() would first build a graph
test_accuracy = np.mean(np.argmax(test_logits, axis=1) == y_test)
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
# ## MNIST's recipe, on one clean digit / MNIST 的做法：先看一个干净的数字
#
# MNIST's digits are white on black, cropped to their ink, fitted into 20x20 with their aspect
# kept, then placed in 28x28 so that their centre of mass is its middle (LeCun's MNIST page).
# A digit drawn on a black canvas needs nothing else: these lines do it with Pillow and
# `scipy.ndimage`, then give the model one row of 784 values. The model gives logits: softmax
# turns them into the ten probabilities.
#
# MNIST 的数字是黑底白字，裁剪到笔迹本身，保持长宽比放进 20x20，再放进 28x28，让它的重心落在正中（见
# LeCun 的 MNIST 网页）。黑色画布上写的数字只需要这几步：下面几行用 Pillow 和 `scipy.ndimage` 完成，
# 然后把一行 784 个数交给模型。模型输出的是 logits，用 softmax 变成十个概率。

# %%
from PIL import Image, ImageOps
from scipy import ndimage

clean_file = os.path.join(os.path.dirname(globals().get("__file__", "")), "data/own_digits/7.png")
grey = np.asarray(Image.open(clean_file).convert("L"), dtype=np.float32) / 255  # white on black
rows, columns = np.nonzero(grey > 0.1)
crop = grey[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
fitted = np.asarray(ImageOps.contain(Image.fromarray(crop), (20, 20), Image.Resampling.BOX))
padded = np.zeros((28, 28), np.float32)
top, left = (28 - fitted.shape[0]) // 2, (28 - fitted.shape[1]) // 2
padded[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
mass_y, mass_x = ndimage.center_of_mass(padded)
centred = ndimage.shift(padded, (round(14 - mass_y), round(14 - mass_x)), order=0)
logits = model(centred.reshape(1, 784), training=False)  # one row of 784 values, 0 to 1
probabilities = tf.nn.softmax(logits)[0].numpy()
print(f"{clean_file}: read {np.argmax(probabilities)} ({probabilities.max():.2f})")

figure, axes = plt.subplots(1, 5, figsize=(12, 2.8), layout="constrained")
steps = [grey, crop, fitted, padded, centred]
titles = ["the drawing", "1. cropped to its ink", "2. fitted into 20x20", "3. placed in 28x28"]
for ax, step, title in zip(axes, steps, titles + ["4. centred by its mass"]):
    ax.imshow(step, cmap="gray", vmin=0, vmax=1)
    ax.set(xticks=[], yticks=[], title=title)
show(figure, "07_recipe.png")

# %% [markdown]
# ## A photo needs more / 照片还需要更多步骤
#
# A phone photo has shadows, the paper's edge, specks, and often several digits. `handwriting.py`
# beside this lesson does more (the ink measured against the paper around it, the digits found
# in reading order, strokes brought to MNIST's width); its docstring shows the few lines that
# read a photo. Name files or folders on the command line (in a notebook, in `my_images`): each
# image gets `Read FILE: DIGITS`, then a line a digit; one that cannot be read, one line saying
# why. Your files are only read. The network has ten outputs, so it always names a digit: "not
# sure" catches many letters and marks, not all (benchmarks/not_digits.py: 37 of 62 read sure).
#
# 手机照片有阴影、纸边、斑点，常常不止一个数字。课程旁边的 `handwriting.py` 多做几步（相对于周围的纸
# 来衡量笔迹，按阅读顺序找出数字，把笔画调到 MNIST 的粗细）；它的文档字符串里有读一张照片的几行代
# 码。在命令行里写上文件或文件夹（notebook 里写进 `my_images`）：每张图片打印 `Read 文件: 数字`，然
# 后每个数字一行；读不了的图片只打印一行原因。你的文件只会被读取。网络只有十个输出，所以总会说出一个
# 数字："拿不准"能挡住很多字母和记号，但不是全部（benchmarks/not_digits.py：62 个里有 37 个被当成有
# 把握的数字）。

# %%
import handwriting

my_images = []  # in a notebook: ["photo.jpg", "my_digits/"], beside the notebook or here
SURE = 0.95  # a guess less probable is shown as not sure, with the next one: see the README


def detail(number, scores):
    """A digit's line: its probability and the next two guesses; or, not SURE, both."""
    first, second, third = np.argsort(scores)[::-1][:3]
    if scores[first] < SURE:
        both = f"{first} ({scores[first]:.2f}) or {second} ({scores[second]:.2f})"
        return f"  digit {number}: not sure: {both}"
    return (
        f"  digit {number}: {first} ({scores[first]:.2f}); "
        f"next {second} ({scores[second]:.2f}), {third} ({scores[third]:.2f})"
    )


examples = os.path.join(os.path.dirname(globals().get("__file__", "")), "data", "own_digits")
names = args.images or my_images or [examples]
if in_notebook:  # a notebook runs from the lessons' folder: look beside it too
    names = [handwriting.beside(name, "notebooks") for name in names]
image_files, problems = handwriting.images_named(names)
for name, why in problems:
    print(f"Cannot read {handwriting.shown(name)}: {why}")

readings = []  # one for each image read: the file, its page, the model's probabilities
for file in image_files:
    try:
        page = handwriting.read_page(file)
    except ValueError as err:
        problems.append((file, err))
        print(f"Cannot read {handwriting.shown(file)}: {err}")
        continue
    inputs = np.array([digit.input for digit in page.digits])
    probabilities = tf.nn.softmax(model(inputs, training=False)).numpy()
    text = page.text(np.argmax(probabilities, axis=1))
    readings.append(dict(file=file, page=page, probabilities=probabilities, text=text))
    readings[-1]["label"] = handwriting.label_of(file)
    print(f"Read {handwriting.shown(file)}: {text}")
    for number, scores in enumerate(probabilities, start=1):
        print(detail(number, scores))

# %% [markdown]
# ## Every step, and every digit misread / 每一步，以及每个读错的数字
#
# A figure for the first digit of each image (the first 10) and for every digit misread on an
# image named by its digits: where it is, its ink, its steps to MNIST's form, and the model's
# ten probabilities (as in lesson 04: the true digit's bar blue, a wrong guess red).
#
# 每张图片的第一个数字（最多前 10 张）和文件名写明了数字的图片上每个读错的数字，各画一张图：它在哪
# 里、它的笔迹、变成 MNIST 样子的每一步，以及十个概率（和第 04 课一样：真实数字蓝色，猜错的红色）。

# %%
import glob

from matplotlib.patches import Rectangle

figures = os.path.join(os.path.dirname(globals().get("__file__", "")), "figures")
earlier = glob.glob(os.path.join(figures, "07_steps_*.png"))
if earlier and not in_notebook:  # figures of an earlier run, of other images, would lie beside
    for path in earlier:
        os.remove(path)
    print(f"Removed the {len(earlier)} figures 07_steps_*.png of an earlier run")


def draw_digit(reading, number, name):
    """One figure: the photo, its ink, digit `number`'s steps, and its ten probabilities."""
    page, digit = reading["page"], reading["page"].digits[number]
    figure, axes = plt.subplots(2, 4, figsize=(10, 5.5), layout="constrained")
    height, width = page.grey.shape
    every = max(1, max(height, width) // 400)  # a screen's worth of pixels is enough to see
    place = dict(extent=(0, width, height, 0), vmin=0)  # in the photo's own pixels
    axes[0, 0].imshow(page.grey[::every, ::every], cmap="gray", vmax=255, **place)
    for other, read in zip(page.digits, reading["text"].replace(" ", "")):
        color = "tab:orange" if other is digit else "tab:red"
        top, left, bottom, right = other.box
        outline = Rectangle((left, top), right - left, bottom - top, fill=False, color=color)
        axes[0, 0].add_patch(outline)
        axes[0, 0].text(left, top, read, color=color, fontsize=14, va="bottom")
    axes[0, 0].set(title=f"read: {reading['text']}", xticks=[], yticks=[])
    axes[0, 1].imshow(page.ink[::every, ::every], cmap="gray", vmax=1, **place)
    axes[0, 1].set(title="the ink, white on black", xticks=[], yticks=[])
    titles = ["1. its ink, cropped", "2. fitted into 20x20", "3. MNIST's stroke width"]
    titles += ["4. placed in 28x28", "5. centred: what the model sees"]
    for ax, step, title in zip([*axes[0, 2:], *axes[1, :3]], digit.steps, titles):
        ax.imshow(step, cmap="gray", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[], title=title)
    scores = reading["probabilities"][number]
    guess = true = int(np.argmax(scores))
    label = (reading["label"] or "").replace(" ", "")
    if len(label) == len(page.digits):  # as lesson 04 colours them
        true = int(label[number])
    colors = [
        "tab:blue" if d == true else "tab:red" if d == guess else "lightgrey" for d in range(10)
    ]
    axes[1, 3].bar(range(10), scores, color=colors)
    title = f"digit {number + 1}: read {guess}" + (f", true {true}" if label else "")
    axes[1, 3].set(xticks=range(10), ylim=(0, 1), title=title, xlabel="probability of each digit")
    file = handwriting.shown(os.path.basename(reading["file"]))
    figure.suptitle(f"{file}, digit {number + 1}; model trained on {data_name}", parse_math=False)
    show(figure, name)


for n, reading in enumerate(readings):
    label = (reading["label"] or "").replace(" ", "")
    wrong = [i for i, (a, b) in enumerate(zip(reading["text"].replace(" ", ""), label)) if a != b]
    if len(label) != len(reading["page"].digits):
        wrong = []  # a digit too many or too few: which is which is unknown
    if n < 10:  # the first digit of the first 10 images, too
        wrong = sorted({0} | set(wrong))
    for number in wrong:
        draw_digit(reading, number, f"07_steps_{n + 1:02}_digit_{number + 1}.png")

# %% [markdown]
# ## Why the preparation matters / 为什么要这样准备
#
# Most learners first resize the whole photo to 28x28. Here that is done too (light on dark, to
# be fair) on each image named by one digit, and both ways are counted. The photo's digit comes
# out small, off-centre and thin; MNIST's are not, and the model only knows MNIST's.
#
# 大多数初学者先把整张照片直接缩小到 28x28。这里对每一张文件名写明单个数字的图片也这样做（为了公平，
# 同样转成黑底白字），两种方法各数一数读对了几个。直接缩小后，数字又小、又偏、又细；MNIST 的数字不是
# 这样，而模型只认识 MNIST 的数字。


# %%
def naive_input(grey):
    """What a newcomer tries first: the whole image resized to 28x28, made light on dark."""
    if np.median(grey) > 127:
        grey = 255 - grey
    small = Image.fromarray(grey).resize((28, 28), Image.Resampling.BOX)
    return (np.asarray(small) / 255.0).reshape(28 * 28).astype("float32")


labelled = [r for r in readings if r["label"] is not None and len(r["label"]) == 1]
if labelled:
    naive_inputs = np.array([naive_input(r["page"].grey) for r in labelled])
    naive_digits = np.argmax(model(naive_inputs, training=False).numpy(), axis=1)
    naive_right = sum(str(d) == r["label"] for d, r in zip(naive_digits, labelled))
    prepared_right = sum(r["text"] == r["label"] for r in labelled)
    print(f"Naive resize to 28x28: {naive_right} of {len(labelled)} labelled digits read right")
    print(f"Prepared the MNIST way: {prepared_right} of {len(labelled)} labelled digits read right")
else:
    print("No image is named by its digit (7.jpg, 7/photo.jpg): nothing to count right")
for reading in [r for r in readings if r["label"] is not None and len(r["label"]) > 1]:
    read, label = reading["text"].replace(" ", ""), reading["label"].replace(" ", "")
    right = 0  # a digit too many or too few shifts all that follow: none counts as right
    if len(read) == len(label):
        right = sum(a == b for a, b in zip(read, label))
    print(f"{handwriting.shown(reading['file'])}: {right} of {len(label)} digits right, in order")

# %% [markdown]
# ## It does not hurt MNIST / 对 MNIST 本身没有坏处
#
# MNIST's own test digits, through the very same steps, are read as well as they are: shown in a
# notebook, where you look (on all 10,000 it takes seconds). A script ends with exit status 1
# when an image could not be read, as the lines above say.
#
# MNIST 自己的测试数字按完全相同的步骤处理后，读得和原来一样好：在 notebook 里显示，那是你看它的地方
# （全部 10,000 张要花几秒钟）。有图片读不了时，脚本以状态码 1 结束，上面几行已经说明原因。

# %%
if in_notebook:
    inks = (handwriting.ink_of(image.astype(np.float32)) for image in test_images)
    again = np.array([handwriting.mnist_input(ink) for ink in inks])
    through_steps = np.argmax(model.predict(again, batch_size=1000, verbose=0), axis=1) == y_test
    print(f"The {len(again)} test digits through the same steps: {through_steps.mean():.4f}")
    print(f"As they are, above: {test_accuracy:.4f}")
if problems and not in_notebook:
    raise SystemExit(f"{len(problems)} of the images could not be read: see the lines above")

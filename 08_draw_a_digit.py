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

Not in the video: the model of lesson 07 at work on a digit you draw. The lesson serves a page
with Python's standard library, on this machine only (127.0.0.1); the page loads nothing from
anywhere else, so it works offline and behind any firewall. Each stroke is sent to the model,
prepared as lesson 07 prepares a photo, and the page shows the guess, the ten probabilities and
the 28x28 input the model saw.

Run:
  python 08_draw_a_digit.py                 loads models/ of lesson 07, or trains and saves
  python 08_draw_a_digit.py --quick         the model of the bundled sample: seconds
  python 08_draw_a_digit.py --port 8000     on this port instead of a free one
  python 08_draw_a_digit.py --no-browser    print the address and wait, open no browser

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
# ## The model from lesson 07 / 第 07 课的模型
#
# Lesson 07 saves the video's network in `models/`. This is the same cell: it loads that file
# when it is there, and says which; otherwise it trains the network as lesson 02 does and
# saves it, so that the next run, of either lesson, loads it in seconds. `--quick` has a model
# of its own, trained on the bundled sample.
#
# 第 07 课把视频里的网络保存在 `models/` 里。这里用的是同一个单元格：文件存在就加载，
# 并说明加载了哪个；不存在就像第 02 课那样训练并保存，下次运行（不管是哪一课）几秒钟
# 就能加载。`--quick` 有自己的模型，是用自带样本训练的。

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
test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=32, verbose=2)
print(f"Test accuracy: {test_accuracy:.4f}")
if data_name == "Bundled sample":  # 4,000 training images, not 60,000
    print("Expected: about 0.93 on the sample; 0.9787 on full MNIST, as in the video (~0.98)")

# %% [markdown]
# ## One digit: a photo becomes the model's input / 一个数字：照片变成模型的输入
#
# MNIST's digits are white on black, cropped, fitted to a 20x20 box with their aspect kept,
# and centred in 28x28 by their centre of mass (LeCun's MNIST page). These functions make a
# photo so, with Pillow for the image and `scipy.ndimage` for the rest: grey levels; the ink,
# light on dark, measured against the paper around it (so that shadows, a grey sheet or dim
# light count as paper); then the digit cropped, fitted to 20x20, its strokes brought to
# MNIST's width, padded to 28x28 and centred. Copy this cell alone to read one digit.
#
# MNIST 的数字是黑底白字，裁剪到数字本身，保持长宽比缩放到 20x20 的框里，再按重心放在 28x28 的中央（
# 见 LeCun 的 MNIST 网页）。这些函数用 Pillow 处理图片，用 `scipy.ndimage` 完成其余步骤，把照片变成
# 那样：转成灰度；相对于周围的纸来衡量笔迹，变成黑底白字（这样阴影、灰色的纸或昏暗的光线都算作纸）；
# 然后裁剪数字，缩放到 20x20，把笔画调到 MNIST 的粗细，补成 28x28 并按重心居中。只读一个数字的话，复
# 制这一个单元格就够了。

# %%
from PIL import Image, ImageOps, PngImagePlugin
from scipy import ndimage

LARGEST_SIDE = 1600  # a photo is shrunk to this first: a 12-megapixel one costs no more
LARGEST_PHOTO = 50_000_000  # pixels: a larger image is refused before it is decoded
MNIST_STROKE = 2.7  # MNIST's median stroke width, in pixels of its 20x20 box
Image.MAX_IMAGE_PIXELS = None  # open_grey() checks the size itself, after a JPEG's draft()
# A PNG's text (EXIF, XMP: a few KB) inflates to 1 MB at most, not Pillow's 64 MB.
PngImagePlugin.MAX_TEXT_MEMORY = PngImagePlugin.MAX_TEXT_CHUNK


def open_grey(file):
    """An image file (a path or a file object) as grey levels 0..255: upright as its EXIF
    says, transparency laid on white, at most LARGEST_SIDE pixels a side. ValueError when it
    has more than LARGEST_PHOTO pixels: that is known from its header, before decoding."""
    with Image.open(file) as image:
        image.draft("L", (LARGEST_SIDE, LARGEST_SIDE))  # a JPEG decodes at a fraction of its size
        if image.width * image.height > LARGEST_PHOTO:
            megapixels = f"{image.width * image.height / 1e6:.0f} megapixels"
            raise ValueError(f"too large: {megapixels}, over {LARGEST_PHOTO // 10**6}")
        if image.mode.startswith("I") or image.mode == "F":  # 16-bit or 32-bit grey levels
            levels = np.asarray(image, dtype=np.float32)
            if not np.isfinite(levels).all():  # a float TIFF may hold NaN or infinity
                raise ValueError("the image holds values that are not numbers")
            grey = Image.fromarray(levels / 257)
        elif "A" in image.mode or "transparency" in image.info:
            grey = image.convert("LA")
        else:
            grey = image.convert("L")
    grey.thumbnail((LARGEST_SIDE, LARGEST_SIDE), Image.Resampling.BOX)  # one full-size copy
    if grey.mode == "LA":  # transparent parts are paper
        page = Image.new("L", grey.size, 255)
        page.paste(grey.convert("L"), mask=grey.getchannel("A"))
        page.info = grey.info
        grey = page
    grey = ImageOps.exif_transpose(grey)
    return np.clip(np.asarray(grey, dtype=np.float32), 0, 255)


def fitted_to(array, longest):
    """A 2-D array resized with Pillow so that its longer side is `longest` pixels, its aspect
    kept: averaging when it shrinks, smooth when it grows."""
    scale = longest / max(array.shape)
    size = (max(1, round(array.shape[1] * scale)), max(1, round(array.shape[0] * scale)))
    kind = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(array.astype(np.float32)).resize(size, kind))


def trimmed(array):
    """The array cropped to the rows and columns that hold anything above 0."""
    return array[ndimage.find_objects((array > 0).astype(int))[0]]


def paper_under(grey, window):
    """The paper without the strokes: a grey closing (the lightest, then the darkest level
    around each pixel) wider than a stroke wipes them off, and keeps a shadow's edge."""
    return ndimage.grey_closing(grey, size=max(3, round(window)))


def stroke_width(mask):
    """The mean width of a mask's strokes, in pixels: their area over half their outline."""
    outline = mask & ~ndimage.binary_erosion(mask)
    return 2 * mask.sum() / max(outline.sum(), 1)


def ink_of(grey):
    """The ink, 0 (paper) to 1 (a full stroke), light on dark like MNIST, whatever the paper,
    its shadows and its light. ValueError says why when there is no ink to find."""
    if min(grey.shape) < 8:
        raise ValueError(f"{grey.shape[1]}x{grey.shape[0]} pixels is too small for a digit")
    if grey.max() - grey.min() < 24:
        raise ValueError("no digit: the image is a single shade (a blank page, or all ink)")
    # The ink stands out from what is around it: on a small copy (200 pixels, where a sheet's
    # strokes still show), the ink is what lies farthest from the mean of its surroundings (a
    # third of a photo, where the light may change; all of a tiny image), above it on a canvas,
    # below it on paper. When neither side is clearly farther (a tight crop, mostly stroke), the
    # ground is what most of the border is.
    small = fitted_to(grey, min(200, max(grey.shape)))
    window = max(small.shape)
    if max(grey.shape) > 64:
        window = window // 3
    around = small - ndimage.uniform_filter(small, size=window)
    lighter, darker = around.max(), -around.min()
    if max(lighter, darker) < 1.5 * min(lighter, darker):
        ground = np.median(np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]]))
        lighter, darker = small.max() - ground, ground - small.min()
    if lighter > darker:  # light ink on a dark ground: make it dark on light
        grey, small = 255 - grey, 255 - small
    # The paper's level everywhere, shadows included, measured on the small copy: once with a
    # window a third of the page wide, to find the strokes and their width; then with one
    # three strokes wide, to follow the shadows closely. Enlarged, the small copy's paper blurs a
    # hard shadow's edge into a line of ink along it; on the photo itself the edge stays sharp,
    # but a dark table's grain lifts the paper: the lower of the two.
    stroke = paper_under(small, max(small.shape) // 3) - small > 0.25 * np.ptp(small)
    width = stroke_width(stroke)
    paper = paper_under(small, 3 * width)
    paper = np.asarray(Image.fromarray(paper).resize(grey.shape[::-1], Image.Resampling.BILINEAR))
    paper = np.minimum(paper, paper_under(grey, 3 * width * max(grey.shape) / max(small.shape)))
    ink = np.clip((paper - grey) / np.maximum(paper, 1), 0, 1)
    # Paper grain and JPEG noise are faint; the ink is what stands above them (Otsu's threshold).
    share = np.bincount(np.minimum(ink * 64, 63).astype(int).ravel(), minlength=64) / ink.size
    edges = np.linspace(0, 1, 65)  # the 64 bins of the histogram of ink
    below = np.cumsum(share)[:-1]  # the share of pixels at or below each possible threshold
    mean_below = np.cumsum(share * edges[:-1])[:-1]
    mean = mean_below[-1] + share[-1] * edges[-2]
    between = (mean * below - mean_below) ** 2 / np.maximum(below * (1 - below), 1e-12)
    threshold = max(edges[np.argmax(between) + 1], 0.08)
    strokes = ink[ink > threshold]
    if strokes.size == 0:
        raise ValueError("no digit: nothing on the page is darker than the paper")
    full = max(np.percentile(strokes, 75), threshold + 0.05)
    return np.clip((ink - threshold / 2) / (full - threshold / 2), 0, 1)


def mnist_steps(ink):
    """One digit's ink (nothing else in the array) to MNIST's form, every step kept: the crop,
    fitted to 20x20, its strokes brought to MNIST's width, padded to 28x28, centred. 0..1."""
    crop = trimmed(ink)
    # Work at 4 times MNIST's scale (the longest side 80 pixels), where strokes can be measured.
    large = fitted_to(crop, 80)
    reach = round((4 * MNIST_STROKE - stroke_width(large > 0.5)) / 2)  # pixels to add each side
    if reach > 0:
        y, x = np.ogrid[-reach : reach + 1, -reach : reach + 1]
        large = ndimage.grey_dilation(np.pad(large, reach), footprint=x * x + y * y <= reach**2)
    thickened = fitted_to(trimmed(large), 20)
    height, width = thickened.shape
    top, left = (28 - height) // 2, (28 - width) // 2
    padded = np.zeros((28, 28), np.float32)
    padded[top : top + height, left : left + width] = thickened
    # Move the centre of mass to MNIST's, the middle of the 28x28 field, by whole pixels.
    mass_y, mass_x = ndimage.center_of_mass(thickened)
    down = int(np.clip(round(14 - mass_y), 0, 28 - height))
    right = int(np.clip(round(14 - mass_x), 0, 28 - width))
    centred = np.zeros((28, 28), np.float32)
    centred[down : down + height, right : right + width] = thickened
    fitted = fitted_to(crop, 20)
    return {
        "crop": crop,
        "20x20": fitted,
        "strokes": thickened,
        "28x28": padded,
        "centred": centred,
    }


def mnist_input(ink):
    """One digit's ink as the model reads it: 28x28 grey levels as uint8, flattened and scaled
    like x_test."""
    digit = np.round(mnist_steps(ink)["centred"] * 255).astype(np.uint8)
    return digit.reshape(28 * 28).astype("float32") / 255.0


# %% [markdown]
# ## A page: its digits in reading order / 一页纸：按阅读顺序找出所有数字
#
# A sheet holds several digits, and things that are none. `scipy.ndimage.label` finds the connected
# strokes; strokes that fainter ink connects (a blurred or faint stroke), that a thin pen broke, or
# a 5's loose bar, are joined; specks, the paper's edge (a band along a side, not a digit that a
# tight crop lets touch it, or a hairline across the photo), a dash and a dot are left out; two
# digits that touch are cut apart where their ink is thinnest. Each digit keeps the fainter ink
# joined to its strokes (a loop drawn lighter). A row is the digits that overlap each other
# vertically, so a slanting row stays one row; rows go top to bottom, each left to right. A
# picture of over 1,000 marks is no page of handwriting, and is refused before any is measured.
#
# 一页纸上有好几个数字，也有不是数字的东西。`scipy.ndimage.label` 找出连在一起的笔画；被较淡的笔迹连
# 着的笔画（模糊或很淡的笔画）、细笔写断的笔画、5 上面分开的那一横会被连起来；小斑点、纸的边缘（照片
# 边上露出的一条纸边，裁得太紧而碰到边的数字不算；或者横贯照片的一条细线）、一条短横和一个点都会被去
# 掉；两个碰在一起的数字会在笔迹最细的地方切开。每个数字还会留下与它的笔画相连的较淡笔迹（比如画得较
# 轻的圈）。一行就是在竖直方向上彼此重叠的数字，所以写斜了的一行仍然是一行；各行从上到下，每行从左到
# 右。超过 1,000 个笔画块的图片不是手写的一页纸，在逐个测量之前就会被拒绝。


# %%
# Marks on a page, strokes joined: the two sheets hold 10 and 12, a photo with 40 specks of dust
# at most 52; a page of 5 mm digits written edge to edge, about 1,000. More is not handwriting
# (a picture of thousands of bars), and would cost seconds for nothing.
MOST_MARKS = 1000


class NotHandwriting(ValueError):
    """A picture that no page of handwriting is: thousands of marks."""


def parts_of(mask, faint):
    """The connected parts of a mask, each as a box (slices) and its own pixels in that box.
    Strokes that almost touch are one part, and so are strokes that fainter ink connects
    (`faint`, the mask at a lower level): hysteresis, as in Canny's edge detector."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        raise ValueError("no digit: nothing on the page is darker than the paper")
    longest = max(max(s.stop - s.start for s in box) for box in ndimage.find_objects(labels))
    # A thin pen breaks its strokes: gaps of up to 8% of the largest part's size are closed.
    reach = max(1, round(0.04 * longest))
    grouped, count = ndimage.label(ndimage.maximum_filter(mask | faint, size=2 * reach + 1))
    if count > MOST_MARKS:
        raise NotHandwriting(f"too many marks ({count:,}): not a page of digits")
    grouped[~mask] = 0  # faint ink alone is no part
    boxes = ndimage.find_objects(grouped)
    return [(box, grouped[box] == n + 1) for n, box in enumerate(boxes) if box is not None]


def stacked_on(part, others):
    """Which of the parts `others` stand above or below `part` with little between them: one
    digit (a 5's loose bar, a 3 whose pen skipped). Boxes as rows of (top, bottom, left, right),
    all others at once."""
    top, bottom, left, right = part
    overlap = np.minimum(right, others[:, 3]) - np.maximum(left, others[:, 2])
    narrower = np.minimum(right - left, others[:, 3] - others[:, 2])
    gap = np.maximum(top, others[:, 0]) - np.minimum(bottom, others[:, 1])
    taller = np.maximum(bottom - top, others[:, 1] - others[:, 0])
    return (overlap > narrower / 2) & (gap < 0.2 * taller)


def edges_of(box):
    """A box's (top, bottom, left, right)."""
    rows, cols = box
    return [rows.start, rows.stop, cols.start, cols.stop]


def joined(part, other):
    """Two parts as one: the box around both, and the pixels of each in it."""
    box = tuple(
        slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(part[0], other[0])
    )
    pixels = np.zeros([s.stop - s.start for s in box], bool)
    for (rows, cols), own in (part, other):
        pixels[
            rows.start - box[0].start : rows.stop - box[0].start,
            cols.start - box[1].start : cols.stop - box[1].start,
        ] |= own
    return box, pixels


def along_an_edge(part, shape):
    """Whether a part is a long thin band that lies along a side of the image, touching it for
    most of its length, and less than a third of the image across: the paper's edge, or the
    table beyond it. A digit cropped tightly touches a side only at its ends, or fills more."""
    (rows, cols), pixels = part
    height, width = pixels.shape
    on_top = rows.start == 0 and pixels[0].sum() > 0.7 * shape[1]
    on_bottom = rows.stop == shape[0] and pixels[-1].sum() > 0.7 * shape[1]
    on_left = cols.start == 0 and pixels[:, 0].sum() > 0.7 * shape[0]
    on_right = cols.stop == shape[1] and pixels[:, -1].sum() > 0.7 * shape[0]
    lying = (on_top or on_bottom) and height < min(0.3 * width, shape[0] / 3)
    standing = (on_left or on_right) and width < min(0.3 * height, shape[1] / 3)
    return lying or standing


def is_a_hairline(pixels):
    """Whether a part is a straight line (its box 5 times as long as wide) ten times thinner
    for its length than MNIST's strokes: the paper's edge, or a fold. No pen writes so thin."""
    length = max(pixels.shape)
    return min(pixels.shape) < length / 5 and stroke_width(pixels) < length * MNIST_STROKE / 200


def is_a_mark(pixels):
    """Whether a part is a mark, not a digit: a dash (flat and filled) or a dot (round and
    filled). No digit is that flat, nor that full."""
    height, width = pixels.shape
    filled = pixels.mean()
    return height < 0.4 * width or (max(height, width) < 1.6 * min(height, width) and filled > 0.7)


def thin_crossing(column, height):
    """Whether a column of a part crosses its ink once and thinly (less than a quarter of the
    part's height), away from its very top and bottom: where two digits touch."""
    inked = np.flatnonzero(column)
    if inked.size == 0 or not column[inked[0] : inked[-1] + 1].all():  # one run of ink
        return False
    middle = (inked[0] + inked[-1]) / 2
    return inked[-1] - inked[0] < 0.25 * height and 0.1 * height < middle < 0.9 * height


def cut_apart(box, pixels):
    """A part at least 0.8 as wide as it is tall, cut in two where two digits touch: at the
    column of its middle half with the least ink that crosses the ink thinly (across a 0 or
    an 8 a column crosses twice), if each piece is nearly as tall as the part; then each piece
    again. Any other part as it is."""
    height, width = pixels.shape
    if width < 0.8 * height:
        return [(box, pixels)]
    middle = range(round(0.25 * width), round(0.75 * width))
    necks = [column for column in middle if thin_crossing(pixels[:, column], height)]
    if not necks:
        return [(box, pixels)]
    cut = min(necks, key=lambda column: pixels[:, column].sum())
    pieces = [pixels[:, :cut], pixels[:, cut:]]
    inked_rows = [np.flatnonzero(piece.any(axis=1)) for piece in pieces]
    if min(inked[-1] - inked[0] if inked.size else 0 for inked in inked_rows) < 0.7 * height:
        return [(box, pixels)]
    rows, cols = box
    left = ((rows, slice(cols.start, cols.start + cut)), pieces[0])
    right = ((rows, slice(cols.start + cut, cols.stop)), pieces[1])
    return cut_apart(*left) + cut_apart(*right)


def in_rows(digits):
    """(box, anything) pairs in reading order: a box joins the row whose last box it overlaps
    most, by at least a third of the smaller height; rows top to bottom, each left to right."""
    rows = []
    for digit in sorted(digits, key=lambda digit: digit[0][1].start):
        top, bottom = digit[0][0].start, digit[0][0].stop
        best, most = None, 0
        for row in rows:
            last = row[-1][0][0]
            overlap = min(bottom, last.stop) - max(top, last.start)
            if overlap > max(most, min(bottom - top, last.stop - last.start) / 3):
                best, most = row, overlap
        if best is None:
            rows.append([digit])
        else:
            best.append(digit)
    return sorted(rows, key=lambda row: np.mean([d[0][0].start + d[0][0].stop for d in row]))


def find_digits(ink):
    """The digits on a page in reading order: rows, each a list of (box, the digit's own ink
    in its box); a box is (rows, columns) slices. ValueError when there is no digit."""
    mask, faint = ink > 0.5, ink > 0.25
    if mask.sum() > 0.4 * max(ink.shape) ** 2:  # of a square: a tight crop of a 1 is narrow
        raise ValueError("no digit: most of the image is ink")
    parts = [
        part
        for part in parts_of(mask, faint)
        if not along_an_edge(part, ink.shape) and not is_a_hairline(part[1])
    ]
    if not parts:
        raise ValueError("no digit: only the edge of the paper")
    tallest = max(max(pixels.shape) for _, pixels in parts)
    parts = [(box, pixels) for box, pixels in parts if max(pixels.shape) >= tallest / 4]  # specks
    done = []
    edges = np.array([edges_of(box) for box, _ in parts]).reshape(-1, 4)
    while parts:  # each part joined with the first it stands on, or under
        part, edges = parts.pop(), edges[:-1]
        above_or_below = np.flatnonzero(stacked_on(edges_of(part[0]), edges))
        if above_or_below.size:
            first = above_or_below[0]
            parts.append(joined(part, parts.pop(first)))
            edges = np.vstack([np.delete(edges, first, axis=0), edges_of(parts[-1][0])])
        else:
            done.append(part)
    parts = done
    digits = [
        piece for box, pixels in parts if not is_a_mark(pixels) for piece in cut_apart(box, pixels)
    ]
    if not digits:
        raise ValueError("no digit: only a dash, a dot or specks")
    # Each digit's own ink, nothing of a neighbour's: its strokes, the fainter ink joined to them
    # in its box (hysteresis again, for a loop drawn lighter), and their faint edges.
    own = []
    for box, pixels in digits:
        strokes = ndimage.binary_propagation(pixels, mask=faint[box])
        own.append((box, ink[box] * ndimage.maximum_filter(strokes, size=3)))
    return in_rows(own)


# %% [markdown]
# ## A drawing, read / 读一幅画
#
# The page sends the canvas as a PNG: white strokes on black. It goes through lesson 07's
# steps, the page's too: two digits side by side are read as two, and a dash or a dot is no
# digit. The answer is what the page shows: the digits, and for each its ten probabilities
# and the 28x28 grey levels the model saw; a digit the model is not sure of names both
# candidates. `digit`, `probabilities` and `input` are the first digit's.
#
# 网页把画布以 PNG 发过来：黑底白字。它和第 07 课的照片走同样的步骤，包括“一页纸”的步骤：并排写的两
# 个数字读成两个，一条短横或一个点不算数字。回答的就是网页要显示的内容：读出的数字，以及每个数字的十
# 个概率和模型看到的 28x28 灰度；模型拿不准的数字会给出两个候选。`digit`、`probabilities` 和 `input`
# 是第一个数字的。

# %%
import io
import threading

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SURE = 0.95  # a guess less probable is shown as not sure, with the next one: see the README
model.compile()  # predict_on_batch() reads one batch a call (Keras 2: not 512, as 07 compiled it)
model_lock = threading.Lock()  # one prediction at a time, whatever the threads


def read_drawing(png):
    """What the model reads in a PNG of the canvas, as the page wants it; ValueError when the
    bytes are not a PNG image, or hold thousands of marks."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("the body is not a PNG image")
    try:
        grey = open_grey(io.BytesIO(png))
    except Exception:
        raise ValueError("the body is not a PNG image that Pillow can read") from None
    try:
        rows = find_digits(ink_of(grey))
    except NotHandwriting:  # thousands of marks: a bad request, not a drawing
        raise
    except ValueError as err:  # an empty canvas, a dash, a dot
        return {"digit": None, "digits": "", "details": [], "message": str(err)}
    inputs = np.array([mnist_input(digit_ink) for row in rows for _, digit_ink in row])
    with model_lock:  # the preparation above runs in each request's own thread
        logits = model.predict_on_batch(inputs)  # compiled once: faster than model(inputs) here
    probabilities = tf.nn.softmax(logits).numpy()
    details = []
    for scores, digit in zip(probabilities, inputs):
        first, second = np.argsort(scores)[::-1][:2]
        details.append(
            {
                "digit": int(first),
                "sure": bool(scores[first] >= SURE),
                "or": int(second),
                "probabilities": [round(float(p), 4) for p in scores],
                "input": np.round(digit.reshape(28, 28) * 255).astype(int).tolist(),
            }
        )
    first = details[0]
    return {
        "digit": first["digit"],
        "probabilities": first["probabilities"],
        "input": first["input"],
        "digits": "".join(str(d["digit"]) for d in details),
        "details": details,
    }


# %% [markdown]
# ## The server / 服务器
#
# `http.server` from Python's standard library, a thread per connection, answers the page at
# `/` and `POST /predict`; anything else gets a JSON error and one log line, never a traceback.
# Any site you visit can make your browser send it requests, so it is as careful as Jupyter's:
# one `Host` that names it, no POST from another site's `Origin` or not `image/png`; sizes
# checked before decoding (2 MB, 1,000x1,000 pixels: 413); 1 MB of a PNG's text, 1,000 marks,
# two PNGs decoded at once; headers within 5 s, a body within 5 s more a 500 KB (408); 64
# connections, a new one replacing the one waiting longest for its headers (else 503). Only the
# model's call holds its lock.
#
# 服务器用 Python 标准库的 `http.server`，每个连接一个线程：`/` 返回网页，`POST /predict` 返回预测；
# 其他请求都得到一条 JSON 错误和一行日志，绝不会有 traceback。你访问的任何网站都能让你的浏览器向它发
# 请求，所以它和 Jupyter 的服务器一样谨慎：请求必须有唯一一个写明它自己的 `Host`（防止 DNS rebinding
# ），不接受来自其他网站 `Origin` 的 POST，也不接受不是 `image/png` 的 POST；先检查大小，再读取或解
# 码（超过 2 MB 的请求体、超过 1,000x1,000 像素的 PNG 返回 413）；PNG 里的文字最多 1 MB，同时最多解
# 码两张 PNG，超过 1,000 个笔画块的图片直接拒绝（400）；请求头必须在 5 秒内全部到达，请求体每 500 KB
# 再多给 5 秒（否则返回 408）；同时最多 64 个连接，新连接会顶替等请求头等得最久的那个（没有这样的连
# 接时返回 503），这样慢吞吞的客户端永远不会让你的画等着。模型的锁只包住模型调用本身：每个请求在自
# 己的线程里准备它的画。

# %%
import json
import re
import socket
import sys
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LARGEST_BODY = 2 * 1024 * 1024  # bytes; a canvas of the page is about 20 KB
LARGEST_CANVAS = 1000 * 1000  # pixels
LARGEST_HEADERS = 16 * 1024  # bytes, all headers together
IDLE_SECONDS = 5  # a connection that sends nothing this long is closed
HEADERS_SECONDS = 5  # the request line and headers, all told: a browser sends them at once
SLOWEST_BODY = 100_000  # bytes a second: a body has 5 s more for each 500 KB (the page's: 20 KB)
MOST_CONNECTIONS = 64  # served at once; the next one takes the slot of the slowest (or 503)
MOST_DECODING = 2  # PNGs decoded and prepared at once, one a core: memory stays bounded
page_file = os.path.join(
    os.path.dirname(globals().get("__file__", "")), "data", "draw_a_digit.html"
)
with open(page_file, "rb") as file:
    page = file.read()
decoding = threading.BoundedSemaphore(MOST_DECODING)
log_lock = threading.Lock()  # one log line at a time: lines never run together


def log(line):
    with log_lock:
        print(line, flush=True)


def printable(text):
    """Text from a request, safe to log: at most 100 characters, control characters escaped."""
    return repr(text[:100])[1:-1]


def canvas_pixels(png):
    """The pixels of a PNG, read from its header before anything is decoded; ValueError when
    the bytes are no PNG image."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("the body is not a PNG image")
    try:
        with Image.open(io.BytesIO(png)) as image:
            return image.width * image.height
    except Exception:
        raise ValueError("the body is not a PNG image that Pillow can read") from None


class DigitPage(BaseHTTPRequestHandler):
    """The page, POST /predict, and one JSON error line for anything else."""

    timeout = IDLE_SECONDS  # for each read and write of the connection
    late = None  # why the connection was cut short, when it was

    def handle_one_request(self):
        """http.server's reading of one request, against a deadline for its headers."""
        self.server.watch(self, HEADERS_SECONDS, "its headers took over 5 s", in_headers=True)
        try:
            super().handle_one_request()
        finally:
            self.server.unwatch(self)

    def cut_short(self, why):
        """Stop reading this connection (the watchdog's call): what it sent is refused, 408."""
        self.late = why
        try:
            self.connection.shutdown(socket.SHUT_RD)  # a read waiting on it returns at once
        except OSError:
            pass

    def do_GET(self):
        if self.path_is_known():
            if self.route == "/":
                self.answer(200, page, "text/html; charset=utf-8")
            else:
                self.refuse(405, "use POST for /predict", allow="POST")

    def do_POST(self):
        if not self.path_is_known():
            return
        if self.route != "/predict":
            self.refuse(405, "use GET for the page", allow="GET")
            return
        if not self.sent_by_our_page():
            return
        body = self.body()
        if body is None:
            return
        try:
            with decoding:  # at most MOST_DECODING at once, whatever arrives
                if canvas_pixels(body) > LARGEST_CANVAS:
                    self.refuse(413, "the image is larger than any canvas (1,000x1,000 pixels)")
                    return
                reading = read_drawing(body)
        except ValueError as err:
            self.refuse(400, str(err))
            return
        except Exception as err:  # anything else: still one JSON answer and one log line
            self.refuse(500, f"the drawing could not be read: {type(err).__name__}")
            return
        self.answer(200, json.dumps(reading).encode(), "application/json")

    def do_other(self):
        self.refuse(405, f"{self.command} is not answered here", allow="GET, POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = do_other

    def parse_request(self):
        """http.server's reading of the request line and headers, then our own checks of them:
        their size, and one Host header that names this server."""
        if not super().parse_request():
            return False
        self.server.unwatch(self)  # the headers are in
        self.route = urlsplit(self.path).path  # "/?x=1" is the page too
        size = sum(len(name) + len(value) for name, value in self.headers.items())
        hosts = self.headers.get_all("Host", [])
        port = self.server.server_address[1]
        if size > LARGEST_HEADERS:
            self.refuse(431, f"the headers are {size:,} bytes, over 16 KB")
        elif len(hosts) != 1:
            self.refuse(400, f"a request needs one Host header, not {len(hosts)}")
        elif hosts[0].lower() not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            self.refuse(403, f"Host {printable(hosts[0])!r} is not this server")
        else:
            return True
        return False

    def path_is_known(self):
        if self.route in ("/", "/predict"):
            return True
        self.refuse(404, f"no page at {printable(self.path)}")
        return False

    def sent_by_our_page(self):
        """Only our page's POST: no other site's Origin, and a PNG, as the page sends it."""
        port = self.server.server_address[1]
        origin = self.headers.get("Origin")
        ours = (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
        if origin is not None and origin not in ours:
            self.refuse(403, f"a page from {printable(origin)} may not use this server")
            return False
        if self.headers.get("Content-Type") != "image/png":
            self.refuse(415, "send the canvas as Content-Type: image/png")
            return False
        return True

    def body(self):
        """The request's body, read once its length is known to be fine; None when refused."""
        length = self.headers.get("Content-Length")
        if length is None:
            self.refuse(411, "a POST needs a Content-Length")
            return None
        if not re.fullmatch(r"[0-9]{1,12}", length):  # ASCII digits only: int() takes others
            self.refuse(400, f"Content-Length {printable(length)!r} is not a number")
            return None
        if int(length) > LARGEST_BODY:
            self.refuse(413, f"the body is {int(length):,} bytes, over 2 MB")
            self.discard(int(length))
            return None
        seconds = HEADERS_SECONDS + int(length) / SLOWEST_BODY
        self.server.watch(self, seconds, f"its body took over {seconds:.0f} s")
        body = self.rfile.read(int(length))
        self.server.unwatch(self)
        if len(body) < int(length):
            self.close_connection = True
            why = self.late or "the client left before sending its body"
            log(f"{self.command} {printable(self.path)}: {why}")
            return None
        return body

    def discard(self, length):
        """Read and drop a refused body, up to 8 MB, so that a client that sends it all before
        it reads sees the answer; then the connection is closed."""
        left = min(length, 4 * LARGEST_BODY)
        while left > 0:
            chunk = self.rfile.read1(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)

    def answer(self, status, body, kind, **headers):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except ConnectionError:  # the client has gone: nothing to answer, nothing more to log
            self.close_connection = True

    def refuse(self, status, reason, allow=None):
        self.close_connection = True
        if self.late:  # what was read is cut short: that is the reason, not what it lacks
            status, reason = 408, self.late
            self.request_version = "HTTP/1.0"  # "GET /" cut short is no HTTP/0.9 request
        if self.command:
            request = f"{self.command} {printable(self.path)}"
        else:  # http.server could not read the request line
            request = repr(printable(self.requestline))
        log(f"{request} -> {status}: {reason}")
        headers = {"Allow": allow} if allow else {}
        self.answer(status, json.dumps({"error": reason}).encode(), "application/json", **headers)

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a bad request line, too long a line, an unknown method)
        answered as ours are: JSON and one log line, not its HTML page."""
        if self.request_version == "HTTP/0.9":  # no request line could be read
            self.request_version = "HTTP/1.0"
        self.refuse(code, message or self.responses.get(code, ("refused",))[0])

    def log_error(self, format, *args):
        """Quiet for a connection closed after IDLE_SECONDS of silence: a browser opens some
        ahead of time, and never uses them."""

    def log_message(self, format, *args):
        """Quiet for the requests answered; refuse() logs the others, one line each."""


class PageServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a cap on connections, a deadline for each request, and one log
    line for a broken connection."""

    request_queue_size = MOST_CONNECTIONS  # connections waiting to be accepted

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.free = threading.BoundedSemaphore(MOST_CONNECTIONS)
        self.deadlines = {}  # handler: (when, why, still in its headers)
        self.deadlines_lock = threading.Lock()
        threading.Thread(target=self.watchdog, daemon=True).start()

    def watch(self, handler, seconds, why, in_headers=False):
        with self.deadlines_lock:
            self.deadlines[handler] = (time.monotonic() + seconds, why, in_headers)

    def unwatch(self, handler):
        with self.deadlines_lock:
            self.deadlines.pop(handler, None)

    def watchdog(self):
        """Four times a second: each connection past its deadline is cut short."""
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self.deadlines_lock:
                late = [(h, why) for h, (when, why, _) in self.deadlines.items() if when < now]
            for handler, why in late:
                self.unwatch(handler)
                handler.cut_short(why)

    def make_room(self):
        """Cut short the connection that has waited longest for its headers, if any."""
        with self.deadlines_lock:
            waiting = [(when, h) for h, (when, _, headers) in self.deadlines.items() if headers]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda pair: pair[0])[1]
        self.unwatch(oldest)
        oldest.cut_short(f"closed for a new connection: over {MOST_CONNECTIONS} at once")
        return True

    def process_request(self, request, client_address):
        if self.free.acquire(blocking=False) or (self.make_room() and self.free.acquire(timeout=1)):
            super().process_request(request, client_address)
            return
        log(f"{client_address[0]}: over {MOST_CONNECTIONS} connections at once -> 503")
        reason = json.dumps({"error": "too many connections at once; try again"}).encode()
        head = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(reason)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        try:
            request.setblocking(False)
            request.recv(65536)  # what the client sent already, so that closing is no reset
        except OSError:
            pass
        try:
            request.settimeout(1)
            request.sendall(head.encode() + reason)
        except OSError:
            pass
        self.shutdown_request(request)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.free.release()

    def handle_error(self, request, client_address):
        """A connection that broke (a client gone mid-request): one line, no traceback."""
        error = sys.exc_info()[1]
        why = printable(str(error))  # one line, even for an error of several
        log(f"{client_address[0]}: connection dropped ({type(error).__name__}: {why})")


# %% [markdown]
# ## Open the page / 打开网页
#
# The server listens on 127.0.0.1 only, on a free port unless `--port` names one, and prints
# the address. Your browser opens it unless you pass `--no-browser`. It runs until you press
# Ctrl-C, or interrupt the cell in a notebook; then it closes and says so.
#
# 服务器只在 127.0.0.1 上监听，端口是一个空闲端口（除非用 `--port` 指定），并打印地址。除非加了
# `--no-browser`，程序会自动用浏览器打开它。按 Ctrl-C（在 notebook 里是中断这个单元格）就会停止，
# 关闭服务器并打印一行说明。

# %%
try:
    server = PageServer(("127.0.0.1", args.port), DigitPage)
except OSError as err:
    raise SystemExit(f"Cannot listen on 127.0.0.1:{args.port}: {err.strerror}") from None
url = f"http://127.0.0.1:{server.server_address[1]}/"
print(f"Open {url}", flush=True)
print("Stop with Ctrl-C. / 按 Ctrl-C 停止。", flush=True)
if not args.no_browser:
    webbrowser.open(url)
try:
    server.serve_forever()
except KeyboardInterrupt:
    print("Stopped: the server is closed. / 已停止，服务器已关闭。")
finally:
    server.server_close()

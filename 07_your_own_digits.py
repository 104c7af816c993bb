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

Not in the video: what a learner asks next. The video's network, trained as lesson 02 trains
it, is saved as a .keras file in models/ and loaded again by every later run. Each image is
prepared as MNIST's digits were (white on black, cropped, fitted to 20x20, centred by its
centre of mass in 28x28), and every digit on it is read in reading order.

Run:
  python 07_your_own_digits.py                     the bundled examples in data/own_digits/
  python 07_your_own_digits.py photo.jpg folder/   your own photos (files or folders)
  python 07_your_own_digits.py --quick             trained on the bundled sample: seconds
  python 07_your_own_digits.py --data FILE         trained on your own copy of mnist.npz

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
# The video's network, trained exactly as lesson 02 trains it, then saved with `model.save()`
# as one `.keras` file in `models/` beside the lesson: architecture, weights and optimizer in
# one zip. A later run finds that file and loads it with `keras.models.load_model()` in a
# second or two instead of training again. A model trained on the bundled sample gets a name
# of its own, so that it never stands in for one trained on MNIST. Keras 3 refuses the
# video's series' `model.save("saved_model/")`: a name must end in `.keras`.
#
# 网络和视频里的一样，训练方法和第 02 课完全相同，然后用 `model.save()` 保存成 `models/` 文件夹里的
# 一个 `.keras` 文件（结构、权重和优化器都在里面）。以后再运行时，程序找到这个文件，就用
# `keras.models.load_model()` 在一两秒内加载，不再重新训练。用自带样本训练的模型文件名不同，
# 不会被误当成在完整 MNIST 上训练的模型。Keras 3 不接受视频系列里的 `model.save("saved_model/")`：
# 文件名必须以 `.keras` 结尾。

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
# ## The loaded model is the same model / 加载的模型就是原来的模型
#
# Loaded back from its file, the model gives exactly the same scores for every test image.
# `save_weights()` keeps the weights alone; Keras 3 wants a name ending in `.weights.h5`.
# They fit any model of the same layers, such as a fresh copy made with `clone_model()`.
#
# 从文件重新加载的模型，对每一张测试图片给出的分数都完全相同。`save_weights()` 只保存权重，
# Keras 3 要求文件名以 `.weights.h5` 结尾；它们可以装进任何结构相同的模型，比如用 `clone_model()`
# 新建的一份。

# %%
scores = model.predict(x_test, batch_size=1000, verbose=0)
loaded = keras.models.load_model(model_file)
same = np.array_equal(scores, loaded.predict(x_test, batch_size=1000, verbose=0))
print(f"load_model({model_name!r}) predicts exactly what the model did: {same}")

weights_file = model_file.replace(".keras", ".weights.h5")
model.save_weights(weights_file)  # Keras 3: the name must end in .weights.h5
fresh = keras.models.clone_model(model)  # the same layers, new random weights
fresh.load_weights(weights_file)
same = np.array_equal(scores, fresh.predict(x_test, batch_size=1000, verbose=0))
print(f"load_weights({os.path.basename(weights_file)!r}) into a fresh copy, the same: {same}")

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
# ## Read your images / 读取你的图片
#
# Name files or folders on the command line; in a notebook, in `my_images` below. Without
# any, the bundled examples in `data/own_digits/` are read. Every image gets one line,
# `Read FILE: DIGITS`, the digits in reading order with a space between rows, then each
# digit's probability and the next two guesses. An image that cannot be read gets one line
# saying why, and the others are still read. A folder is read 100 folders deep at most (one
# line says when there is more). Your files are only read, never changed.
#
# 在命令行里写上文件或文件夹；在 notebook 里写进下面的 `my_images`。什么都不写时，读取
# `data/own_digits/` 里自带的例子。每张图片打印一行 `Read 文件: 数字`，数字按阅读顺序排列，
# 不同行之间用空格隔开；接着是每个数字的概率和排在后面的两个猜测。读不了的图片只打印一行原因，
# 其余图片照常读取。文件夹最多往下读 100 层（更深的部分会用一行说明）。你的文件只会被读取，绝不会
# 被修改。

# %%
import errno
import re
import stat

from PIL import UnidentifiedImageError

try:
    from pillow_heif import register_heif_opener  # iPhone photos: HEIC

    register_heif_opener()
except ImportError:
    register_heif_opener = None

my_images = []  # in a notebook: ["photo.jpg", "my_digits/"]
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif")
examples = os.path.join(os.path.dirname(globals().get("__file__", "")), "data", "own_digits")
named = args.images or my_images or [examples]


def shown(name):
    """A file name as one printable line, as ls shows it: bytes that are not UTF-8 (\\xff) and
    control characters (\\n) escaped, and then the name quoted."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    for character in set(text):
        if not character.isprintable():
            text = text.replace(character, repr(character)[1:-1])
    return name if text == name else f"'{text}'"


DEEPEST = 100  # folders inside folders; os.walk() of Python 3.11 fails past about 900


def images_in(folder):
    """The image files below a folder, sorted, at most DEEPEST folders down (one line says so
    when there are deeper ones)."""
    walked, too_deep = [], False
    for inside, subfolders, files in os.walk(folder):
        if os.path.relpath(inside, folder).count(os.sep) + 1 >= DEEPEST and subfolders:
            subfolders.clear()  # os.walk() goes no deeper
            too_deep = True
        walked.append((inside, sorted(f for f in files if f.lower().endswith(IMAGE_TYPES))))
    if too_deep:
        print(f"Not read in {shown(folder)}: what lies over {DEEPEST} folders deep")
    return [os.path.join(inside, file) for inside, files in sorted(walked) for file in files]


image_files, problems = [], []  # problems: what could not be read
for name in named:
    if os.path.isdir(name):
        found = images_in(name)
        if not found:
            problems.append(name)
            print(f"Cannot read {shown(name)}: a folder with no images in it")
        image_files += found
    elif os.path.exists(name) or os.path.islink(name):  # a link's own troubles: opened()
        image_files.append(name)
    else:
        problems.append(name)
        print(f"Cannot read {shown(name)}: no such file or folder")


def label_of(file):
    """The digits a file's name gives (7-anna.jpg: "7"; 12345_67890.png: "12345 67890"), or
    its folder's single digit (7/photo.jpg: "7"); None when neither names digits."""
    stem = re.split(r"[-.]", os.path.basename(file))[0]
    if re.fullmatch(r"\d+(_\d+)*", stem):
        return stem.replace("_", " ")
    folder = os.path.basename(os.path.dirname(file))
    if re.fullmatch(r"\d", folder):
        return folder
    return None


def opened(file):
    """open_grey() of a regular file only (a FIFO or a device would never end), with what went
    wrong as a ValueError."""
    try:
        if not stat.S_ISREG(os.stat(file).st_mode):
            raise ValueError("not a regular file (a pipe, a device or a socket)")
        return open_grey(file)
    except ValueError:  # too large, or not a regular file
        raise
    except (FileNotFoundError, PermissionError) as err:  # gone since, or not ours to read
        raise ValueError(err.strerror.lower()) from None
    except UnidentifiedImageError:
        if file.lower().endswith((".heic", ".heif")) and register_heif_opener is None:
            raise ValueError("an iPhone photo (HEIC): pip install pillow-heif to read it") from None
        raise ValueError("not an image that Pillow can read") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ValueError("a link that leads back to itself") from None
        raise ValueError(f"a damaged image ({err})") from None
    except Exception as err:  # a truncated or damaged file
        raise ValueError(f"a damaged image ({err})") from None


def prepared(file):
    """(grey, ink, rows of digits) of an image file; ValueError says what is wrong."""
    grey = opened(file)
    ink = ink_of(grey)
    return grey, ink, find_digits(ink)


def naive_input(grey):
    """What a newcomer tries first: the whole image resized to 28x28, made light on dark."""
    if np.median(grey) > 127:
        grey = 255 - grey
    small = Image.fromarray(grey).resize((28, 28), Image.Resampling.BOX)
    return (np.asarray(small) / 255.0).reshape(28 * 28).astype("float32")


SURE = 0.95  # a guess less probable is shown as not sure, with the next one: see the README


def detail(number, scores):
    """A digit's line: its probability and the next two guesses; or, when the model is not
    SURE, both candidates."""
    first, second, third = np.argsort(scores)[::-1][:3]
    if scores[first] < SURE:
        both = f"{first} ({scores[first]:.2f}) or {second} ({scores[second]:.2f})"
        return f"  digit {number}: not sure: {both}"
    return (
        f"  digit {number}: {first} ({scores[first]:.2f}); "
        f"next {second} ({scores[second]:.2f}), {third} ({scores[third]:.2f})"
    )


readings = []  # one dict for each image read
for file in image_files:
    try:
        grey, ink, rows = prepared(file)
    except ValueError as err:
        problems.append(file)
        print(f"Cannot read {shown(file)}: {err}")
        continue
    digits = [digit for row in rows for digit in row]
    inputs = np.array([mnist_input(digit_ink) for _, digit_ink in digits])
    probabilities = tf.nn.softmax(model(inputs, training=False)).numpy()
    guesses = [str(d) for d in np.argmax(probabilities, axis=1)]
    starts = np.cumsum([0, *[len(row) for row in rows]])
    text = " ".join("".join(guesses[a:b]) for a, b in zip(starts[:-1], starts[1:]))
    drawn = len(readings) < 15  # the figures draw the first 15: only they keep their pixels
    readings.append(
        dict(
            file=file,
            grey=grey if drawn else None,
            ink=ink if drawn else None,
            first_ink=digits[0][1] if drawn else None,
            naive=naive_input(grey),
            boxes=[box for box, _ in digits],
            inputs=inputs,
            text=text,
            probabilities=probabilities,
            label=label_of(file),
        )
    )
    print(f"Read {shown(file)}: {text}")
    for number, scores in enumerate(probabilities, start=1):
        print(detail(number, scores))

# %% [markdown]
# ## Why the preparation matters / 为什么要这样准备
#
# The first thing most learners try is to resize the whole photo to 28x28. Here that is done
# too, turned light on dark so that it is fair, on every image whose name gives a single
# digit, and both ways are counted. The photo's digit is small, off-centre and thin in its
# 28x28; MNIST's are not, and the model only knows MNIST's.
#
# 大多数初学者的第一反应是把整张照片直接缩小到 28x28。这里也这样做一遍（为了公平，同样转成黑底
# 白字），对每一张文件名写明了单个数字的图片，两种方法各数一数读对了几个。直接缩小后，数字在
# 28x28 里又小、又偏、又细；MNIST 的数字不是这样，而模型只认识 MNIST 的数字。

# %%
labelled = [r for r in readings if r["label"] is not None and len(r["label"]) == 1]
naive_digits = []
if labelled:
    naive_inputs = np.array([r["naive"] for r in labelled])
    naive_digits = np.argmax(model(naive_inputs, training=False).numpy(), axis=1)
    naive_right = sum(str(d) == r["label"] for d, r in zip(naive_digits, labelled))
    prepared_right = sum(r["text"] == r["label"] for r in labelled)
    print(f"Naive resize to 28x28: {naive_right} of {len(labelled)} labelled digits read right")
    print(f"Prepared the MNIST way: {prepared_right} of {len(labelled)} labelled digits read right")
else:
    print("No image is named by its digit (7.jpg, 7/photo.jpg): nothing to count right")
sheets = [r for r in readings if r["label"] is not None and len(r["label"]) > 1]
for reading in sheets:
    read, label = reading["text"].replace(" ", ""), reading["label"].replace(" ", "")
    right = 0  # a digit too many or too few shifts all that follow: none counts as right
    if len(read) == len(label):
        right = sum(a == b for a, b in zip(read, label))
    print(f"{shown(reading['file'])}: {right} of {len(label)} digits right, in reading order")

# %% [markdown]
# ## It does not hurt MNIST / 对 MNIST 本身没有坏处
#
# MNIST's own test digits, put through the very same steps, must still be read as well as
# they are: the steps undo nothing that MNIST already did.
#
# 把 MNIST 自己的测试数字也按完全相同的步骤处理一遍，准确率应该几乎不变：这些步骤不会破坏 MNIST
# 本来就做好的事情。

# %%
inks = (ink_of(image.astype(np.float32)) for image in test_images)
again = np.array([mnist_input(ink) for ink in inks])
through_steps = np.argmax(model.predict(again, batch_size=1000, verbose=0), axis=1) == y_test
print(f"The {len(again)} test digits through the same steps: {through_steps.mean():.4f} accuracy")
print(f"As they are, model.evaluate() above: {test_accuracy:.4f}")

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
# ## Every step, one figure per image / 每张图片一张图，看清每一步
#
# For each image (the first 15): the photo with a box and the prediction on each digit, the
# ink as the steps see it, then the first digit's crop, its 20x20 fit, its strokes brought
# to MNIST's width, the 28x28 field, the input once centred, and the model's ten
# probabilities for it, as lesson 04 draws them: the true digit's bar blue, a wrong guess red.
# A script first removes the 07_*.png figures an earlier run left, and says so.
#
# 每张图片（最多前 15 张）一张图：照片上每个数字都有一个框和预测结果；按上面步骤得到的笔迹；然后是第
# 一个数字的裁剪、缩放到 20x20、笔画调到 MNIST 的粗细、补成 28x28、按重心居中后的输入，以及模型给出
# 的十个概率（和第 04 课的画法一样：真实数字的柱子是蓝色，猜错的是红色）。用脚本运行时，先删掉上一次
# 运行留下的 07_*.png 图，并打印一行说明。

# %%
import glob

from matplotlib.patches import Rectangle

if not in_notebook:  # figures of an earlier run, of other images, would lie beside these
    earlier = glob.glob(os.path.join(os.path.dirname(__file__), "figures", "07_*.png"))
    for path in earlier:
        os.remove(path)
    if earlier:
        print(f"Removed the {len(earlier)} figures 07_*.png of an earlier run")
for number, reading in enumerate(readings[:15], start=1):
    figure, axes = plt.subplots(2, 4, figsize=(10, 5.5), layout="constrained")
    photo = axes[0, 0]
    height, width = reading["grey"].shape
    every = max(1, max(height, width) // 400)  # a screen's worth of pixels is enough to look at
    place = dict(extent=(0, width, height, 0), vmin=0)  # in the photo's own pixels
    photo.imshow(reading["grey"][::every, ::every], cmap="gray", vmax=255, **place)
    digits = reading["text"].replace(" ", "")
    for (rows, cols), digit in zip(reading["boxes"], digits):
        top, left = rows.start, cols.start
        box = Rectangle((left, top), cols.stop - left, rows.stop - top, fill=False, color="tab:red")
        photo.add_patch(box)
        photo.text(left, top, digit, color="tab:red", fontsize=14, va="bottom")
    photo.set_title(f"read: {reading['text']}")
    axes[0, 1].imshow(reading["ink"][::every, ::every], cmap="gray", vmax=1, **place)
    axes[0, 1].set_title("ink, white on black")
    steps = mnist_steps(reading["first_ink"])
    for ax, step in zip([*axes[0, 2:], *axes[1, :3]], steps):
        ax.imshow(steps[step], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{step}: {steps[step].shape[1]}x{steps[step].shape[0]}")
    for ax in [*axes[0], *axes[1, :3]]:
        ax.set(xticks=[], yticks=[])
    bars = axes[1, 3]
    first = reading["probabilities"][0]
    guess = true = int(np.argmax(first))
    if reading["label"]:  # as lesson 04 colours them
        true = int(reading["label"][0])
    colors = ["lightgrey"] * 10
    colors[true] = "tab:blue"
    if guess != true:
        colors[guess] = "tab:red"
    bars.bar(range(10), first, color=colors)
    title = f"digit 1: true {true}" if reading["label"] else "probabilities, digit 1"
    bars.set(xticks=range(10), ylim=(0, 1), title=title, xlabel="digit")
    name = shown(os.path.basename(reading["file"]))
    figure.suptitle(f"{name}; model trained on {data_name}", parse_math=False)
    show(figure, f"07_steps_{number:02}.png")

# %% [markdown]
# ## Naive and prepared, side by side / 直接缩小和按 MNIST 准备，对比
#
# Top: labelled images only resized to 28x28. Bottom: the same images prepared the MNIST way.
# The title is what the model reads, green when it is right and red when it is wrong. Up to 8
# are shown, those read wrong first; the figure's title says how many of how many.
#
# 上面一行：有标签的图片直接缩小到 28x28；下面一行：同样的图片按 MNIST 的方法准备。标题是模型读出的
# 数字，读对是绿色，读错是红色。最多显示 8 张，读错的排在前面；图的标题写明显示了几张中的几张。

# %%
# The misread ones first, then the others, 8 at most.
order = sorted(range(len(labelled)), key=lambda i: labelled[i]["text"] == labelled[i]["label"])
shown = [labelled[i] for i in order[:8]]
naive_shown = [naive_digits[i] for i in order[:8]]
if shown:
    size = (max(6, 1.5 * len(shown) + 1), 4)  # room for the title, however few are shown
    figure, axes = plt.subplots(2, len(shown), figsize=size, squeeze=False, layout="constrained")
    for column, (reading, naive) in enumerate(zip(shown, naive_shown)):
        pairs = [(reading["naive"], str(naive)), (reading["inputs"][0], reading["text"])]
        for ax, (image, read) in zip(axes[:, column], pairs):
            ax.imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            color = "tab:green" if read == reading["label"] else "tab:red"
            ax.set_title(f"read {read}", color=color)
            ax.set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("resized")
    axes[1, 0].set_ylabel("prepared")
    figure.suptitle(
        f"{len(shown)} of {len(labelled)} labelled images, misread first: resized against"
        f" MNIST's steps\nmodel trained on {data_name}"
    )
    show(figure, "07_naive_and_prepared.png")

# %% [markdown]
# ## Done / 完成
#
# A script ends with exit status 1 when an image could not be read, so that a shell or a
# test sees it; the lines above say which and why.
#
# 有图片读不了时，脚本以状态码 1 结束，方便命令行或测试发现；上面几行已经说明是哪些、为什么。

# %%
if problems and not in_notebook:
    raise SystemExit(f"{len(problems)} of the images could not be read: see the lines above")

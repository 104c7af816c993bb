"""Handwritten digits in a photo, prepared the way MNIST's were: lessons 07 and 08's steps.

Copy this file beside your code, and read a photo with any MNIST model (lesson 07 saves one):

    import numpy as np
    from scipy.special import softmax
    from tensorflow import keras

    import handwriting

    model = keras.models.load_model("models/mnist_dense.keras")
    page = handwriting.read_page("photo.jpg")  # every digit on it, in rows
    inputs = np.array([digit.input for digit in page.digits])  # 784 values each, 0 to 1
    probabilities = softmax(model.predict(inputs, verbose=0), axis=1)  # the model gives logits
    print(page.text(probabilities.argmax(axis=1)))  # "7"; a sheet in rows: "12345 67890"

read_page() takes a file's path, a file object or a 2-D array of grey levels (0 black to 255
white). read_digit() reads an image that holds one digit. Each raises ValueError with what a
person would say: "no digit: ...", "2 digits: ...", "too many marks ...".

MNIST's digits are white on black, cropped, fitted to 20x20 with their aspect kept, and centred
in 28x28 by their centre of mass (LeCun's MNIST page). A photo gets there in these steps:
  open_grey    the image as grey levels, upright, at most LARGEST_SIDE pixels a side;
  ink_of       the ink, 0 to 1, light on dark, measured against the paper around it;
  find_digits  the marks on the page, joined, cut apart, left out, in reading order;
  mnist_steps  one digit cropped, fitted to 20x20, its strokes as wide as MNIST's, 28x28,
               centred.
No TensorFlow here: numpy, scipy.ndimage and Pillow.
"""

import errno
import os
import re
import stat
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError
from scipy import ndimage

try:
    from pillow_heif import register_heif_opener  # iPhone photos: HEIC

    register_heif_opener()
except ImportError:
    register_heif_opener = None

LARGEST_SIDE = 1600  # a photo is shrunk to this first: a 12-megapixel one costs no more
LARGEST_PHOTO = 50_000_000  # pixels: a larger image is refused from its header, undecoded
Image.MAX_IMAGE_PIXELS = None  # open_grey() checks the size itself, after a JPEG's draft()
# A PNG's text (EXIF, XMP: a few KB) inflates to 1 MB at most, not Pillow's 64 MB.
PngImagePlugin.MAX_TEXT_MEMORY = PngImagePlugin.MAX_TEXT_CHUNK
MNIST_STROKE = 2.7  # MNIST's median stroke width, in pixels of its 20x20 box
SMALL_COPY = 200  # pixels: which side is ink, and the strokes' width, are measured this small
SINGLE_SHADE = 24  # grey levels: an image whose darkest and lightest differ less is blank
NOT_FAINT = 0.08  # the ink's threshold at least: paper grain and JPEG noise stay under it
STRONG, FAINT = 0.5, 0.25  # ink levels: a stroke, and the fainter ink joined to one
# Marks on a page, strokes joined: the two sheets hold 10 and 12, a photo with 40 specks of dust
# at most 52; a page of 5 mm digits written edge to edge, about 1,000. More is no handwriting
# (a picture of thousands of bars), and would cost seconds for nothing.
MOST_MARKS = 1000
JOIN = 0.04  # a thin pen's gaps, closed up to this share of the largest mark's size (each side)
SPECK = 1 / 4  # a mark less than this share of the tallest is a speck
CUT_WIDE = 0.8  # a mark at least this wide for its height may be two digits that touch


class NotHandwriting(ValueError):
    """A picture that no page of handwriting is: thousands of marks."""


class Box(NamedTuple):
    """Where something lies in an image: rows top to bottom - 1, columns left to right - 1."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self):
        return self.bottom - self.top

    @property
    def width(self):
        return self.right - self.left

    @property
    def slices(self):
        """The box as numpy slices: image[box.slices] is what lies in it."""
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @classmethod
    def of(cls, slices):
        rows, columns = slices
        return cls(rows.start, columns.start, rows.stop, columns.stop)

    def around(self, other):
        """The box around both."""
        return Box(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )


class Part(NamedTuple):
    """A mark on the page: its box, and its own pixels in that box (True where it is)."""

    box: Box
    pixels: np.ndarray


class Steps(NamedTuple):
    """One digit on its way to MNIST's form, each step an array of ink from 0 to 1."""

    crop: np.ndarray  # the digit's own ink, cropped to it
    fitted: np.ndarray  # fitted into 20x20, its aspect kept
    strokes: np.ndarray  # the same, its strokes brought to MNIST's width
    padded: np.ndarray  # placed in the middle of 28x28
    centred: np.ndarray  # moved so that its centre of mass is the field's: what the model sees


@dataclass
class Digit:
    """A digit found on a page: where it is, its own ink there, and its steps to MNIST."""

    box: Box
    ink: np.ndarray
    steps: Steps

    @property
    def input(self):
        """What an MNIST model reads: 784 values from 0 to 1."""
        return as_input(self.steps.centred)


@dataclass
class Page:
    """An image read: its grey levels, its ink, and its digits in rows, top to bottom."""

    grey: np.ndarray
    ink: np.ndarray
    rows: list

    @property
    def digits(self):
        """Every digit in reading order, row after row."""
        return [digit for row in self.rows for digit in row]

    def text(self, guesses):
        """One guess a digit, in reading order, as a person writes them: rows apart by a space."""
        guesses = iter(guesses)
        return " ".join("".join(str(next(guesses)) for _ in row) for row in self.rows)


def read_page(image):
    """Every digit on a photo or a page: a Page. `image` is a file's path, a file object, or a
    2-D array of grey levels. ValueError says why when there is no digit to read."""
    if isinstance(image, np.ndarray):
        grey = np.clip(np.asarray(image, dtype=np.float32), 0, 255)
    else:
        grey = open_grey(image)
    ink = ink_of(grey)
    return Page(grey, ink, find_digits(ink))


def read_digit(image):
    """The one digit of an image, as read_page() finds it: a Digit. ValueError when the image
    holds no digit, or more than one."""
    digits = read_page(image).digits
    if len(digits) > 1:
        raise ValueError(f"{len(digits)} digits: read_page() reads each")
    return digits[0]


# The image's grey levels


def open_grey(file):
    """An image file (a path or a file object) as grey levels 0..255: upright as its EXIF
    says, transparency laid on white, at most LARGEST_SIDE pixels a side. ValueError says why
    when it cannot be read: over LARGEST_PHOTO pixels (known from its header, undecoded), not
    an image, damaged, values that are not numbers, not a regular file (a FIFO never ends)."""
    try:
        if isinstance(file, (str, os.PathLike)) and not stat.S_ISREG(os.stat(file).st_mode):
            raise ValueError("not a regular file (a pipe, a device or a socket)")
        with Image.open(file) as image:
            return grey_levels(image)
    except ValueError:  # too large, not numbers, not a regular file: said already
        raise
    except (FileNotFoundError, PermissionError) as err:  # gone, or not ours to read
        raise ValueError(err.strerror.lower()) from None
    except UnidentifiedImageError:
        if str(file).lower().endswith((".heic", ".heif")) and register_heif_opener is None:
            raise ValueError("an iPhone photo (HEIC): pip install pillow-heif to read it") from None
        raise ValueError("not an image that Pillow can read") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ValueError("a link that leads back to itself") from None
        raise ValueError(f"a damaged image ({err})") from None
    except Exception as err:  # a truncated or damaged file
        raise ValueError(f"a damaged image ({err})") from None


def grey_levels(image):
    """An open Pillow image as grey levels (see open_grey), decoded at most LARGEST_SIDE."""
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


# The ink


def ink_of(grey):
    """The ink, 0 (paper) to 1 (a full stroke), light on dark like MNIST, whatever the paper,
    its shadows and its light. ValueError says why when there is no ink to find."""
    if min(grey.shape) < 8:
        raise ValueError(f"{grey.shape[1]}x{grey.shape[0]} pixels is too small for a digit")
    if grey.max() - grey.min() < SINGLE_SHADE:
        raise ValueError("no digit: the image is a single shade (a blank page, or all ink)")
    small = fitted_to(grey, min(SMALL_COPY, max(grey.shape)))
    if ink_is_lighter(small, tiny=max(grey.shape) <= 64):  # light ink on a dark ground
        grey, small = 255 - grey, 255 - small
    paper = paper_level(grey, small)
    ink = np.clip((paper - grey) / np.maximum(paper, 1), 0, 1)
    threshold = max(otsu_threshold(ink), NOT_FAINT)
    strokes = ink[ink > threshold]
    if strokes.size == 0:
        raise ValueError("no digit: nothing on the page is darker than the paper")
    full = max(np.percentile(strokes, 75), threshold + 0.05)  # a full stroke: 1
    return np.clip((ink - threshold / 2) / (full - threshold / 2), 0, 1)


def ink_is_lighter(small, tiny):
    """Whether the ink is lighter than its ground (a canvas) rather than darker (paper). The
    ink stands out from what is around it: what lies farthest from the mean of its surroundings
    (a third of the image, where the light may change; all of a tiny one). When neither side
    is clearly farther (a tight crop, mostly stroke), the ground is what most of the border is."""
    window = max(small.shape) if tiny else max(small.shape) // 3
    around = small - ndimage.uniform_filter(small, size=window)
    lighter, darker = around.max(), -around.min()
    if max(lighter, darker) < 1.5 * min(lighter, darker):
        ground = np.median(np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]]))
        lighter, darker = small.max() - ground, ground - small.min()
    return lighter > darker


def paper_under(grey, window):
    """The paper without the strokes: a grey closing (the lightest, then the darkest level
    around each pixel) wider than a stroke wipes them off, and keeps a shadow's edge."""
    return ndimage.grey_closing(grey, size=max(3, round(window)))


def paper_level(grey, small):
    """The paper's grey level under every pixel of `grey`, shadows included. On the small copy
    first, with a window a third of the page wide, to find the strokes and their width; then
    with one three strokes wide, to follow the shadows closely. Enlarged, the small copy's paper
    blurs a hard shadow's edge into a line of ink along it; on the photo itself the edge stays
    sharp, but a dark table's grain lifts the paper: the lower of the two."""
    stroke = paper_under(small, max(small.shape) // 3) - small > 0.25 * np.ptp(small)
    window = 3 * stroke_width(stroke)
    paper = paper_under(small, window)
    paper = np.asarray(Image.fromarray(paper).resize(grey.shape[::-1], Image.Resampling.BILINEAR))
    return np.minimum(paper, paper_under(grey, window * max(grey.shape) / max(small.shape)))


def otsu_threshold(ink):
    """Otsu's threshold of the ink's histogram (64 bins): the level that best splits the
    pixels into two groups, the paper's grain and noise below it, the strokes above."""
    share = np.bincount(np.minimum(ink * 64, 63).astype(int).ravel(), minlength=64) / ink.size
    edges = np.linspace(0, 1, 65)
    below = np.cumsum(share)[:-1]  # the share of pixels at or below each possible threshold
    mean_below = np.cumsum(share * edges[:-1])[:-1]
    mean = mean_below[-1] + share[-1] * edges[-2]
    between = (mean * below - mean_below) ** 2 / np.maximum(below * (1 - below), 1e-12)
    return edges[np.argmax(between) + 1]


def stroke_width(mask):
    """The mean width of a mask's strokes, in pixels: their area over half their outline."""
    outline = mask & ~ndimage.binary_erosion(mask)
    return 2 * mask.sum() / max(outline.sum(), 1)


# One digit to MNIST's form


def trimmed(array):
    """The array cropped to the rows and columns that hold anything above 0."""
    return array[ndimage.find_objects((array > 0).astype(int))[0]]


def mnist_steps(ink):
    """One digit's ink (nothing else in the array) to MNIST's form, every step kept."""
    crop = trimmed(ink)
    # At 4 times MNIST's scale (the longest side 80 pixels), where strokes can be measured,
    # the strokes grow to MNIST's width by a grey dilation with a disc.
    large = fitted_to(crop, 80)
    reach = round((4 * MNIST_STROKE - stroke_width(large > 0.5)) / 2)  # pixels to add each side
    if reach > 0:
        y, x = np.ogrid[-reach : reach + 1, -reach : reach + 1]
        large = ndimage.grey_dilation(np.pad(large, reach), footprint=x * x + y * y <= reach**2)
    strokes = fitted_to(trimmed(large), 20)
    height, width = strokes.shape
    top, left = (28 - height) // 2, (28 - width) // 2
    padded = np.zeros((28, 28), np.float32)
    padded[top : top + height, left : left + width] = strokes
    # The centre of mass to the middle of the 28x28 field, by whole pixels, as MNIST did.
    mass_y, mass_x = ndimage.center_of_mass(strokes)
    down = int(np.clip(round(14 - mass_y), 0, 28 - height))
    right = int(np.clip(round(14 - mass_x), 0, 28 - width))
    centred = np.zeros((28, 28), np.float32)
    centred[down : down + height, right : right + width] = strokes
    return Steps(crop, fitted_to(crop, 20), strokes, padded, centred)


def as_input(field):
    """A 28x28 field of ink from 0 to 1 as an MNIST model reads it: 784 values, at MNIST's 256
    grey levels, as its bytes / 255."""
    levels = np.round(field * 255).astype(np.uint8)
    return levels.reshape(28 * 28).astype("float32") / 255.0


def mnist_input(ink):
    """One digit's ink (nothing else in the array) as an MNIST model reads it: 784 values."""
    return as_input(mnist_steps(ink).centred)


# A page: its digits in reading order


def find_digits(ink):
    """The digits on a page in reading order: rows of Digits, top to bottom, each row left to
    right. ValueError when there is no digit."""
    strong, faint = ink > STRONG, ink > FAINT
    if strong.sum() > 0.4 * max(ink.shape) ** 2:  # of a square: a tight crop of a 1 is narrow
        raise ValueError("no digit: most of the image is ink")
    marks = [
        part
        for part in parts_of(strong, faint)
        if not along_an_edge(part, ink.shape) and not is_a_hairline(part.pixels)
    ]
    if not marks:
        raise ValueError("no digit: only the edge of the paper")
    tallest = max(max(part.pixels.shape) for part in marks)
    not_specks = [part for part in marks if max(part.pixels.shape) >= SPECK * tallest]
    pieces = [
        piece
        for part in stacked_ones_joined(not_specks)
        if not is_a_mark(part.pixels)
        for piece in cut_apart(part)
    ]
    if not pieces:
        raise ValueError("no digit: only a dash, a dot or specks")
    # Each digit's own ink, nothing of a neighbour's: its strokes, the fainter ink joined to them
    # in its box (hysteresis again, for a loop drawn lighter), and their faint edges.
    digits = []
    for box, pixels in pieces:
        strokes = ndimage.binary_propagation(pixels, mask=faint[box.slices])
        own_ink = ink[box.slices] * ndimage.maximum_filter(strokes, size=3)
        digits.append(Digit(box, own_ink, mnist_steps(own_ink)))
    return in_rows(digits)


def parts_of(strong, faint):
    """The marks of the strong ink, as Parts. Strokes that almost touch are one mark, and so
    are strokes that fainter ink connects: hysteresis, as in Canny's edge detector."""
    labels, count = ndimage.label(strong, structure=np.ones((3, 3)))
    if count == 0:
        raise ValueError("no digit: nothing on the page is darker than the paper")
    longest = max(max(s.stop - s.start for s in box) for box in ndimage.find_objects(labels))
    reach = max(1, round(JOIN * longest))
    grouped, count = ndimage.label(ndimage.maximum_filter(strong | faint, size=2 * reach + 1))
    if count > MOST_MARKS:
        raise NotHandwriting(f"too many marks ({count:,}): not a page of digits")
    grouped[~strong] = 0  # faint ink alone is no mark
    boxes = ndimage.find_objects(grouped)
    return [Part(Box.of(box), grouped[box] == n + 1) for n, box in enumerate(boxes) if box]


def along_an_edge(part, shape):
    """Whether a mark is a long thin band that lies along a side of the image, touching it for
    most of its length, and less than a third of the image across: the paper's edge, or the
    table beyond it. A digit cropped tightly touches a side only at its ends, or fills more."""
    box, pixels = part
    height, width = pixels.shape
    on_top = box.top == 0 and pixels[0].sum() > 0.7 * shape[1]
    on_bottom = box.bottom == shape[0] and pixels[-1].sum() > 0.7 * shape[1]
    on_left = box.left == 0 and pixels[:, 0].sum() > 0.7 * shape[0]
    on_right = box.right == shape[1] and pixels[:, -1].sum() > 0.7 * shape[0]
    lying = (on_top or on_bottom) and height < min(0.3 * width, shape[0] / 3)
    standing = (on_left or on_right) and width < min(0.3 * height, shape[1] / 3)
    return lying or standing


def is_a_hairline(pixels):
    """Whether a mark is a straight line (its box 5 times as long as wide) ten times thinner
    for its length than MNIST's strokes: the paper's edge, or a fold. No pen writes so thin."""
    length = max(pixels.shape)
    return min(pixels.shape) < length / 5 and stroke_width(pixels) < length * MNIST_STROKE / 200


def is_a_mark(pixels):
    """Whether a mark is no digit: a dash (flat and filled) or a dot (round and filled). No
    digit is that flat, nor that full."""
    height, width = pixels.shape
    filled = pixels.mean()
    return height < 0.4 * width or (max(height, width) < 1.6 * min(height, width) and filled > 0.7)


def stacked_ones_joined(parts):
    """The parts, each joined with the first one it stands on or under with little between
    them: one digit (a 5's loose bar, a 3 whose pen skipped). All others at once, with numpy."""
    parts, done = list(parts), []
    edges = np.array([part.box for part in parts]).reshape(-1, 4)  # top, left, bottom, right
    while parts:
        part, edges = parts.pop(), edges[:-1]
        stacked = np.flatnonzero(stacked_on(part.box, edges))
        if stacked.size == 0:
            done.append(part)
            continue
        parts.append(joined(part, parts.pop(stacked[0])))
        edges = np.vstack([np.delete(edges, stacked[0], axis=0), parts[-1].box])
    return done


def stacked_on(box, others):
    """Which of the boxes `others` (rows of top, left, bottom, right) stand above or below `box`
    with little between them: overlapping by half the narrower's width, apart by less than a
    fifth of the taller's height."""
    top, left, bottom, right = box
    overlap = np.minimum(right, others[:, 3]) - np.maximum(left, others[:, 1])
    narrower = np.minimum(right - left, others[:, 3] - others[:, 1])
    gap = np.maximum(top, others[:, 0]) - np.minimum(bottom, others[:, 2])
    taller = np.maximum(bottom - top, others[:, 2] - others[:, 0])
    return (overlap > narrower / 2) & (gap < 0.2 * taller)


def joined(part, other):
    """Two parts as one: the box around both, and the pixels of each in it."""
    box = part.box.around(other.box)
    pixels = np.zeros((box.height, box.width), bool)
    for own_box, own in (part, other):
        top, left = own_box.top - box.top, own_box.left - box.left
        pixels[top : top + own_box.height, left : left + own_box.width] |= own
    return Part(box, pixels)


def thin_crossing(column, height):
    """Whether a column of a part crosses its ink once and thinly (less than a quarter of the
    part's height), away from its very top and bottom: where two digits touch."""
    inked = np.flatnonzero(column)
    if inked.size == 0 or not column[inked[0] : inked[-1] + 1].all():  # one run of ink
        return False
    middle = (inked[0] + inked[-1]) / 2
    return inked[-1] - inked[0] < 0.25 * height and 0.1 * height < middle < 0.9 * height


def cut_apart(part):
    """A part at least CUT_WIDE as wide as it is tall, cut in two where two digits touch: at
    the column of its middle half with the least ink that crosses the ink thinly (across a 0 or
    an 8 a column crosses twice), if each piece is nearly as tall as the part; then each piece
    again. Any other part as it is, in a list."""
    box, pixels = part
    height, width = pixels.shape
    if width < CUT_WIDE * height:
        return [part]
    middle = range(round(0.25 * width), round(0.75 * width))
    necks = [column for column in middle if thin_crossing(pixels[:, column], height)]
    if not necks:
        return [part]
    cut = min(necks, key=lambda column: pixels[:, column].sum())
    pieces = [pixels[:, :cut], pixels[:, cut:]]
    inked_rows = [np.flatnonzero(piece.any(axis=1)) for piece in pieces]
    if min(inked[-1] - inked[0] if inked.size else 0 for inked in inked_rows) < 0.7 * height:
        return [part]
    left = Part(box._replace(right=box.left + cut), pieces[0])
    right = Part(box._replace(left=box.left + cut), pieces[1])
    return cut_apart(left) + cut_apart(right)


def in_rows(digits):
    """Digits in reading order: each joins the row whose last digit it overlaps most, by at
    least a third of the smaller height; rows top to bottom, each left to right."""
    rows = []
    for digit in sorted(digits, key=lambda digit: digit.box.left):
        box, best, most = digit.box, None, 0
        for row in rows:
            last = row[-1].box
            overlap = min(box.bottom, last.bottom) - max(box.top, last.top)
            if overlap > max(most, min(box.height, last.height) / 3):
                best, most = row, overlap
        if best is None:
            rows.append([digit])
        else:
            best.append(digit)
    return sorted(rows, key=lambda row: np.mean([d.box.top + d.box.bottom for d in row]))


# A learner's files


IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif")
DEEPEST = 100  # folders inside folders; os.walk() of Python 3.11 fails past about 900


def images_named(names):
    """The image files that files and folders name, and the names that hold none: (files,
    [(name, why)]). A folder is walked DEEPEST folders down at most."""
    files, problems = [], []
    for name in names:
        if os.path.isdir(name):
            found, too_deep = images_in(name)
            files += found
            if too_deep:
                problems.append((name, f"what lies over {DEEPEST} folders deep in it"))
            elif not found:
                problems.append((name, "a folder with no images in it"))
        elif os.path.lexists(name):  # a link that leads nowhere: open_grey() says why
            files.append(name)
        else:
            where = os.path.abspath(os.path.dirname(name) or ".")
            problems.append((name, f"no such file or folder (looked in {where})"))
    return files, problems


def images_in(folder):
    """The image files below a folder, sorted, DEEPEST folders down at most; and whether
    there was more below."""
    walked, too_deep = [], False
    for inside, subfolders, files in os.walk(folder):
        if os.path.relpath(inside, folder).count(os.sep) + 1 >= DEEPEST and subfolders:
            subfolders.clear()  # os.walk() goes no deeper
            too_deep = True
        walked.append((inside, sorted(f for f in files if f.lower().endswith(IMAGE_TYPES))))
    found = [os.path.join(inside, file) for inside, files in sorted(walked) for file in files]
    return found, too_deep


def beside(name, folder):
    """`name`, or the same name in `folder` when only that one is there."""
    elsewhere = os.path.join(folder, name)
    if not os.path.lexists(name) and os.path.lexists(elsewhere):
        return elsewhere
    return name


def shown(name):
    """A file name as one printable line, as ls shows it: bytes that are not UTF-8 (\\xff) and
    control characters (\\n) escaped, and then the name quoted."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    for character in set(text):
        if not character.isprintable():
            text = text.replace(character, repr(character)[1:-1])
    return name if text == name else f"'{text}'"


def label_of(file):
    """The digits a file's name gives (7-anna.jpg: "7"; 12345_67890.png: "12345 67890"), or
    its folder's single digit (7/photo.jpg: "7"); None when neither names digits."""
    stem = re.split(r"[-.]", os.path.basename(file))[0]
    if re.fullmatch(r"\d+(_\d+)*", stem):
        return stem.replace("_", " ")
    folder = os.path.basename(os.path.dirname(file))
    return folder if re.fullmatch(r"\d", folder) else None

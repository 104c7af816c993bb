"""Photos of handwriting made from MNIST digits: ink on paper, as a phone would take them.

Lesson 07's bundled examples are made here (`python tools/make_own_digits.py` writes them into
data/own_digits/), and the tests make their own with photo_of(). Each digit is a real MNIST
digit, drawn large as a pen stroke: dark or coloured ink, a thin or thick pen, on paper whose
grey, light and shadow vary, saved as a JPEG or PNG.
"""

import io
import os

import numpy as np
from PIL import Image, ImageFilter

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def thinned(mask):
    """The one-pixel skeleton of a boolean mask (Zhang and Suen's thinning)."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = np.pad(mask, 1)
            p2, p3, p4, p5 = p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:]
            p6, p7, p8, p9 = p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]
            around = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(n.astype(int) for n in around[:8])
            crossings = sum((~a & b).astype(int) for a, b in zip(around, around[1:]))
            if step == 0:
                keep = (p2 & p4 & p6) | (p4 & p6 & p8)
            else:
                keep = (p2 & p4 & p8) | (p2 & p6 & p8)
            remove = mask & (neighbours >= 2) & (neighbours <= 6) & (crossings == 1) & ~keep
            if remove.any():
                mask &= ~remove
                changed = True
    return mask


def grown(mask, pixels):
    """A boolean mask grown by `pixels` on every side."""
    for _ in range(pixels):
        shifted = [np.roll(mask, 1, 0), np.roll(mask, -1, 0), np.roll(mask, 1, 1)]
        mask = np.any([mask, *shifted, np.roll(mask, -1, 1)], axis=0)
    return mask


def pen_stroke(digit, height, pen):
    """A 28x28 MNIST digit as a stroke mask 0..1 about `height` pixels tall: pen 'thin' draws
    its skeleton with a line about 2% of its height wide (at least 3 pixels), 'thick' a marker's."""
    size = round(height * 28 / 20)
    if pen == "thin":
        large = np.asarray(Image.fromarray(digit).resize((112, 112), Image.Resampling.BICUBIC))
        skeleton = grown(thinned(large >= 128), 1).astype(np.float32)  # 3 pixels of 112
        line = np.asarray(Image.fromarray(skeleton).resize((size, size), Image.Resampling.BILINEAR))
        mask = np.pad(line > 0.05, 8)
        mask = grown(mask, max(0, round((max(3, 0.012 * height) - size / 112) / 2)))[8:-8, 8:-8]
    else:
        large = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
        mask = large >= 60
    image = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(1))
    return np.asarray(image, dtype=np.float32) / 255


def photo_of(
    rows,
    seed=0,
    height=200,
    pen="thin",
    ink=(30, 30, 40),
    paper=225,
    shade=0.35,
    size=None,
    fmt="JPEG",
    margin=None,
    gap=None,
    slant=0.0,
    breaks=0,
    ruled=None,
    effect=None,
):
    """A photo (encoded bytes) of a sheet with rows of MNIST digits (lists of 28x28 uint8
    arrays), written in ink on paper lit unevenly from one side, with a soft shadow.

    gap: pixels between digits (negative: they overlap and touch); slant: each digit of a row
    that much of `height` lower than the one before; breaks: gaps cut into each stroke (a pen
    that skips); ruled: "lines" or "grid", faint blue; effect(pixels, rng): anything done to
    the finished RGB pixels (a shadow, the table) before they are saved."""
    rng = np.random.default_rng(seed)
    margin = height // 2 if margin is None else margin
    gap = height // 3 if gap is None else gap
    columns = max(len(row) for row in rows)
    width = size[0] if size else 2 * margin + columns * (round(height * 1.4) + abs(gap))
    tall = size[1] if size else 2 * margin + len(rows) * (round(height * 1.4) + abs(gap))
    tall += round(slant * height * columns)
    strokes = np.zeros((tall, width), np.float32)
    for r, row in enumerate(rows):
        ink_right = margin
        for c, digit in enumerate(row):
            mask = pen_stroke(digit, round(height * rng.uniform(0.85, 1.15)), pen)
            for _ in range(breaks):  # a pen that skips: a short gap across the stroke
                y, x = np.argwhere(mask > 0.5)[rng.integers(0, (mask > 0.5).sum())]
                reach = max(2, mask.shape[0] // 40)
                mask[max(0, y - reach) : y + reach, max(0, x - reach) : x + reach] = 0
            jitter = rng.integers(0, abs(gap) // 2 + 1)
            top = margin + r * (round(height * 1.4) + abs(gap)) + jitter + round(c * slant * height)
            left = margin + c * (round(height * 1.4) + gap) + rng.integers(0, abs(gap) // 2 + 1)
            columns_inked = np.flatnonzero(mask.max(axis=0) > 0.5)
            if gap < 0 and c > 0:  # digits that touch: this one's ink over the last one's
                left = ink_right + gap - columns_inked[0]
            ink_right = left + columns_inked[-1]
            h, w = mask.shape
            if size and len(rows) == 1 and len(row) == 1:  # one digit: anywhere on the page
                top = rng.integers(0, tall - h + 1)
                left = rng.integers(0, width - w + 1)
            region = strokes[top : top + h, left : left + w]
            region[...] = np.maximum(region, mask[: region.shape[0], : region.shape[1]])
    y, x = np.mgrid[0:tall, 0:width]
    light = 1 - shade * x / width  # lit from the left
    cy, cx = rng.uniform(0.3, 0.7) * tall, rng.uniform(0.5, 1.0) * width
    shadow = 1 - 0.25 * np.exp(-(((y - cy) / (0.4 * tall)) ** 2 + ((x - cx) / (0.3 * width)) ** 2))
    page = paper * light * shadow + rng.normal(0, 3, (tall, width))
    page = np.repeat(page[..., None], 3, axis=2)
    if ruled:  # faint blue lines, every 0.7 of a digit's height
        every = max(4, round(0.7 * height))
        line = np.zeros((tall, width), bool)
        line[every // 2 :: every] = True
        if ruled == "grid":
            line[:, every // 2 :: every] = True
        page[line] *= np.array([0.8, 0.85, 1.0])
    ink, strokes = np.array(ink, np.float32), strokes[..., None]
    pixels = page * (1 - strokes) + ink * light[..., None] * strokes
    if effect is not None:
        pixels = effect(pixels, rng)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=85) if fmt == "JPEG" else image.save(buffer, fmt)
    return buffer.getvalue()


def hard_shadow(pixels, rng):
    """A phone's hard-edged shadow over the left third of the page."""
    edge = round(pixels.shape[1] * rng.uniform(0.3, 0.4))
    pixels[:, :edge] *= 0.45
    return pixels


def table_beside(pixels, rng):
    """The paper's edge, and a dark wooden table beyond it, along the right side."""
    edge = round(pixels.shape[1] * rng.uniform(0.82, 0.9))
    pixels[:, edge:] = np.array([70, 50, 35]) + rng.normal(0, 6, pixels[:, edge:].shape)
    pixels[:, edge - 2 : edge] *= 0.6  # the paper's edge casts a thin shadow
    return pixels


def dim_light(pixels, rng):
    """Paper photographed in dim light: the paper itself mid-grey, darker than half-white."""
    return pixels * rng.uniform(0.45, 0.5)


def specks(pixels, rng):
    """Dust and specks of dirt: 40 dots of 1 to 3 pixels."""
    for _ in range(40):
        y, x = rng.integers(0, pixels.shape[0]), rng.integers(0, pixels.shape[1])
        reach = int(rng.integers(1, 3))
        pixels[max(0, y - reach) : y + reach, max(0, x - reach) : x + reach] *= 0.3
    return pixels


def tightly_cropped(pixels, rng):
    """The photo cropped to the ink itself: the digit touches the border."""
    dark = np.argwhere(pixels.mean(axis=2) < pixels.mean() - 40)
    (top, left), (bottom, right) = dark.min(axis=0), dark.max(axis=0)
    return pixels[top : bottom + 1, left : right + 1]


def small_blurred_crop(pixels, rng):
    """A digit cut out of a larger photo, close to its ink, then small and soft: 64 pixels
    tall, as a phone's zoomed-in crop is (its border touches or nearly touches the ink)."""
    crop = tightly_cropped(pixels, rng)
    margin = round(0.03 * crop.shape[0])
    crop = np.pad(crop, ((margin, margin), (margin, margin), (0, 0)), mode="edge")
    image = Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8), "RGB")
    width = max(8, round(image.width * 64 / image.height))
    image = image.resize((width, 64), Image.Resampling.LANCZOS)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)), np.float32)


def mark(shape, seed=0):
    """A photo of a mark that is no digit on paper: "dash", "dot" or "speck"."""
    rng = np.random.default_rng(seed)
    page = np.full((300, 400, 3), 225.0) + rng.normal(0, 3, (300, 400, 3))
    if shape == "dash":
        page[140:152, 140:260] = 30
    elif shape == "dot":
        y, x = np.ogrid[:300, :400]
        page[(y - 150) ** 2 + (x - 200) ** 2 < 14**2] = 30
    else:  # a speck
        page[150:153, 200:203] = 60
    buffer = io.BytesIO()
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def cases(images, labels, seed=2026):
    """Photos of each way a learner's photo can go wrong, made from MNIST test digits:
    [(name, photo bytes, the digits a person reads: "7", rows "123 45", or "" for none)]."""
    rng = np.random.default_rng(seed)

    def pick(digits):
        return [images[rng.choice(np.flatnonzero(labels == int(d)))] for d in digits]

    def sheet(text, **options):
        return [pick(row) for row in text.split()], text

    made = []
    for name, (rows, text), options in [
        ("hard shadow over a third", sheet("7"), dict(effect=hard_shadow, size=(600, 450))),
        ("hard shadow on a sheet", sheet("3851"), dict(effect=hard_shadow, height=100)),
        ("the table along a side", sheet("2"), dict(effect=table_beside, size=(600, 450))),
        ("dim light, mid-grey paper", sheet("6"), dict(effect=dim_light, ink=(15, 15, 20))),
        ("dim light on a sheet", sheet("40 95"), dict(effect=dim_light, height=90)),
        ("specks and dust", sheet("5"), dict(effect=specks, size=(600, 450))),
        ("faint pencil", sheet("3"), dict(ink=(150, 150, 155), pen="thin")),
        ("a thin pen that skips", sheet("8"), dict(pen="thin", breaks=6, height=300)),
        ("lined paper", sheet("14 92"), dict(ruled="lines", height=90)),
        ("grid paper", sheet("7"), dict(ruled="grid", height=200)),
        ("tightly cropped", sheet("0"), dict(effect=tightly_cropped, height=120)),
        ("a slanting row", sheet("12345 67890"), dict(slant=0.12, height=70)),
        ("rows of 3, then 1", sheet("123 456 789 0"), dict(height=70)),
        ("two digits that touch", sheet("36"), dict(gap=-6, height=160, pen="thick")),
        ("a small, blurred crop of a 1", sheet("1"), dict(effect=small_blurred_crop, pen="thick")),
        ("a small, blurred crop of a 2", sheet("2"), dict(effect=small_blurred_crop, pen="thick")),
    ]:
        made.append((name, photo_of(rows, seed=len(made), **options), text))
    for shape in ("dash", "dot", "speck"):
        made.append((f"a {shape}", mark(shape, seed=len(made)), ""))
    return made


def write_examples(folder):
    """The bundled examples: a thin blue pen on a large photo, one saved on its side with an
    EXIF orientation, and a sheet of two rows (made from the sample's test digits)."""
    with np.load(os.path.join(DATA, "mnist_sample.npz"), allow_pickle=False) as npz:
        images, labels = npz["x_test"], npz["y_test"]
    first = {digit: images[np.flatnonzero(labels == digit)[0]] for digit in range(10)}
    blue = (30, 50, 150)
    with open(os.path.join(folder, "4-thin-pen.jpg"), "wb") as file:
        file.write(photo_of([[first[4]]], seed=4, height=700, ink=blue, size=(1500, 1200)))
    upright = Image.open(io.BytesIO(photo_of([[first[9]]], seed=9, height=300, pen="thick")))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90 degrees clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(
        os.path.join(folder, "9-sideways.jpg"), quality=85, exif=exif
    )
    rows = [[first[d] for d in (3, 1, 4, 1, 5)], [first[d] for d in (9, 2, 6, 5, 3)]]
    rows[0][3] = images[np.flatnonzero(labels == 1)[1]]  # two different 1s, and 5s, and 3s
    rows[1][3] = images[np.flatnonzero(labels == 5)[1]]
    rows[1][4] = images[np.flatnonzero(labels == 3)[1]]
    with open(os.path.join(folder, "31415_92653.jpg"), "wb") as file:
        file.write(photo_of(rows, seed=3, height=120, ink=(20, 20, 30)))


if __name__ == "__main__":
    folder = os.path.join(DATA, "own_digits")
    os.makedirs(folder, exist_ok=True)
    write_examples(folder)
    print(f"Wrote the examples in {folder}")

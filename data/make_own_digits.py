"""Photos of handwriting made from MNIST digits: ink on paper, as a phone would take them.

Lesson 07's bundled examples are made here (`python data/make_own_digits.py` writes them into
data/own_digits/), and the tests make their own with photo_of(). Each digit is a real MNIST
digit, drawn large as a pen stroke: dark or coloured ink, a thin or thick pen, on paper whose
grey, light and shadow vary, saved as a JPEG or PNG.
"""

import io
import os

import numpy as np
from PIL import Image, ImageFilter


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
):
    """A photo (encoded bytes) of a sheet with rows of MNIST digits (lists of 28x28 uint8
    arrays), written in ink on paper lit unevenly from one side, with a soft shadow."""
    rng = np.random.default_rng(seed)
    margin = height // 2 if margin is None else margin
    gap = height // 3
    columns = max(len(row) for row in rows)
    width = size[0] if size else 2 * margin + columns * (round(height * 1.4) + gap)
    tall = size[1] if size else 2 * margin + len(rows) * (round(height * 1.4) + gap)
    strokes = np.zeros((tall, width), np.float32)
    for r, row in enumerate(rows):
        for c, digit in enumerate(row):
            mask = pen_stroke(digit, round(height * rng.uniform(0.85, 1.15)), pen)
            top = margin + r * (round(height * 1.4) + gap) + rng.integers(0, gap // 2 + 1)
            left = margin + c * (round(height * 1.4) + gap) + rng.integers(0, gap // 2 + 1)
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
    ink, strokes = np.array(ink, np.float32), strokes[..., None]
    pixels = page[..., None] * (1 - strokes) + ink * light[..., None] * strokes
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=85) if fmt == "JPEG" else image.save(buffer, fmt)
    return buffer.getvalue()


def write_examples(folder):
    """The bundled examples: a thin blue pen on a large photo, one saved on its side with an
    EXIF orientation, and a sheet of two rows (made from the sample's test digits)."""
    here = os.path.dirname(os.path.abspath(__file__))
    with np.load(os.path.join(here, "mnist_sample.npz"), allow_pickle=False) as npz:
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
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "own_digits")
    os.makedirs(folder, exist_ok=True)
    write_examples(folder)
    print(f"Wrote the examples in {folder}")

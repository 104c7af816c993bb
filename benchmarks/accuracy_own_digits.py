"""Accuracy, not speed: how many handwritten digits that are not MNIST lesson 07 reads right,
with each photo prepared the MNIST way (the lesson's own two cells) and only resized to 28x28
("naive", turned light on dark so that it is fair).

It imports the preparation, handwriting.py, and loads a saved model of 07:
    python 07_your_own_digits.py --data mnist.npz    # trains, saves models/mnist_dense.keras
    python benchmarks/accuracy_own_digits.py --own-digits ../shared/own_digits

What it reads:
- OWN_DIGITS/photos/<writer>/: phone photos of ink on paper, one digit each, per writer;
  then the same photos cut close to their ink, 64 pixels tall and blurred, as a phone's crop,
  and the same photos with a dark table beyond the paper's edge along their right side;
- OWN_DIGITS/sheets/: photos of sheets, named by their rows (12345_67890.jpg), as they are and
  with a hard shadow over their left third;
- OWN_DIGITS/hwd1000/: HwD-1000's 1,000 digits drawn on a tablet;
- OWN_DIGITS/drawings/: canvas drawings;
- OWN_DIGITS/semeion/semeion.data: 16x16 scans, scaled up (nearest neighbour, then a blur)
  and framed in white, as scanned paper;
- tools/make_own_digits.py's cases: each way a photo goes wrong, made from MNIST test digits;
  then 60 pairs of MNIST test digits that touch;
- MNIST's own test digits, as they are and through the steps;
- how sure the model is: the share of digits answered at each threshold, and how many of
  those are right (the lesson's SURE is the smallest with 99% right on both);
- one 12-megapixel photo (4000x3000), timed from the file to the model's answer.
"""

import argparse
import glob
import io
import os
import re
import sys
import time

import numpy as np
from PIL import Image, ImageFilter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # handwriting.py, beside the lessons
sys.path.insert(0, os.path.join(ROOT, "tools"))  # the repository's tools, imported
import make_own_digits  # noqa: E402

import handwriting  # noqa: E402

LESSON = "07_your_own_digits.py"


def lessons_sure():
    """The lesson's SURE: a guess less probable is shown as not sure."""
    with open(os.path.join(ROOT, LESSON), encoding="utf-8") as lesson:
        return float(re.search(r"^SURE = ([0-9.]+)", lesson.read(), re.M).group(1))


def encoded(image, fmt="PNG"):
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--own-digits", required=True, metavar="FOLDER", help="../shared/own_digits"
    )
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "mnist_dense.keras"))
    parser.add_argument("--mnist", default=os.path.join(ROOT, "..", "shared", "mnist", "mnist.npz"))
    args = parser.parse_args()
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    from tensorflow import keras

    sure = lessons_sure()
    model = keras.models.load_model(args.model)

    def scores(inputs):
        logits = model(np.array(inputs).reshape(-1, 784), training=False).numpy()
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def read(data):
        """The digits read in reading order, rows apart, and each digit's input; ("", [])
        when the preparation finds no digit."""
        try:
            page = handwriting.read_page(io.BytesIO(data))
        except ValueError:
            return "", []
        inputs = [digit.input for digit in page.digits]
        return page.text(np.argmax(scores(inputs), axis=1)), inputs

    def naive(data):
        grey = handwriting.open_grey(io.BytesIO(data))
        if np.median(grey) > 127:
            grey = 255 - grey
        small = np.asarray(Image.fromarray(grey).resize((28, 28), Image.Resampling.BOX)) / 255
        return str(np.argmax(scores([small])[0]))

    single_inputs, single_labels = [], []

    def score(name, photos, keep=False):
        """photos: [(bytes, label text)]: how many each way reads right."""
        naive_right = prepared = 0
        for data, label in photos:
            text, inputs = read(data)
            prepared += text == label
            naive_right += len(label) == 1 and naive(data) == label
            if keep and len(inputs) == 1:
                single_inputs.append(inputs[0])
                single_labels.append(int(label))
        count = len(photos)
        naive_text = f"{naive_right:>5} {naive_right / count:6.1%}"
        if not any(len(label) == 1 for _, label in photos):
            naive_text = f"{'-':>12}"
        print(f"{name:54}  {count:>5}  {naive_text}  {prepared:>5} {prepared / count:6.1%}")

    def score_sheets(name, sheets):
        """sheets: [(bytes, rows of digits)]: how many keep every row as written, and how many
        digits are read right where the count is right."""
        right = total = rows_right = 0
        for data, label in sheets:
            text = read(data)[0]
            rows_right += [len(row) for row in text.split()] == [len(row) for row in label.split()]
            if len(text) == len(label):
                right += sum(a == b for a, b in zip(text, label) if b != " ")
            total += len(label.replace(" ", ""))
        name = f"{name}: {rows_right} of {len(sheets)} with every row as written"
        print(f"{name:54}  {total:>5}  {'-':>12}  {right:>5} {right / total:6.1%}")

    def files(pattern):
        return [
            (open(path, "rb").read(), os.path.basename(path)[0])
            for path in sorted(glob.glob(os.path.join(args.own_digits, pattern)))
        ]

    print(f"Model {os.path.basename(args.model)}; naive: the photo resized to 28x28\n")
    print(f"{'digits':54}  {'count':>5}  {'naive':>12}  {'prepared':>12}")
    writers = sorted(os.listdir(os.path.join(args.own_digits, "photos")))
    for writer in writers:
        score(f"phone photos, {writer}", files(f"photos/{writer}/*"), keep=True)
    photos = files("photos/*/*")
    score("phone photos, all writers", photos)

    def changed(images, effect, largest=None):
        """[(bytes, label)] with one of make_own_digits' effects done to their pixels, each
        first shrunk to at most `largest` pixels a side when it is given."""
        done = []
        for number, (data, label) in enumerate(images):
            image = Image.open(io.BytesIO(data)).convert("RGB")
            if largest:
                image.thumbnail((largest, largest))
            pixels = np.array(image, np.float32)
            pixels = np.clip(effect(pixels, np.random.default_rng(number)), 0, 255)
            done.append((encoded(Image.fromarray(pixels.astype(np.uint8))), label))
        return done

    # Each cut close to its ink, small and soft; then each on a dark table, the paper's edge
    # along its right side.
    crops = changed(photos, make_own_digits.small_blurred_crop)
    score("the same photos cut small and blurred, 64 px tall", crops)
    tables = changed(photos, make_own_digits.table_beside)
    score("the same photos on a table, along their right side", tables)
    sheets = []
    for path in sorted(glob.glob(os.path.join(args.own_digits, "sheets", "*"))):
        label = os.path.splitext(os.path.basename(path))[0].replace("_", " ")
        sheets.append((open(path, "rb").read(), label))
    score_sheets("photos of sheets", sheets)
    # Over their left third; 1,600 pixels wide, as the lesson reads them.
    shadowed = changed(sheets, make_own_digits.hard_shadow, largest=1600)
    score_sheets("sheets, hard shadow", shadowed)
    score("HwD-1000, drawn on a tablet", files("hwd1000/*.png"), keep=True)
    score("canvas drawings (own_digits/drawings)", files("drawings/*.png"), keep=True)
    semeion = np.loadtxt(os.path.join(args.own_digits, "semeion", "semeion.data"))
    scans = []
    for row in semeion:
        paper = Image.fromarray(((1 - row[:256].reshape(16, 16)) * 255).astype(np.uint8))
        paper = paper.resize((128, 128), Image.Resampling.NEAREST)
        paper = paper.filter(ImageFilter.GaussianBlur(2))
        framed = Image.fromarray(np.pad(np.asarray(paper), 32, constant_values=255))
        scans.append((encoded(framed), str(int(np.argmax(row[256:])))))
    score("Semeion scans, 16x16, scaled up as scanned paper", scans)

    with np.load(args.mnist, allow_pickle=False) as npz:
        x_test, y_test = npz["x_test"], npz["y_test"]
    print("\nEach way a photo goes wrong, made from MNIST test digits:")
    cases = make_own_digits.cases(x_test, y_test)
    for name, photo, label in cases:
        text = read(photo)[0]
        print(f"  {name:32} {label or 'no digit':>14}  read {text or 'no digit'}")
    right = sum(read(photo)[0] == label for _, photo, label in cases)
    print(f"  read right: {right} of {len(cases)}")
    pairs = np.random.default_rng(5).integers(0, 10, (60, 2))
    apart = right = 0
    for n, pair in enumerate(pairs):  # a thick pen and an ordinary one, by turns
        digits = [x_test[np.flatnonzero(y_test == d)[n]] for d in pair]
        style = dict(gap=-6, height=160, pen="thick") if n % 2 else dict(gap=-4, height=100)
        text = read(make_own_digits.photo_of([digits], seed=n, **style))[0]
        apart += len(text) == 2
        right += text == "".join(map(str, pair))
    print(f"  two digits that touch, {len(pairs)} pairs: {apart} cut apart, {right} read right")

    mnist_inputs = [
        handwriting.mnist_input(handwriting.ink_of(image.astype(np.float32))) for image in x_test
    ]
    as_they_are = (np.argmax(scores(x_test / 255.0), axis=1) == y_test).mean()
    through = scores(mnist_inputs)
    print(
        f"\nMNIST's test digits: {as_they_are:.4f} as they are, "
        f"{(np.argmax(through, axis=1) == y_test).mean():.4f} through the steps"
    )
    print(f"\nHow sure (the lesson's SURE is {sure}): answered, and right among them")
    own = scores(single_inputs)
    for threshold in (0.5, 0.8, 0.9, 0.95, 0.99):
        line = f"  at {threshold:.2f}:"
        for name, probabilities, labels in (
            ("MNIST test digits through the steps", through, y_test),
            ("own digits, one a photo", own, np.array(single_labels)),
        ):
            answered = probabilities.max(axis=1) >= threshold
            right = (np.argmax(probabilities, axis=1) == labels)[answered].mean()
            line += f"  {name} {answered.mean():6.1%} answered, {right:6.2%} right;"
        print(line.rstrip(";"))

    photo = make_own_digits.photo_of(
        [[x_test[0]]], height=2000, size=(4000, 3000), ink=(30, 50, 150)
    )
    started = time.perf_counter()
    text = read(photo)[0]
    print(
        f"\nA 12-megapixel JPEG (4000x3000, {len(photo) / 1e6:.1f} MB): read {text} in "
        f"{time.perf_counter() - started:.2f} s (label {y_test[0]})"
    )


if __name__ == "__main__":
    main()

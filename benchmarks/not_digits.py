"""What the lessons answer for marks that are no digit: letters A-Z and a-z, and signs.

A network with ten outputs always gives one of ten digits; lessons 07 and 08 say "not sure"
below SURE (0.95), and "no digit" when the preparation finds no mark a digit could be. Each
letter is drawn with Pillow's own font (FreeType; no font file needed) as thick dark ink on white
paper, read as lesson 07 reads a photo (handwriting.py), and counted:
- no digit: the preparation found none;
- not sure: every digit found is below SURE;
- read as a digit: at least one is SURE, which a person would not say.

Run: python benchmarks/not_digits.py [--model models/mnist_dense.keras]
"""

import argparse
import ast
import os
import string
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import handwriting  # noqa: E402

SIGNS = "+×?#&@%!=~"
MARKS = string.ascii_uppercase + string.ascii_lowercase + SIGNS


def lesson_sure():
    """SURE, as lesson 07 sets it."""
    tree = ast.parse(open(os.path.join(ROOT, "07_your_own_digits.py"), encoding="utf-8").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "SURE":
            return ast.literal_eval(node.value)
    raise SystemExit("07_your_own_digits.py sets no SURE")


def drawn(mark, size=240):
    """A mark in thick dark ink on white paper, as a grey array."""
    page = Image.new("L", (size, size), 255)
    font = ImageFont.load_default(size=size * 3 // 5)
    ImageDraw.Draw(page).text(
        (size / 2, size / 2), mark, fill=20, font=font, anchor="mm", stroke_width=3, stroke_fill=20
    )
    return np.asarray(page, dtype=np.float32)


def answer(model, mark, sure):
    """'no digit', 'not sure' or 'read as a digit', and what the lesson would print."""
    try:
        page = handwriting.read_page(drawn(mark))
    except ValueError as err:
        return "no digit", str(err)
    inputs = np.array([digit.input for digit in page.digits])
    logits = model.predict(inputs, verbose=0)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    best = probabilities.max(axis=1)
    said = " ".join(f"{p.argmax()} ({p.max():.2f})" for p in probabilities)
    return ("read as a digit" if (best >= sure).any() else "not sure"), said


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "mnist_dense.keras"))
    args = parser.parse_args()
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import keras

    if not os.path.isfile(args.model):
        raise SystemExit(f"No model at {args.model}: run python 07_your_own_digits.py first")
    model = keras.models.load_model(args.model)
    sure = lesson_sure()
    kinds = {"no digit": [], "not sure": [], "read as a digit": []}
    for mark in MARKS:
        kind, said = answer(model, mark, sure)
        kinds[kind].append(f"{mark} {said}" if kind == "read as a digit" else mark)
    print(f"{len(MARKS)} marks that are no digit (52 letters, {len(SIGNS)} signs), read by")
    print(f"{os.path.basename(args.model)}; SURE = {sure}")
    for kind, marks in kinds.items():
        print(f"  {kind:<16} {len(marks):>3}  {', '.join(marks)}")


if __name__ == "__main__":
    main()

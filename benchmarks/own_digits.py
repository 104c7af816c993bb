"""Measure lesson 07's preparation on handwritten digits that are not MNIST: how many a model
reads right with the photo prepared the MNIST way, and with the photo only resized to 28x28.

It runs the lesson's own preparation cell (found by its heading) and a saved model of 07:
    python 07_your_own_digits.py --data mnist.npz    # trains, saves models/mnist_dense.keras
    python benchmarks/own_digits.py --own-digits ../shared/own_digits

What it reads:
- the canvas drawings in OWN_DIGITS/drawings/ (0.png ... 9.png);
- the Semeion scans in OWN_DIGITS/semeion/semeion.data, 16x16 black and white, scaled up
  (nearest neighbour, then a blur) and framed in white, as scanned paper;
- photos made from MNIST's test digits 2,000 to 9,999 by data/make_own_digits.py (ink on
  paper, uneven light, thin and thick pens, 80 to 900 pixels tall), singles and sheets;
- one 12-megapixel photo (4000x3000), timed from the file to the model's answer.
"""

import argparse
import io
import os
import sys
import time

import numpy as np
from PIL import Image, ImageFilter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "data"))
import make_own_digits  # noqa: E402

LESSON = os.path.join(ROOT, "07_your_own_digits.py")


def preparation():
    """The namespace of the lesson's cell "Prepare a digit the MNIST way", run alone."""
    with open(LESSON, encoding="utf-8") as file:
        text = file.read()
    start = text.index("\n# %%\n", text.index("# ## Prepare a digit the MNIST way")) + 1
    namespace = {"np": np}
    exec(compile(text[start : text.index("\n# %% [markdown]", start)], LESSON, "exec"), namespace)
    return namespace


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--own-digits", required=True, metavar="FOLDER", help="../shared/own_digits"
    )
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "mnist_dense.keras"))
    parser.add_argument("--mnist", default=os.path.join(ROOT, "..", "shared", "mnist", "mnist.npz"))
    parser.add_argument("--photos", type=int, default=100, help="single-digit photos to make")
    args = parser.parse_args()
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    from tensorflow import keras

    prep = preparation()
    model = keras.models.load_model(args.model)

    def predict(inputs):
        return np.argmax(model(np.array(inputs).reshape(-1, 784), training=False).numpy(), axis=1)

    def read(data):
        """(digits read in reading order with spaces between rows, the grey image)."""
        grey = prep["open_grey"](io.BytesIO(data))
        ink = prep["ink_of"](grey)
        rows = prep["find_digits"](ink)
        digits = predict([prep["mnist_input"](ink, box) for row in rows for box in row])
        starts = np.cumsum([0, *[len(row) for row in rows]])
        text = " ".join("".join(map(str, digits[a:b])) for a, b in zip(starts[:-1], starts[1:]))
        return text, grey

    def score(name, photos):
        """photos: [(bytes, label)]: how many each way reads right."""
        naive = prepared = 0
        for data, label in photos:
            try:
                text, grey = read(data)
            except ValueError:
                text, grey = "", prep["open_grey"](io.BytesIO(data))
            prepared += text == str(label)
            naive += predict([prep["naive_input"](grey)])[0] == label
        count = len(photos)
        ways = f"{naive:>5} {naive / count:6.1%}  {prepared:>5} {prepared / count:6.1%}"
        print(f"{name:52}  {count:>5}  {ways}")

    with np.load(args.mnist, allow_pickle=False) as npz:
        x_test, y_test = npz["x_test"], npz["y_test"]
    print(
        f"Model {os.path.basename(args.model)}; naive: the photo resized to 28x28, light on dark\n"
    )
    print(f"{'digits':52}  {'count':>5}  {'naive':>12}  {'prepared':>12}")
    drawings = os.path.join(args.own_digits, "drawings")
    score(
        "canvas drawings (own_digits/drawings)",
        [(open(os.path.join(drawings, f"{d}.png"), "rb").read(), d) for d in range(10)],
    )
    semeion = np.loadtxt(os.path.join(args.own_digits, "semeion", "semeion.data"))
    scans = []
    for row in semeion:
        paper = Image.fromarray(((1 - row[:256].reshape(16, 16)) * 255).astype(np.uint8))
        paper = paper.resize((128, 128), Image.Resampling.NEAREST).filter(
            ImageFilter.GaussianBlur(2)
        )
        framed = Image.fromarray(np.pad(np.asarray(paper), 32, constant_values=255))
        buffer = io.BytesIO()
        framed.save(buffer, "PNG")
        scans.append((buffer.getvalue(), int(np.argmax(row[256:]))))
    score("Semeion scans, 16x16, scaled up as scanned paper", scans)
    rng = np.random.default_rng(123)
    inks = [(20, 20, 30), (30, 50, 150), (150, 30, 30), (60, 60, 60)]
    photos = []
    for i in range(args.photos):
        j = rng.integers(2000, 10000)
        height = int(rng.integers(80, 900))
        photo = make_own_digits.photo_of(
            [[x_test[j]]],
            seed=i,
            height=height,
            pen=["thin", "thick"][i % 2],
            ink=inks[i % 4],
            paper=int(rng.integers(170, 245)),
            shade=float(rng.uniform(0, 0.5)),
            size=(int(height * rng.uniform(1.7, 3)), int(height * rng.uniform(1.7, 2.5))),
        )
        photos.append((photo, int(y_test[j])))
    score("photos made from MNIST test digits, one digit each", photos)
    right = total = 0
    for s in range(6):
        picked = rng.integers(2000, 10000, 11)
        rows = [[x_test[k] for k in picked[:6]], [x_test[k] for k in picked[6:]]]
        photo = make_own_digits.photo_of(rows, seed=100 + s, height=int(rng.integers(60, 250)))
        read_digits = read(photo)[0].replace(" ", "")
        if len(read_digits) == 11:
            right += sum(int(a) == b for a, b in zip(read_digits, y_test[picked]))
        total += 11
    sheets = "photos of sheets, 2 rows of 6 and 5 digits"
    print(f"{sheets:52}  {total:>5}  {'-':>12}  {right:>5} {right / total:6.1%}")
    inks_of_mnist = (prep["ink_of"](image.astype(np.float32)) for image in x_test)
    again = [prep["mnist_input"](ink, prep["digit_box"](ink)) for ink in inks_of_mnist]
    as_they_are = (predict(x_test / 255.0) == y_test).mean()
    through = (predict(again) == y_test).mean()
    print(f"\nMNIST's test digits: {as_they_are:.4f} as they are, {through:.4f} through the steps")
    photo = make_own_digits.photo_of(
        [[x_test[0]]], height=2000, size=(4000, 3000), ink=(30, 50, 150)
    )
    started = time.perf_counter()
    text, _ = read(photo)
    print(
        f"A 12-megapixel JPEG (4000x3000, {len(photo) / 1e6:.1f} MB): read {text} in "
        f"{time.perf_counter() - started:.2f} s (label {y_test[0]})"
    )


if __name__ == "__main__":
    main()

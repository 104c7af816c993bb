"""Lesson 06: the video's three exercises, run side by side, then a look at the mistakes.

1. Beat 98.1% test accuracy with a bigger model or longer training.
2. Compare optimizers: SGD with momentum, Adam and RMSprop.
3. Train without dividing the pixels by 255, and see what changes.

Every run uses the lesson's seed, batch size and epochs, and one table compares
them all. The best model's confusion matrix on the test set and a few of the
test digits it gets wrong close the lesson.

Run:
    python 06_exercises.py                # all three exercises on full MNIST (about 7 minutes on a CPU)
    python 06_exercises.py --exercise 2   # only the optimizers
    python 06_exercises.py --quick        # one-minute check on the bundled sample
"""

# ---- Preamble: the same in every lesson, so that each file runs on its own ----
import argparse
import os
import socket
import sys

import numpy as np


def count(text):
    """argparse type: a whole number of 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def positive(text):
    """argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


# Flags come first, so that --help or a bad value answers before TensorFlow loads.
# The defaults are the video's values.
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=count, default=5, help="passes over the training images (default: 5)")
parser.add_argument("--batch-size", type=count, default=32, help="images per training step (default: 32)")
parser.add_argument("--learning-rate", type=positive, default=0.001, help="Adam's learning rate (default: 0.001)")
parser.add_argument("--seed", type=int, default=42, help="random seed; the same seed repeats a run (default: 42)")
parser.add_argument("--sample", action="store_true", help="use the bundled sample of real digits; don't download")
parser.add_argument("--data", metavar="FILE", help="read MNIST from this mnist.npz instead of downloading it")
parser.add_argument(
    "--timeout", type=positive, default=30, help="give up the download after this many silent seconds (default: 30)"
)
parser.add_argument("--quick", action="store_true", help="one-minute check: --sample and 1 epoch")
# ---- This lesson's own flags ----
parser.add_argument("--exercise", type=int, choices=[1, 2, 3], help="run only this exercise (default: all three)")
# ---- Preamble, continued ----
args = parser.parse_args()
if args.quick:
    args.sample, args.epochs = True, 1

# Quiet TensorFlow's C++ info logs. This must happen before TensorFlow is imported.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
from tensorflow import keras

# Let TensorFlow take GPU memory as it needs it. The video's physical_devices[0]
# fails on a machine without a GPU; this loop just does nothing there.
for gpu in tf.config.list_physical_devices("GPU"):
    tf.config.experimental.set_memory_growth(gpu, True)

# The same seed gives the same starting weights and shuffling, so a run repeats.
keras.utils.set_random_seed(args.seed)

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist_sample.npz")
KERAS_CACHE = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "datasets", "mnist.npz")


def read_mnist_npz(path):
    """Read a file laid out like Keras's mnist.npz; exit with one clear message if it is missing or damaged."""
    try:
        # allow_pickle=False: reading a data file must never run code from it.
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as f:
            x_train, y_train, x_test, y_test = (f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
        for x, y in ((x_train, y_train), (x_test, y_test)):
            if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or len(x) == 0:
                raise ValueError("it does not hold 28x28 uint8 images")
            if y.shape != (len(x),) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() > 9:
                raise ValueError("its labels are not one whole number from 0 to 9 per image")
    except Exception as err:
        sys.exit(f"Cannot read MNIST from {path}: {err}\nReplace the file with a fresh copy (README: 'No internet').")
    return (x_train, y_train), (x_test, y_test)


if args.data:
    (x_train_raw, y_train), (x_test_raw, y_test) = read_mnist_npz(args.data)
elif args.sample:
    (x_train_raw, y_train), (x_test_raw, y_test) = read_mnist_npz(SAMPLE)
else:
    socket.setdefaulttimeout(args.timeout)  # a network that drops packets can't hang the lesson
    try:
        (x_train_raw, y_train), (x_test_raw, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:
        print(
            f"NOTICE: the MNIST download failed ({err}).\n"
            "  Going on with the bundled sample of real MNIST digits. For the full set, save the\n"
            f"  official mnist.npz as {KERAS_CACHE} (Keras checks its sha256)\n"
            "  or pass --data FILE. 无法下载 MNIST：见 README「No internet / 无法下载 MNIST」。",
            file=sys.stderr,  # stderr never fails on a character the console can't show
        )
        (x_train_raw, y_train), (x_test_raw, y_test) = read_mnist_npz(SAMPLE)
    socket.setdefaulttimeout(None)
print(f"MNIST: {len(x_train_raw)} training and {len(x_test_raw)} test images")

# Flatten each 28x28 image into 784 numbers and scale the pixels from 0..255 to 0..1.
x_train = x_train_raw.reshape(-1, 28 * 28).astype("float32") / 255.0
x_test = x_test_raw.reshape(-1, 28 * 28).astype("float32") / 255.0
# ---- End of preamble ----

import time

from tensorflow.keras import layers

# This lesson trains up to seven models, and TensorFlow traces a new training
# function for each. Its logger would call that "retracing" and warn; here it is
# expected, so only errors get through.
tf.get_logger().setLevel("ERROR")

OPTIMIZERS = {  # each with a learning rate that suits it; the table names them
    "adam": (f"Adam lr={args.learning_rate:g}", lambda: keras.optimizers.Adam(learning_rate=args.learning_rate)),
    "sgd": ("SGD lr=0.01 momentum=0.9", lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)),
    "rmsprop": ("RMSprop lr=0.001", lambda: keras.optimizers.RMSprop(learning_rate=0.001)),
}
# Exercise 3 trains on the pixels as load_data() gives them, 0..255, not divided by 255.
x_train_unscaled = x_train_raw.reshape(-1, 28 * 28).astype("float32")
x_test_unscaled = x_test_raw.reshape(-1, 28 * 28).astype("float32")


def train(units=(512, 256), dropout=0.0, optimizer="adam", epochs=args.epochs, divide_by_255=True):
    """Train one model, by default the lessons' 784-512-256-10 with Adam, and measure it."""
    keras.utils.set_random_seed(args.seed)  # every run starts from the same seed
    model = keras.Sequential([keras.Input(shape=(784,))])
    for n in units:
        model.add(layers.Dense(n, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(10))
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=OPTIMIZERS[optimizer][1](),
        metrics=["accuracy"],
        steps_per_execution=512,  # as in 02: faster on a CPU, same numbers
    )
    train_x, test_x = (x_train, x_test) if divide_by_255 else (x_train_unscaled, x_test_unscaled)
    started = time.perf_counter()
    history = model.fit(train_x, y_train, batch_size=args.batch_size, epochs=epochs, verbose=2)
    seconds_per_epoch = (time.perf_counter() - started) / epochs
    _, test_accuracy = model.evaluate(test_x, y_test, batch_size=args.batch_size, verbose=0)
    return model, test_x, history.history["accuracy"][-1], test_accuracy, seconds_per_epoch


e, e2 = args.epochs, 2 * args.epochs
ep = "epoch" if e == 1 else "epochs"
TABLE = [  # (exercise, setting, what train() changes from the baseline)
    (1, f"baseline 512-256, {e} {ep}", {}),
    (1, f"bigger 1024-512, {e} {ep}", {"units": (1024, 512)}),
    (1, f"longer 512-256, {e2} epochs", {"epochs": e2}),
    (1, f"bigger+longer, dropout 0.2, {e2} epochs", {"units": (1024, 512), "dropout": 0.2, "epochs": e2}),
    (2, OPTIMIZERS["sgd"][0], {"optimizer": "sgd"}),
    (2, OPTIMIZERS["adam"][0], {}),
    (2, OPTIMIZERS["rmsprop"][0], {"optimizer": "rmsprop"}),
    (3, "pixels / 255, in 0..1", {}),
    (3, "raw pixels, in 0..255", {"divide_by_255": False}),
]
table = [row for row in TABLE if args.exercise in (None, row[0])]

# A setting that stands in several rows (the baseline is also "Adam" and "pixels / 255") is trained once.
runs, names = [], []  # each distinct setting, and the name of its first row
for _, name, settings in table:
    if settings not in runs:
        runs.append(settings)
        names.append(name)
results = []
for k, settings in enumerate(runs, start=1):
    print(f"\n[{k}/{len(runs)}] training: {names[k - 1]}")
    results.append(train(**settings))

print(f"\nResults on {len(x_train)} training and {len(x_test)} test images (* best test accuracy in its exercise):\n")
print(f"{'exercise':8}  {'setting':38}  {'parameters':>10}  {'train acc':>9}  {'test acc':>8}  {'s/epoch':>7}")
for exercise in sorted({row[0] for row in table}):
    rows = [row for row in table if row[0] == exercise]
    best = max(rows, key=lambda row: results[runs.index(row[2])][3])
    for row in rows:
        model, _, train_accuracy, test_accuracy, seconds = results[runs.index(row[2])]
        print(
            f"{exercise:<8}  {row[1]:38}  {model.count_params():>10,}  {train_accuracy:9.4f}  {test_accuracy:8.4f}"
            f"  {seconds:7.2f}{' *' if row is best else ''}"
        )

# A look at the mistakes of the best model of all.
best = max(range(len(runs)), key=lambda i: results[i][3])
model, test_x = results[best][:2]
predicted = np.argmax(model.predict(test_x, batch_size=1000, verbose=0), axis=1)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)  # count each (true, predicted) pair

print(f"\nConfusion matrix of the best model ({names[best]}), test set.")
print("A row is the true digit, a column the predicted one; the diagonal is right.\n")
print("true\\pred" + "".join(f"{d:>6}" for d in range(10)) + "   total")
for digit in range(10):
    print(f"{digit:>9}" + "".join(f"{n:>6}" for n in confusion[digit]) + f"  {confusion[digit].sum():>6}")
print(f"{'total':>9}" + "".join(f"{n:>6}" for n in confusion.sum(axis=0)) + f"  {confusion.sum():>6}")

# Draw the first few wrong test digits side by side, two characters per pixel,
# cropped to the rows and columns where any of them has ink.
wrong = np.flatnonzero(predicted != y_test)
print(f"\n{len(wrong)} of {len(y_test)} test digits are wrong. The first {min(3, len(wrong))}:\n")
if len(wrong):
    shades = " .:-=+*#%@"
    images = x_test_raw[wrong[:3]] / 255.0
    ink = images.max(axis=0) >= 0.1
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    images = images[:, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    width = 2 * images.shape[2]
    print("    ".join(f"true {y_test[i]}, predicted {predicted[i]}".ljust(width) for i in wrong[:3]).rstrip())
    for r in range(images.shape[1]):
        line = "    ".join("".join(shades[min(int(v * len(shades)), 9)] * 2 for v in image[r]) for image in images)
        print(line.rstrip())

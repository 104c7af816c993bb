"""Choose 06's answer to exercise 1 without looking at the test set.

Six settings, fixed before any of them ran, train on the first 50,000 training images and are
measured on the last 10,000, which they never train on; the test images are not read at all. The
setting with the best accuracy on those held-out images is the one 06_exercises.py runs as its
fourth row of exercise 1, and the only one of the six that was then measured on the test set.
Each setting uses the lessons' batch size (32),
seed (42) and Adam at 0.001, and trains for 10 epochs, twice the video's 5.

Run:
    python tools/choose_exercise1.py --data ../shared/mnist/mnist.npz   # 5 minutes, 2 cores
"""

import argparse
import math
import os
import sys
import time

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
from full_mnist import load_full
from tensorflow import keras
from tensorflow.keras import layers

EPOCHS = 10
CANDIDATES = [  # (name, hidden units, dropout, cosine decay of the learning rate)
    ("512-256", (512, 256), 0.0, False),
    ("1024-512, dropout 0.2", (1024, 512), 0.2, False),
    ("512-256, dropout 0.2", (512, 256), 0.2, False),
    ("512-256, decaying lr", (512, 256), 0.0, True),
    ("512-256, dropout 0.2, decaying lr", (512, 256), 0.2, True),
    ("1024-512, dropout 0.2, decaying lr", (1024, 512), 0.2, True),
]


def validation_accuracy(units, dropout, decay, x_fit, y_fit, x_val, y_val):
    """Train one candidate as 06's train() does; return its accuracy on the held-out images and
    its seconds per epoch."""
    keras.utils.set_random_seed(42)
    model = keras.Sequential([keras.Input(shape=(784,))])
    for n in units:
        model.add(layers.Dense(n, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(10))
    learning_rate = 0.001
    if decay:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.001, EPOCHS * math.ceil(len(x_fit) / 32)
        )
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
        steps_per_execution=512,
    )
    started = time.perf_counter()
    model.fit(x_fit, y_fit, batch_size=32, epochs=EPOCHS, verbose=0)
    seconds = (time.perf_counter() - started) / EPOCHS
    return model.evaluate(x_val, y_val, batch_size=32, verbose=0)[1], seconds


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", metavar="FILE", required=True, help="a full mnist.npz (60,000 training digits)"
    )
    args = parser.parse_args()
    (x, y), _ = load_full(args.data)  # the test images are not used
    x = x.reshape(-1, 28 * 28).astype("float32") / 255.0
    x_fit, y_fit, x_val, y_val = x[:50000], y[:50000], x[50000:], y[50000:]

    results = []
    for name, units, dropout, decay in CANDIDATES:
        print(f"training: {name}, {EPOCHS} epochs", file=sys.stderr, flush=True)
        results.append(validation_accuracy(units, dropout, decay, x_fit, y_fit, x_val, y_val))
    best = max(range(len(results)), key=lambda i: results[i][0])
    print(
        f"Trained on the first {len(x_fit)} training images, measured on the last "
        f"{len(x_val)}, {EPOCHS} epochs each"
    )
    print("(* the best on the held-out images: the setting 06_exercises.py runs)\n")
    print(f"{'setting':36}  {'held-out acc':>12}  {'s/epoch':>7}")
    for i, (name, *_) in enumerate(CANDIDATES):
        accuracy, seconds = results[i]
        print(f"{name:36}  {accuracy:12.4f}  {seconds:7.2f}{' *' if i == best else ''}")


if __name__ == "__main__":
    main()

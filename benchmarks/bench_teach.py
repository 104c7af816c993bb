"""Lesson 09 on MNIST's own writers: how much a few of a writer's digits teach the model.

Writers with at least 11 of every digit in MNIST's training set (QMNIST's tables say who wrote
each digit: ../shared/writers/) are left out of training: the video's network learns the rest
of x_train as lesson 07 trains it. Then, for each writer left out and each k, it learns k of
each of their digits with lesson 09's own fine_tuned() (read from the lesson), in each of its
three ways, and reads all their other digits, before and after. Their digits are MNIST's own
28x28, so no photo preparation is measured here: lesson 07's benchmark does that.

Run: python benchmarks/bench_teach.py --data ../shared/mnist/mnist.npz
         --writers ../shared/writers/qmnist-train-labels.tsv.gz [--count 40] [--ks 1,3,5,10]
"""

import argparse
import ast
import gzip
import os
import time

import numpy as np

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSON = os.path.join(ROOT, "09_teach_your_handwriting.py")
MOST_K = 10  # the largest k: a writer needs 1 more of each digit, to read after learning


def lesson_fine_tuning(keras):
    """Lesson 09's fine_tuned() and WAYS, and the constants they use, compiled from the lesson."""
    tree = ast.parse(open(LESSON, encoding="utf-8").read())
    wanted = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "fine_tuned":
            wanted.append(node)
        if isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id.isupper() for t in node.targets
        ):
            wanted.append(node)
    namespace = {"np": np, "keras": keras}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), LESSON, "exec"), namespace)
    return namespace["fine_tuned"], namespace["WAYS"]


def left_out_writers(writer, labels, count, seed=0):
    """`count` writers, chosen at random among those with more than MOST_K of every digit."""
    names, index = np.unique(writer, return_inverse=True)
    counts = np.zeros((len(names), 10), dtype=int)
    np.add.at(counts, (index, labels), 1)
    candidates = names[counts.min(axis=1) > MOST_K]
    rng = np.random.default_rng(seed)
    return rng.choice(candidates, min(count, len(candidates)), replace=False)


def trained_without(keras, x, y):
    """The video's network, trained as lesson 07 trains it."""
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        metrics=["accuracy"],
        steps_per_execution=512,
    )
    model.fit(x, y, batch_size=32, epochs=5, verbose=0)
    return model


def error(model, x, y):
    return float(np.mean(np.argmax(model(x, training=False), axis=1) != y))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", required=True, metavar="FILE", help="the full mnist.npz")
    parser.add_argument(
        "--writers", required=True, metavar="FILE", help="qmnist-train-labels.tsv.gz"
    )
    parser.add_argument("--count", type=int, default=40, help="writers left out (default 40)")
    parser.add_argument("--ks", default="1,3,5,10", help="examples of each digit learned")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    if not all(1 <= k <= MOST_K for k in ks):
        parser.error(f"--ks: each from 1 to {MOST_K}")
    for path in (args.data, args.writers):
        if not os.path.isfile(path):
            parser.error(f"not a file: {path}")
    import keras

    fine_tuned, ways = lesson_fine_tuning(keras)
    with np.load(args.data, allow_pickle=False) as mnist:
        x_train, y_train = mnist["x_train"], mnist["y_train"]
        x_test, y_test = mnist["x_test"], mnist["y_test"]
    with gzip.open(args.writers) as table:
        rows = np.loadtxt(table, dtype=int)
    if not np.array_equal(rows[:, 0], y_train):
        raise SystemExit(f"{args.writers} does not match the training labels of {args.data}")
    writer = rows[:, 1] * 10_000 + rows[:, 2]  # (series, id) as one number
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    chosen = left_out_writers(writer, y_train, args.count)
    trained = ~np.isin(writer, chosen)
    started = time.perf_counter()
    model = trained_without(keras, x_train[trained], y_train[trained])
    mnist_before = 1 - error(model, x_test, y_test)
    print(
        f"The video's network trained on {trained.sum():,} MNIST digits, {len(chosen)} writers "
        f"left out ({np.sum(~trained):,} digits), in {time.perf_counter() - started:.0f} s: "
        f"MNIST test {mnist_before:.4f}"
    )
    results = {}  # (k, way): rows of (error before, error after, seconds, MNIST test after)
    for name in chosen:
        theirs = np.flatnonzero(writer == name)
        rng = np.random.default_rng(int(name))
        shuffled = [rng.permutation(theirs[y_train[theirs] == d]) for d in range(10)]
        for k in ks:
            learn = np.concatenate([digits[:k] for digits in shuffled])
            other = np.setdiff1d(theirs, learn)
            before = error(model, x_train[other], y_train[other])
            for way in ways:
                started = time.perf_counter()
                tuned = fine_tuned(
                    model, way, x_train[learn], y_train[learn], x_train[trained], y_train[trained]
                )
                seconds = time.perf_counter() - started
                after = error(tuned, x_train[other], y_train[other])
                mnist = 1 - error(tuned, x_test, y_test)
                results.setdefault((k, way), []).append((before, after, seconds, mnist))
    print_table(results, mnist_before, len(chosen))


def print_table(results, mnist_before, writers):
    print(f"\nErrors on each writer's other digits, over {writers} writers (median, mean, worst),")
    print("and the change in MNIST's test accuracy, in points (lowest, median, highest)")
    print(f"{'k':>3}  {'way':<15} {'before':>20} {'after':>20} {'MNIST change':>20} {'seconds':>8}")
    for (k, way), rows in results.items():
        before, after, seconds, mnist = np.array(rows).T
        change = (mnist - mnist_before) * 100
        points = f"{change.min():>+6.2f} {np.median(change):>+6.2f} {change.max():>+6.2f}"
        print(
            f"{k:>3}  {way:<15} {spread(before)} {spread(after)} {points} "
            f"{np.median(seconds):>8.1f}"
        )
    print("before, after: the part of each writer's other digits read wrong;")
    print("seconds: fine-tuning one writer, median")


def spread(errors):
    return f"{np.median(errors):>6.1%} {np.mean(errors):>6.1%} {errors.max():>6.1%}"


if __name__ == "__main__":
    main()

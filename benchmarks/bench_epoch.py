"""Time a training epoch of the lessons' model: the video's plain compile/fit against the
lessons' setting.

Both configurations train the same 784-512-256-10 model with Adam at 0.001,
batch size 32 and the same seed, on the real digits of a full mnist.npz given
with --data, or else on random data of MNIST's shape (so that the benchmark
also runs with nothing at hand). "plain" is the video's compile(); "lessons" adds the
steps_per_execution that 02_sequential_model.py uses. Each measurement runs in
a fresh process, so that peak memory is per configuration, and the two
configurations alternate, so that a busy machine slows both alike.

Run:
    python benchmarks/bench_epoch.py --data FILE                # 60,000 real digits of mnist.npz
    python benchmarks/bench_epoch.py --data FILE --end-to-end   # and whole runs of 02 too
    python benchmarks/bench_epoch.py                            # random digits of MNIST's shape
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSON = os.path.join(ROOT, "02_sequential_model.py")
SPE_LINE = re.compile(r"^\s*steps_per_execution=(\d+),(?:  #.*)?\n", flags=re.MULTILINE)


def lessons_steps_per_execution():
    """The steps_per_execution that lesson 02 uses, read from its source so that the two never
    drift apart."""
    with open(LESSON, encoding="utf-8") as f:
        found = SPE_LINE.findall(f.read())
    if len(found) != 1:
        sys.exit(f"Expected one steps_per_execution=N line in {LESSON}, found {len(found)}")
    return int(found[0])


def training_data(samples, data):
    """(x, y): the first `samples` real training digits of the mnist.npz `data`, prepared as the
    lessons prepare them; without data, random images of MNIST's shape whose labels follow a
    fixed linear rule, which a network can learn, so that the losses move and compare."""
    import numpy as np

    if data:
        with open(data, "rb") as file, np.load(file, allow_pickle=False) as f:
            x = f["x_train"][:samples].reshape(-1, 28 * 28).astype("float32") / 255.0
            return x, f["y_train"][:samples]
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    return x, np.argmax(x @ rng.standard_normal((784, 10)).astype(np.float32), axis=1)


def worker(config, samples, epochs, data):
    """Train in this process and print one JSON line: epoch times, losses, peak memory."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    from tensorflow import keras
    from tensorflow.keras import layers

    x, y = training_data(samples, data)

    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(10),
        ]
    )
    extra = {} if config == "plain" else {"steps_per_execution": lessons_steps_per_execution()}
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        metrics=["accuracy"],
        **extra,
    )
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[EpochTimer()])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(json.dumps({"times": times, "loss": history.history["loss"], "peak_mib": peak_mib}))


def measure(config, samples, epochs, data):
    argv = [
        sys.executable,
        __file__,
        "--worker",
        config,
        "--samples",
        str(samples),
        "--epochs",
        str(epochs),
    ]
    out = subprocess.run(
        argv + (["--data", data] if data else []), capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def end_to_end(rounds, data):
    """Time whole runs of lesson 02 on data (or 60,000 random images), as it is and without its
    steps_per_execution."""
    import numpy as np

    with open(LESSON, encoding="utf-8") as f:
        source = f.read()
    plain, removed = SPE_LINE.subn("", source)
    assert removed == 1
    with tempfile.TemporaryDirectory() as tmp:
        if not data:
            rng = np.random.default_rng(0)
            data = os.path.join(tmp, "random_mnist.npz")
            np.savez(
                data,
                x_train=rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
                y_train=rng.integers(0, 10, 60000, dtype=np.uint8),
                x_test=rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
                y_test=rng.integers(0, 10, 10000, dtype=np.uint8),
            )
            what = "60,000 random images"
        else:
            what = os.path.basename(data)
        scripts = {
            "plain": os.path.join(tmp, "plain.py"),
            "lessons": os.path.join(tmp, "lesson.py"),
        }
        for name, text in (("plain", plain), ("lessons", source)):
            with open(scripts[name], "w", encoding="utf-8") as f:
                f.write(text)
        seconds = {"plain": [], "lessons": []}
        printed = {}
        for r in range(rounds):
            for name, script in scripts.items():
                print(
                    f"  end to end, round {r + 1} of {rounds}: {name} ...",
                    file=sys.stderr,
                    flush=True,
                )
                started = time.perf_counter()
                run = subprocess.run(
                    [sys.executable, script, "--data", os.path.abspath(data)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                seconds[name].append(time.perf_counter() - started)
                printed[name] = re.findall(r"(?:accuracy|loss): [0-9.]+", run.stdout)
    same = printed["plain"] == printed["lessons"]
    plain_s, lessons_s = statistics.median(seconds["plain"]), statistics.median(seconds["lessons"])
    print(f"\nWhole run of 02_sequential_model.py on {what}, start to exit (median of {rounds}):")
    print(f"  plain    {plain_s:6.1f} s")
    print(f"  lessons  {lessons_s:6.1f} s   {plain_s / lessons_s:.2f}x faster")
    print(f"  printed losses and accuracies identical: {'yes' if same else 'NO'}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", metavar="FILE", help="a full mnist.npz: time on its real digits (default: random)"
    )
    parser.add_argument(
        "--samples", type=int, default=60000, help="training images (default: 60000)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds of both configurations (default: 3)",
    )
    parser.add_argument(
        "--epochs", type=int, default=2, help="epochs per measurement; the first includes tracing"
    )
    parser.add_argument(
        "--end-to-end", action="store_true", help="also time whole runs of lesson 02"
    )
    parser.add_argument("--worker", choices=["plain", "lessons"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.samples, args.epochs, args.data)

    spe = lessons_steps_per_execution()
    results = {"plain": [], "lessons": []}
    for r in range(args.rounds):
        for config in results:
            print(f"  round {r + 1} of {args.rounds}: {config} ...", file=sys.stderr, flush=True)
            results[config].append(measure(config, args.samples, args.epochs, args.data))

    steady = (
        1 if args.epochs > 1 else 0
    )  # leave out the first epoch (it traces the graph) when there are more
    digits = (
        f"real MNIST digits from {os.path.basename(args.data)}"
        if args.data
        else "random MNIST-shaped images"
    )
    print(f"One epoch of the lessons' model on {args.samples:,} {digits}, batch size 32")
    print(
        f"({args.rounds} alternating rounds of {args.epochs} epoch(s); "
        f"medians over epochs {steady + 1} on)\n"
    )
    print(f"{'config':10} {'s/epoch':>8} {'first epoch':>12} {'images/s':>9} {'peak MiB':>9}")
    medians = {}
    for config, runs in results.items():
        medians[config] = statistics.median(t for run in runs for t in run["times"][steady:])
        first = statistics.median(run["times"][0] for run in runs)
        peak = max(run["peak_mib"] for run in runs)
        print(
            f"{config:10} {medians[config]:8.2f} {first:12.2f} "
            f"{args.samples / medians[config]:9.0f} {peak:9.0f}"
        )
    print(
        f"\nlessons (steps_per_execution={spe}) vs plain: "
        f"{medians['plain'] / medians['lessons']:.2f}x faster"
    )
    losses = [
        (p, q)
        for a, b in zip(results["plain"], results["lessons"])
        for p, q in zip(a["loss"], b["loss"])
    ]
    print("losses, plain:  ", " ".join(f"{p:.9f}" for p in results["plain"][0]["loss"]))
    print("losses, lessons:", " ".join(f"{q:.9f}" for q in results["lessons"][0]["loss"]))
    print(f"largest loss difference: {max(abs(p - q) for p, q in losses):.3g}")
    if args.end_to_end:
        end_to_end(args.rounds, args.data)


if __name__ == "__main__":
    main()

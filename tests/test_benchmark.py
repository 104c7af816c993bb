"""The benchmark runs (tiny sizes), and the lessons' speed setting gives the plain losses."""

import importlib.util
import re

import numpy as np
from conftest import ROOT, SAMPLE, run


def numbers_after(label, out):
    return [
        float(v) for v in re.search(rf"^{label} +(.*)$", out, flags=re.MULTILINE).group(1).split()
    ]


def test_benchmark_times_real_digits_and_both_settings_give_the_same_losses():
    # 1,000 real digits: 32 steps per epoch with a partial last batch, fewer than one execution
    # of the lessons' 512 steps.
    args = ["--data", str(SAMPLE), "--samples", "1000", "--rounds", "1", "--epochs", "3"]
    result = run(ROOT / "benchmarks" / "bench_epoch.py", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.startswith(
        "One epoch of the lessons' model on 1,000 real MNIST digits from mnist_sample.npz"
    )
    rows = dict(re.findall(r"^(plain|lessons)\s+([0-9.]+\s+[0-9.]+\s+\d+\s+\d+)$", out, re.M))
    assert set(rows) == {"plain", "lessons"}
    for config, row in rows.items():
        seconds, first, images_per_second, peak_mib = (float(v) for v in row.split())
        assert seconds > 0 and first > 0 and peak_mib > 100, config
        # s/epoch is printed to 0.01 s and images/s to 1 image: they agree within those roundings.
        assert 1000 / (seconds + 0.005) - 1 <= images_per_second <= 1000 / (seconds - 0.005) + 1
    assert re.search(r"^lessons \(steps_per_execution=512\) vs plain: [0-9.]+x faster$", out, re.M)
    plain, lessons = numbers_after("losses, plain:", out), numbers_after("losses, lessons:", out)
    assert len(plain) == len(lessons) == 3
    # Real digits are easy to learn: the loss falls far below chance's 2.3, so equal losses
    # mean something.
    assert plain[2] < plain[0] < 2.3 and plain[2] < 0.5
    assert max(abs(p - q) for p, q in zip(plain, lessons)) <= 1e-6
    assert numbers_after("largest loss difference:", out)[0] <= 1e-6


def test_benchmark_reads_the_setting_from_lesson_02():
    source = (ROOT / "02_sequential_model.py").read_text(encoding="utf-8")
    pattern = r"^\s*steps_per_execution=512,  # not in the video: .*$"
    assert len(re.findall(pattern, source, flags=re.MULTILINE)) == 1


def bench_epoch():
    spec = importlib.util.spec_from_file_location(
        "bench_epoch", ROOT / "benchmarks" / "bench_epoch.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_without_data_has_random_digits_a_network_can_learn():
    """Without --data, random images of MNIST's shape whose labels follow a fixed rule: a
    linear fit, numpy's least squares, reads most of them, where chance reads a tenth."""
    x, y = bench_epoch().training_data(2000, None)
    assert x.shape == (2000, 784) and x.dtype == np.float32 and 0 <= x.min() < x.max() <= 1
    assert len(set(y.tolist())) >= 5  # several digits, not one
    weights = np.linalg.lstsq(x[:1500], np.eye(10)[y[:1500]], rcond=None)[0]
    assert (np.argmax(x[1500:] @ weights, axis=1) == y[1500:]).mean() > 0.5


def test_benchmark_with_data_reads_the_first_digits_as_the_lessons_prepare_them():
    x, y = bench_epoch().training_data(300, str(SAMPLE))
    with np.load(SAMPLE) as f:
        np.testing.assert_array_equal(x, f["x_train"][:300].reshape(-1, 784) / np.float32(255))
        np.testing.assert_array_equal(y, f["y_train"][:300])


def benchmark(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_teach_fine_tunes_with_lesson_09s_own_function():
    """It compiles fine_tuned() and WAYS from the lesson (no copy to drift), and leaves out only
    writers with more than 10 of every digit: each keeps one of each to read after learning."""
    bench = benchmark("bench_teach")
    fine_tuned, ways = bench.lesson_fine_tuning(keras=None)
    assert ways == ["last layer", "every layer", "MNIST mixed in"]
    assert fine_tuned.__code__.co_filename.endswith("09_teach_your_handwriting.py")
    # Writers 1 to 3 wrote 10 of each digit, writer 4 wrote 11.
    writer = np.repeat([1, 2, 3], 100)
    labels = np.tile(np.arange(10), 30)
    many = np.repeat([4], 110)
    writer = np.concatenate([writer, many])
    labels = np.concatenate([labels, np.repeat(np.arange(10), 11)])
    assert bench.left_out_writers(writer, labels, count=5).tolist() == [4]


def test_not_digits_sorts_each_answer_as_a_person_would():
    """A blank mark is no digit; a mark whose every digit is below SURE is "not sure"; one digit
    at or above SURE is "read as a digit". The model is a stand-in that gives chosen logits."""
    bench = benchmark("not_digits")
    assert bench.lesson_sure() == 0.95
    page = bench.drawn("A")
    assert page.shape == (240, 240) and page.max() == 255 and page.min() <= 30

    class Model:
        def __init__(self, logits):
            self.logits = np.array(logits, dtype=np.float32)

        def predict(self, inputs, verbose=0):
            return np.tile(self.logits, (len(inputs), 1))

    sure, unsure = [10.0] + [0.0] * 9, [1.0, 1.0] + [0.0] * 8
    assert bench.answer(Model(sure), "L", 0.95)[0] == "read as a digit"
    assert bench.answer(Model(unsure), "L", 0.95) == ("not sure", "0 (0.20)")  # e / (2e + 8)
    assert bench.answer(Model(sure), " ", 0.95)[0] == "no digit"

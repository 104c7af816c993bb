"""The benchmark runs (tiny sizes), and the lessons' speed setting gives the plain losses."""

import json
import re

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


def test_benchmark_without_data_trains_on_random_digits_it_can_learn():
    """Without --data, random images of MNIST's shape whose labels follow a fixed rule."""
    args = ["--worker", "plain", "--samples", "1000", "--epochs", "3"]
    result = run(ROOT / "benchmarks" / "bench_epoch.py", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.splitlines()[-1])
    assert len(measured["times"]) == 3 and measured["peak_mib"] > 100
    assert measured["loss"][2] < measured["loss"][0]

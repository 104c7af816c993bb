"""The benchmark runs (tiny sizes), and the lessons' speed setting gives the plain setting's losses."""

import re

from conftest import ROOT, SAMPLE, run


def test_benchmark_runs_and_both_configurations_give_the_same_losses():
    # 3,000 images: 94 steps per epoch with a partial last batch, fewer than one execution of 512 steps.
    result = run(ROOT / "benchmarks" / "bench_epoch.py", "--samples", "3000", "--rounds", "1", "--epochs", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    rows = dict(re.findall(r"^(plain|lessons)\s+([0-9.]+\s+[0-9.]+\s+\d+\s+\d+)$", out, flags=re.MULTILINE))
    assert set(rows) == {"plain", "lessons"}
    for config, row in rows.items():
        seconds, first, images_per_second, peak_mib = (float(v) for v in row.split())
        assert seconds > 0 and first > 0 and peak_mib > 100, config
        # s/epoch is printed to 0.01 s and images/s to 1 image: the two agree within those roundings.
        assert 3000 / (seconds + 0.005) - 1 <= images_per_second <= 3000 / (seconds - 0.005) + 1
    assert re.search(r"^lessons \(steps_per_execution=512\) vs plain: [0-9.]+x faster$", out, flags=re.MULTILINE)
    plain = [float(v) for v in re.search(r"^losses, plain: +(.*)$", out, flags=re.MULTILINE).group(1).split()]
    lessons = [float(v) for v in re.search(r"^losses, lessons: +(.*)$", out, flags=re.MULTILINE).group(1).split()]
    assert len(plain) == len(lessons) == 3
    assert plain[2] < plain[0]  # the model learns, so equal losses mean something
    assert max(abs(p - q) for p, q in zip(plain, lessons)) <= 1e-6
    assert float(re.search(r"^largest loss difference: (\S+)$", out, flags=re.MULTILINE).group(1)) <= 1e-6


def test_benchmark_reads_the_setting_from_lesson_02():
    source = (ROOT / "02_sequential_model.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^\s*steps_per_execution=512,$", source, flags=re.MULTILINE)) == 1


def test_benchmark_times_real_digits_from_a_file():
    result = run(ROOT / "benchmarks" / "bench_epoch.py", "--data", str(SAMPLE), "--samples", "1000", "--rounds", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.startswith("One epoch of the lessons' model on 1,000 real MNIST digits from mnist_sample.npz")
    losses = [float(v) for v in re.search(r"^losses, lessons: +(.*)$", out, flags=re.MULTILINE).group(1).split()]
    # Real digits are easy to learn: after two epochs on 1,000 of them the loss is far below chance's 2.3.
    assert len(losses) == 2 and losses[1] < losses[0] < 2.3 and losses[1] < 0.5

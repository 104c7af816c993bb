"""The README's figures on the full MNIST: consistent with each other always, and with fresh
runs when MNIST_NPZ is set.

Set MNIST_NPZ to a full mnist.npz (60,000 training and 10,000 test digits) to rerun lessons
01-05 on it and
compare what they print with the README's blocks; CI sets it when ../shared/mnist/mnist.npz exists.
"""

import os
import re

import full_mnist
import pytest
from conftest import LESSONS, ROOT, exercise_table, number_after

MNIST_NPZ = os.environ.get("MNIST_NPZ")
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = {m["command"]: m for m in full_mnist.blocks(README)}
CHOOSE = "python benchmarks/choose_exercise1.py --data mnist.npz"


def block(lesson):
    return BLOCKS[f"python {lesson} --data mnist.npz"]["text"]


def test_readme_has_a_full_mnist_block_for_every_lesson_and_the_choice():
    assert list(BLOCKS) == [f"python {lesson} --data mnist.npz" for lesson in LESSONS] + [CHOOSE]
    for m in BLOCKS.values():
        assert m["text"].strip() and re.fullmatch(
            r"Run time: [0-9.]+ (s from start to exit|min)\.\n", m["time"]
        )


@pytest.mark.parametrize(
    "lesson", ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"]
)
def test_training_lessons_match_the_video_on_full_mnist(lesson):
    """The video: about 99% on the training images and 98% on the test images after 5 epochs."""
    text = block(lesson)
    assert len(re.findall(r"^1875/1875 - ", text, flags=re.MULTILINE)) == 5
    assert 0.985 <= number_after("Final train accuracy:", text) < 0.995
    assert 0.975 <= number_after("Test accuracy:", text) < 0.985


def test_01_and_05_show_the_full_set():
    assert "MNIST: 60000 training and 10000 test images" in block("01_load_mnist.py")
    assert (
        "0: 5923  1: 6742  2: 5958  3: 6131  4: 5842  5: 5421  6: 5918  7: 6265  8: 5851  9: 5949"
        in block("01_load_mnist.py")
    )
    assert block("05_extract_layer_outputs.py").splitlines()[-3:] == [
        "dense: (60000, 512)",
        "my_layer: (60000, 256)",
        "dense_1: (60000, 10)",
    ]


def test_exercise_1_is_answered_on_full_mnist_by_the_setting_chosen_on_held_out_images():
    rows = exercise_table(block("06_exercises.py"))
    assert len(rows) == 9
    beating = [row for row in rows if row["exercise"] == 1 and row["test"] > 0.981]
    assert beating and all(row["beats"] for row in beating)  # marked "> 98.1%"
    assert all(not row["beats"] for row in rows if row["test"] <= 0.981)
    # The row that beats 98.1% is the setting that won on the held-out images, and the
    # README's choice names it.
    chosen = re.search(r"^(\S.*?)\s{2,}[0-9.]+\s+[0-9.]+ \*$", BLOCKS[CHOOSE]["text"], re.M).group(
        1
    )
    assert chosen == "1024-512, dropout 0.2, decaying lr"
    assert [row["setting"] for row in beating] == [f"{chosen}, 10 epochs"]


def test_the_lesson_table_gives_the_measured_accuracies_and_run_times():
    table = README.split("## The lessons")[1].split("\n## ")[0]
    rows = {
        lesson: next(line for line in table.splitlines() if line.startswith(f"| [`{lesson}`]"))
        for lesson in LESSONS
    }
    for lesson in ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"]:
        train = number_after("Final train accuracy:", block(lesson))
        test = number_after("Test accuracy:", block(lesson))
        assert f"train {train:.4f}, test {test:.4f}" in rows[lesson]
    best = max(row["test"] for row in exercise_table(block("06_exercises.py")))
    assert f"{best:.4f} test accuracy" in rows["06_exercises.py"]
    for lesson in LESSONS:
        run_time = re.match(
            r"Run time: ([0-9.]+ (?:s|min))", BLOCKS[f"python {lesson} --data mnist.npz"]["time"]
        )[1]
        assert re.search(rf"\b{re.escape(run_time)}\)", rows[lesson]), (
            f"{lesson}: the table should say {run_time}"
        )


@pytest.mark.skipif(
    not MNIST_NPZ, reason="MNIST_NPZ is not set: no full mnist.npz to rerun the lessons on"
)
@pytest.mark.parametrize("lesson", LESSONS[:5])
def test_readme_full_mnist_block_matches_a_fresh_run(lesson):
    """06 (about 5 minutes) is left to
    `python benchmarks/full_mnist.py --data FILE --only 06_exercises.py`."""
    command = f"python {lesson} --data mnist.npz"
    printed, _ = full_mnist.run(command, MNIST_NPZ)
    assert full_mnist.normalise(printed) == full_mnist.normalise(BLOCKS[command]["text"])
    if lesson == "02_sequential_model.py":
        assert number_after("Test accuracy:", printed) >= 0.975


def test_the_exercises_summary_quotes_the_06_block():
    """Every accuracy the README's words give for 06 on full MNIST is one the 06 block printed."""
    summary = README.split("On full MNIST (the table below)")[1].split("\n\n")[0]
    quoted = re.findall(r"\b0\.\d{4}\b", summary)
    assert len(quoted) == 7
    test_accuracies = {f"{row['test']:.4f}" for row in exercise_table(block("06_exercises.py"))}
    assert set(quoted) <= test_accuracies

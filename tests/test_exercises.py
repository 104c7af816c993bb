"""06_exercises.py on the bundled sample: the table, the confusion matrix, one exercise alone."""

import ast
import re
import types

import numpy as np
import pytest
from conftest import (
    ROOT,
    code_under,
    exercise_table,
    figures_asked_for,
    number_after,
    python_warnings,
)
from test_lessons import assert_drawn, saved_figures

SETTINGS = [
    (1, "baseline 512-256, 5 epochs"),
    (1, "bigger 1024-512, 5 epochs"),
    (1, "longer 512-256, 10 epochs"),
    (1, "1024-512, dropout 0.2, decaying lr, 10 epochs"),
    (2, "SGD lr=0.01 momentum=0.9"),
    (2, "Adam lr=0.001"),
    (2, "RMSprop lr=0.001"),
    (3, "pixels / 255, in 0..1"),
    (3, "raw pixels, in 0..255"),
]


def confusion_matrix(out):
    block = out.split("true\\pred")[1].splitlines()
    cells = np.array([[int(n) for n in line.split()[1:11]] for line in block[1:11]])
    totals = [int(n) for n in block[11].split()[1:]]
    return cells, totals


def test_all_three_exercises(quick):
    result = quick("06_exercises.py")
    out = result.stdout
    rows = exercise_table(out)
    assert [(row["exercise"], row["setting"]) for row in rows] == SETTINGS
    for row in rows:
        assert 0 <= row["train"] <= 1 and 0 <= row["test"] <= 1 and row["seconds"] > 0
        assert row["beats"] == (row["test"] > 0.981)
    assert [row["parameters"] for row in rows] == [535_818, 1_333_770, 535_818, 1_333_770] + [
        535_818
    ] * 5
    # The baseline is also the "Adam" and "pixels / 255" row: trained once, the same numbers.
    baseline = [(row["train"], row["test"], row["seconds"]) for row in rows]
    assert baseline[0] == baseline[5] == baseline[7]
    assert rows[0]["test"] >= 0.85  # 1,000 training images; chance is 0.10
    # The best rows of each exercise are exactly those with its top test accuracy.
    for exercise in (1, 2, 3):
        mine = [row for row in rows if row["exercise"] == exercise]
        top = max(row["test"] for row in mine)
        assert [row["best"] for row in mine] == [row["test"] == top for row in mine]
    # The seven distinct runs, announced as they start: the baseline stands in three rows.
    announced = re.findall(r"^Exercise (\d), (.*):$", out, flags=re.MULTILINE)
    assert [(int(e), s) for e, s in announced] == [SETTINGS[i] for i in (0, 1, 2, 3, 4, 6, 8)]
    assert python_warnings(result.stderr) == [] and "Traceback" not in result.stderr
    assert out.startswith("Bundled sample: 4000 training and 1000 test images\n")
    # --quick: the exercises train on the first quarter of the sample's training images.
    assert "Results on 1000 training and 1000 test images" in out


def test_raw_pixels_start_with_a_far_higher_loss(quick):
    """Exercise 3's point: without the division by 255 the first epoch's loss is far higher."""
    out = quick("06_exercises.py").stdout
    runs = re.split(r"^Exercise \d, ", out, flags=re.MULTILINE)
    first_loss = {
        run.split(":")[0]: float(re.search(r"loss: ([0-9.]+)", run).group(1)) for run in runs[1:]
    }
    assert first_loss["raw pixels, in 0..255"] > 3 * first_loss["baseline 512-256, 5 epochs"]


def test_confusion_matrix_and_mistakes(quick):
    out = quick("06_exercises.py").stdout
    cells, totals = confusion_matrix(out)
    assert cells.sum() == 1000 == totals[-1]
    assert cells.sum(axis=1).tolist() == [100] * 10  # the sample's test part: 100 of each digit
    assert totals[:10] == cells.sum(axis=0).tolist()
    # The matrix belongs to the best model of all: its diagonal gives that model's accuracy.
    best = max(exercise_table(out), key=lambda row: row["test"])
    assert abs(np.trace(cells) / 1000 - best["test"]) < 1e-3
    # The line above the matrix names that model; the count of wrong digits is the matrix's.
    above = out.split("true\\pred")[0].strip().splitlines()
    assert any(best["setting"] in line for line in above[-3:])
    wrong = 1000 - np.trace(cells)
    after = out.split("true\\pred")[1]
    assert re.search(rf"^{wrong} of 1000 test digits\b", after, re.M)
    drawn = re.findall(r"true (\d), predicted (\d)", after)
    assert len(drawn) == 3
    for true, predicted in drawn:
        assert true != predicted and cells[int(true), int(predicted)] >= 1
    labels = next(i for i, line in enumerate(after.splitlines()) if "predicted" in line)
    picture = after.splitlines()[labels + 1 :]
    picture = picture[: next((i for i, line in enumerate(picture) if not line), len(picture))]
    assert 10 <= len(picture) <= 28 and any(set(line) - {" "} for line in picture)


@pytest.mark.parametrize("exercise", [1, 2, 3])
def test_one_exercise_alone(exercise):
    """--exercise N: the lesson's exercise cells, run in this process with a stand-in for run(),
    ask for that exercise's trainings only, and only exercise 3 draws its loss curves. (The
    whole lesson runs above; one exercise alone as a script took 15 s of the tests' time.)"""
    asked = []
    namespace = {"args": types.SimpleNamespace(exercise=exercise)}
    namespace["run"] = lambda number, setting, **settings: asked.append((number, setting))
    for heading in ("Exercise 1: beat 98.1%", "Exercise 2: optimizers", "Exercise 3: without"):
        exec(compile(code_under("06_exercises.py", heading), "06_exercises.py", "exec"), namespace)
    assert asked == [setting for setting in SETTINGS if setting[0] == exercise]
    curves = ast.parse(code_under("06_exercises.py", "Exercise 3 as a curve")).body
    assert len(curves) == 1 and isinstance(curves[0], ast.If)  # the whole cell is one if
    drawn = eval(compile(ast.Expression(curves[0].test), "06_exercises.py", "eval"), namespace)
    assert drawn == (exercise == 3)


def test_four_figures(quick, lessons_folder):
    paths = saved_figures(quick("06_exercises.py").stdout)
    asked = figures_asked_for("06_exercises.py")
    assert len(asked) == 4 and paths == [
        str(lessons_folder / "figures" / name) for name, _ in asked
    ]
    for path, (_, size) in zip(paths, asked):
        assert_drawn(path, size)


def test_06_on_the_sample_quotes_the_answer_on_full_mnist(quick):
    out = quick("06_exercises.py").stdout
    full = number_after("on full MNIST exercise 1's answer reaches", out)
    page = (ROOT / "docs" / "06_exercises.md").read_text(encoding="utf-8")
    answer = [row for row in exercise_table(page) if row["beats"]]
    assert len(answer) == 1 and answer[0]["test"] == full

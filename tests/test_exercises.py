"""06_exercises.py on the bundled sample: the table, the optimizers, the confusion matrix, one exercise alone."""

import re

import numpy as np
from conftest import ROOT, assert_matches_readme, lesson_env, python_warnings, run
from conftest import exercise_table as table


def confusion_matrix(out):
    block = out.split("true\\pred")[1].splitlines()
    cells = np.array([[int(n) for n in line.split()[1:11]] for line in block[1:11]])
    totals = [int(n) for n in block[11].split()[1:]]
    return cells, totals


def test_all_three_exercises(quick):
    result = quick("06_exercises.py")
    out = result.stdout
    rows = table(out)
    assert [(e, s) for e, s, *_ in rows] == [
        (1, "baseline 512-256, 1 epoch"),
        (1, "bigger 1024-512, 1 epoch"),
        (1, "longer 512-256, 2 epochs"),
        (1, "1024-512, dropout 0.2, decaying lr, 2 epochs"),
        (2, "SGD lr=0.01 momentum=0.9"),
        (2, "Adam lr=0.001"),
        (2, "RMSprop lr=0.001"),
        (3, "pixels / 255, in 0..1"),
        (3, "raw pixels, in 0..255"),
    ]
    for _, _, _, train, test, seconds, _, beats in rows:
        assert 0 <= train <= 1 and 0 <= test <= 1 and seconds > 0
        assert beats == (test > 0.981)
    assert [r[2] for r in rows] == [535_818, 1_333_770, 535_818, 1_333_770] + [535_818] * 5
    # The baseline is also the "Adam" and "pixels / 255" row: trained once, the same numbers.
    assert rows[0][3:5] == rows[5][3:5] == rows[7][3:5]
    assert rows[0][4] >= 0.85
    # The best rows of each exercise are exactly those with its top test accuracy.
    for exercise in (1, 2, 3):
        mine = [r for r in rows if r[0] == exercise]
        assert [r[6] for r in mine] == [r[4] == max(m[4] for m in mine) for r in mine]
        assert any(r[6] for r in mine)
    # The seven distinct runs, announced as they start: the baseline stands in three rows but trains once.
    assert re.findall(r"^Exercise (\d), (.*):$", out, flags=re.MULTILINE) == [
        ("1", "baseline 512-256, 1 epoch"),
        ("1", "bigger 1024-512, 1 epoch"),
        ("1", "longer 512-256, 2 epochs"),
        ("1", "1024-512, dropout 0.2, decaying lr, 2 epochs"),
        ("2", "SGD lr=0.01 momentum=0.9"),
        ("2", "RMSprop lr=0.001"),
        ("3", "raw pixels, in 0..255"),
    ]
    assert python_warnings(result.stderr) == [] and "Traceback" not in result.stderr
    assert "Results on 4000 training and 1000 test images" in out and "NOTICE" not in out + result.stderr


def test_confusion_matrix_and_mistakes(quick):
    out = quick("06_exercises.py").stdout
    cells, totals = confusion_matrix(out)
    assert cells.sum() == 1000 == totals[-1]
    assert cells.sum(axis=1).tolist() == [100] * 10  # the sample's test part: 100 of each digit
    assert totals[:10] == cells.sum(axis=0).tolist()
    # The matrix belongs to the best model of all: its diagonal gives that model's test accuracy.
    best = max(table(out), key=lambda row: row[4])
    assert abs(np.trace(cells) / 1000 - best[4]) < 1e-3
    assert f"Confusion matrix of the best model ({best[1]}), test set." in out
    wrong = 1000 - np.trace(cells)
    assert f"{wrong} of 1000 test digits are wrong. The first 3:" in out
    drawn = re.findall(r"true (\d), predicted (\d)", out)
    assert len(drawn) == 3
    for true, predicted in drawn:
        assert true != predicted and cells[int(true), int(predicted)] >= 1
    picture = out.split("The first 3:\n\n")[1].splitlines()[1:]
    assert 10 <= len(picture) <= 28 and any(set(line) - {" "} for line in picture)


def test_one_exercise_alone():
    result = run(ROOT / "06_exercises.py", "--quick", "--exercise", "2", env=lesson_env())
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table(result.stdout)
    assert [(e, s) for e, s, *_ in rows] == [
        (2, "SGD lr=0.01 momentum=0.9"),
        (2, "Adam lr=0.001"),
        (2, "RMSprop lr=0.001"),
    ]
    assert re.findall(r"^Exercise (\d), ", result.stdout, flags=re.MULTILINE) == ["2", "2", "2"]
    assert confusion_matrix(result.stdout)[0].sum() == 1000
    assert python_warnings(result.stderr) == []


def test_exercise_flag_refuses_other_values():
    result = run(ROOT / "06_exercises.py", "--exercise", "4")
    assert result.returncode == 2 and "argument --exercise: invalid choice: 4" in result.stderr


def test_readme_sample_output_matches(quick):
    assert_matches_readme("python 06_exercises.py --quick", quick("06_exercises.py").stdout)

"""Lessons 01-05 run as a learner runs them with `--quick` (the bundled sample), checked by
what they print."""

import re

import numpy as np
import pytest
from conftest import (
    LESSONS,
    ROOT,
    SAMPLE,
    figures_asked_for,
    number_after,
    picture,
    python_warnings,
)

TRAINING_LESSONS = ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"]
PARAMS = ["401,920", "131,328", "2,570"]
EPOCH_LINE = r"^125/125 - .* - accuracy: ([0-9.]+) - loss: ([0-9.]+)$"


def summary_rows(text):
    """(layer name, output shape, parameter count) for each row of the model.summary() tables."""
    return re.findall(r"│ (\w+) \(\w+\)\s+│ (\([^)]*\))\s+│\s+([\d,]+) │", text)


@pytest.mark.parametrize("lesson", LESSONS[:5])  # 06 has its own file, test_exercises.py
def test_quick_run_is_clean_and_names_its_data(quick, lesson):
    result = quick(lesson)
    assert "Traceback" not in result.stderr
    assert python_warnings(result.stderr) == []
    assert "NOTICE" not in result.stdout + result.stderr  # --quick never tries the network
    assert result.stdout.startswith("Bundled sample: 4000 training and 1000 test images\n")


def test_01_prints_raw_and_prepared_data(quick):
    out = quick("01_load_mnist.py").stdout
    assert re.search(r"x_train\s+\(4000, 28, 28\)\s+uint8\s+values 0 \.\. 255", out)
    assert re.search(r"x_test\s+\(1000, 28, 28\)\s+uint8\s+values 0 \.\. 255", out)
    assert re.search(r"y_train\s+\(4000,\)\s+uint8\s+values 0 \.\. 9", out)
    assert re.search(r"x_train\s+\(4000, 784\)\s+float32\s+values 0\.0 \.\. 1\.0", out)
    assert re.search(r"x_test\s+\(1000, 784\)\s+float32\s+values 0\.0 \.\. 1\.0", out)
    assert "  ".join(f"{d}: 400" for d in range(10)) in out


def test_01_draws_the_first_digit(quick):
    out = quick("01_load_mnist.py").stdout
    with np.load(SAMPLE, allow_pickle=False) as f:
        first_image, first_label = f["x_train"][0], f["y_train"][0]
    drawing = out.split(f"The first training image, labelled {first_label}:\n")[1].splitlines()
    assert drawing[0] == drawing[29] == "+" + "-" * 56 + "+"
    rows = drawing[1:29]
    assert all(len(row) == 58 and row[0] == row[-1] == "|" for row in rows)
    # Blank characters exactly where the image is black, ink where it is not, two per pixel.
    ink = np.array(
        [
            [row[1 + 2 * i] != " " and row[2 + 2 * i] == row[1 + 2 * i] for i in range(28)]
            for row in rows
        ]
    )
    np.testing.assert_array_equal(ink, first_image / 255 >= 0.1)


@pytest.mark.parametrize("lesson", TRAINING_LESSONS)
def test_summary_five_epochs_and_accuracy(quick, lesson):
    out = quick(lesson).stdout
    assert [count for _, _, count in summary_rows(out)][-3:] == PARAMS
    assert out.count("Total params: 535,818") == 1
    # verbose=2: the video's 5 epochs, one line each, then one line for the evaluation
    assert re.findall(r"^Epoch (\d)/5$", out, flags=re.MULTILINE) == ["1", "2", "3", "4", "5"]
    epochs = re.findall(EPOCH_LINE, out, flags=re.MULTILINE)
    assert len(epochs) == 5
    losses = [float(loss) for _, loss in epochs]
    assert losses == sorted(losses, reverse=True)  # the model learns
    assert re.search(r"^32/32 - .* - accuracy: [0-9.]+ - loss: [0-9.]+$", out, flags=re.MULTILINE)
    assert number_after("Final train accuracy:", out) == float(epochs[-1][0])
    assert 0.9 <= number_after("Test accuracy:", out) <= 1.0  # chance is 0.10


def test_03_prints_the_summary_as_layers_are_added(quick):
    out = quick("03_sequential_add.py").stdout
    assert re.findall(r"Total params: ([\d,]+)", out) == ["401,920", "533,248", "535,818"]


def test_04_names_its_layers(quick):
    rows = summary_rows(quick("04_functional_model.py").stdout)
    assert rows[1:3] == [
        ("first_layer", "(None, 512)", "401,920"),
        ("second_layer", "(None, 256)", "131,328"),
    ]
    assert rows[0][0] == "input_layer" and rows[3][1:] == ("(None, 10)", "2,570")


def test_same_seed_same_numbers(quick):
    """02 and 03 build the same network with the same seed, in separate processes."""
    numbers = [
        re.findall(r"(?:accuracy|loss): ([0-9.]+)", quick(lesson).stdout)
        for lesson in TRAINING_LESSONS[:2]
    ]
    # 5 epochs and the evaluation, each an accuracy and a loss; then the two printed accuracies
    assert len(numbers[0]) == 14 and numbers[0] == numbers[1]


def test_05_extracts_layer_outputs(quick):
    out = quick("05_extract_layer_outputs.py").stdout
    assert "model.layers[-2] (my_layer): (4000, 256)" in out
    assert 'model.get_layer("my_layer"): (4000, 256)' in out
    assert re.findall(r"^(\w+): (\(.*\))$", out, flags=re.MULTILINE) == [
        ("dense", "(4000, 512)"),
        ("my_layer", "(4000, 256)"),
        ("dense_1", "(4000, 10)"),
    ]


def saved_figures(out):
    return re.findall(r"^Figure saved: (.*)$", out, flags=re.MULTILINE)


def assert_drawn(path, size):
    """The PNG the lesson saved: the size its code asks for, and a picture, not a blank."""
    pixels = picture(path)
    assert (pixels.shape[1], pixels.shape[0]) == size, path


@pytest.mark.parametrize("lesson", LESSONS[:5])
def test_each_figure_is_saved_with_its_size_and_its_path_printed(quick, lessons_folder, lesson):
    paths = saved_figures(quick(lesson).stdout)
    asked = figures_asked_for(lesson)
    assert paths == [str(lessons_folder / "figures" / name) for name, _ in asked]
    for path, (_, size) in zip(paths, asked):
        assert_drawn(path, size)
    assert (len(asked) >= 1) == (lesson != "03_sequential_add.py")  # 03 is 02 built another way


@pytest.mark.parametrize("lesson", TRAINING_LESSONS)
def test_on_the_sample_it_says_what_to_expect_there_and_on_full_mnist(quick, lesson):
    out = quick(lesson).stdout
    sample, full = re.search(
        r"^Expected: about ([0-9.]+) on the sample; ([0-9.]+) on full MNIST", out, re.M
    ).groups()
    assert abs(float(sample) - number_after("Test accuracy:", out)) <= 0.01
    page = (ROOT / "docs" / lesson.replace(".py", ".md")).read_text(encoding="utf-8")
    assert float(full) == number_after("Test accuracy:", page)

"""Every lesson is a jupytext "percent" script: it converts to a notebook, and 02, 04 and 05
run in a real Jupyter kernel."""

import base64
import io
import re
import shutil

import jupytext
import nbformat
import numpy as np
import pytest
from conftest import (
    CHECK,
    LESSONS,
    ROOT,
    SAMPLE,
    keras_warnings_aside,
    lesson_env,
    number_after,
    picture,
    source,
)
from nbclient import NotebookClient

HEADING = re.compile(r"^## [A-Za-z0-9].* / .*[\u4e00-\u9fff]")  # "## English / 中文"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("lesson", [CHECK, *LESSONS])
def test_lesson_is_a_notebook_of_steps(lesson):
    nb = jupytext.read(ROOT / lesson)
    nbformat.validate(nb)
    kinds = [cell.cell_type for cell in nb.cells]
    # A notebook opens on its title and how to run it, then the docstring and the flags; then
    # each step is a markdown cell and the code it explains.
    title = nb.cells[0].source.splitlines()
    assert re.fullmatch(r"# Lesson 0\d: .+", title[0]) and CJK.search(nb.cells[0].source)
    assert nb.cells[1].source.startswith('"""Lesson ') and "import argparse" in nb.cells[1].source
    assert len(kinds) >= 6 and kinds == ["markdown", "code"] * (len(kinds) // 2)
    for cell in nb.cells[2::2]:
        heading, *text = cell.source.splitlines()
        assert HEADING.match(heading), f"{lesson}: {heading!r}"
        # The English text, short; then the Chinese.
        chinese = [CJK.search(line) is not None for line in text if line.strip()]
        english = chinese.count(False)
        assert 1 <= english <= 8, f"{lesson}: {heading}: keep the text short"
        assert chinese.count(True) >= 1, f"{lesson}: {heading}: no Chinese text"
        assert chinese == sorted(chinese), f"{lesson}: {heading}: English, then Chinese"
    # Nothing is lost on the way: the notebook turns back into the very same script.
    assert jupytext.writes(nb, fmt="py:percent") == source(lesson)


def execute(lesson, folder, keras_home, **env):
    """Convert a lesson, save the notebook in folder beside a copy of data/, and run it in a
    Jupyter kernel with the network refused and env added to its environment."""
    shutil.copytree(SAMPLE.parent, folder / "data")
    nb = jupytext.read(ROOT / lesson)
    nbformat.write(nb, folder / lesson.replace(".py", ".ipynb"))
    resources = {"metadata": {"path": str(folder)}}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources=resources)
    client.execute(env=lesson_env(KERAS_HOME=str(keras_home), **env))
    return nb


def printed(cell, name="stdout"):
    """What a code cell printed to one stream, or displayed as plain text (Keras shows
    summaries that way)."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == name:
            parts.append(output.text)
        elif output.output_type == "display_data" and name == "stdout":
            parts.append(re.sub(r"\x1b\[[0-9;]*m", "", output.data.get("text/plain", "")))
    return "".join(parts)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """02 and 04 run as notebooks with the network refused, as behind a firewall; 05 with
    MNIST_NPZ naming a smaller file, which is how a notebook reads a file of one's own."""
    keras_home = tmp_path_factory.mktemp("keras_home")
    mine = tmp_path_factory.mktemp("mine") / "mine.npz"
    with np.load(SAMPLE) as f:
        np.savez(mine, **{name: f[name][:1000] for name in f.files})
    return {
        lesson: execute(lesson, tmp_path_factory.mktemp(lesson[:2]), keras_home, **env)
        for lesson, env in [
            ("02_sequential_model.py", {}),
            ("04_functional_model.py", {}),
            ("05_extract_layer_outputs.py", {"MNIST_NPZ": str(mine)}),
            ("07_your_own_digits.py", {}),
        ]
    }


NOTEBOOKS = [
    "02_sequential_model.py",
    "04_functional_model.py",
    "05_extract_layer_outputs.py",
    "07_your_own_digits.py",
]


@pytest.mark.parametrize("lesson", NOTEBOOKS)
def test_notebook_runs_without_an_error_or_a_warning(notebooks, lesson):
    for cell in code_cells(notebooks[lesson]):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, printed(cell, "stderr")
        assert keras_warnings_aside(printed(cell, "stderr")) == []


@pytest.mark.parametrize("lesson", NOTEBOOKS[:2])
def test_notebook_falls_back_to_the_sample_beside_it_with_one_notice(notebooks, lesson):
    load = printed(code_cells(notebooks[lesson])[2])
    assert load.count("NOTICE") == 1 and "Connection refused" in load
    assert load.endswith("Bundled sample: 4000 training and 1000 test images\n")


@pytest.mark.parametrize("lesson", NOTEBOOKS[:2])
def test_training_notebook_prints_the_summary_five_epochs_and_the_accuracies(notebooks, lesson):
    cells = code_cells(notebooks[lesson])
    summary, training = printed(cells[3]), printed(cells[4])
    assert "Total params: 535,818" in summary
    assert re.findall(r"^Epoch (\d)/5$", training, flags=re.MULTILINE) == ["1", "2", "3", "4", "5"]
    epoch_line = r"^125/125 - .* - accuracy: [0-9.]+ - loss: [0-9.]+$"
    assert len(re.findall(epoch_line, training, flags=re.MULTILINE)) == 5
    assert 0.95 <= number_after("Final train accuracy:", training) <= 1.0  # 5 epochs, 4,000 images
    assert 0.9 <= number_after("Test accuracy:", training) <= 1.0


def test_a_notebook_reads_the_file_mnist_npz_names(notebooks):
    cells = code_cells(notebooks["05_extract_layer_outputs.py"])
    assert printed(cells[2]) == "MNIST: 1000 training and 1000 test images\n"
    assert printed(cells[4]) == "model.layers[-2] (my_layer): (1000, 256)\n"
    assert printed(cells[5]) == 'model.get_layer("my_layer"): (1000, 256)\n'
    assert printed(cells[6]) == "dense: (1000, 512)\nmy_layer: (1000, 256)\ndense_1: (1000, 10)\n"


def test_tensorflows_start_up_lines_show_under_the_cell_that_imports_it(notebooks):
    """What the README tells a learner to expect: on a machine without a GPU, TensorFlow's C++
    lines go to stderr under the second code cell, "Set up TensorFlow", and nowhere else."""
    cells = code_cells(notebooks["02_sequential_model.py"])
    assert "GPU will not be used" in printed(cells[1], "stderr")
    assert "cuInit" in printed(cells[1], "stderr")
    assert all("cuInit" not in printed(cell, "stderr") for cell in cells[2:])


def images(cell):
    return [output for output in cell.outputs if "image/png" in output.get("data", {})]


@pytest.mark.parametrize("lesson", NOTEBOOKS[:3])
def test_a_notebook_shows_each_figure_under_its_cell_and_saves_no_file(notebooks, lesson):
    cells = code_cells(notebooks[lesson])
    drawing = [cell for cell in cells if 'show(figure, "' in cell.source]
    assert len(drawing) == 1
    assert len(images(drawing[0])) == 1
    assert all(not images(cell) for cell in cells if cell is not drawing[0])
    assert all("Figure saved" not in printed(cell) for cell in cells)


def test_04_draws_fifteen_digits_with_their_probabilities(notebooks):
    """The figure a learner sees under 04's last cell: 1,200 x 1,000 pixels at 100 dpi, which
    the inline backend trims or pads by a few pixels to the drawing."""
    cell = code_cells(notebooks["04_functional_model.py"])[-1]
    png = base64.b64decode(images(cell)[0]["data"]["image/png"])
    pixels = picture(io.BytesIO(png))
    height, width = pixels.shape[:2]
    assert abs(width - 1200) <= 30 and abs(height - 1000) <= 30


def test_07_shows_every_step_of_each_bundled_image_and_saves_no_file(notebooks):
    cells = code_cells(notebooks["07_your_own_digits.py"])
    steps = next(cell for cell in cells if 'show(figure, f"07_steps_' in cell.source)
    naive = next(
        cell for cell in cells if 'show(figure, "07_naive_and_prepared.png")' in cell.source
    )
    examples = len(list((SAMPLE.parent / "own_digits").iterdir()))
    assert len(images(steps)) == examples and len(images(naive)) == 1
    reads = [
        line for cell in cells for line in printed(cell).splitlines() if line.startswith("Read ")
    ]
    assert len(reads) == examples
    assert all("Figure saved" not in printed(cell) for cell in cells)

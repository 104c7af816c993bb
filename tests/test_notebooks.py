"""Every lesson is a jupytext "percent" script: it converts to a notebook, and 02, 04 and 05 run in a real kernel."""

import re

import jupytext
import nbformat
import numpy as np
import pytest
from conftest import LESSONS, ROOT, SAMPLE, lesson_env, number_after, python_warnings, source
from nbclient import NotebookClient

HEADING = re.compile(r"^## [A-Za-z0-9].* / .*[\u4e00-\u9fff]")  # "## English / 中文"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_is_a_notebook_of_steps(lesson):
    nb = jupytext.read(ROOT / lesson)
    nbformat.validate(nb)
    kinds = [cell.cell_type for cell in nb.cells]
    # The docstring and the setup open the notebook; then each step is a markdown cell and the code it explains.
    assert nb.cells[0].source.startswith('"""Lesson ') and "import argparse" in nb.cells[0].source
    assert len(kinds) >= 5 and kinds == ["code"] + ["markdown", "code"] * ((len(kinds) - 1) // 2)
    for cell in nb.cells[1::2]:
        heading, *text = cell.source.splitlines()
        assert HEADING.match(heading), f"{lesson}: {heading!r}"
        assert 1 <= len([line for line in text if line.strip()]) <= 8, f"{lesson}: {heading}: keep the text short"
    # Nothing is lost on the way: the notebook turns back into the very same script.
    assert jupytext.writes(nb, fmt="py:percent") == "# %%\n" + source(lesson)


def execute(lesson, folder, keras_home, train_images=4000):
    """Convert a lesson, save the notebook in folder beside data/mnist_sample.npz, and run it in a kernel.

    The sample there holds the first train_images training digits of the bundled one, so that what the
    notebook prints shows which file it read."""
    (folder / "data").mkdir()
    with np.load(SAMPLE) as f:
        arrays = {name: f[name][:train_images] if name.endswith("train") else f[name] for name in f.files}
    np.savez(folder / "data" / SAMPLE.name, **arrays)
    nb = jupytext.read(ROOT / lesson)
    nbformat.write(nb, folder / lesson.replace(".py", ".ipynb"))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=lesson_env(KERAS_HOME=str(keras_home)))
    return nb


def printed(cell, name="stdout"):
    """What a code cell printed to one stream, or displayed as plain text (Keras shows summaries that way)."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == name:
            parts.append(output.text)
        elif output.output_type == "display_data" and name == "stdout":
            parts.append(re.sub(r"\x1b\[[0-9;]*m", "", output.data.get("text/plain", "")))
    return "".join(parts)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """02, 04 and 05 executed as notebooks with the network refused, as on a learner's machine behind a firewall."""
    keras_home = tmp_path_factory.mktemp("keras_home")
    return {
        "02_sequential_model.py": execute("02_sequential_model.py", tmp_path_factory.mktemp("02"), keras_home),
        "04_functional_model.py": execute("04_functional_model.py", tmp_path_factory.mktemp("04"), keras_home),
        # 05 gets a smaller sample beside it: its shapes tell that it read that file, not the repository's.
        "05_extract_layer_outputs.py": execute(
            "05_extract_layer_outputs.py", tmp_path_factory.mktemp("05"), keras_home, train_images=1000
        ),
    }


@pytest.mark.parametrize("lesson", ["02_sequential_model.py", "04_functional_model.py", "05_extract_layer_outputs.py"])
def test_notebook_uses_the_defaults_and_falls_back_to_the_sample_beside_it(notebooks, lesson):
    cells = [cell for cell in notebooks[lesson].cells if cell.cell_type == "code"]
    # No flags in a notebook: the kernel's own command line (-f connection-file) never reaches argparse.
    setup = printed(cells[0]) + printed(cells[1])
    assert setup.count("NOTICE") == 1 and "Connection refused" in setup
    assert "Going on with the bundled sample." in setup
    for cell in cells:
        assert not any(output.output_type == "error" for output in cell.outputs), printed(cell, "stderr")
        assert python_warnings(printed(cell, "stderr")) == []


@pytest.mark.parametrize("lesson", ["02_sequential_model.py", "04_functional_model.py"])
def test_training_notebook_prints_the_summary_five_epochs_and_the_accuracies(notebooks, lesson):
    cells = [cell for cell in notebooks[lesson].cells if cell.cell_type == "code"]
    summary, training = printed(cells[2]), printed(cells[3])
    assert "Total params: 535,818" in summary
    assert re.findall(r"^Epoch (\d)/5$", training, flags=re.MULTILINE) == ["1", "2", "3", "4", "5"]
    assert len(re.findall(r"^125/125 - .* - accuracy: [0-9.]+ - loss: [0-9.]+$", training, flags=re.MULTILINE)) == 5
    assert 0.95 <= number_after("Final train accuracy:", training) <= 1.0  # 5 epochs on 4,000 images
    assert 0.9 <= number_after("Test accuracy:", training) <= 1.0


def test_extractor_notebook_prints_the_shapes_of_the_sample_beside_it(notebooks):
    cells = [cell for cell in notebooks["05_extract_layer_outputs.py"].cells if cell.cell_type == "code"]
    assert printed(cells[3]) == "model.layers[-2] (my_layer): (1000, 256)\n"
    assert printed(cells[4]) == 'model.get_layer("my_layer"): (1000, 256)\n'
    assert printed(cells[5]) == "dense: (1000, 512)\nmy_layer: (1000, 256)\ndense_1: (1000, 10)\n"

"""Every lesson is a jupytext "percent" script: it converts to a notebook, and 07's runs in a
real Jupyter kernel."""

import base64
import io
import re
import shutil

import jupytext
import nbformat
import pytest
from conftest import (
    CHECK,
    LESSONS,
    MODULES,
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
READER, LOADING = "def read_mnist_npz(", "socket.setdefaulttimeout(30)\n"


@pytest.mark.parametrize("lesson", [CHECK, *LESSONS])
def test_lesson_is_a_notebook_of_steps(lesson):
    nb = jupytext.read(ROOT / lesson)
    nbformat.validate(nb)
    # A notebook opens on its title and how to run it, then the docstring and the flags; then
    # each step is a markdown cell and the code it explains.
    title = nb.cells[0].source.splitlines()
    assert re.fullmatch(r"# Lesson 0\d: .+", title[0]) and CJK.search(nb.cells[0].source)
    assert nb.cells[1].source.startswith('"""Lesson ') and "import argparse" in nb.cells[1].source
    # Loading MNIST is two cells, the reader of a file then the loading, so that a page or a
    # notebook can fold the first.
    cells = [cell for cell in nb.cells if not cell.source.startswith(LOADING)]
    if lesson != CHECK:
        reader = next(i for i, cell in enumerate(nb.cells) if cell.source.startswith(READER))
        assert nb.cells[reader + 1].source.startswith(LOADING), lesson
    kinds = [cell.cell_type for cell in cells]
    assert len(kinds) >= 6 and kinds == ["markdown", "code"] * (len(kinds) // 2)
    for cell in cells[2::2]:
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
    """Run the lesson's notebook as a learner opens it, from notebooks/ in a copy of the
    lessons' folder with data/ beside it, in a Jupyter kernel with the network refused and env
    added to its environment."""
    shutil.copytree(SAMPLE.parent, folder / "data")
    for module in MODULES:  # what 07 on import, beside the lessons
        shutil.copy(ROOT / module, folder)
    (folder / "notebooks").mkdir()
    name = lesson.replace(".py", ".ipynb")
    shutil.copy(ROOT / "notebooks" / name, folder / "notebooks")
    nb = nbformat.read(folder / "notebooks" / name, as_version=4)
    resources = {"metadata": {"path": str(folder / "notebooks")}}
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


def cell_with(nb, code):
    """The first code cell whose source holds this code."""
    return next(cell for cell in code_cells(nb) if code in cell.source)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """07, opened from notebooks/ as a learner opens it, run in a Jupyter kernel with the
    network refused, as behind a firewall. It has the setup every lesson has, trains the
    video's network as 02 does, and draws. The other lessons run as scripts in these tests, and
    as notebooks on full MNIST when their pages are rendered: run here each would add 10 s."""
    folder = tmp_path_factory.mktemp("07")
    return execute("07_your_own_digits.py", folder, tmp_path_factory.mktemp("keras_home"))


def test_notebook_runs_without_an_error_or_a_warning(notebook):
    for cell in code_cells(notebook):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, printed(cell, "stderr")
        assert keras_warnings_aside(printed(cell, "stderr")) == []


def test_notebook_falls_back_to_the_sample_in_data_with_one_notice(notebook):
    load = printed(cell_with(notebook, LOADING))
    assert load.count("NOTICE") == 1 and "Connection refused" in load
    assert load.endswith("Bundled sample: 4000 training and 1000 test images\n")


def test_notebook_trains_five_epochs_and_saves_the_model_beside_the_lessons(notebook):
    training = printed(cell_with(notebook, "model.fit("))
    assert re.findall(r"^Epoch (\d)/5$", training, flags=re.MULTILINE) == ["1", "2", "3", "4", "5"]
    epoch_line = r"^125/125 - .* - accuracy: [0-9.]+ - loss: [0-9.]+$"
    assert len(re.findall(epoch_line, training, flags=re.MULTILINE)) == 5
    assert 0.9 <= number_after("Test accuracy:", training) <= 1.0
    # No __file__ in a notebook: models/ in the lessons' folder, where it moved from notebooks/.
    saved = (
        "Saved models/mnist_dense_sample.keras, trained on Bundled sample (4000 training images)"
    )
    assert saved in training.splitlines()


def test_tensorflows_start_up_lines_show_under_the_cell_that_imports_it(notebook):
    """What the README tells a learner to expect: on a machine without a GPU, TensorFlow's C++
    lines go to stderr under the cell that imports it, "Set up TensorFlow", and nowhere else."""
    importing = cell_with(notebook, "import tensorflow as tf")
    assert "GPU will not be used" in printed(importing, "stderr")
    assert "cuInit" in printed(importing, "stderr")
    others = [cell for cell in code_cells(notebook) if cell is not importing]
    assert all("cuInit" not in printed(cell, "stderr") for cell in others)


def images(cell):
    return [output for output in cell.outputs if "image/png" in output.get("data", {})]


def test_a_notebook_shows_its_figures_at_the_size_its_code_asks_for(notebook):
    """07's figure of a digit's steps, 10 by 5.5 inches at 100 dpi, which the inline backend
    trims or pads by a few pixels to the drawing."""
    cell = cell_with(notebook, "def draw_digit(")
    png = base64.b64decode(images(cell)[0]["data"]["image/png"])
    height, width = picture(io.BytesIO(png)).shape[:2]
    assert abs(width - 1000) <= 40 and abs(height - 550) <= 40


def test_07_shows_every_step_of_each_bundled_image_and_saves_no_file(notebook):
    cells = code_cells(notebook)
    steps = cell_with(notebook, "def draw_digit(")
    recipe = cell_with(notebook, 'show(figure, "07_recipe.png")')
    examples = len(list((SAMPLE.parent / "own_digits").iterdir()))
    # The sample's model reads each example right: one figure each, of its first digit.
    assert len(images(steps)) == examples and len(images(recipe)) == 1
    reads = [
        line for cell in cells for line in printed(cell).splitlines() if line.startswith("Read ")
    ]
    assert len(reads) == examples
    assert all("Figure saved" not in printed(cell) for cell in cells)


def test_07_shows_that_mnist_itself_goes_through_the_steps_unharmed(notebook):
    """In a notebook, MNIST's own test digits are read through the same steps: as well as they
    are, within half a point (the script leaves it out: seconds on all 10,000)."""
    out = "\n".join(printed(cell) for cell in code_cells(notebook))
    steps = float(re.search(r"through the same steps: ([0-9.]+)$", out, re.M).group(1))
    evaluate = float(re.search(r"^Test accuracy: ([0-9.]+)$", out, re.M).group(1))
    assert abs(steps - evaluate) <= 0.005 and evaluate >= 0.9


def test_notebooks_are_the_lessons_ready_to_open():
    """notebooks/ holds a notebook for every lesson, as tools/make_notebooks.py writes it from
    the .py: no outputs, a kernelspec, the setup's plumbing folded, the video's code first."""
    from make_notebooks import LESSONS as ALL_LESSONS
    from make_notebooks import notebook_of

    kept = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert kept == [lesson.replace(".py", ".ipynb") for lesson in ALL_LESSONS]
    for lesson in ALL_LESSONS:
        text = (ROOT / "notebooks" / lesson.replace(".py", ".ipynb")).read_text(encoding="utf-8")
        assert text == nbformat.writes(notebook_of(lesson)) + "\n", f"{lesson}: run the tool"
        nb = nbformat.reads(text, as_version=4)
        assert nb.metadata.kernelspec.name == "python3"
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Lesson")
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
        shown = [cell.source for cell in code if not cell.metadata.get("jupyter")]
        assert shown, lesson
        if lesson != CHECK:  # the first code shown is the video's imports; its load line shows
            assert shown[0].startswith(
                'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"\nimport tensorflow'
            )
            assert any("tf.keras.datasets.mnist.load_data()" in source for source in shown)
            folded = [cell for cell in code if cell.metadata.get("jupyter")]
            assert all(cell.metadata["jupyter"]["source_hidden"] for cell in folded)
            assert len(folded) == 3  # the move to the lessons' folder, the flags, the reader

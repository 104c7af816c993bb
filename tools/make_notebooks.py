"""Write notebooks/0N_....ipynb from each lesson's .py, ready to open in Jupyter or VS Code.

The .py files stay the source: a notebook is the lesson's cells, with no outputs (the pages in
docs/ hold those), a kernelspec so that Jupyter does not ask, and the shared setup's cells
folded (the flags, and how an mnist.npz is read), so that the video's code is the first code
one sees. One cell is added after the title: opened from notebooks/, it moves to the lessons'
folder, where data/ and models/ are, as the scripts run. tests/test_notebooks.py checks that
every notebook is what this writes.

Run:
    python tools/make_notebooks.py
"""

from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py"))
FROM_NOTEBOOKS = """\
# Opened from notebooks/: run from the lessons' folder, where data/ and models/ are.
import os

if os.path.basename(os.getcwd()) == "notebooks":
    os.chdir("..")"""
# Folded: Jupyter's own key, and VS Code's and Colab's, which read other ones.
FOLDED = {"jupyter": {"source_hidden": True}, "collapsed": True, "cellView": "form"}
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def is_setup(cell):
    """The setup's plumbing: the docstring and flags, and the reader of an mnist.npz file."""
    code = cell.source
    return cell.cell_type == "code" and (
        code.startswith('"""Lesson ') or code.startswith("def read_mnist_npz(")
    )


def notebook_of(lesson):
    """The notebook of one lesson, as notebooks/ keeps it."""
    nb = jupytext.read(ROOT / lesson)
    nb.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    for cell in nb.cells:
        cell.metadata = dict(FOLDED) if is_setup(cell) else {}
    moving = nbformat.v4.new_code_cell(FROM_NOTEBOOKS, metadata=dict(FOLDED))
    nb.cells.insert(1, moving)
    for number, cell in enumerate(nb.cells):
        cell.id = f"{lesson[:2]}-{number:02}"  # stable ids: the same file every time
    nbformat.validate(nb)
    return nb


def main():
    NOTEBOOKS.mkdir(exist_ok=True)
    for lesson in LESSONS:
        path = NOTEBOOKS / lesson.replace(".py", ".ipynb")
        path.write_text(nbformat.writes(notebook_of(lesson)) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

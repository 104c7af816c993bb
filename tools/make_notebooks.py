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

import re
import unicodedata
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
# A line that starts a block of its own: a list item, a table row, a heading, a quote, HTML.
BLOCK = re.compile(r"\s*(?:[-*+] |\d+\. |\||#|>|<)")


def chinese_joined(markdown):
    """Markdown with each paragraph that holds Chinese on one line. The lessons wrap their text
    at 100 columns, and a line break shows as a space, which Chinese has none of: lines join
    with nothing where either side is Chinese, with a space where both are not. Code blocks,
    lists, tables and English paragraphs stay as they are."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        previous = lines[-1] if lines else ""
        joins = (
            not fenced
            and line.strip()
            and previous.strip()
            and not BLOCK.match(line)
            and not previous.startswith(("```", "|", "#", "<"))
            and re.search(r"[^\x00-\x7f]", previous + line)
        )
        if line.startswith("```"):
            fenced = not fenced
        if not joins:
            lines.append(line)
            continue
        previous, line = previous.rstrip(), line.strip()
        lines[-1] = previous + (" " if spaced(previous[-1], line[0]) else "") + line
    return "\n".join(lines)


def spaced(before, after):
    """Whether a space stands between two characters: between two English ones, and between a
    Chinese character and an English one, as the lessons write them; not next to Chinese
    punctuation, nor between two Chinese characters."""
    if before.isascii() and after.isascii():
        return True
    chinese = before if after.isascii() else after
    return (before.isascii() or after.isascii()) and not unicodedata.category(chinese).startswith(
        "P"
    )


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
        if cell.cell_type == "markdown":
            cell.source = chinese_joined(cell.source)
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

"""Find a lesson's code cell by the heading of the text cell above it: how the tests and the
benchmarks run one cell of a lesson (07's preparation, 06's exercises) alone."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def code_under(lesson, heading):
    """The code cell right under the markdown cell whose heading starts with `heading`, in the
    lesson of that file name."""
    text = (ROOT / lesson).read_text(encoding="utf-8")
    start = text.index("\n# %%\n", text.index(f"# %% [markdown]\n# ## {heading}")) + 1
    end = text.find("\n# %% [markdown]", start)
    return text[start : end if end != -1 else len(text)]

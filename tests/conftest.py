"""Shared helpers: run a lesson the way a learner does, as `python 0N_....py`, and read the lessons' source."""

import ast
import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from full_mnist import normalise  # the same blanking of timings for quick and full-data outputs

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py"))
SAMPLE = ROOT / "data" / "mnist_sample.npz"
# A closed port on this machine: any download through it is refused at once.
REFUSING_PROXY = "http://127.0.0.1:9"


def lesson_env(**extra):
    """The learner's environment, minus anything that could reach a network or a real MNIST cache."""
    env = dict(os.environ)
    for key in ("NO_PROXY", "no_proxy"):
        env.pop(key, None)
    env.update(
        HTTP_PROXY=REFUSING_PROXY,
        HTTPS_PROXY=REFUSING_PROXY,
        http_proxy=REFUSING_PROXY,
        https_proxy=REFUSING_PROXY,
        PYTHONWARNINGS="always",  # show every Python warning, so the tests see them
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def run(script, *args, env=None, cwd=ROOT, timeout=300):
    """Run a script with this Python and return the finished process (text output)."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env if env is not None else lesson_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


@functools.cache
def _quick_run(lesson, keras_home):
    return run(ROOT / lesson, "--quick", env=lesson_env(KERAS_HOME=keras_home))


@pytest.fixture(scope="session")
def quick(tmp_path_factory):
    """quick(lesson) -> the finished `python lesson --quick`, run once per session."""
    keras_home = str(tmp_path_factory.mktemp("keras_home"))

    def get(lesson):
        result = _quick_run(lesson, keras_home)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    return get


def python_warnings(stderr):
    """Warnings from Python code in a process's stderr: the warnings module's (UserWarning: ...)
    and the Python loggers' of TensorFlow, Keras and absl (WARNING:tensorflow:...). The C++ lines
    that the TensorFlow wheel prints at import (I0000, W0000, E0000 ...) are not Python's."""
    return re.findall(r"^(?:.*\b\w*Warning: .*|WARNING:(?:tensorflow|keras|absl|root):.*)$", stderr, flags=re.MULTILINE)


def number_after(label, text):
    """The float printed after `label` in text, e.g. number_after('Test accuracy:', out)."""
    match = re.search(re.escape(label) + r"\s*([0-9.]+)", text)
    assert match, f"{label!r} not in output:\n{text[-2000:]}"
    return float(match.group(1))


def readme_outputs():
    """{command: text} for each sample output in README.md, marked <!-- output of: COMMAND -->."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- output of: (.+?) -->\n```text\n(.*?)```", readme, flags=re.DOTALL))


def assert_matches_readme(command, printed):
    """The README's sample output for command must match what it printed; a "..." line there skips lines."""
    block = readme_outputs()[command]
    lines = normalise(printed).splitlines()
    start = 0
    for chunk in re.split(r"^\.\.\.\n", normalise(block), flags=re.MULTILINE):
        want = chunk.splitlines()
        if not want:
            continue
        found = next((i for i in range(start, len(lines)) if lines[i : i + len(want)] == want), None)
        assert found is not None, f"README's output of {command!r} no longer matches; first lines:\n{chunk[:500]}"
        start = found + len(want)


# The first and last lines of the setup that every lesson shares (06 adds its own flag inside it).
SETUP_START = "# The setup, the same in every lesson:"
SETUP_END = 'x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0'
OWN_FLAG = 'parser.add_argument("--exercise"'


def source(lesson):
    return (ROOT / lesson).read_text(encoding="utf-8")


def setup_of(lesson):
    """The lesson's setup: from the line after its docstring to the line that scales x_test, both included."""
    text = source(lesson)
    assert text.count(SETUP_START) == 1 and text.count(SETUP_END) == 1, lesson
    return text[text.index(SETUP_START) : text.index(SETUP_END) + len(SETUP_END)]


def code_lines(text):
    """The lines of text that hold code: no blank lines, comments (so no jupytext cell markers) or docstrings."""
    strings = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            strings.update(range(node.lineno, node.end_lineno + 1))
    return [
        line
        for number, line in enumerate(text.splitlines(), start=1)
        if number not in strings and line.strip() and not line.lstrip().startswith("#")
    ]


def load_cell(lesson):
    """The setup's "Load MNIST" code cell: from the line after its `# %%` marker to the line that scales x_test."""
    setup = setup_of(lesson)
    cell = setup.split("## Load MNIST", 1)[1]
    return cell.split("\n# %%\n", 1)[1]


# A row of 06's results table: exercise, setting, parameters, train acc, test acc, s/epoch, then its marks.
EXERCISE_ROW = re.compile(
    r"^([123])\s{2,}(\S.*?)\s{2,}([\d,]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)( \*)?( > 98\.1%)?$", re.MULTILINE
)


def exercise_table(out):
    """(exercise, setting, parameters, train acc, test acc, s/epoch, best?, beats 98.1%?) for each row of 06's table."""
    return [
        (int(e), setting, int(params.replace(",", "")), float(train), float(test), float(s), bool(best), bool(beats))
        for e, setting, params, train, test, s, best, beats in EXERCISE_ROW.findall(out)
    ]

"""Shared helpers: run a lesson as a learner does (`python 0N_....py`); read the lessons."""

import ast
import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from full_mnist import normalise  # the same blanking of timings for quick and full runs

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py"))
SAMPLE = ROOT / "data" / "mnist_sample.npz"
# A closed port on this machine: any download through it is refused at once.
REFUSING_PROXY = "http://127.0.0.1:9"
# The last line of the setup that every lesson shares.
SETUP_END = 'x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0'
# The one line 06 adds to the setup: its own flag.
OWN_FLAG = 'parser.add_argument("--exercise"'


def lesson_env(**extra):
    """The learner's environment, minus anything that reaches a network or names an MNIST file.

    MNIST_NPZ and KERAS_HOME are dropped (CI sets MNIST_NPZ for its own checks); pass them in
    extra where a test wants them. Every download goes to a closed port. PYTEST_CURRENT_TEST
    goes too: with it, a Jupyter kernel stops showing what C++ code prints, as a learner's does."""
    env = dict(os.environ)
    drop = ("NO_PROXY", "no_proxy", "MNIST_NPZ", "KERAS_HOME", "MPLBACKEND", "PYTEST_CURRENT_TEST")
    for key in drop:
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
    pattern = r"^(?:.*\b\w*Warning: .*|WARNING:(?:tensorflow|keras|absl|root):.*)$"
    return re.findall(pattern, stderr, flags=re.MULTILINE)


def tensorflow_lines(stderr):
    """The lines TensorFlow's C++ side prints once it is imported (I0000 ..., E0000 ...)."""
    return re.findall(r"^(?:[IWEF]\d{4} .*|WARNING: All log messages before absl.*)$", stderr, re.M)


def number_after(label, text):
    """The float printed after `label` in text, e.g. number_after('Test accuracy:', out)."""
    match = re.search(re.escape(label) + r"\s*([0-9.]+)", text)
    assert match, f"{label!r} not in output:\n{text[-2000:]}"
    return float(match.group(1))


def source(lesson):
    return (ROOT / lesson).read_text(encoding="utf-8")


def setup_statements(lesson):
    """The setup's top-level statements: from the first after the docstring to the x_test line."""
    body = ast.parse(source(lesson)).body
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value.value, str), "no docstring"
    last = ast.dump(ast.parse(SETUP_END).body[0])
    end = next(i for i, node in enumerate(body) if ast.dump(node) == last)
    return body[1 : end + 1]


def setup_of(lesson):
    """The setup's source text, comments and cell markers included, as it stands in the file."""
    statements = setup_statements(lesson)
    lines = source(lesson).splitlines(keepends=True)
    # From the line after the docstring, so that comments before the first import count too.
    docstring_end = ast.parse(source(lesson)).body[0].end_lineno
    return "".join(lines[docstring_end : statements[-1].end_lineno])


def function_from(lesson, name, **namespace):
    """A function defined at the top level of a lesson, compiled alone into namespace."""
    tree = ast.parse(source(lesson))
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    exec(compile(ast.Module(body=[node], type_ignores=[]), lesson, "exec"), namespace)
    return namespace[name]


def code_lines(text):
    """The lines of text that hold code: no blank lines, comments (cell markers) or docstrings."""
    strings = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                strings.update(range(node.lineno, node.end_lineno + 1))
    return [
        line
        for number, line in enumerate(text.splitlines(), start=1)
        if number not in strings and line.strip() and not line.lstrip().startswith("#")
    ]


def readme_outputs():
    """{command: text} for each sample output in README.md, marked <!-- output of: COMMAND -->."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = r"<!-- output of: (.+?) -->\n```text\n(.*?)```"
    return dict(re.findall(pattern, readme, flags=re.DOTALL))


def assert_matches_readme(command, printed):
    """The README's sample output of command must match what it printed; "..." skips lines."""
    block = readme_outputs()[command]
    lines = normalise(printed).splitlines()
    start = 0
    for chunk in re.split(r"^\.\.\.\n", normalise(block), flags=re.MULTILINE):
        want = chunk.splitlines()
        if not want:
            continue
        found = next(
            (i for i in range(start, len(lines)) if lines[i : i + len(want)] == want), None
        )
        assert found is not None, f"README's {command!r} no longer matches:\n{chunk[:500]}"
        start = found + len(want)


# A row of 06's results table: exercise, setting, parameters, train acc, test acc, s/epoch, marks.
EXERCISE_ROW = re.compile(
    r"^([123])\s{2,}(\S.*?)\s{2,}([\d,]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)( \*)?( > 98\.1%)?$",
    re.MULTILINE,
)


def exercise_table(out):
    """Each row of 06's table as a dict: exercise, setting, parameters, train, test, seconds,
    best (marked *) and beats (marked > 98.1%)."""
    rows = []
    for e, setting, params, train, test, seconds, best, beats in EXERCISE_ROW.findall(out):
        rows.append(
            dict(
                exercise=int(e),
                setting=setting,
                parameters=int(params.replace(",", "")),
                train=float(train),
                test=float(test),
                seconds=float(seconds),
                best=bool(best),
                beats=bool(beats),
            )
        )
    return rows

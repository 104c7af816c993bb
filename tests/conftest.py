"""Shared helpers: run a lesson the way a learner does, as `python 0N_....py`."""

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def _normalise(text):
    """Blank out what differs from run to run: Keras's step timings and the s/epoch column of 06's table."""
    text = re.sub(r" - \d+s - \d+(?:ms|us|µs|s)/step", " - Ts - T/step", text)
    return re.sub(r"\s+\d+\.\d\d( \*)?$", r" T\1", text, flags=re.MULTILINE)


def assert_matches_readme(command, printed):
    """The README's sample output for command must match what it printed; a "..." line there skips lines."""
    block = readme_outputs()[command]
    lines = _normalise(printed).splitlines()
    start = 0
    for chunk in re.split(r"^\.\.\.\n", _normalise(block), flags=re.MULTILINE):
        want = chunk.splitlines()
        if not want:
            continue
        found = next((i for i in range(start, len(lines)) if lines[i : i + len(want)] == want), None)
        assert found is not None, f"README's output of {command!r} no longer matches; first lines:\n{chunk[:500]}"
        start = found + len(want)

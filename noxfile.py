"""The version matrix: every lesson's quick mode on each TensorFlow release with a wheel for the
running Python (here, 3.11: TensorFlow 2.12 to 2.21).

    python -m nox                                   # every release, then the table
    python -m nox -s "quick(tensorflow='2.16.2')"   # one release
    python -m nox -s table                          # the table of the last runs

Each release gets a virtual environment of its own in .nox/ (about 2 GB each). CI does not run
the matrix; the README's table comes from its last run.
"""

import glob
import sys

import nox

nox.options.reuse_existing_virtualenvs = True

# The last patch release of each minor release, with the oldest and newest Python it has
# wheels for (pip index versions tensorflow --python-version X.Y, 2026-11-29).
WHEELS = {
    "2.12.1": ((3, 8), (3, 11)),
    "2.13.1": ((3, 8), (3, 11)),
    "2.14.1": ((3, 9), (3, 11)),
    "2.15.1": ((3, 9), (3, 11)),
    "2.16.2": ((3, 9), (3, 12)),
    "2.17.1": ((3, 9), (3, 12)),
    "2.18.1": ((3, 9), (3, 12)),
    "2.19.1": ((3, 9), (3, 12)),
    "2.20.0": ((3, 9), (3, 13)),
    "2.21.0": ((3, 10), (3, 13)),
}
# The releases this Python can install: one session each.
RELEASES = [
    release
    for release, (oldest, newest) in WHEELS.items()
    if oldest <= sys.version_info[:2] <= newest
]


@nox.session
@nox.parametrize("tensorflow", RELEASES)
def quick(session, tensorflow):
    """Install this TensorFlow with the lessons' other needs, and run every lesson --quick."""
    session.install(f"tensorflow=={tensorflow}", "numpy", "matplotlib", "pillow", "scipy")
    session.run("python", "tools/version_matrix.py", "run", "--out", results(tensorflow))


@nox.session(venv_backend="none")
def table(session):
    """The Markdown table of the releases run so far."""
    session.run("python", "tools/version_matrix.py", "table", *sorted(glob.glob(results("*"))))


def results(tensorflow):
    return f".nox/version_matrix/{tensorflow}.json"

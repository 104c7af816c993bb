"""The version matrix: every lesson's quick mode on each TensorFlow release with a wheel for the
running Python (here, 3.11: TensorFlow 2.12 to 2.21).

    python -m nox                                   # every release, then the table
    python -m nox -s "quick(tensorflow='2.16.2')"   # one release
    python -m nox -s table                          # the table of the last runs

Each release gets a virtual environment of its own in .nox/ (about 2 GB each). CI does not run
the matrix; the README's table comes from its last run.
"""

import glob

import nox

nox.options.reuse_existing_virtualenvs = True

# The last patch release of each minor release that has a wheel for Python 3.11.
RELEASES = [
    "2.12.1",
    "2.13.1",
    "2.14.1",
    "2.15.1",
    "2.16.2",
    "2.17.1",
    "2.18.1",
    "2.19.1",
    "2.20.0",
    "2.21.0",
]


@nox.session
@nox.parametrize("tensorflow", RELEASES)
def quick(session, tensorflow):
    """Install this TensorFlow with the lessons' other needs, and run every lesson --quick."""
    session.install(f"tensorflow=={tensorflow}", "numpy", "matplotlib")
    session.run("python", "tools/version_matrix.py", "run", "--out", results(tensorflow))


@nox.session(venv_backend="none")
def table(session):
    """The Markdown table of the releases run so far."""
    session.run("python", "tools/version_matrix.py", "table", *sorted(glob.glob(results("*"))))


def results(tensorflow):
    return f".nox/version_matrix/{tensorflow}.json"

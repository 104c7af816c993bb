"""Shared helpers: run a lesson as a learner does (`python 0N_....py`); read the lessons."""

import ast
import functools
import hashlib
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from lesson_cells import code_under  # noqa: F401  (the tests' one way to a lesson's cell)
from matplotlib.image import imread
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CHECK = "00_check_setup.py"  # lesson zero checks a set-up: no MNIST to load, no shared setup
LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py") if p.name != CHECK)
# What lessons 07 on import from beside them: copied with them.
MODULES = ["handwriting.py", "page_server.py"]
SAMPLE = ROOT / "data" / "mnist_sample.npz"
PNG = b"\x89PNG\r\n\x1a\n"  # the signature a PNG file starts with
# A closed port on this machine: any download through it is refused at once.
REFUSING_PROXY = "http://127.0.0.1:9"
# The last line of the setup that every lesson shares.
SETUP_END = 'x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0'
# The lines a lesson may add to the setup: its own flags (06, 08) or argument (07).
OWN_FLAGS = {
    "06_exercises.py": ('parser.add_argument("--exercise"',),
    "07_your_own_digits.py": ('parser.add_argument("--model"', 'parser.add_argument("images"'),
    "08_draw_a_digit.py": (
        'parser.add_argument("--port"',
        'parser.add_argument("--no-browser"',
        'parser.add_argument("--model"',
    ),
    "09_teach_your_handwriting.py": (
        'parser.add_argument("--hold-back"',
        'parser.add_argument("images"',
        "if not 0 <= args.hold_back <= 0.9:",
        '    parser.error(f"--hold-back',
    ),
}


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
        # One thread for each TensorFlow process: the tests run a process on each core, and
        # TensorFlow's thread pools would otherwise spin against each other. The same numbers.
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS="1",
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
def _quick_run(folder, lesson, keras_home):
    return run(Path(folder) / lesson, "--quick", env=lesson_env(KERAS_HOME=keras_home))


@pytest.fixture(scope="session")
def lessons_folder(tmp_path_factory):
    """A copy of the lessons, the modules beside them and data/, so that the figures they save
    land outside the repo."""
    folder = tmp_path_factory.mktemp("lessons")
    for lesson in LESSONS + MODULES:
        shutil.copy(ROOT / lesson, folder)
    shutil.copytree(ROOT / "data", folder / "data")
    return folder


@pytest.fixture(scope="session")
def quick(lessons_folder, tmp_path_factory):
    """quick(lesson) -> the finished `python lesson --quick`, run once per session in the
    lessons_folder copy."""
    keras_home = str(tmp_path_factory.mktemp("keras_home"))

    def get(lesson):
        result = _quick_run(str(lessons_folder), lesson, keras_home)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    return get


@pytest.fixture(scope="session")
def first_run(lessons_folder, tmp_path_factory):
    """`python 07_your_own_digits.py --quick` in the lessons_folder copy: it trains on the
    sample, saves models/mnist_dense_sample.keras (which 08's tests serve) and reads the bundled
    examples."""
    env = lesson_env(KERAS_HOME=str(tmp_path_factory.mktemp("keras_home")))
    return run(lessons_folder / "07_your_own_digits.py", "--quick", env=env)


@pytest.fixture(scope="session")
def teaching(first_run, lessons_folder, tmp_path_factory):
    """`python 09_teach_your_handwriting.py --quick`, started in the background in a copy of the
    lessons' folder beside the model 07's first run saved: (folder, the process, 07's model's
    bytes). The server's tests start it, so that it runs while they wait on slow clients (a
    core is free then); 09's tests wait for it to end."""
    assert first_run.returncode == 0, first_run.stderr[-2000:]
    folder = tmp_path_factory.mktemp("lesson09")
    for name in ["09_teach_your_handwriting.py", *MODULES]:
        shutil.copy(lessons_folder / name, folder)
    shutil.copytree(lessons_folder / "data", folder / "data")
    shutil.copytree(lessons_folder / "models", folder / "models")
    model_bytes = (folder / "models" / "mnist_dense_sample.keras").read_bytes()
    env = lesson_env(KERAS_HOME=str(tmp_path_factory.mktemp("keras_home")))
    script = [sys.executable, str(folder / "09_teach_your_handwriting.py"), "--quick"]
    process = subprocess.Popen(
        script, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield folder, process, model_bytes
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="session")
def lesson08(first_run, lessons_folder, tmp_path_factory):
    """lesson08() -> `python 08_draw_a_digit.py --quick --no-browser` running beside the model
    07's first run saved, shared by 08's test files and started again if a test stopped it.
    Ctrl-C works on it: SIGINT is what the process gets, whatever the test runner ignores."""
    from lesson08 import Server

    env = lesson_env(KERAS_HOME=str(tmp_path_factory.mktemp("keras_home")))
    started = []

    def running():
        if not started or started[-1].process.poll() is not None:
            started.append(Server(lessons_folder, env))
        return started[-1]

    yield running
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.fixture
def server(lesson08):
    """Lesson 08, running: its folder, its port and every line it printed."""
    return lesson08()


@pytest.fixture(scope="module")
def seven():
    """A 7 of the sample drawn on the canvas, as the page sends it."""
    from lesson08 import seven_png

    return seven_png()


def model_cell_stops(lesson, heading, folder, load_model, monkeypatch, **names):
    """A lesson's model cell run in this process, as if the lesson lay in `folder`, with a
    stand-in for TensorFlow whose keras.models.load_model() is `load_model`: the one line it
    stops with (SystemExit). `names`: what earlier cells would have set (args, data_name)."""
    import types

    keras = types.SimpleNamespace(models=types.SimpleNamespace(load_model=load_model))
    tensorflow = types.ModuleType("tensorflow")
    tensorflow.keras = types.ModuleType("tensorflow.keras")
    tensorflow.keras.layers = None
    monkeypatch.setitem(sys.modules, "tensorflow", tensorflow)
    monkeypatch.setitem(sys.modules, "tensorflow.keras", tensorflow.keras)
    namespace = {"__file__": str(folder / lesson), "os": os, "keras": keras, **names}
    with pytest.raises(SystemExit) as stop:
        exec(compile(code_under(lesson, heading), lesson, "exec"), namespace)
    return str(stop.value)


def figures_asked_for(lesson):
    """[(file name, (width, height) in pixels)] of each show(figure, NAME) in a lesson, in
    order, with the figsize its cell gives plt.subplots(); show() saves at 100 dpi."""
    asked = []
    for cell in source(lesson).split("\n# %%"):
        names = re.findall(r'show\(figure, "([\w.]+)"\)', cell)
        if names:
            width, height = re.search(r"figsize=\(([\d.]+), ([\d.]+)\)", cell).groups()
            asked += [
                (name, (round(float(width) * 100), round(float(height) * 100))) for name in names
            ]
    return asked


def python_warnings(stderr):
    """Warnings from Python code in a process's stderr: the warnings module's (UserWarning: ...)
    and the Python loggers' of TensorFlow, Keras and absl (WARNING:tensorflow:...). The C++ lines
    that the TensorFlow wheel prints at import (I0000, W0000, E0000 ...) are not Python's."""
    pattern = r"^(?:.*\b\w*Warning: .*|WARNING:(?:tensorflow|keras|absl|root):.*)$"
    return re.findall(pattern, stderr, flags=re.MULTILINE)


def keras_warnings_aside(stderr):
    """The Python warnings in stderr but one: Keras 3.15's model.save() on numpy 2 warns, in its
    own code, that an __array__ takes no copy keyword. Python hides a DeprecationWarning raised
    outside __main__ from a learner; only the tests' PYTHONWARNINGS=always shows it."""
    keras_own = r"keras/src/backend/tensorflow/core\.py:\d+: DeprecationWarning: __array__ "
    return [line for line in python_warnings(stderr) if not re.search(keras_own, line)]


def picture(png):
    """The pixels of a PNG (a path or a file object), which must be a picture, not a blank: its
    grey levels spread (their standard deviation above 0.05 on a 0..1 scale)."""
    pixels = imread(png)
    assert pixels[..., :3].mean(axis=2).std() > 0.05, f"{png} is nearly blank"
    return pixels


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


def fingerprint(folder):
    """Every file below a folder with its sha256: what a run must leave as it was."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def function_from(lesson, name, **namespace):
    """A function (or class) defined at the top level of a lesson, compiled alone into
    namespace."""
    tree = ast.parse(source(lesson))
    defined = (ast.FunctionDef, ast.ClassDef)
    node = next(n for n in tree.body if isinstance(n, defined) and n.name == name)
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


def png_bomb(width, height):
    """A PNG of width x height transparent black pixels, all zero: the header gives its size,
    and its pixels compress 1,000 to 1. Made fast: 100 rows are compressed once and repeated
    (raw deflate with a full flush, so that each copy stands alone), then checksummed."""
    rows = bytes(1 + 4 * width) * 100  # a filter byte, then RGBA, for each row
    deflate = zlib.compressobj(9, wbits=-15)
    block = deflate.compress(rows) + deflate.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(height // 100):
        checksum = zlib.adler32(rows, checksum)
    pixels = b"\x78\xda" + block * (height // 100) + deflate.flush() + struct.pack(">I", checksum)

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, 100 * (height // 100), 8, 6, 0, 0, 0)  # RGBA
    return PNG + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def many_marks(count, side=1000):
    """A PNG of `count` short dark bars (2x6 pixels, 9 apart) on a white page, side x side
    pixels: no handwriting, and a few KB."""
    page = np.full((side, side), 255, np.uint8)
    per_row = side // 9
    for n in range(count):
        row, column = divmod(n, per_row)
        page[5 + 9 * row : 11 + 9 * row, 3 + 9 * column : 5 + 9 * column] = 0
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def png_full_of_text(chunks=63, inflated=1_000_000):
    """A 280x280 black PNG whose header is followed by `chunks` compressed text chunks (zTXt),
    each inflating to `inflated` bytes: 64 KB that would take 63 MB to read."""
    buffer = io.BytesIO()
    Image.new("L", (280, 280)).save(buffer, "PNG")
    png = buffer.getvalue()
    text = b"Comment\0\0" + zlib.compress(b"a" * inflated, 9)
    chunk = (
        struct.pack(">I", len(text))
        + b"zTXt"
        + text
        + struct.pack(">I", zlib.crc32(b"zTXt" + text))
    )
    header_end = len(PNG) + 25  # the signature, then the IHDR chunk
    return png[:header_end] + chunk * chunks + png[header_end:]


# The files whose tests take longest, first: xdist hands out whole files in collection order,
# two to each worker at the start, so that the slow ones overlap and the quick ones fill in.
SLOWEST_FIRST = [
    "test_own_digits.py",
    "test_draw_a_digit.py",
    "test_page_server.py",
    "test_teach.py",
    "test_lessons.py",
    "test_exercises.py",
    "test_data.py",
    "test_benchmark.py",
    "test_notebooks.py",
    "test_handwriting.py",
    "test_check_setup.py",
]


# 08's page and its server are tested on one running lesson, beside the model 07's first run
# saved: the three files go to one worker.
LESSONS_07_08 = ("test_own_digits.py", "test_draw_a_digit.py", "test_page_server.py")
LESSONS_07_08 += ("test_teach.py",)  # 09 learns beside that model too


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # a stable sort: each file's tests keep their order
    for item in items:  # a worker for each file, as --dist loadfile would, but 07's and 08's share
        group = "lessons 07 to 09" if item.path.name in LESSONS_07_08 else item.path.name
        item.add_marker(pytest.mark.xdist_group(group))

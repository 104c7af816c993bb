"""Checks on the lesson files themselves: one short setup read in one pass, the video's lines
verbatim, standalone files, few flags that answer before TensorFlow loads."""

import ast
import re
from pathlib import Path

import pytest
from conftest import (
    CHECK,
    LESSONS,
    MODULES,
    OWN_FLAGS,
    ROOT,
    SETUP_END,
    code_lines,
    lesson_env,
    run,
    setup_of,
    setup_statements,
    source,
    tensorflow_lines,
)

TRAINING_LESSONS = ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"]


def test_every_lesson_is_covered():
    assert LESSONS == [
        "01_load_mnist.py",
        "02_sequential_model.py",
        "03_sequential_add.py",
        "04_functional_model.py",
        "05_extract_layer_outputs.py",
        "06_exercises.py",
        "07_your_own_digits.py",
        "08_draw_a_digit.py",
        "09_teach_your_handwriting.py",
    ]


def test_setup_is_identical_in_every_lesson():
    """06, 07 and 08 add a line for each flag or argument of their own; apart from those, the
    setups are the same, byte for byte."""
    reference = setup_of(LESSONS[0])
    for lesson in LESSONS[1:]:
        lines = setup_of(lesson).splitlines(keepends=True)
        own = [line for line in lines if line.startswith(OWN_FLAGS.get(lesson, ("\0",)))]
        assert len(own) == len(OWN_FLAGS.get(lesson, ())), lesson
        assert "".join(line for line in lines if line not in own) == reference, lesson


@pytest.mark.parametrize("lesson", LESSONS)
def test_setup_is_at_most_52_lines_of_code(lesson):
    """From the top of the file to the line that scales x_test; 06 may add 3 for its flag, 07
    2 for its flag and images, 08 3 for its three flags, 09 4 for its flag, its check and its
    examples."""
    text = source(lesson)
    top = text[: text.index(SETUP_END) + len(SETUP_END)]
    lines = code_lines(top)
    assert lines[0] == "import argparse" and lines[-1] == SETUP_END
    most = {"06_exercises.py": 55, "07_your_own_digits.py": 54, "08_draw_a_digit.py": 55}
    most["09_teach_your_handwriting.py"] = 56
    most = most.get(lesson, 52)
    assert len(lines) <= most, f"{lesson}: {len(lines)}"


VIDEO_LINES = [
    'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"',
    "import tensorflow as tf",
    "from tensorflow import keras",
    "(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()",
    'x_train = x_train.reshape(-1, 28 * 28).astype("float32") / 255.0',
    'x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0',
]


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_videos_setup_lines_stand_verbatim_on_lines_of_their_own(lesson):
    lines = [line.strip() for line in source(lesson).splitlines()]
    for video_line in VIDEO_LINES:
        assert lines.count(video_line) == 1, f"{lesson}: {video_line}"


@pytest.mark.parametrize("lesson", TRAINING_LESSONS)
def test_the_videos_training_lines_stand_verbatim(lesson):
    """Batch size 32, 5 epochs and the evaluation, as the video writes them; Adam at 0.001 with
    Keras 3's learning_rate=."""
    lines = [line.strip() for line in source(lesson).splitlines()]
    assert "model.fit(x_train, y_train, batch_size=32, epochs=5, verbose=2)" in [
        line.removeprefix("history = ") for line in lines
    ]
    assert "model.evaluate(x_test, y_test, batch_size=32, verbose=2)" in [
        line.removeprefix("test_loss, test_accuracy = ") for line in lines
    ]
    assert any(
        line.startswith("optimizer=keras.optimizers.Adam(learning_rate=0.001),") for line in lines
    )
    assert "from tensorflow.keras import layers" in lines


@pytest.mark.parametrize("lesson", [CHECK, *LESSONS])
def test_control_flow_is_plain_statements(lesson):
    """No `a or f()` used as a statement, and no conditional expression that runs something
    (a call in either branch): those decide what runs, and belong in an if."""
    for node in ast.walk(ast.parse(source(lesson))):
        if isinstance(node, ast.Expr):
            assert not isinstance(node.value, ast.BoolOp), f"{lesson}: {ast.unparse(node)}"
        if isinstance(node, ast.IfExp):
            calls = [
                n
                for branch in (node.body, node.orelse)
                for n in ast.walk(branch)
                if isinstance(n, ast.Call)
            ]
            assert not calls, f"{lesson}: {ast.unparse(node)}"


@pytest.mark.parametrize("lesson", [CHECK, *LESSONS])
def test_the_notebook_check_is_named_once(lesson):
    text = source(lesson)
    assert text.count('"get_ipython" in globals()') == 1
    assert text.count("in_notebook = ") == 1


def test_setup_follows_the_videos_order():
    """Flags first, so that --help answers at once; then quiet logs before TensorFlow loads,
    GPU memory growth, the seed, MNIST, then flatten and scale."""
    setup = setup_of(LESSONS[0])
    steps = [
        "args, unknown = parser.parse_known_args(",
        'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"',
        "import tensorflow as tf",
        "tf.config.experimental.set_memory_growth(gpu, True)",
        "keras.utils.set_random_seed(42)",
        "tf.keras.datasets.mnist.load_data()",
        "x_train = x_train.reshape(-1, 28 * 28)",
        "x_test = x_test.reshape(-1, 28 * 28)",
    ]
    positions = [setup.index(step) for step in steps]
    assert positions == sorted(positions)


@pytest.mark.parametrize("lesson", LESSONS)
def test_tensorflow_is_imported_only_after_the_flags_and_the_log_level(lesson):
    tree = ast.parse(source(lesson))
    parsed_at = min(n.lineno for n in tree.body if "parser.parse_known_args(" in ast.unparse(n))
    log_level_at = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and "TF_CPP_MIN_LOG_LEVEL" in ast.unparse(n)
    ]
    tf_imports = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        and any(name.split(".")[0] in ("tensorflow", "keras") for name in imported(n))
    ]
    assert len(log_level_at) == 1 and tf_imports
    assert parsed_at < log_level_at[0] < min(tf_imports)


def imported(node):
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert node.level == 0, "relative import"
    return [node.module]


@pytest.mark.parametrize("lesson", [CHECK, *LESSONS])
def test_lesson_imports_nothing_from_this_repo_but_the_modules_beside_it(lesson):
    """00-06 stand alone; from 07 on, a lesson imports the modules beside it, copied with it."""
    ours = {p.stem for p in ROOT.glob("*.py")} | {p.name for p in ROOT.iterdir() if p.is_dir()}
    allowed = {Path(module).stem for module in MODULES} if lesson >= "07" else set()
    for node in ast.walk(ast.parse(source(lesson))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in imported(node):
                assert name.split(".")[0] not in ours - allowed, f"{lesson} imports {name}"


@pytest.mark.parametrize("module", MODULES)
def test_the_modules_import_no_tensorflow_and_nothing_of_this_repo(module):
    """handwriting.py works with any MNIST model, and page_server.py with any reader: neither
    imports TensorFlow, nor a lesson."""
    ours = {p.stem for p in ROOT.glob("*.py")} - {"handwriting"}
    for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in imported(node):
                assert name.split(".")[0] not in ours | {"tensorflow", "keras"}, name


def parser_of(lesson):
    """The lesson's argparse parser, built from the setup's statements up to parse_args."""
    statements = []
    for node in setup_statements(lesson):
        if "parser.parse_known_args(" in ast.unparse(node):
            break
        statements.append(node)
    namespace = {"__file__": str(ROOT / lesson), "__doc__": lesson}
    exec(compile(ast.Module(body=statements, type_ignores=[]), lesson, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("lesson", LESSONS)
def test_flags_are_few_and_the_defaults_are_the_videos(lesson, monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    namespace = parser_of(lesson)
    parser = namespace["parser"]
    flags = {s for action in parser._actions for s in action.option_strings} - {"-h", "--help"}
    own = {
        "06_exercises.py": {"--exercise"},
        "07_your_own_digits.py": {"--model"},
        "08_draw_a_digit.py": {"--port", "--no-browser", "--model"},
        "09_teach_your_handwriting.py": {"--hold-back"},
    }
    own = own.get(lesson, set())
    assert flags == {"--quick", "--data"} | own
    args = parser.parse_args([])
    # Without flags: not quick, and the file is Keras's own cache, where load_data() downloads.
    assert args.quick is False and args.data == str(tmp_path / "datasets" / "mnist.npz")
    assert args.data == namespace["cached_file"]
    monkeypatch.setenv("MNIST_NPZ", "mine.npz")
    assert parser_of(lesson)["parser"].parse_args([]).data == "mine.npz"
    assert parser_of(lesson)["parser"].parse_args(["--data", "flag.npz"]).data == "flag.npz"


@pytest.mark.parametrize(
    "flags, complaint",
    [
        (
            ["--no-such-flag"],
            "unrecognized arguments: --no-such-flag (epochs=5 etc. are in the code)",
        ),
        (["--data"], "argument --data: expected one argument"),
        (["--epochs", "3"], "unrecognized arguments: --epochs 3 (epochs=5 etc. are in the code)"),
        (["--data", "nowhere.npz"], "not a file: nowhere.npz (named by --data or MNIST_NPZ)"),
        (["--data", "tests"], "not a file: tests (named by --data or MNIST_NPZ)"),
    ],
)
def test_a_bad_flag_answers_with_argparse_alone(flags, complaint):
    """Before TensorFlow is imported: one usage line, one error line, nothing from TensorFlow."""
    result = run(ROOT / "02_sequential_model.py", *flags, env=lesson_env())
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "usage: 02_sequential_model.py [-h] [--quick] [--data FILE]",
        f"02_sequential_model.py: error: {complaint}",
    ]


def test_help_answers_before_tensorflow_loads():
    result = run(ROOT / "06_exercises.py", "--help", env=lesson_env())
    assert result.returncode == 0 and result.stderr == ""
    assert tensorflow_lines(result.stderr) == []
    out = result.stdout
    assert out.startswith(
        "usage: 06_exercises.py [-h] [--quick] [--data FILE] [--exercise {1,2,3}]\n"
    )
    # The lesson's docstring is the description, and it names MNIST_NPZ and how to run it.
    assert out.split("\n\n")[1].startswith("Lesson 06:") and "MNIST_NPZ" in out
    assert "python 06_exercises.py --quick" in out
    # Where the video's values are changed, since no flag changes them.
    assert "epochs=5, batch_size=32 and learning_rate=0.001" in " ".join(out.split())


def test_exercise_flag_refuses_other_values():
    result = run(ROOT / "06_exercises.py", "--exercise", "4", env=lesson_env())
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        "argument --exercise: invalid choice: 4 (choose from 1, 2, 3)"
    )


@pytest.mark.parametrize("readme, name", [("README.md", "Flags"), ("README.zh-CN.md", "参数")])
def test_readme_flag_line_lists_exactly_the_flags(readme, name):
    text = (ROOT / readme).read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith(f"- **{name}"))
    documented = re.findall(r"`(--[a-z-]+)", line)
    flags = set()
    for lesson in LESSONS:
        parser = parser_of(lesson)["parser"]
        flags |= {
            s for action in parser._actions for s in action.option_strings if s.startswith("--")
        }
    assert set(documented) - {"--epochs"} == flags - {"--help"}  # "no --epochs" is said too


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest   " in readme and re.search(r"^python -m pytest$", ci, flags=re.M)
    assert "-r requirements-dev.txt" in ci


def test_code_lines_counts_only_code():
    text = '"""A docstring\n\nover lines."""\n\n# a comment\n# %% [markdown]\n# ## Heading\n\n'
    text += "x = 1  # why\ny = (\n    2\n)\n"
    assert code_lines(text) == ["x = 1  # why", "y = (", "    2", ")"]


PICTURES = "# %% [markdown]\n# ## Pictures / 画图\n"


def pictures_cell(lesson):
    """The shared cell that sets up matplotlib and show(), from its heading to the next cell."""
    text = source(lesson)
    start = text.index(PICTURES)
    end = text.index("\n# %%", text.index("\n# %%\n", start) + 1)
    return text[start:end]


def test_every_lesson_that_draws_shares_one_pictures_cell():
    drawing = [lesson for lesson in LESSONS if 'show(figure, "' in source(lesson)]
    # 03 is 02 built another way; 08 shows its page, not a figure.
    assert drawing == [
        lesson for lesson in LESSONS if lesson not in ("03_sequential_add.py", "08_draw_a_digit.py")
    ]
    assert PICTURES not in source("03_sequential_add.py")
    reference = pictures_cell(drawing[0])
    for lesson in drawing:
        assert source(lesson).count(PICTURES) == 1 and pictures_cell(lesson) == reference
        # Every figure comes after the cell that defines show().
        assert source(lesson).index("def show(") < source(lesson).index('show(figure, "')
    # A script draws with Agg, into files: it never opens a window to wait for.
    assert 'if not in_notebook:\n    matplotlib.use("Agg")' in reference
    assert "import matplotlib.pyplot as plt" in reference.split('matplotlib.use("Agg")')[1]

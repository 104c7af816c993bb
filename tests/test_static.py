"""Checks on the lesson files themselves: the short shared setup, standalone files, the flags, the video's values."""

import argparse
import ast
import re

import pytest
from conftest import LESSONS, OWN_FLAG, ROOT, code_lines, run, setup_of, source


def test_setup_is_identical_in_every_lesson():
    """06 adds one line, its own --exercise flag; apart from it every lesson has the same setup, byte for byte."""
    reference = setup_of(LESSONS[0])
    for lesson in LESSONS[1:]:
        lines = setup_of(lesson).splitlines(keepends=True)
        own = [line for line in lines if line.startswith(OWN_FLAG)]
        assert len(own) == (lesson == "06_exercises.py"), lesson
        assert "".join(line for line in lines if line not in own) == reference, f"{lesson}'s setup differs"


@pytest.mark.parametrize("lesson", LESSONS)
def test_setup_is_short(lesson):
    """At most 35 lines of code from the top of the file to the line that scales x_test (38 in 06, for its flag)."""
    text = source(lesson)
    top = text[: text.index(setup_of(lesson)) + len(setup_of(lesson))]
    lines = code_lines(top)
    assert (
        lines[0] == "import argparse" and lines[-1] == 'x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0'
    )
    assert len(lines) <= (38 if lesson == "06_exercises.py" else 35), f"{lesson}: {len(lines)} lines of setup"


def test_the_model_of_02_starts_early():
    lines = source("02_sequential_model.py").splitlines()
    first = next(number for number, line in enumerate(lines, start=1) if line.startswith("model = "))
    assert first < 70


def test_setup_follows_the_videos_order():
    """Quiet logs before TensorFlow loads, then GPU memory growth, the seed, the flags, MNIST, flatten and scale."""
    setup = setup_of(LESSONS[0])
    steps = [
        'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"',
        "import tensorflow as tf",
        "tf.config.experimental.set_memory_growth(gpu, True)",
        "keras.utils.set_random_seed(42)",
        "args = parser.parse_args(",
        "keras.datasets.mnist.load_data()",
        "x_train = x_train.reshape(-1, 28 * 28)",
        "x_test = x_test.reshape(-1, 28 * 28)",
    ]
    positions = [setup.index(step) for step in steps]
    assert positions == sorted(positions)


@pytest.mark.parametrize("lesson", LESSONS)
def test_log_level_is_set_before_tensorflow_is_imported(lesson):
    tree = ast.parse(source(lesson))
    set_at = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and "TF_CPP_MIN_LOG_LEVEL" in ast.unparse(node.targets[0])
    ]
    tf_imports = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] in ("tensorflow", "keras") for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("tensorflow", "keras"))
    ]
    assert len(set_at) == 1 and tf_imports
    assert set_at[0] < min(tf_imports)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_imports_nothing_from_this_repo(lesson):
    ours = {p.stem for p in ROOT.glob("*.py")} | {p.name for p in ROOT.iterdir() if p.is_dir()}
    for node in ast.walk(ast.parse(source(lesson))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{lesson}: relative import"
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in ours, f"{lesson} imports {name} from this repo"


def parser_of(lesson):
    """The lesson's own argparse parser, built from its `parser = ...` and `parser.add_argument(...)` lines alone."""
    statements = [
        node
        for node in ast.parse(source(lesson)).body
        if ast.unparse(node).startswith(("parser = argparse.ArgumentParser(", "parser.add_argument("))
    ]
    namespace = {"argparse": argparse, "__doc__": lesson}
    exec(compile(ast.Module(body=statements, type_ignores=[]), lesson, "exec"), namespace)
    return namespace["parser"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_flags_are_few_and_default_to_the_video(lesson):
    parser = parser_of(lesson)
    flags = {s for action in parser._actions for s in action.option_strings if s.startswith("--")} - {"--help"}
    assert flags == {"--epochs", "--quick", "--data"} | ({"--exercise"} if lesson == "06_exercises.py" else set())
    args = parser.parse_args([])
    assert (args.epochs, args.quick, args.data) == (5, False, None)


@pytest.mark.parametrize("lesson", ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"])
def test_the_videos_values_stand_in_the_code(lesson):
    """Batch size 32 and Adam at 0.001 are written where the video writes them; --epochs defaults to its 5."""
    text = source(lesson)
    assert "optimizer=keras.optimizers.Adam(learning_rate=0.001)," in text
    assert "model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=2)" in text
    assert "model.evaluate(x_test, y_test, batch_size=32, verbose=2)" in text


@pytest.mark.parametrize(
    "flags, complaint",
    [
        (["--epochs", "0"], "argument --epochs: must be 1 or more"),
        (["--epochs", "-3"], "argument --epochs: must be 1 or more"),
        (["--epochs", "3.5"], "argument --epochs: invalid int value: '3.5'"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_flag_value_gives_one_clear_message(flags, complaint):
    result = run(ROOT / "02_sequential_model.py", *flags)
    assert result.returncode == 2
    assert result.stdout == ""
    # TensorFlow's C++ start-up lines may come first; then argparse's usage line and its one-line error.
    usage, error = result.stderr.rstrip().splitlines()[-2:]
    assert usage.startswith("usage: 02_sequential_model.py [-h] [--epochs N] [--quick] [--data FILE]")
    assert error == f"02_sequential_model.py: error: {complaint}"
    assert "Traceback" not in result.stderr


def test_readme_flag_table_lists_exactly_the_flags():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Flags")[1].split("\n## ")[0]
    documented = re.findall(r"^\| `(--[a-z-]+)", table, flags=re.MULTILINE)
    flags = set()
    for lesson in LESSONS:
        flags |= {s for action in parser_of(lesson)._actions for s in action.option_strings if s.startswith("--")}
    assert sorted(documented) == sorted(flags - {"--help"})


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest   " in readme and re.search(r"^python -m pytest$", ci, flags=re.MULTILINE)
    assert "-r requirements-dev.txt" in ci


def test_code_lines_counts_only_code():
    text = '"""A docstring\n\nover lines."""\n\n# a comment\n# %% [markdown]\n# ## Heading\n\n'
    text += "x = 1  # why\ny = (\n    2\n)\n"
    assert code_lines(text) == ["x = 1  # why", "y = (", "    2", ")"]

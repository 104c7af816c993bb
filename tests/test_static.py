"""Checks on the lesson files themselves: standalone, the shared preamble, the flags' defaults."""

import argparse
import ast
import re

import pytest
from conftest import LESSONS, ROOT, run

START = "# ---- Preamble: the same in every lesson, so that each file runs on its own ----"
OWN_FLAGS = "# ---- This lesson's own flags"
CONTINUED = "# ---- Preamble, continued ----"
END = "# ---- End of preamble ----"


def source(lesson):
    return (ROOT / lesson).read_text(encoding="utf-8")


def preamble(lesson):
    """The two shared parts of the preamble; only the lesson's own flags may stand between them."""
    text = source(lesson)
    for marker in (START, OWN_FLAGS, CONTINUED, END):
        assert text.count(marker) == 1, f"{lesson}: marker {marker!r} must appear once"
    first = text[text.index(START) : text.index(OWN_FLAGS)]
    second = text[text.index(CONTINUED) : text.index(END) + len(END)]
    return first, second


def test_preamble_is_identical_in_every_lesson():
    reference = preamble(LESSONS[0])
    for lesson in LESSONS[1:]:
        assert preamble(lesson) == reference, f"{lesson}'s preamble differs from {LESSONS[0]}'s"


def test_only_flag_definitions_stand_between_the_two_parts():
    for lesson in LESSONS:
        text = source(lesson)
        between = text[text.index(OWN_FLAGS) : text.index(CONTINUED)].splitlines()[1:]
        code = "\n".join(line for line in between if line.strip() and not line.lstrip().startswith("#"))
        for statement in ast.parse(code).body:
            call = statement.value
            assert isinstance(call, ast.Call) and ast.unparse(call.func) == "parser.add_argument", lesson


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
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "tensorflow" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("tensorflow", "keras"))
    ]
    assert len(set_at) == 1 and tf_imports
    assert set_at[0] < min(tf_imports)
    assert 'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"' in source(lesson)


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


def test_flag_defaults_are_the_videos_values():
    """Run the shared flag definitions and parse no arguments: the defaults must be the video's."""
    first, _ = preamble(LESSONS[0])
    namespace = {"__doc__": "test"}
    exec(compile(first, "preamble", "exec"), namespace)
    parser = namespace["parser"]
    assert isinstance(parser, argparse.ArgumentParser)
    args = parser.parse_args([])
    assert (args.epochs, args.batch_size, args.learning_rate) == (5, 32, 0.001)
    assert not args.sample and not args.quick and args.data is None


@pytest.mark.parametrize(
    "flags, complaint",
    [
        (["--epochs", "0"], "argument --epochs: '0' is not a whole number of 1 or more"),
        (["--batch-size", "3.5"], "argument --batch-size: '3.5' is not a whole number of 1 or more"),
        (["--learning-rate", "-1"], "argument --learning-rate: '-1' is not a number above 0"),
        (["--timeout", "nan"], "argument --timeout: 'nan' is not a number above 0"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_flag_value_gives_one_clear_message(flags, complaint):
    result = run(ROOT / "02_sequential_model.py", *flags)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: 02_sequential_model.py")
    assert result.stderr.rstrip().endswith(complaint)
    assert "Traceback" not in result.stderr


def test_readme_flag_table_lists_exactly_the_flags():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Flags")[1].split("\n## ")[0]
    documented = re.findall(r"^\| `(--[a-z-]+)", table, flags=re.MULTILINE)
    flags = set()
    for lesson in LESSONS:
        first, _ = preamble(lesson)
        own = source(lesson).split(OWN_FLAGS)[1].split(CONTINUED)[0]
        namespace = {"__doc__": lesson}
        exec(compile(first + own.split("\n", 1)[1], lesson, "exec"), namespace)
        flags |= {s for action in namespace["parser"]._actions for s in action.option_strings if s.startswith("--")}
    assert sorted(documented) == sorted(flags - {"--help"})


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest   " in readme and re.search(r"^python -m pytest$", ci, flags=re.MULTILINE)
    assert "-r requirements-dev.txt" in ci

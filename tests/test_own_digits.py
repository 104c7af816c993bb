"""Lesson 07, run twice as a learner runs it: once to train and save, once to load and read new
photos, bad files and a hostile folder. The photos are made here from the sample's MNIST test
digits (ink on paper, uneven light, thin and thick pens, a sheet). Then handwriting.py's
docstring example, run from a copy of the module alone."""

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import types

import make_own_digits
import numpy as np
import pytest
from conftest import (
    ROOT,
    SAMPLE,
    code_under,
    fingerprint,
    keras_warnings_aside,
    lesson_env,
    many_marks,
    model_cell_stops,
    picture,
    png_bomb,
    run,
)
from PIL import Image

import handwriting

LESSON = "07_your_own_digits.py"
ONE_DIGIT, A_PAGE = "One digit: a photo becomes the model's input", "A page: its digits"


@pytest.fixture(scope="module")
def digits():
    """The sample's test digits by label: digits[7] is a list of 28x28 images of sevens."""
    with np.load(SAMPLE) as f:
        images, labels = f["x_test"], f["y_test"]
    return {d: list(images[labels == d]) for d in range(10)}


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# The lesson, run as a learner runs it.


def saved(out):
    return re.findall(r"^Figure saved: (.*)$", out, flags=re.MULTILINE)


def test_first_run_trains_saves_and_reads_the_bundled_examples(first_run, lessons_folder):
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    out = first_run.stdout
    model_file = lessons_folder / "models" / "mnist_dense_sample.keras"
    assert f"Saved {model_file}, trained on Bundled sample (4000 training images)" in out
    assert model_file.is_file() and (model_file.parent / "mnist_dense_sample.weights.h5").is_file()
    assert re.findall(r"^(?:load_model|load_weights)\(.*: (\w+)$", out, re.M) == ["True", "True"]
    examples = lessons_folder / "data" / "own_digits"
    names = sorted(os.listdir(examples))
    reads = re.findall(r"^Read (.*): ([\d ]+)$", out, re.M)
    assert [path for path, _ in reads] == [str(examples / name) for name in names]
    sheet = dict(reads)[str(examples / "31415_92653.jpg")]
    assert len(sheet) == 11 and sheet[5] == " "  # two rows of five, in reading order
    assert sum(a == b for a, b in zip(sheet, "31415 92653")) >= 9
    # Each digit's details: its probability and the next two guesses, or, not sure, both
    # candidates, the first below SURE.
    sure = float(re.search(r"^SURE = ([0-9.]+)", code_under(LESSON, "A photo needs more"), re.M)[1])
    details = re.findall(
        r"^  digit \d+: (?:(\d) \(([0-9.]+)\); next (\d) \(([0-9.]+)\), \d \([0-9.]+\)|"
        r"not sure: (\d) \(([0-9.]+)\) or (\d) \(([0-9.]+)\))$",
        out,
        re.M,
    )
    assert len(details) == 5 + 10
    for first, p, second, q, unsure, p_unsure, other, q_other in details:
        if unsure:
            assert float(p_unsure) < sure and float(p_unsure) >= float(q_other) and unsure != other
        else:
            assert float(p) >= sure - 0.005 and float(p) >= float(q) and first != second
    assert keras_warnings_aside(first_run.stderr) == [] and "Traceback" not in first_run.stderr


def test_it_says_what_to_expect(first_run):
    out = first_run.stdout
    # On the sample it says what to expect there, and on full MNIST, as its page shows.
    sample, full = re.search(
        r"^Expected: about ([0-9.]+) .*; ([0-9.]+) on full MNIST", out, re.M
    ).groups()
    page = (ROOT / "docs" / "07_your_own_digits.md").read_text(encoding="utf-8")
    assert float(full) == float(re.search(r"^Test accuracy: ([0-9.]+)$", page, re.M).group(1))
    evaluate = float(re.search(r"^Test accuracy: ([0-9.]+)$", out, re.M).group(1))
    assert abs(evaluate - float(sample)) <= 0.01


def figure_names(out, folder):
    """The names of the figures a run saved, each in `folder`."""
    paths = saved(out)
    assert all(os.path.dirname(path) == str(folder) for path in paths), paths
    return [os.path.basename(path) for path in paths]


def test_first_run_draws_the_recipe_and_every_step_of_every_image(first_run, lessons_folder):
    names = figure_names(first_run.stdout, lessons_folder / "figures")
    images = len(os.listdir(lessons_folder / "data" / "own_digits"))
    # The sample's model reads every bundled example right: no misread digit to draw.
    assert names == ["07_recipe.png"] + [
        f"07_steps_{n:02}_digit_1.png" for n in range(1, images + 1)
    ]
    for name in names:
        picture(lessons_folder / "figures" / name)
    recipe = re.search(r"own_digits/7\.png: read (\d) \(([0-9.]+)\)$", first_run.stdout, re.M)
    assert recipe.group(1) == "7"


@pytest.fixture(scope="module")
def photos(tmp_path_factory, digits):
    """A learner's folder of 20 photos named by their digit, and a sheet, made from the
    sample's test digits: dark or coloured ink, uneven light, off-centre, small and large,
    thin and thick pens, JPEG and PNG."""
    folder = tmp_path_factory.mktemp("my photos")
    make = make_own_digits
    rng = np.random.default_rng(7)
    inks = [(20, 20, 30), (30, 50, 150), (150, 30, 30), (70, 70, 70)]
    for n in range(20):
        label = n % 10
        height = int(rng.integers(80, 400))
        size = (int(height * rng.uniform(1.8, 3)), int(height * rng.uniform(1.8, 2.5)))
        photo = make.photo_of(
            [[digits[label][n // 10 + 5]]],
            seed=n,
            height=height,
            pen=["thin", "thick"][n % 2],
            ink=inks[n % 4],
            paper=int(rng.integers(170, 245)),
            shade=float(rng.uniform(0, 0.5)),
            size=size,
            fmt=["JPEG", "PNG"][n // 10],
        )
        (folder / f"{label}-{n:02}.{['jpg', 'png'][n // 10]}").write_bytes(photo)
    rows = [[digits[d][10] for d in (2, 7, 1, 8)], [digits[d][11] for d in (2, 8, 1, 8)]]
    (folder / "2718_2818.jpg").write_bytes(make.photo_of(rows, seed=99, height=140))
    # A sheet named for other digits than it holds: its digits that differ are "misread".
    (folder / "2718_2811.jpg").write_bytes(make.photo_of(rows, seed=98, height=140))
    return folder


def bad_files(folder):
    """Each kind of file that is not a readable digit, named by what it is."""
    page = Image.fromarray(np.full((400, 300), 235, np.uint8))
    ink = Image.fromarray(np.full((400, 300), 12, np.uint8))
    files = {
        "notes.png": b"these are my notes, not a picture",
        "truncated.jpg": encoded(
            Image.open(SAMPLE.parent / "own_digits" / "9-sideways.jpg"), "JPEG"
        )[:4000],
        "blank.png": encoded(page, "PNG"),
        "all-ink.png": encoded(ink, "PNG"),
        "dot.png": encoded(Image.new("L", (1, 1)), "PNG"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "empty folder").mkdir()
    return [folder / name for name in [*files, "empty folder", "missing.jpg"]]


def odd_folder(folder):
    """A folder as a hostile one may be: a FIFO named like a photo, a PNG bomb, and two photos
    with names that would forge a line or fail to print. {name: what 07 must say of it}."""
    seven = (SAMPLE.parent / "own_digits" / "7.png").read_bytes()
    odd_names = {b"1\nRead FAKE.png: 9999.png": "7", b"\xff\xfe-seven.png": "7"}
    for name in odd_names:
        (folder / os.fsdecode(name)).write_bytes(seven)
    (folder / "bomb.png").write_bytes(png_bomb(13000, 13000))  # 641 KB, 676 MB decoded
    os.mkfifo(folder / "pipe.png")  # opening it to read would wait for ever
    return {
        repr(os.fsencode(folder / os.fsdecode(name)))[2:-1]: digit
        for name, digit in odd_names.items()
    } | {str(folder / "bomb.png"): "too large: 169 megapixels", str(folder / "pipe.png"): "pipe"}


DEEPEST = handwriting.DEEPEST


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A folder with a tree 1,000 folders deep (a 7 at depth 50, another at the bottom), a link
    that leads to itself, a float TIFF holding NaN and a picture of 11,715 marks.
    {file: what 07 must say of it}, and the 7 it must read."""
    folder = tmp_path_factory.mktemp("hostile tree")
    seven = (SAMPLE.parent / "own_digits" / "7.png").read_bytes()
    deep = folder / "deep"
    deep.mkdir()
    for depth in range(1, 1001):
        deep = deep / "d"
        deep.mkdir()  # one at a time: os.makedirs() recurses too
        if depth in (50, 1000):
            (deep / "seven.png").write_bytes(seven)  # no label: not counted
    readable = folder / "deep" / os.path.join(*["d"] * 50) / "seven.png"
    (folder / "loop.png").symlink_to("loop.png")
    levels = np.full((60, 60), 200, np.float32)
    levels[5, 5] = np.nan
    (folder / "nan.tiff").write_bytes(encoded(Image.fromarray(levels, "F"), "TIFF"))
    (folder / "marks.png").write_bytes(many_marks(11715))
    said = {
        str(folder / "loop.png"): "a link that leads back to itself",
        str(folder / "nan.tiff"): "the image holds values that are not numbers",
        str(folder / "marks.png"): "too many marks (11,715): not a page of digits",
    }
    yield folder, said, readable
    for depth in range(1000, 0, -1):  # by hand: shutil.rmtree() recurses as os.walk() does
        inside = folder / "deep" / os.path.join(*["d"] * depth)
        for file in inside.glob("*.png"):
            file.unlink()
        inside.rmdir()


def run_with_peak(*args, env):
    """run() of this Python, and the process's own peak memory in MB (from wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, *map(str, args)], cwd=ROOT, env=env, stdout=out, stderr=err
        )
        timer = threading.Timer(300, process.kill)  # never a hang
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode("utf-8"), err.read().decode("utf-8")
    result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
    return result, usage.ru_maxrss / 1024


@pytest.fixture(scope="module")
def second_run(first_run, lessons_folder, photos, tree, tmp_path_factory):
    """The learner's own photos, bad files and a hostile folder, read by the model the first
    run saved: (the run, the bad files, the odd folder's files, the fingerprints before and
    after, its peak memory in MB)."""
    bad = bad_files(tmp_path_factory.mktemp("bad files"))
    odd = tmp_path_factory.mktemp("odd folder")
    odd_files = odd_folder(odd)
    before = fingerprint(photos), fingerprint(bad[0].parent), fingerprint(odd)
    env = lesson_env(KERAS_HOME=str(tmp_path_factory.mktemp("keras_home")))
    lesson = lessons_folder / LESSON
    result, peak = run_with_peak(lesson, "--quick", odd, photos, *bad, tree[0], env=env)
    after = fingerprint(photos), fingerprint(bad[0].parent), fingerprint(odd)
    return result, bad, odd_files, before, after, peak


def test_second_run_loads_the_saved_model(second_run, lessons_folder):
    result = second_run[0]
    model_file = lessons_folder / "models" / "mnist_dense_sample.keras"
    assert f"Loaded {model_file}, trained on Bundled sample by an earlier run" in result.stdout
    assert "Saved " not in result.stdout and "Epoch 1/5" not in result.stdout


def test_prepared_photos_read_right_far_more_often_than_resized_ones(second_run, photos):
    out = second_run[0].stdout
    naive = re.search(r"^Naive resize to 28x28: (\d+) of (\d+)", out, re.M).groups()
    prepared = re.search(r"^Prepared the MNIST way: (\d+) of (\d+)", out, re.M).groups()
    assert naive[1] == prepared[1] == "20"  # the sheets are counted on their own lines
    # A model of the 4,000 sample images (0.93 on MNIST's test digits): 16 and 1 here.
    assert int(prepared[0]) >= 15 and int(naive[0]) <= 5
    # Each line agrees with the reads above it.
    reads = dict(re.findall(r"^Read (.*): ([\d ]+)$", out, re.M))
    right = sum(reads[str(p)] == p.name[0] for p in photos.iterdir() if "_" not in p.name)
    assert right == int(prepared[0])
    sheet = reads[str(photos / "2718_2818.jpg")]
    assert sheet.count(" ") == 1 and len(sheet) == 9
    assert sum(a == b for a, b in zip(sheet, "2718 2818")) >= 7


def test_each_bad_input_gets_one_line_and_the_others_are_read(second_run, photos, tree):
    result, bad, odd_files, before, after, _ = second_run
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1]
        == "13 of the images could not be read: see the lines above"
    )
    problems = dict(re.findall(r"^Cannot read (.*?): (.*)$", result.stdout, re.M))
    hostile = tree[1]
    deep = str(tree[0])
    assert sorted(problems) == sorted([*map(str, bad), *list(odd_files)[2:], *hostile, deep])
    expected = {
        "notes.png": "not an image",
        "truncated.jpg": "truncated",
        "blank.png": "single shade",
        "all-ink.png": "single shade",
        "dot.png": "1x1 pixels",
        "empty folder": "no images",
        "missing.jpg": "no such file",
    }
    for path in bad:
        assert expected[path.name] in problems[str(path)], path.name
    assert len(re.findall(r"^Read ", result.stdout, re.M)) == 22 + 2 + 1
    # The learner's files are only read: the same files, byte for byte, and nothing beside them.
    assert before == after


def test_a_hostile_folder_gets_one_line_a_file_and_no_hang(second_run):
    """A FIFO, a PNG bomb, a name with a newline and one that is not UTF-8: each one line, the
    names quoted and escaped as ls shows them, no forged line, and the bomb never decoded."""
    result, _, odd_files, _, _, peak = second_run
    lines = result.stdout.splitlines()
    for name, said in odd_files.items():
        line = next(line for line in lines if name in line)
        assert line.endswith(said) or said in line.split(": ", 1)[1], line
    newline, not_utf8 = list(odd_files)[:2]
    assert f"Read '{newline}': 7" in lines and f"Read '{not_utf8}': 7" in lines
    assert not any(line.startswith("Read FAKE.png") for line in lines)
    assert "Traceback" not in result.stderr
    assert peak < 1500, f"peak {peak:.0f} MB"  # decoding the bomb alone takes 3 to 4 GB


def test_a_deep_tree_a_link_loop_and_odd_pictures_get_one_line_each(second_run, tree):
    """A tree 1,000 folders deep stopped Python 3.11's os.walk() with a RecursionError, and
    nothing was read; a link loop was "a damaged image", NaN a numpy error."""
    result = second_run[0]
    folder, said, readable = tree
    problems = dict(re.findall(r"^Cannot read (.*?): (.*)$", result.stdout, re.M))
    assert {file: problems.get(file) for file in said} == said
    assert f"Read {readable}: 7" in result.stdout.splitlines()
    deeper = f"Cannot read {folder}: what lies over {DEEPEST} folders deep in it"
    assert deeper in result.stdout.splitlines()
    assert "Traceback" not in result.stderr


def test_every_misread_digit_has_a_figure_even_on_a_sheet(second_run, lessons_folder):
    """The first digit of the first 10 images, and each digit read otherwise than its image's
    name says (on 2718_2811.jpg, which holds 2718 2818: its last two, if no other)."""
    result = second_run[0]
    names = figure_names(result.stdout, lessons_folder / "figures")
    expected = []
    reads = re.findall(r"^Read (.*): ([\d ]+)$", result.stdout, re.M)
    for n, (file, text) in enumerate(reads):
        label = (handwriting.label_of(file) or "").replace(" ", "")
        read = text.replace(" ", "")
        wrong = [
            i for i, (a, b) in enumerate(zip(read, label)) if a != b and len(read) == len(label)
        ]
        for digit in sorted({0} | set(wrong)) if n < 10 else wrong:
            expected.append(f"07_steps_{n + 1:02}_digit_{digit + 1}.png")
    assert names[0] == "07_recipe.png" and names[1:] == expected
    sheet = next(n for n, (file, _) in enumerate(reads) if file.endswith("2718_2811.jpg"))
    on_the_sheet = [name for name in names if name.startswith(f"07_steps_{sheet + 1:02}_")]
    assert len(on_the_sheet) >= 2, on_the_sheet
    for name in on_the_sheet:
        picture(lessons_folder / "figures" / name)


def docstring_example():
    """The lines that handwriting.py's docstring gives to copy: its first indented block."""
    lines = handwriting.__doc__.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("    "))
    end = next(n for n in range(start, len(lines)) if lines[n] and not lines[n].startswith("    "))
    return "\n".join(line[4:] for line in lines[start:end]).strip() + "\n"


def test_the_docstring_example_runs_from_a_copy_of_the_module_alone(
    first_run, lessons_folder, tmp_path
):
    """handwriting.py alone in a new folder, a saved model where the example looks for it, and a
    photo: the example's lines, as written, print the digit. A phone photo by a real writer
    when ../shared is there, as on CI; a bundled photo otherwise."""
    shared = ROOT.parent / "shared" / "own_digits" / "photos" / "juttu" / "4.png"
    photo = shared if shared.is_file() else SAMPLE.parent / "own_digits" / "4-thin-pen.jpg"
    shutil.copy(ROOT / "handwriting.py", tmp_path)
    (tmp_path / "models").mkdir()
    model = lessons_folder / "models" / "mnist_dense_sample.keras"
    shutil.copy(model, tmp_path / "models" / "mnist_dense.keras")
    shutil.copy(photo, tmp_path / "photo.jpg")
    example = docstring_example()
    assert 'handwriting.read_page("photo.jpg")' in example and "softmax" in example
    (tmp_path / "example.py").write_text(example, encoding="utf-8")
    result = run(tmp_path / "example.py", cwd=tmp_path, env=lesson_env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "4"
    assert {p.name for p in tmp_path.iterdir()} == {
        "example.py",
        "handwriting.py",
        "models",
        "photo.jpg",
    }


def model_cell_of_07_stops(folder, load_model, monkeypatch, model=None):
    """07's model cell, in this process, on the sample, beside models/ in folder (--model MODEL):
    the one line it stops with."""
    args = types.SimpleNamespace(model=model)
    cell = "Train once, save, load"
    names = dict(args=args, data_name="Bundled sample")
    return model_cell_stops(LESSON, cell, folder, load_model, monkeypatch, **names)


@pytest.mark.parametrize("model", [None, "elsewhere.keras"])
def test_07_reads_with_yours_when_lesson_09_saved_it(tmp_path, monkeypatch, model):
    """The model cell of 07, in this process: it loads its own model, then yours (lesson 09's
    mnist_dense_sample_yours.keras beside it), or the one --model names. The stand-in for Keras
    loads 07's file and names any other it is given."""

    def load_model(path):
        if os.path.basename(path) == "mnist_dense_sample.keras":
            return "07's model"
        raise ValueError(f"loaded {os.path.basename(path)}")

    (tmp_path / "models").mkdir()
    for name in ("mnist_dense_sample.keras", "mnist_dense_sample_yours.keras"):
        (tmp_path / "models" / name).write_bytes(b"a model")
    chosen = (
        str(tmp_path / model)
        if model
        else str(tmp_path / "models" / "mnist_dense_sample_yours.keras")
    )
    said = model_cell_of_07_stops(
        tmp_path, load_model, monkeypatch, model and str(tmp_path / model)
    )
    assert said == f"Cannot load {chosen}: loaded {os.path.basename(chosen)}"


def test_a_damaged_model_file_gets_one_line(tmp_path, monkeypatch):
    """The model cell of 07, in this process, with a stand-in for Keras whose load_model()
    fails as it does on a file that is not a model."""

    def load_model(path):
        raise ValueError(f"File format not supported: filepath={path}")

    (tmp_path / "models").mkdir()
    damaged = tmp_path / "models" / "mnist_dense_sample.keras"
    damaged.write_bytes(b"not a zip")
    said = model_cell_of_07_stops(tmp_path, load_model, monkeypatch)
    assert said.startswith(f"Cannot load {damaged}: File format not supported")
    assert said.endswith("Delete it to train again.")
    assert damaged.read_bytes() == b"not a zip"  # left as it was

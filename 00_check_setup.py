# %% [markdown]
# # Lesson 00: check your set-up before the lessons
#
# Run it with `python 00_check_setup.py`, or run this notebook's cells in order. It changes
# nothing on your machine.
#
# **第 00 课：开始之前，检查你的环境**
#
# 用 `python 00_check_setup.py` 运行，或者按顺序运行这个 notebook 的单元格。它不会修改你电脑上
# 的任何东西。

# %%
"""Lesson 00: check your set-up before the lessons.

What the lessons will run on: Python, TensorFlow and Keras, the devices, MNIST on this machine
and the download. For each problem it finds, one line of advice in English and Chinese. It
takes a few seconds, with or without a network, and changes nothing on your machine.

Run:
  python 00_check_setup.py
"""

import argparse
import hashlib
import os
import platform
import sys
import urllib.request
from importlib.metadata import PackageNotFoundError, version

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
in_notebook = "get_ipython" in globals()
args = parser.parse_args([] if in_notebook else None)  # no flags: --help alone
advice = []  # (English, Chinese), one for each problem found


def report(topic, finding):
    print(f"{topic:12} {finding}")


# %% [markdown]
# ## Python, TensorFlow and Keras / Python、TensorFlow 和 Keras
#
# The lessons are tested with TensorFlow 2.12 to 2.21 on Python 3.11 (the README's version
# table). From TensorFlow 2.16 on, `tf.keras` is Keras 3, unless `TF_USE_LEGACY_KERAS=1`
# asks for the old Keras 2. pip finds no TensorFlow at all for a Python too new for it.
#
# 课程在 Python 3.11 上用 TensorFlow 2.12 到 2.21 测试过（见 README 的版本表）。从 TensorFlow
# 2.16 起，`tf.keras` 就是 Keras 3，除非设置了 `TF_USE_LEGACY_KERAS=1` 要用旧的 Keras 2。Python
# 版本太新时，pip 根本找不到 TensorFlow。

# %%
report("Python", f"{platform.python_version()} ({sys.executable})")
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
try:
    import tensorflow as tf
except ImportError as err:
    tf = None
    report("TensorFlow", f"cannot be imported: {err}")
    advice.append(
        (
            "Install what the lessons need: python -m pip install -r requirements.txt. If pip "
            "finds no tensorflow, use a Python it has wheels for (TensorFlow 2.21: 3.10 to 3.13).",
            "先安装依赖：python -m pip install -r requirements.txt。如果 pip 找不到 tensorflow，"
            "说明 Python 版本太新或太旧（TensorFlow 2.21 支持 Python 3.10 到 3.13）。",
        )
    )
if tf is not None:
    report("TensorFlow", tf.__version__)
    major, minor = (int(part) for part in tf.__version__.split(".")[:2])
    try:
        # TensorFlow 2.13's tf.keras has no __version__: it is the keras package's.
        keras_version = getattr(tf.keras, "__version__", None) or version("keras")
    except ImportError as err:
        report("Keras", f"tf.keras cannot be imported: {err}")
    else:
        report(
            "Keras",
            f"tf.keras is Keras {keras_version} (Keras 3: {keras_version.startswith('3.')})",
        )
    if (major, minor) < (2, 12):
        advice.append(
            (
                f"TensorFlow {tf.__version__} is older than any the lessons are tested with "
                "(2.12 to 2.21): python -m pip install -U tensorflow.",
                f"TensorFlow {tf.__version__} 太旧（课程在 2.12 到 2.21 上测试过）："
                "python -m pip install -U tensorflow。",
            )
        )
    if os.environ.get("TF_USE_LEGACY_KERAS") and (major, minor) >= (2, 16):
        advice.append(
            (
                "TF_USE_LEGACY_KERAS is set: tf.keras is the old Keras 2 (from tf_keras), or "
                "nothing without it (handson-ml3 #163). Unset it: the lessons are Keras 3.",
                "设置了 TF_USE_LEGACY_KERAS：tf.keras 变成旧的 Keras 2（需要 tf_keras），"
                "没装 tf_keras 时干脆无法使用（handson-ml3 #163）。请取消它：课程用的是 Keras 3。",
            )
        )

# %% [markdown]
# ## Devices / 设备
#
# A GPU is not needed: the network is small, and a laptop's CPU trains it in well under a
# minute. On Apple Silicon, `tensorflow-metal` runs it on the GPU, where its accuracy can
# differ from the CPU's: compare on the CPU before you worry.
#
# 不需要 GPU：网络很小，笔记本电脑的 CPU 不到一分钟就能训练完。在 Apple Silicon 上，
# `tensorflow-metal` 会用 GPU 运行，准确率可能和 CPU 不同：担心之前先在 CPU 上对比一下。

# %%
if tf is not None:
    devices = tf.config.list_physical_devices()
    report(
        "Devices", ", ".join(device.name.removeprefix("/physical_device:") for device in devices)
    )
    if not tf.config.list_physical_devices("GPU"):
        report("", "no GPU: fine. Lesson 02 took 26 s on 2 CPU cores (docs/02_sequential_model.md)")
    # TensorFlow's C++ side prints them while it starts, before any setting can quiet them.
    report("", "the I0000/E0000 lines above (oneDNN, cuda, cuInit) are harmless without a GPU")
    report("", "上面的 I0000/E0000 几行（oneDNN、cuda、cuInit）在没有 GPU 时无害，可以忽略")
try:
    metal = version("tensorflow-metal")
except PackageNotFoundError:
    metal = None
if metal:
    report("", f"tensorflow-metal {metal} is installed")
    advice.append(
        (
            "tensorflow-metal can train to another accuracy than the CPU (tensorflow #62361, "
            "#92564): to compare, run a lesson with the GPU hidden, or uninstall it.",
            "tensorflow-metal 训练出的准确率可能和 CPU 不同（tensorflow #62361、#92564）："
            "可以先在 CPU 上对比，或者卸载 tensorflow-metal。",
        )
    )

# %% [markdown]
# ## MNIST on this machine / 本机上的 MNIST
#
# Where the lessons find MNIST without a download: Keras's cache, `MNIST_NPZ`, and the bundled
# sample in `data/`. A copy in the cache that is not byte for byte Keras's own is fine for
# the lessons, which read it as it is; Keras's `load_data()` alone would replace it.
#
# 课程不用下载也能找到 MNIST 的地方：Keras 的缓存、`MNIST_NPZ`，以及 `data/` 里自带的样本。缓存
# 里的文件即使和 Keras 的原版不完全一样也没关系，课程会原样读取；只有 Keras 自己的 `load_data()`
# 会替换它。

# %%
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def describe_npz(path):
    """What the file holds, in a few words; None when it is not an mnist.npz."""
    try:
        import numpy as np

        with np.load(path, allow_pickle=False) as npz:
            x_train, x_test = npz["x_train"], npz["x_test"]
            return f"{len(x_train)} training and {len(x_test)} test images"
    except Exception:
        return None


keras_home = os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras"))
cached_file = os.path.join(keras_home, "datasets", "mnist.npz")
if not os.path.exists(cached_file):
    report("MNIST cache", f"{cached_file}: not there yet (a lesson downloads it, 11 MB)")
else:
    with open(cached_file, "rb") as file:
        exact = hashlib.sha256(file.read()).hexdigest() == KERAS_SHA256
    held = describe_npz(cached_file)
    if exact:
        report("MNIST cache", f"{cached_file}: Keras's own file, {held}")
    elif held:
        report("MNIST cache", f"{cached_file}: {held}, not byte for byte Keras's (fine)")
    else:
        report("MNIST cache", f"{cached_file}: not an mnist.npz file")
        advice.append(
            (
                f"{cached_file} cannot be read as MNIST, and the lessons stop on it: move it "
                "away (nothing here deletes it).",
                f"{cached_file} 不是有效的 MNIST 文件，课程会因此停下："
                "请把它移走（本程序不会删除它）。",
            )
        )

mnist_npz = os.environ.get("MNIST_NPZ")
if mnist_npz:
    held = describe_npz(mnist_npz)
if not mnist_npz:
    report("MNIST_NPZ", "not set")
elif held:
    report("MNIST_NPZ", f"{mnist_npz}: {held}")
else:
    report("MNIST_NPZ", f"{mnist_npz}: cannot be read as an mnist.npz file")
    advice.append(
        (
            f"MNIST_NPZ names {mnist_npz}, which cannot be read as MNIST: the lessons stop on it. "
            "Fix the path, or unset MNIST_NPZ.",
            f"MNIST_NPZ 指向的 {mnist_npz} 无法作为 MNIST 读取，课程会停下："
            "请改正路径，或者取消 MNIST_NPZ。",
        )
    )

sample_file = os.path.join(os.path.dirname(globals().get("__file__", "")), "data/mnist_sample.npz")
held = describe_npz(sample_file)
if held:
    report("Sample", f"{sample_file}: {held}")
else:
    report("Sample", f"{sample_file}: missing or damaged")
    advice.append(
        (
            "The bundled sample is missing: copy the data/ folder beside the lessons.",
            "找不到自带样本：请把 data/ 文件夹和课程放在一起。",
        )
    )

# %% [markdown]
# ## The download / 下载
#
# The lessons download MNIST from Google's storage, through any proxy the environment names.
# Here the host gets 5 seconds to answer. Without an answer the lessons still run, on the
# bundled sample, after one notice.
#
# 课程从 Google 的存储服务器下载 MNIST，会经过环境变量里设置的代理。这里只给服务器 5 秒钟回应。
# 没有回应时，课程打印一条提示，然后用自带样本照常运行。

# %%
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
try:
    with urllib.request.urlopen(
        urllib.request.Request(MNIST_URL, method="HEAD"), timeout=5
    ) as answer:
        report("Download", f"storage.googleapis.com answers (HTTP {answer.status})")
except Exception as err:
    reason = getattr(err, "reason", err)
    report("Download", f"storage.googleapis.com does not answer: {reason}")
    if "CERTIFICATE_VERIFY_FAILED" in str(reason):
        advice.append(
            (
                "Python does not trust the download's certificate. On macOS, run 'Install "
                "Certificates.command' in your Python's folder under /Applications (keras #14089).",
                "Python 不信任下载网站的证书。macOS 上请运行 /Applications 里"
                "对应 Python 文件夹中的 'Install Certificates.command'（keras #14089）。",
            )
        )
    if not os.path.exists(cached_file) and not mnist_npz:
        advice.append(
            (
                "No download and no MNIST here: run the lessons with --quick (the bundled "
                "sample, no waiting). For all of MNIST: --data FILE, MNIST_NPZ=FILE, or a copy at "
                + cached_file,
                "无法下载，本机也没有 MNIST：运行课程时加 --quick（用自带样本，不用等待）。"
                "想用完整数据：--data 文件、设置 MNIST_NPZ，或者把 mnist.npz 放在 " + cached_file,
            )
        )

# %% [markdown]
# ## Advice / 建议
#
# One line for each problem above, in English and in Chinese.
#
# 上面发现的每个问题一行建议，先英文，后中文。

# %%
print()
if not advice:
    print("All set: nothing to fix. / 一切就绪，不需要修改。")
for english, chinese in advice:
    print(f"- {english}\n  {chinese}")

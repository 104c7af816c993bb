"""Publish every lesson as a page with its real output, as keras-io does.

Each lesson runs as a notebook, in a Jupyter kernel, on the full MNIST named with --data. Its
page, docs/0N_....md, holds the lesson's text cells as text, its code cells as code, each
cell's output under it, and its figures as PNG files in docs/0N_.../ beside the page. The pages
are committed; tests/test_docs.py checks that each page's text and code are its lesson's as
they are now. After changing a lesson, render it again.

Run:
    python tools/render.py --data ../shared/mnist/mnist.npz        # every lesson: 8 min here
    python tools/render.py --data FILE --only 04_functional_model.py
"""

import argparse
import base64
import datetime
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import jupytext
import nbformat
from full_mnist import load_full
from make_notebooks import chinese_joined, is_setup
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Every lesson but 00_check_setup.py, whose output tells of the machine it runs on.
LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py") if not p.name.startswith("00_"))
SERVER = "08_draw_a_digit.py"  # serves its page until stopped
TEACHER = "09_teach_your_handwriting.py"  # teaches the model a run of 07 saved
SETUP_SUMMARY = "Setup: flags and where MNIST comes from (the same in every lesson)"
MODULES = ["handwriting.py", "page_server.py"]
HEADER = "<!-- Made by tools/render.py from {lesson}; edit the lesson, not this page. -->"


def normalise(text):
    """Blank out what differs from run to run: Keras's step timings, 06's s/epoch column."""
    text = re.sub(r" - \d+s - \d+(?:ms|us|µs|s)/step", " - Ts - T/step", text)
    return re.sub(r"\s+\d+\.\d\d((?: \*)?(?: > 98\.1%)?)$", r" T\1", text, flags=re.MULTILINE)


def run_notebook(lesson, data):
    """Execute the lesson as a notebook on data, beside a copy of data/; return the notebook
    and its wall time. Lesson 08's last cell serves its page until stopped: it is run as a
    script instead, and its output is the address it printed and a screenshot of the page.
    Lesson 09 teaches the model 07 saves: 07 runs first, as a script, outside the time."""
    nb = jupytext.read(ROOT / lesson)
    serving = nb.cells[-1] if lesson == SERVER else None
    if serving:
        nb.cells = nb.cells[:-1]
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(ROOT / "data", Path(folder) / "data")
        for module in MODULES:  # what lessons 07 on import, beside them
            shutil.copy(ROOT / module, folder)
        env = dict(os.environ, MNIST_NPZ=os.path.abspath(data), KERAS_HOME=folder)
        env.pop("PYTEST_CURRENT_TEST", None)
        if lesson == TEACHER:  # as a learner would: 07 first, on the same MNIST, saves its model
            shutil.copy(ROOT / "07_your_own_digits.py", folder)
            script = [sys.executable, "07_your_own_digits.py"]
            subprocess.run(script, cwd=folder, env=env, check=True, capture_output=True)
        client = NotebookClient(
            nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": folder}}
        )
        started = time.perf_counter()
        # The kernel's own stderr, TensorFlow's start-up lines, shows in the notebook instead.
        client.execute(env=env, stderr=subprocess.DEVNULL)
        if serving:
            shutil.copy(ROOT / lesson, folder)  # it loads the model the notebook just saved
            serving.outputs = serve_and_screenshot(Path(folder) / lesson, env)
            nb.cells.append(serving)
        return nb, time.perf_counter() - started


def serve_and_screenshot(script, env):
    """Run lesson 08 as a script, draw a 4 on its page in headless Chromium, and return the
    notebook outputs of its last cell: what it printed, and the screenshot."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    process = subprocess.Popen(
        [sys.executable, str(script), "--no-browser"],
        cwd=script.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    printed = []
    for line in process.stdout:
        if line.startswith("Open http://"):
            url = line.split()[1]
            printed.append(line.replace(url, "http://127.0.0.1:PORT/"))
            break
    else:
        raise SystemExit(f"{script.name} stopped before it printed its address")
    printed.append(process.stdout.readline())
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,760"):
        options.add_argument(flag)
    options.add_argument("--disable-background-networking")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(url)
        pad = driver.find_element(By.ID, "pad")
        for stroke in ([(90, 50), (70, 160), (190, 160)], [(160, 70), (150, 250)]):  # a 4
            actions = ActionChains(driver, duration=20)
            actions.move_to_element_with_offset(pad, stroke[0][0] - 140, stroke[0][1] - 140)
            actions.click_and_hold()
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
                points = [(x0 + (x1 - x0) * i // 10, y0 + (y1 - y0) * i // 10) for i in range(11)]
                for (a, b), (c, d) in zip(points, points[1:]):
                    actions.move_by_offset(c - a, d - b)
            actions.release().perform()
            time.sleep(1)
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "guess").text != "?")
        png = driver.get_screenshot_as_base64()
    finally:
        driver.quit()
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    printed.append(out)
    return [
        nbformat.v4.new_output("stream", name="stdout", text="".join(printed)),
        nbformat.v4.new_output("display_data", data={"image/png": png}),
    ]


def output_text(output):
    """What an output shows as text: a stream, or the plain text Keras displays its summary as."""
    if output.output_type == "stream":
        return output.text
    text = output.get("data", {}).get("text/plain", "")
    return re.sub(r"\x1b\[[0-9;]*m", "", text).rstrip("\n") + "\n" if text else ""


def page_of(lesson, nb, seconds, figures):
    """The page's Markdown; each figure's PNG bytes are put in figures, under their file name."""
    stem = lesson.removesuffix(".py")
    title, opening = nb.cells[0].source.split("\n", 1)  # the lesson's title cell
    versions = versions_line()
    parts = [
        HEADER.format(lesson=lesson),
        title,
        f"[`{lesson}`](../{lesson}) run as a notebook on the full MNIST (60,000 training and "
        f"10,000 test digits), {versions}. Run time: {run_time(seconds)}. Under each cell is "
        "what it printed and drew, as it came.",
        chinese_joined(opening.strip("\n")),
    ]
    for cell in nb.cells[1:]:
        if cell.cell_type == "markdown":
            parts.append(chinese_joined(cell.source))
            continue
        if is_setup(cell):  # folded, so that the video's code is the first code one sees
            parts.append(f"<details>\n<summary>{SETUP_SUMMARY}</summary>")
        parts.append(f"```python\n{cell.source}\n```")
        text = ""
        for output in cell.outputs:
            if output.output_type == "error":
                raise SystemExit(f"{lesson} failed:\n" + "\n".join(output.traceback))
            png = output.get("data", {}).get("image/png")
            if png is None:
                text += output_text(output)
                continue
            if text:
                parts.append(f"```text\n{text}```")
                text = ""
            name = f"figure_{len(figures) + 1}.png"
            figures[name] = png
            parts.append(f"![A figure of {lesson}]({stem}/{name})")
        if text:
            parts.append(f"```text\n{text}```")
        if is_setup(cell):
            parts.append("</details>")
    return "\n\n".join(parts) + "\n"


def run_time(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def versions_line():
    today = datetime.date.today().isoformat()
    cpu = cpu_name()
    tensorflow, keras = version("tensorflow"), version("keras")
    return (
        f"on {today}, on {os.cpu_count()} cores of an {cpu} without a GPU, with Python "
        f"{platform.python_version()}, TensorFlow {tensorflow} and Keras {keras}"
    )


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            name = re.search(r"^model name\s*: (.*)$", f.read(), flags=re.MULTILINE).group(1)
    except (OSError, AttributeError):
        return platform.processor() or platform.machine()
    return re.sub(r"\((?:R|TM)\)", "", name).strip()


def write_page(lesson, page, figures):
    """Write the page and its figures: into a new folder first, then swap it in, so that an
    interrupted render never leaves a page beside the figures of another run."""
    stem = lesson.removesuffix(".py")
    DOCS.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=DOCS, prefix=f".{stem}-"))
    try:
        (staging / stem).mkdir()
        for name, png in figures.items():
            (staging / stem / name).write_bytes(base64.b64decode(png))
        (staging / f"{stem}.md").write_text(page, encoding="utf-8")
        if (DOCS / stem).exists():
            shutil.rmtree(DOCS / stem)
        if figures:
            os.replace(staging / stem, DOCS / stem)
        os.replace(staging / f"{stem}.md", DOCS / f"{stem}.md")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", metavar="FILE", required=True, help="a full mnist.npz")
    parser.add_argument("--only", metavar="LESSON", choices=LESSONS, help="render one lesson")
    args = parser.parse_args()
    load_full(args.data)  # stops here unless it is the full MNIST
    for lesson in [args.only] if args.only else LESSONS:
        print(f"rendering {lesson} ...", file=sys.stderr, flush=True)
        nb, seconds = run_notebook(lesson, args.data)
        figures = {}
        page = page_of(lesson, nb, seconds, figures)
        write_page(lesson, page, figures)
        stem = lesson.removesuffix(".py")
        print(f"  docs/{stem}.md, {len(figures)} figure(s), {run_time(seconds)}", file=sys.stderr)


if __name__ == "__main__":
    main()

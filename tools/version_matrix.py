"""Run every lesson's quick mode (00, which has none, as it is) on the TensorFlow installed here,
and tabulate the results.

The nox sessions in noxfile.py call this in one virtual environment per TensorFlow release:
    python tools/version_matrix.py run --out FILE.json     # every lesson --quick, offline
    python tools/version_matrix.py table FILE.json ...     # the README's table, in Markdown

A lesson passes when it exits with 0. The table gives, for each release, the TensorFlow and
Keras versions, how many lessons passed, lesson 02's test accuracy on the bundled sample, and
the first error of a lesson that failed.
"""

import argparse
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*.py"))
CHECK = "00_check_setup.py"  # has no --quick: it only looks
SERVER = "08_draw_a_digit.py"  # serves a page until stopped
REFUSING_PROXY = "http://127.0.0.1:9"  # a closed port: the lessons never reach a network here


def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def first_error(stderr):
    """The line that names what went wrong: the exception of a traceback, or the last line."""
    errors = re.findall(r"^(\w[\w.]*(?:Error|Exception)\b.*)$", stderr, flags=re.MULTILINE)
    if errors:
        return errors[-1]
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def serve_once(folder, env):
    """Lesson 08 serves until Ctrl-C: start it, send it a 1 drawn on its canvas through its
    page's API, then stop it with SIGINT. Passes (exit 0) when a digit was read and the server
    stopped."""
    process = subprocess.Popen(
        [sys.executable, SERVER, "--quick", "--no-browser"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("Open http://"):
            canvas = io.BytesIO()
            drawing = Image.new("L", (280, 280))  # the page's canvas, a 1 drawn on it
            ImageDraw.Draw(drawing).line([(140, 50), (140, 230)], fill=255, width=18)
            drawing.save(canvas, "PNG")
            request = urllib.request.Request(
                line.split()[1] + "predict",
                data=canvas.getvalue(),
                headers={"Content-Type": "image/png"},  # as the page sends it: anything else, 415
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as reply:
                    answered = json.load(reply)["digit"] is not None  # read through the steps
            except (OSError, ValueError, KeyError):
                answered = False
            process.send_signal(signal.SIGINT)
            break
    else:
        answered = False
    out, err = process.communicate(timeout=60)
    returncode = process.returncode if answered else 1
    return subprocess.CompletedProcess(process.args, returncode, "".join(printed) + out, err)


def run_lessons(out):
    started = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for lesson in [*LESSONS, "handwriting.py", "page_server.py"]:  # 07 on import the modules
            shutil.copy(ROOT / lesson, folder)
        shutil.copytree(ROOT / "data", folder / "data")
        env = dict(os.environ, KERAS_HOME=str(folder / "keras_home"))
        env.pop("MNIST_NPZ", None)
        for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[key] = REFUSING_PROXY
        for lesson in LESSONS:
            flags = [] if lesson == CHECK else ["--quick"]
            print(f"  {lesson} {' '.join(flags)}...", file=sys.stderr, flush=True)
            if lesson == SERVER:
                done = serve_once(folder, env)
            else:
                done = subprocess.run(
                    [sys.executable, lesson, *flags],
                    cwd=folder,
                    env=env,
                    capture_output=True,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                )
            result = {"passed": done.returncode == 0}
            if done.returncode != 0:
                result["error"] = first_error(done.stderr)
            accuracy = re.search(r"^Test accuracy: ([0-9.]+)$", done.stdout, flags=re.M)
            if accuracy:
                result["test_accuracy"] = accuracy.group(1)
            results[lesson] = result
    summary = {
        "tensorflow": installed("tensorflow"),
        "keras": installed("keras"),
        "numpy": installed("numpy"),
        "matplotlib": installed("matplotlib"),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "seconds": round(time.perf_counter() - started),
        "lessons": results,
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    passed = sum(r["passed"] for r in results.values())
    print(f"TensorFlow {summary['tensorflow']}: {passed} of {len(results)} lessons pass")


def table(files):
    runs = [json.loads(Path(f).read_text(encoding="utf-8")) for f in files]
    runs.sort(key=lambda run: [int(part) for part in run["tensorflow"].split(".")[:2]])
    print(
        "| TensorFlow | Keras | numpy | matplotlib | lessons 00-08, --quick "
        "| 02's test accuracy | first error |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        results = run["lessons"]
        passed = sum(r["passed"] for r in results.values())
        verdict = "all pass" if passed == len(results) else f"{passed} of {len(results)} pass"
        failed = [f"{lesson}: `{r['error']}`" for lesson, r in results.items() if not r["passed"]]
        accuracy = results.get("02_sequential_model.py", {}).get("test_accuracy", "-")
        print(
            f"| {run['tensorflow']} | {run['keras']} | {run['numpy']} | {run['matplotlib']} "
            f"| {verdict} | {accuracy} | {failed[0] if failed else ''} |"
        )
    dates = sorted({run["date"] for run in runs})
    minutes = sum(run["seconds"] for run in runs) / 60
    when = ", ".join(dates)
    print(f"\nPython {runs[0]['python']}, {when}; the lessons ran {minutes:.0f} min in all.")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every lesson --quick; write the results")
    run.add_argument("--out", required=True, metavar="FILE", help="the results, as JSON")
    tabulate = commands.add_parser("table", help="print the results as a Markdown table")
    tabulate.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args()
    if args.command == "run":
        run_lessons(args.out)
    else:
        table(args.files)


if __name__ == "__main__":
    main()

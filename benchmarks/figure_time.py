"""How much the figures add to a lesson's run.

For each lesson that draws, two measurements, on the bundled sample (--quick):
- drawing: the seconds spent in its figure cells (the shared "Pictures" cell, which imports
  matplotlib, and every cell that calls show()), timed inside the run by a copy of the lesson
  with a clock around each of those cells;
- whole run: the lesson from start to exit, as it is and with those cells taken out.
Runs alternate, so that a busy machine slows both alike; the figures are medians.

Run:
    python benchmarks/figure_time.py              # 3 rounds: about 6 minutes on 2 cores
    python benchmarks/figure_time.py --rounds 1 --only 02_sequential_model.py
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRAWING = ["01_load_mnist.py", "02_sequential_model.py", "04_functional_model.py"]
DRAWING += ["05_extract_layer_outputs.py", "06_exercises.py"]


def cells(text):
    """The lesson split at its cell markers; each cell keeps its marker line."""
    return re.split(r"(?m)^(?=# %%)", text)


def is_figure_cell(cell):
    return cell.startswith("# %%\n") and ('show(figure, "' in cell or "def show(" in cell)


def variants(lesson):
    """(timed, without): the lesson with a clock around each figure cell, and without them."""
    parts = cells((ROOT / lesson).read_text(encoding="utf-8"))
    timed, without = [], []
    for i, cell in enumerate(parts):
        is_figure = is_figure_cell(cell)
        explains_figure = i + 1 < len(parts) and is_figure_cell(parts[i + 1])
        if is_figure:
            code = cell.removeprefix("# %%\n")
            timed.append(f"# %%\n_started = __import__('time').perf_counter()\n{code}")
            timed.append("_drawing = globals().get('_drawing', 0.0)\n")
            timed.append("_drawing += __import__('time').perf_counter() - _started\n")
        else:
            timed.append(cell)
        if not (is_figure or explains_figure):
            without.append(cell)
    timed.append("print(f'drawing took {_drawing:.3f} s')\n")
    return "".join(timed), "".join(without)


def run_once(script, folder):
    env = dict(os.environ, KERAS_HOME=str(folder / "keras_home"))
    env.pop("MNIST_NPZ", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), "--quick"], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{script.name} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each variant (default: 3)")
    parser.add_argument("--only", metavar="LESSON", choices=DRAWING, help="one lesson")
    args = parser.parse_args()
    lessons = [args.only] if args.only else DRAWING
    print(f"Figures of each lesson, --quick, median of {args.rounds} run(s), in seconds\n")
    print(f"{'lesson':30} {'figures':>7} {'drawing':>8} {'with':>7} {'without':>8} {'added':>7}")
    for lesson in lessons:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "data").symlink_to(ROOT / "data")
            timed, without = variants(lesson)
            (folder / "timed.py").write_text(timed, encoding="utf-8")
            (folder / "without.py").write_text(without, encoding="utf-8")
            drawing, with_figures, without_figures = [], [], []
            for _ in range(args.rounds):
                seconds, out = run_once(folder / "timed.py", folder)
                with_figures.append(seconds)
                drawing.append(float(re.search(r"^drawing took ([0-9.]+) s$", out, re.M)[1]))
                without_figures.append(run_once(folder / "without.py", folder)[0])
            figures = len(re.findall(r"^Figure saved: ", out, flags=re.MULTILINE))
        with_s, without_s = statistics.median(with_figures), statistics.median(without_figures)
        print(
            f"{lesson:30} {figures:7} {statistics.median(drawing):8.2f} {with_s:7.1f} "
            f"{without_s:8.1f} {with_s - without_s:7.1f}"
        )
    print("\ndrawing: time inside the figure cells, matplotlib's import included.")
    print("with, without: the whole run, start to exit; added: the difference, which is noisier.")


if __name__ == "__main__":
    main()

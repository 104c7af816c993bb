"""Run the lessons on a full MNIST, and check or rewrite what the README says they print there.

Each block of README.md that follows a line `<!-- full MNIST: COMMAND -->` holds what COMMAND
printed on the full MNIST (60,000 training and 10,000 test digits). In COMMAND the file is called
`mnist.npz`; this script runs it with the file you give instead, from the repository's folder.
Under each block a line gives the run's wall time. Accuracies and losses must match exactly (the
seed is fixed); timings are left out of the
comparison, since they differ from run to run.

Run:
    python benchmarks/full_mnist.py --data FILE            # rerun every block and compare
    python benchmarks/full_mnist.py --data FILE --write    # rerun and rewrite the blocks
    python benchmarks/full_mnist.py --data FILE --only 02_sequential_model.py   # one script's
"""

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
BLOCK = re.compile(
    r"<!-- full MNIST: (?P<command>[^\n]+) -->\n```text\n(?P<text>.*?)```\n"
    r"(?P<time>Run time: [^\n]*\n)?",
    re.DOTALL,
)


def blocks(readme):
    """The README's full-data blocks: regex matches, each with a command, a text and a time line."""
    return list(BLOCK.finditer(readme))


def normalise(text):
    """Blank out what differs from run to run: Keras's step timings, and 06's s/epoch column."""
    text = re.sub(r" - \d+s - \d+(?:ms|us|µs|s)/step", " - Ts - T/step", text)
    return re.sub(r"\s+\d+\.\d\d((?: \*)?(?: > 98\.1%)?)$", r" T\1", text, flags=re.MULTILINE)


def load_full(data):
    """The arrays of data, ((x_train, y_train), (x_test, y_test)); stop with one line unless it
    is a full MNIST."""
    try:
        with open(data, "rb") as file, np.load(file, allow_pickle=False) as f:
            mnist = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except Exception as err:
        sys.exit(f"Cannot read {data}: {getattr(err, 'strerror', None) or 'not an mnist.npz file'}")
    sizes = len(mnist[0][1]), len(mnist[1][1])
    if sizes != (60000, 10000):
        sys.exit(
            f"{data} holds {sizes[0]} training and {sizes[1]} test images, "
            "not the full MNIST's 60000 and 10000"
        )
    return mnist


def run(command, data):
    """Run a README command with `mnist.npz` replaced by data; return what it printed and its
    wall time."""
    words = shlex.split(command)
    assert words[0] == "python" and "mnist.npz" in words, command
    argv = [sys.executable, *[os.path.abspath(data) if w == "mnist.npz" else w for w in words[1:]]]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout, seconds


def time_line(seconds):
    return (
        f"Run time: {seconds:.0f} s from start to exit.\n"
        if seconds < 120
        else f"Run time: {seconds / 60:.1f} min.\n"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", metavar="FILE", required=True, help="a full mnist.npz (60,000 + 10,000 digits)"
    )
    parser.add_argument(
        "--write", action="store_true", help="rewrite the README's blocks instead of checking them"
    )
    parser.add_argument(
        "--only", metavar="SCRIPT", help="only the blocks whose command runs this script"
    )
    args = parser.parse_args()
    load_full(args.data)  # stops here unless args.data is a full MNIST

    with open(README, encoding="utf-8") as f:
        readme = f.read()
    chosen = [m for m in blocks(readme) if args.only is None or args.only in m["command"]]
    if not chosen:
        sys.exit(
            "No full-MNIST block in README.md matches"
            + (f" --only {args.only}" if args.only else "")
        )
    different, new = [], readme
    for m in chosen:
        print(f"running: {m['command']}", file=sys.stderr, flush=True)
        printed, seconds = run(m["command"], args.data)
        print(f"  {seconds:.0f} s", file=sys.stderr, flush=True)
        if normalise(printed) != normalise(m["text"]):
            different.append(m["command"])
            diff = difflib.unified_diff(
                m["text"].splitlines(), printed.splitlines(), "README", "now", lineterm=""
            )
            print("\n".join(list(diff)[:40]), file=sys.stderr)
        block = f"<!-- full MNIST: {m['command']} -->\n```text\n{printed}```\n{time_line(seconds)}"
        new = new.replace(m.group(0), block, 1)

    if [m["command"] for m in blocks(new)] != [m["command"] for m in blocks(readme)]:
        sys.exit("The rewritten README would lose or gain a block; README.md is left as it was")
    if args.write:
        # Write beside the README, then rename: an interrupted run never leaves half a README.
        fd, tmp = tempfile.mkstemp(dir=ROOT, suffix=".md")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        os.chmod(tmp, 0o644)
        os.replace(tmp, README)
        print(f"README.md: {len(chosen)} full-MNIST block(s) written", file=sys.stderr)
    elif different:
        sys.exit(f"README.md no longer matches a fresh run of: {', '.join(different)}")
    else:
        print(
            f"README.md: all {len(chosen)} full-MNIST block(s) match a fresh run", file=sys.stderr
        )


if __name__ == "__main__":
    main()

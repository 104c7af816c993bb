"""Time lesson 08's server: the latency of one prediction, POST /predict, as the page sends it.

The canvases are the bundled sample's test digits drawn as strokes, white on black, 280x280
PNGs like the page's. Each client sends its requests one after another; with 8 clients they
overlap. Without --url it starts `08_draw_a_digit.py --quick --no-browser` itself and stops
it with Ctrl-C (SIGINT) at the end.

Run:
    python benchmarks/bench_draw.py                        # 1 and 8 clients, 400 requests each
    python benchmarks/bench_draw.py --url http://127.0.0.1:8000/ --requests 100
"""

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))  # the repository's tools, imported
import make_own_digits  # noqa: E402


def canvases(count):
    """PNGs of the sample's first test digits, drawn as a pen would on the page's canvas."""
    with np.load(os.path.join(ROOT, "data", "mnist_sample.npz"), allow_pickle=False) as npz:
        digits, labels = npz["x_test"][:count], npz["y_test"][:count]
    pngs = []
    for digit in digits:
        stroke = make_own_digits.pen_stroke(digit, 180, "thick")
        canvas = np.zeros((280, 280), np.uint8)
        top, left = (280 - stroke.shape[0]) // 2, (280 - stroke.shape[1]) // 2
        canvas[top : top + stroke.shape[0], left : left + stroke.shape[1]] = stroke * 255
        buffer = io.BytesIO()
        Image.fromarray(canvas).save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    return pngs, labels


def start_server():
    """08 --quick --no-browser, as a learner starts it; (process, its URL)."""
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "08_draw_a_digit.py"), "--quick", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in process.stdout:
        if line.startswith("Open http://"):
            return process, line.split()[1]
    sys.exit("08_draw_a_digit.py stopped before it printed its address")


def timed_requests(url, pngs, clients, requests):
    """Latencies in seconds of `requests` predictions spread over `clients` threads, and how
    many were answered with 200."""
    latencies, answered = [], []

    def client(number):
        for i in range(number, requests, clients):
            request = urllib.request.Request(
                url + "predict", data=pngs[i % len(pngs)], headers={"Content-Type": "image/png"}
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as reply:
                reply.read()
                status = reply.status
            latencies.append(time.perf_counter() - started)
            answered.append(status == 200)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sum(answered)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", help="a running 08 server, e.g. http://127.0.0.1:8000/")
    parser.add_argument("--requests", type=int, default=400, help="for each number of clients")
    args = parser.parse_args()
    process = None
    url = args.url
    if url is None:
        process, url = start_server()
    pngs, _ = canvases(100)
    timed_requests(url, pngs, 1, 10)  # warm up: the first calls build TensorFlow's functions
    print(f"POST /predict on {url}, 280x280 PNG canvases of MNIST digits, {args.requests} requests")
    print(f"{'clients':>7}  {'median ms':>9}  {'p95 ms':>7}  {'answered':>8}")
    for clients in (1, 8):
        latencies, answered = timed_requests(url, pngs, clients, args.requests)
        median = 1000 * statistics.median(latencies)
        p95 = 1000 * np.percentile(latencies, 95)
        print(f"{clients:>7}  {median:9.1f}  {p95:7.1f}  {answered:>4}/{args.requests}")
    if process:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()

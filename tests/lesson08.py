"""What the tests of lesson 08 share: the running lesson, and how they ask it as the page and as
a stranger would."""

import http.client
import io
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import make_own_digits
import numpy as np
from conftest import SAMPLE
from PIL import Image

import page_server

SERVER = "08_draw_a_digit.py"
IDLE_SECONDS, MOST_CONNECTIONS = page_server.IDLE_SECONDS, page_server.MOST_CONNECTIONS
LOG_LINE = re.compile(r"^(\S+ \S+|'.*') -> \d{3}: .+$|^\S+ \S+: the client left .+$|^\S+: .+$")


class Server:
    """The running lesson: its port, and every line it printed so far, on either stream."""

    def __init__(self, folder, env, quick=True):
        self.folder = folder
        flags = ["--quick", "--no-browser"] if quick else ["--no-browser"]
        self.process = subprocess.Popen(
            [sys.executable, str(folder / SERVER), *flags],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.out, self.err = [], []
        self.started = threading.Event()
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self.collect, args=(stream, lines), daemon=True).start()
        assert self.started.wait(120), "".join(self.out + self.err)[-3000:]
        address = next(line for line in self.out if line.startswith("Open http://"))
        self.port = int(re.search(r":(\d+)/$", address).group(1))
        self.host = f"127.0.0.1:{self.port}"
        # A connection that says nothing, opened now: the server must close it on its own. A
        # thread waits on it from the start, so that when it closed is known whenever asked.
        self.silent = socket.create_connection(("127.0.0.1", self.port))
        self.silent_since = time.monotonic()
        self.silent_end = []  # (closed, seconds after it was opened), once it ends
        self.silent_watch = threading.Thread(target=self.watch_silent, daemon=True)
        self.silent_watch.start()

    def watch_silent(self):
        self.silent.settimeout(IDLE_SECONDS + 10)
        try:
            closed = self.silent.recv(100) == b""
        except OSError:  # no end within IDLE_SECONDS + 10, or reset
            closed = False
        self.silent_end.append((closed, time.monotonic() - self.silent_since))

    def collect(self, stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))
            if line.startswith("Open http://"):
                self.started.set()

    def log_after(self, mark, count, wait=5):
        """The lines printed after the first `mark` lines, once there are `count` of them."""
        deadline = time.monotonic() + wait
        while len(self.out) < mark + count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.out[mark:]

    def silent_closed(self):
        """Whether the server closed the silent connection (waiting for it at most
        IDLE_SECONDS + 10 after it was opened), and how long after it was opened it did."""
        self.silent_watch.join()
        return self.silent_end[0]

    def no_traceback(self):
        printed = "\n".join(self.out + self.err)
        assert "Traceback" not in printed, printed[-3000:]


def ask(port, method="POST", path="/predict", body=None, headers=None):
    """One HTTP request to the server; (status, the JSON or text it answered)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "image/png", **(headers or {})}  # as the page sends it
    connection.request(method, path, body=body, headers=headers)
    reply = connection.getresponse()
    text = reply.read().decode("utf-8")
    connection.close()
    is_json = reply.getheader("Content-Type") == "application/json"
    return reply.status, json.loads(text) if is_json else text


def canvas_png(strokes):
    """A 280x280 canvas PNG as the page sends it: white strokes (a 0..1 mask) on black."""
    canvas = np.zeros((280, 280), np.uint8)
    canvas[: strokes.shape[0], : strokes.shape[1]] = np.round(strokes * 255)
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, "PNG")
    return buffer.getvalue()


def drawn(digit, height=180, top=50, left=60):
    """An MNIST test digit as a pen stroke placed on the canvas."""
    stroke = make_own_digits.pen_stroke(digit, height, "thick")
    placed = np.zeros((280, 280), np.float32)
    bottom, right = min(280, top + stroke.shape[0]), min(280, left + stroke.shape[1])
    placed[top:bottom, left:right] = stroke[: bottom - top, : right - left]
    return placed


def raw(port, data, read=True, timeout=10):
    """Send bytes as they are; the status and the JSON of the answer (None, None if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        if not read:
            return None, None
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    if not answer:
        return None, None
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert b"\r\nContent-Type: application/json" in head or status == 200, head
    return status, json.loads(body) if status != 200 or body.startswith(b"{") else body


def post(server, body, headers=""):
    """A POST /predict as the page sends it, with extra header lines."""
    head = f"POST /predict HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: image/png\r\n"
    head += f"Content-Length: {len(body)}\r\n{headers}\r\n"
    return raw(server.port, head.encode() + body)


def seven_png():
    """A 7 of the sample drawn on the canvas, as the page sends it."""
    with np.load(SAMPLE) as f:
        return canvas_png(drawn(f["x_test"][f["y_test"] == 7][0]))


def peak_mb(pid):
    """A process's peak resident memory so far, in MB (Linux's VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M).group(1)) / 1024


def rss_mb(pid):
    """A process's resident memory now, in MB."""
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.M).group(1)) / 1024


def read_to_end(connection):
    """All that a connection still sends until the server closes it (1 s at most a read)."""
    connection.settimeout(1)
    said = b""
    while chunk := connection.recv(65536):
        said += chunk
    return said

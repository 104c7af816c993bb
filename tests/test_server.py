"""Lesson 08's server against hostile requests: files made to hurt and requests that no page of
ours sends. The server runs as a learner starts it (`python 08_draw_a_digit.py --quick
--no-browser`); every test reads what it printed since, and fails on a traceback there."""

import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import PNG, ROOT, SAMPLE, lesson_env, png_bomb, source
from PIL import Image

SERVER = "08_draw_a_digit.py"
# The server's own bounds, as the lesson states them.
IDLE_SECONDS = int(re.search(r"^IDLE_SECONDS = (\d+)", source(SERVER), re.M).group(1))
MOST_CONNECTIONS = int(re.search(r"^MOST_CONNECTIONS = (\d+)", source(SERVER), re.M).group(1))
LOG_LINE = re.compile(r"^(\S+ \S+|'.*') -> \d{3}: .+$|^\S+ \S+: the client left .+$|^\S+: .+$")


class Server:
    """The running lesson: its port, and every line it printed so far, on either stream."""

    def __init__(self, folder, env):
        self.process = subprocess.Popen(
            [sys.executable, str(folder / SERVER), "--quick", "--no-browser"],
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
        # A connection that says nothing, opened now: the server must close it on its own.
        self.silent = socket.create_connection(("127.0.0.1", self.port))
        self.silent_since = time.monotonic()

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
        """Whether the server closed the silent connection, waiting for it at most
        IDLE_SECONDS + 10, and how long after it was opened."""
        self.silent.settimeout(IDLE_SECONDS + 10)
        closed = self.silent.recv(100) == b""
        return closed, time.monotonic() - self.silent_since

    def no_traceback(self):
        printed = "\n".join(self.out + self.err)
        assert "Traceback" not in printed, printed[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lessons")
    shutil.copy(ROOT / SERVER, folder)
    shutil.copytree(ROOT / "data", folder / "data")
    env = lesson_env(KERAS_HOME=str(tmp_path_factory.mktemp("keras_home")))
    running = Server(folder, env)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


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


def canvas(digit=None):
    """A 280x280 canvas PNG: black, or an MNIST digit drawn large in white."""
    image = Image.new("L", (280, 280))
    if digit is not None:
        image.paste(Image.fromarray(digit).resize((200, 200), Image.Resampling.BILINEAR), (40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def seven():
    with np.load(SAMPLE) as f:
        return canvas(f["x_test"][f["y_test"] == 7][0])


def peak_mb(pid):
    """A process's peak resident memory so far, in MB (Linux's VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M).group(1)) / 1024


def test_a_png_bomb_is_refused_from_its_header(server, seven):
    bomb = png_bomb(13000, 13000)
    assert len(bomb) < 700_000
    before = peak_mb(server.process.pid)
    mark = len(server.out)
    started = time.monotonic()
    status, answer = post(server, bomb)
    took = time.monotonic() - started
    assert status == 413 and "canvas" in answer["error"]
    assert took < 1, took
    assert peak_mb(server.process.pid) - before < 300  # decoded, it would take 3 GB or more
    assert len(server.log_after(mark, 1)) == 1
    assert post(server, seven)[1]["digit"] == 7
    server.no_traceback()


def test_a_post_from_another_site_is_refused(server, seven):
    """What any web page can make a browser send without asking: a text/plain POST with its
    own Origin. The page's own POST names this server as its Origin, and is answered."""
    mark = len(server.out)
    evil = "Origin: https://evil.example\r\n"
    assert post(server, seven, evil)[0] == 403
    head = f"POST /predict HTTP/1.1\r\nHost: {server.host}\r\n{evil}Content-Type: text/plain\r\n"
    assert raw(server.port, f"{head}Content-Length: {len(seven)}\r\n\r\n".encode() + seven)[0] in (
        403,
        415,
    )
    head = f"POST /predict HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: text/plain\r\n"
    assert (
        raw(server.port, f"{head}Content-Length: {len(seven)}\r\n\r\n".encode() + seven)[0] == 415
    )
    # A browser's preflight, asking whether another site may send image/png: refused.
    preflight = f"OPTIONS /predict HTTP/1.1\r\nHost: {server.host}\r\n{evil}"
    preflight += "Access-Control-Request-Method: POST\r\n\r\n"
    assert raw(server.port, preflight.encode())[0] == 405
    assert post(server, seven, f"Origin: http://{server.host}\r\n")[1]["digit"] == 7
    assert len(server.log_after(mark, 4)) == 4
    server.no_traceback()


def test_clients_that_leave_mid_request_cost_a_line_at_most(server, seven):
    mark = len(server.out)
    head = f"POST /predict HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: image/png\r\n"
    raw(server.port, f"POST /predict HTTP/1.1\r\nHost: {server.host}\r\nContent-Ty".encode(), False)
    raw(server.port, f"{head}Content-Length: {len(seven)}\r\n\r\n".encode() + seven[:100], False)
    raw(server.port, b"POST /pre", read=False)
    time.sleep(0.5)
    assert len(server.out) - mark <= 3
    assert post(server, seven)[1]["digit"] == 7
    server.no_traceback()


POST_HEAD = b"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/png\r\n"
HOSTILE = {  # a request no page of ours sends, and the status it gets
    "Content-Length in a digit that is not ASCII": (
        POST_HEAD + b"Content-Length: \xb2\r\n\r\n",
        400,
    ),
    "Content-Length not a number": (POST_HEAD + b"Content-Length: 12abc\r\n\r\n", 400),
    "TRACE": (b"TRACE / HTTP/1.1\r\nHost: {host}\r\n\r\n", 405),
    "a method no one knows": (b"BREW / HTTP/1.1\r\nHost: {host}\r\n\r\n", 501),
    "a bad request line": (b"this is no request\r\n\r\n", 400),
    "HTTP/9.9": (b"GET / HTTP/9.9\r\nHost: {host}\r\n\r\n", 505),
    "100 headers of 8 KB": (
        b"GET / HTTP/1.1\r\nHost: {host}\r\n"
        + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 8000) for i in range(100))
        + b"\r\n",
        431,
    ),
    "a 70 KB path": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: {host}\r\n\r\n", 414),
    "two Host headers, ours first": (
        b"GET / HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n\r\n",
        400,
    ),
    "no Host header": (b"GET / HTTP/1.1\r\n\r\n", 400),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_every_refusal_is_json_and_one_line(server, kind):
    """http.server's own refusals too, which would otherwise be an HTML page and no line."""
    request, status = HOSTILE[kind]
    mark = len(server.out)
    answered, answer = raw(server.port, request.replace(b"{host}", server.host.encode()))
    assert answered == status and answer["error"]
    lines = server.log_after(mark, 1)
    assert len(lines) == 1 and f"-> {status}: " in lines[0] and len(lines[0]) < 400, lines
    server.no_traceback()


def test_a_body_over_2_mb_sent_in_full_still_gets_its_413(server, seven):
    mark = len(server.out)
    status, answer = post(server, PNG + bytes(3 * 1024 * 1024))
    assert status == 413 and "over 2 MB" in answer["error"]
    assert len(server.log_after(mark, 1)) == 1
    assert post(server, seven)[1]["digit"] == 7
    server.no_traceback()


def test_slow_clients_do_not_keep_a_drawing_waiting(server, seven):
    """50 connections that send half a request line and then nothing; meanwhile predictions
    are answered as fast as ever."""
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
    try:
        for connection in slow:
            connection.sendall(b"POST /pre")
        times = []
        for _ in range(20):
            started = time.monotonic()
            assert post(server, seven)[1]["digit"] == 7
            times.append(time.monotonic() - started)
        assert np.percentile(times, 90) < 0.1, np.round(times, 3)
    finally:
        mark = len(server.out)
        for connection in slow:
            connection.close()
    # Each half request, cut short, is refused in one line as its connection closes.
    lines = server.log_after(mark, 50)
    assert len(lines) == 50 and all(" -> 400: " in line for line in lines), lines
    server.no_traceback()


def test_over_the_cap_a_connection_is_answered_503(server, seven):
    assert server.silent_closed()[0]  # every place is free
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(MOST_CONNECTIONS)]
    try:
        time.sleep(0.3)  # each is given its thread
        for connection in held:  # none of them was turned away: each holds a place
            connection.setblocking(False)
            with pytest.raises(BlockingIOError):
                connection.recv(100)
        status, answer = post(server, seven)
        assert status == 503 and answer["error"]
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + 5
    while post(server, seven)[0] == 503 and time.monotonic() < deadline:
        time.sleep(0.05)  # the threads see their connections closed
    assert post(server, seven)[1]["digit"] == 7
    server.no_traceback()


def test_log_lines_stay_whole_under_load(server):
    mark = len(server.out)
    bad = [f"GET /nothing-here-{i} HTTP/1.1\r\nHost: {server.host}\r\n\r\n" for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda request: raw(server.port, request.encode())[0], bad))
    assert statuses == [404] * 200
    lines = server.log_after(mark, 200)
    assert len(lines) == 200 and all(LOG_LINE.match(line) for line in lines), lines
    server.no_traceback()


def test_a_silent_connection_is_closed_on_its_own(server):
    """The connection the fixture opened and never wrote to: closed by the server after
    IDLE_SECONDS, though the client keeps it open."""
    closed, after = server.silent_closed()
    assert closed and after >= IDLE_SECONDS - 0.5, after
    server.no_traceback()


def test_after_all_of_this_ctrl_c_stops_it(server, seven):
    assert post(server, seven)[1]["digit"] == 7
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
    time.sleep(0.2)  # the last lines reach the readers
    assert server.out[-1].startswith("Stopped: the server is closed.")
    server.no_traceback()

"""Lesson 08's server, page_server.py, asked as a hostile client would ask it: a PNG bomb, a PNG
full of text, a picture of thousands of marks, another site's Origin, clients that leave, stall
or trickle, every request http.server refuses itself, more connections than it serves; its
output read for a traceback after each. Then Ctrl-C."""

import http.client
import io
import json
import re
import select
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import PNG, fingerprint, many_marks, png_bomb, png_full_of_text
from lesson08 import (
    IDLE_SECONDS,
    LOG_LINE,
    MOST_CONNECTIONS,
    ask,
    canvas_png,
    drawn,
    peak_mb,
    post,
    raw,
    read_to_end,
    rss_mb,
)
from PIL import Image

import page_server


@pytest.fixture(scope="module", autouse=True)
def teaching_meanwhile(teaching):
    """Lesson 09's run for test_teach.py (conftest's `teaching`) goes on in the background while
    these tests wait on slow clients: a core is free then."""


def test_each_bad_request_gets_its_status_and_the_server_goes_on(server):
    port = server.port
    assert ask(port, body=b"not a picture")[0] == 400
    assert ask(port, body=b"\x89PNG\r\n\x1a\n and then nothing")[0] == 400
    assert ask(port, "GET", "/favicon.ico")[0] == 404
    assert ask(port, "POST", "/elsewhere", body=b"")[0] == 404
    assert ask(port, "GET", "/predict")[0] == 405
    assert ask(port, "PUT", "/predict", body=b"")[0] == 405
    assert ask(port, "DELETE", "/")[0] == 405
    stranger = {"Host": f"rebinding.example:{port}"}
    status, answer = ask(
        port, body=canvas_png(drawn(np.eye(28, dtype=np.uint8) * 255)), headers=stranger
    )
    assert status == 403 and "error" in answer
    assert ask(port, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    # Over 2 MB: answered from the header alone, and the connection closed, the body unread.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/predict")
    connection.putheader("Content-Type", "image/png")
    connection.putheader("Content-Length", str(3 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"\x89PNG\r\n\x1a\n")
    reply = connection.getresponse()
    assert reply.status == 413 and reply.getheader("Connection") == "close"
    assert "over 2 MB" in json.loads(reply.read())["error"]
    connection.close()
    # ... and the server still reads a digit.
    assert ask(port, body=canvas_png(drawn(np.eye(28, dtype=np.uint8) * 255)))[0] == 200


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
    """Connections whose headers are in, each sending its body: none can be cut short for a
    new one (one still in its headers could: see the test of a hundred slow clients)."""
    assert server.silent_closed()[0]  # every place is free
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(MOST_CONNECTIONS)]
    head = f"POST /predict HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: image/png\r\n"
    try:
        for connection in held:
            connection.sendall(f"{head}Content-Length: {len(seven)}\r\n\r\n".encode())
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


def test_a_picture_of_thousands_of_marks_is_refused_and_a_drawing_is_not_kept_waiting(
    server, seven
):
    """It took 83 s and 31.7 MB of JSON, the model's lock held: a drawing sent 2 s later
    waited 76 s."""
    mark = len(server.out)
    with ThreadPoolExecutor(max_workers=1) as pool:
        marks = pool.submit(post, server, many_marks(11715))
        time.sleep(0.05)
        assert post(server, seven)[1]["digit"] == 7  # raw() waits 10 s at most
        status, answer = marks.result()
    assert status == 400 and answer["error"] == "too many marks (11,715): not a page of digits"
    assert any(" -> 400: too many marks" in line for line in server.log_after(mark, 1))
    server.no_traceback()


def test_64_pngs_full_of_text_at_once_cost_little_memory(server, seven):
    """Each 64 KB, with 63 MB of text compressed in it: 64 at once took 2.4 GB."""
    png = png_full_of_text()
    before = rss_mb(server.process.pid)
    most = before
    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = [pool.submit(post, server, png) for _ in range(64)]
        while not all(answer.done() for answer in answers):
            most = max(most, rss_mb(server.process.pid))
            time.sleep(0.005)
    assert [answer.result()[0] for answer in answers] == [400] * 64
    assert most - before < 300, f"{before:.0f} MB, then {most:.0f} MB"
    assert post(server, seven)[1]["digit"] == 7
    server.no_traceback()


def test_a_hundred_slow_clients_lose_their_slots_and_a_drawing_is_answered(server, seven):
    """100 connections that each send a byte of their headers every second, so that none is
    ever silent for IDLE_SECONDS: each is closed within 10 s of its start, with a 408 and a
    line that says why, and a drawing sent meanwhile is answered."""
    mark = len(server.out)
    request = f"GET / HTTP/1.1\r\nHost: {server.host}\r\nX-Slow: {'a' * 60}".encode()
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(100)]
    started, closed, answered = time.monotonic(), {}, {}
    try:
        for sent in range(15):
            for n, connection in enumerate(slow):
                if n not in closed:
                    connection.sendall(request[sent : sent + 1])
            if sent == 1:
                answered["drawing"] = post(server, seven)
            deadline = time.monotonic() + 1
            while len(closed) < len(slow) and time.monotonic() < deadline:
                open_ones = [c for n, c in enumerate(slow) if n not in closed]
                for connection in select.select(open_ones, [], [], 0.05)[0]:
                    after = time.monotonic() - started
                    closed[slow.index(connection)] = after, read_to_end(connection)
            if len(closed) == len(slow):
                break
    finally:
        for connection in slow:
            connection.close()
    assert answered["drawing"][0] == 200 and answered["drawing"][1]["digit"] == 7
    assert len(closed) == 100 and max(after for after, _ in closed.values()) < 10
    statuses = {said[:12] for _, said in closed.values()}
    assert statuses <= {b"HTTP/1.0 408", b"HTTP/1.1 408", b""}, statuses
    time.sleep(0.2)  # the last lines reach the reader
    lines = server.out[mark:]
    assert lines and all(" -> 408: " in line for line in lines), lines
    server.no_traceback()


def test_the_page_is_served_with_any_query_and_its_host_in_any_case(server):
    port = server.port
    page = ask(port, "GET", "/", headers={"Host": f"127.0.0.1:{port}"})[1]
    assert page.startswith("<!doctype html>")
    assert ask(port, "GET", "/?x=1", headers={"Host": f"127.0.0.1:{port}"}) == (200, page)
    assert ask(port, "GET", "/", headers={"Host": f"LOCALHOST:{port}"}) == (200, page)
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
    """The connection opened as the server started and never written to: closed by the server
    IDLE_SECONDS after it was opened (its headers' deadline is as long), though the client keeps
    it open; timed from when it closed, whenever this test runs."""
    closed, after = server.silent_closed()
    assert closed and IDLE_SECONDS - 0.5 <= after <= IDLE_SECONDS + 1.5, after
    server.no_traceback()


def test_an_example_is_saved_in_its_digits_folder_under_a_new_name(server, seven):
    """'This is a 7': the canvas saved as my_digits/7/<a name the server made>.png, as grey
    levels equal to the canvas's; again, under another name. Nothing else changes."""
    before = fingerprint(server.folder)
    answers = [ask(server.port, path="/example?digit=7", body=seven) for _ in range(2)]
    assert [status for status, _ in answers] == [200, 200]
    after = fingerprint(server.folder)
    new = [Path(path) for path in after if path not in before]
    assert len(new) == 2 and all(path.parent == server.folder / "my_digits" / "7" for path in new)
    assert {answer["saved"] for _, answer in answers} == {
        str(path.relative_to(server.folder)) for path in new
    }
    assert (
        answers[1][1]["digit"] == 7 and answers[1][1]["examples"] == answers[0][1]["examples"] + 1
    )
    sent = np.asarray(Image.open(io.BytesIO(seven)).convert("L"))
    for path in new:
        assert np.array_equal(np.asarray(Image.open(path)), sent)
    assert all(after[path] == digest for path, digest in before.items())
    server.no_traceback()


HOSTILE_EXAMPLES = {
    "two digits": ("/example?digit=77", {}, 400),
    "a negative digit": ("/example?digit=-1", {}, 400),
    "a path": ("/example?digit=../../evil", {}, 400),
    "an Arabic-Indic three": ("/example?digit=%D9%A3", {}, 400),
    "a digit, then a name": ("/example?digit=7&name=../../evil.png", {}, 400),
    "a name, then a digit": ("/example?name=evil.png&digit=7", {}, 400),
    "a NUL after the digit": ("/example?digit=7%00", {}, 400),
    "no digit": ("/example", {}, 400),
    "another site": ("/example?digit=7", {"Origin": "https://evil.example"}, 403),
    "another host": ("/example?digit=7", {"Host": "rebinding.example"}, 403),
    "not a PNG": ("/example?digit=7", {"Content-Type": "text/plain"}, 415),
}


@pytest.mark.parametrize("kind", HOSTILE_EXAMPLES)
def test_a_hostile_label_or_request_saves_nothing(server, seven, kind):
    path, headers, status = HOSTILE_EXAMPLES[kind]
    before = fingerprint(server.folder)
    answered, answer = ask(server.port, path=path, body=seven, headers=headers)
    assert answered == status and set(answer) == {"error"}
    assert fingerprint(server.folder) == before
    server.no_traceback()


def test_an_example_that_is_no_drawing_saves_nothing(server):
    """An empty canvas, bytes that are no image, a GIF sent as a PNG: 400; a GET: 405."""
    gif = io.BytesIO()
    Image.new("L", (28, 28), 255).save(gif, "GIF")
    before = fingerprint(server.folder)
    for body in (canvas_png(np.zeros((280, 280))), b"not a picture", PNG + gif.getvalue()):
        status, answer = ask(server.port, path="/example?digit=3", body=body)
        assert status == 400 and set(answer) == {"error"}
    assert ask(server.port, "GET", "/example?digit=3")[0] == 405
    assert fingerprint(server.folder) == before


def test_after_all_of_this_ctrl_c_stops_it_and_each_refusal_was_logged(server, seven):
    port = server.port
    mark = len(server.out)
    refusals = [
        (400, ask(port, body=b"not a picture")[0]),
        (403, ask(port, "GET", "/", headers={"Host": "rebinding.example"})[0]),
        (404, ask(port, "GET", "/favicon.ico")[0]),
        (405, ask(port, "DELETE", "/")[0]),
    ]
    assert [sent for sent, _ in refusals] == [answered for _, answered in refusals]
    logged = re.findall(r"-> (\d{3}): ", "\n".join(server.log_after(mark, 4)))
    assert [int(status) for status in logged] == [400, 403, 404, 405]
    assert post(server, seven)[1]["digit"] == 7
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
    time.sleep(0.2)  # the last lines reach the readers
    assert server.out[-1].startswith("Stopped: the server is closed.")
    server.no_traceback()


def test_a_port_in_use_gets_one_line():
    """page_server.serve(), in this process, on a port another program holds."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stop:
            page_server.serve(lambda png: {}, port, open_browser=False)
    assert str(stop.value) == f"Cannot listen on 127.0.0.1:{port}: Address already in use"

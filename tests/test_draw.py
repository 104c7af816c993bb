"""Lesson 08: its server, run as a learner runs it, asked as the page and as a stranger would ask
it; then its page in a real headless Chromium, drawn on with the mouse."""

import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import ROOT, SAMPLE, code_under, lesson_env, make_own_digits
from PIL import Image

LESSON = "08_draw_a_digit.py"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def server(lessons_folder, tmp_path_factory):
    """`python 08_draw_a_digit.py --quick --no-browser`, running; its port and its output so far.
    Ctrl-C works on it: SIGINT is what the process gets, whatever the test runner ignores."""
    env = lesson_env(KERAS_HOME=str(tmp_path_factory.mktemp("keras_home")))
    process = subprocess.Popen(
        [sys.executable, str(lessons_folder / LESSON), "--quick", "--no-browser"],
        cwd=lessons_folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("Open http://"):
            break
    assert printed and printed[-1].startswith("Open http://127.0.0.1:"), "".join(printed)
    port = int(re.search(r":(\d+)/$", printed[-1]).group(1))
    yield {"port": port, "process": process, "printed": printed}
    if process.poll() is None:
        process.kill()
        process.wait()


def ask(port, method="POST", path="/predict", body=None, headers=None):
    """One HTTP request to the server; (status, the JSON or text it answered)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
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
    stroke = make_own_digits().pen_stroke(digit, height, "thick")
    placed = np.zeros((280, 280), np.float32)
    bottom, right = min(280, top + stroke.shape[0]), min(280, left + stroke.shape[1])
    placed[top:bottom, left:right] = stroke[: bottom - top, : right - left]
    return placed


def test_the_preparation_and_the_model_cell_are_lesson_07s():
    prepare = "Prepare a digit the MNIST way"
    assert code_under(LESSON, prepare) == code_under("07_your_own_digits.py", prepare)
    assert code_under(LESSON, "The model from lesson 07") == code_under(
        "07_your_own_digits.py", "Train once, save, load"
    )


def test_the_page_loads_nothing_from_outside():
    page = (ROOT / "data" / "draw_a_digit.html").read_text(encoding="utf-8")
    assert not re.search(r"https?:|//[a-z0-9]|@import|<link\b|\bsrc=", page, re.I)
    assert 'id="guess"' in page and 'fetch("/predict"' in page


def test_it_says_where_and_which_model(server, lessons_folder):
    printed = "".join(server["printed"])
    model_file = lessons_folder / "models" / "mnist_dense_sample.keras"
    assert re.search(
        rf"^(Saved|Loaded) {re.escape(str(model_file))}, trained on Bundled sample", printed, re.M
    )
    status, page = ask(server["port"], "GET", "/", headers={"Host": f"127.0.0.1:{server['port']}"})
    assert status == 200 and page == (lessons_folder / "data" / "draw_a_digit.html").read_text(
        "utf-8"
    )


def test_digits_drawn_from_mnist_strokes_are_read_right(server):
    with np.load(SAMPLE) as f:
        images, labels = f["x_test"][:20], f["y_test"][:20]
    right = 0
    for image, label in zip(images, labels):
        status, answer = ask(server["port"], body=canvas_png(drawn(image)))
        assert status == 200 and len(answer["probabilities"]) == 10
        assert abs(sum(answer["probabilities"]) - 1) < 1e-3
        levels = np.array(answer["input"])
        assert levels.shape == (28, 28) and levels.min() == 0 and levels.max() <= 255
        right += answer["digit"] == label
    assert right >= 17  # a model of 4,000 sample images; chance would be 2


def test_a_small_digit_in_a_corner_is_still_read(server):
    with np.load(SAMPLE) as f:
        images, labels = f["x_test"], f["y_test"]
    seven = images[labels == 7][0]
    _, centred = ask(server["port"], body=canvas_png(drawn(seven)))
    _, cornered = ask(server["port"], body=canvas_png(drawn(seven, height=60, top=200, left=200)))
    assert cornered["digit"] == centred["digit"] == 7
    assert np.abs(np.array(cornered["input"]) - np.array(centred["input"])).mean() < 40


def test_an_empty_canvas_gets_no_guess(server):
    status, answer = ask(server["port"], body=canvas_png(np.zeros((280, 280))))
    assert status == 200 and answer["digit"] is None and "probabilities" not in answer


def test_each_bad_request_gets_its_status_and_the_server_goes_on(server):
    port = server["port"]
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
    connection.putheader("Content-Length", str(3 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"\x89PNG\r\n\x1a\n")
    reply = connection.getresponse()
    assert reply.status == 413 and reply.getheader("Connection") == "close"
    assert "over 2 MB" in json.loads(reply.read())["error"]
    connection.close()
    # ... and the server still reads a digit.
    assert ask(port, body=canvas_png(drawn(np.eye(28, dtype=np.uint8) * 255)))[0] == 200


def test_eight_clients_sending_200_requests_are_all_answered(server):
    with np.load(SAMPLE) as f:
        pngs = [canvas_png(drawn(image)) for image in f["x_test"][:8]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: ask(server["port"], body=pngs[i % 8]), range(200)))
    assert [status for status, _ in answers] == [200] * 200
    # The same canvas gets the same answer, however the threads interleave.
    for i, (_, answer) in enumerate(answers):
        assert answer == answers[i % 8][1]


def draw_in_chromium(url, strokes):
    """Open the page in headless Chromium, draw each stroke (a list of (x, y) on the 280x280
    canvas) with the mouse, and return what #guess says after each, with every URL the page
    asked for."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1000,800",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(url)
        pad = driver.find_element(By.ID, "pad")
        guess = driver.find_element(By.ID, "guess")
        guesses = []
        for stroke in strokes:
            driver.find_element(By.ID, "clear").click()
            sent = driver.execute_script("return window.performance.getEntries().length")
            actions = ActionChains(driver, duration=10)
            x, y = stroke[0]
            actions.move_to_element_with_offset(pad, x - 140, y - 140).click_and_hold()
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
                actions.move_by_offset(x1 - x0, y1 - y0)
            actions.release().perform()
            WebDriverWait(driver, 20).until(
                lambda d, sent=sent: (
                    d.execute_script("return window.performance.getEntries().length") > sent
                    and guess.text != "?"
                )
            )
            guesses.append(guess.text)
        logs = driver.get_log("performance")
    finally:
        driver.quit()
    asked = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in logs
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    return guesses, asked


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium and chromedriver here (apt: chromium chromium-driver)",
)
def test_the_page_reads_digits_drawn_with_the_mouse_in_chromium(server):
    pytest.importorskip("selenium", reason="selenium is in requirements-dev.txt")
    url = f"http://127.0.0.1:{server['port']}/"
    one = [(140, 40 + 10 * i) for i in range(21)]
    # A small zero, off in the top left corner: an ellipse of 22 points.
    zero = [(60 + 28 * np.sin(t), 70 - 40 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 23)]
    zero = [(round(x), round(y)) for x, y in zero]
    guesses, asked = draw_in_chromium(url, [one, zero])
    assert guesses == ["1", "0"]
    assert asked and all(address.startswith(url) for address in asked), asked
    assert sum(address == url + "predict" for address in asked) >= 2


def test_ctrl_c_stops_it_with_one_line_and_each_refusal_was_logged(server):
    process = server["process"]
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err
    assert out.splitlines()[-1].startswith("Stopped: the server is closed.")
    refused = re.findall(r"^(\w+) (\S+) -> (\d{3}): ", out, re.M)
    statuses = [int(status) for _, _, status in refused]
    # The bad requests above, one line each (a browser may add its own /favicon.ico).
    for status, count in {400: 2, 403: 1, 404: 2, 405: 3, 413: 1}.items():
        assert statuses.count(status) >= count, (status, refused)
    assert all(status >= 400 for status in statuses)


def test_a_port_in_use_gets_one_line():
    """The lesson's last two cells, in this process, on a port another program holds."""
    import socket
    import types

    namespace = {"__file__": str(ROOT / LESSON), "os": os}
    exec(compile(code_under(LESSON, "The server"), LESSON, "exec"), namespace)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        namespace["args"] = types.SimpleNamespace(port=port, no_browser=True)
        with pytest.raises(SystemExit) as stop:
            exec(compile(code_under(LESSON, "Open the page"), LESSON, "exec"), namespace)
    assert str(stop.value) == f"Cannot listen on 127.0.0.1:{port}: Address already in use"

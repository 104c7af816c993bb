"""Lesson 08, its page: beside the model 07's first run saved, it names that model, reads
digits drawn as the page sends them (several side by side, a small one in a corner, a dash, a
dot, nothing), answers 8 clients at once, and its page is drawn on with the mouse in a real
headless Chromium."""

import json
import os
import re
import shutil
import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import ROOT, SAMPLE, model_cell_stops
from lesson08 import SERVER, ask, canvas_png, drawn

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def test_the_page_loads_nothing_from_outside():
    page = (ROOT / "data" / "draw_a_digit.html").read_text(encoding="utf-8")
    # Its only link is its icon, empty and inline: no request for /favicon.ico either.
    assert re.findall(r"<link\b[^>]*>", page) == ['<link rel="icon" href="data:,">']
    assert not re.search(r"https?:|//[a-z0-9]|@import|\bsrc=", page, re.I)
    assert 'id="guess"' in page and 'fetch("/predict"' in page


def test_08_loads_the_model_07_saved_and_names_it_on_its_page(server):
    printed = "\n".join(server.out)
    model_file = server.folder / "models" / "mnist_dense_sample.keras"
    said = rf"^The model: {re.escape(str(model_file))}, test accuracy (0\.\d{{4}}) on Bundled"
    said = re.search(said, printed, re.M)
    assert said and 0.9 < float(said.group(1)) < 0.96  # the sample's model: 0.93
    assert "Epoch 1/5" not in printed  # loaded, not trained again
    status, page = ask(server.port, "GET", "/", headers={"Host": f"127.0.0.1:{server.port}"})
    template = (server.folder / "data" / "draw_a_digit.html").read_text("utf-8")
    named = f"mnist_dense_sample.keras, test accuracy {said.group(1)}"
    assert status == 200 and page == template.replace("<!-- MODEL -->", named)


@pytest.mark.parametrize("quick, chosen", [(False, "mnist_dense.keras"), (True, "sample")])
def test_08_reaches_for_the_best_model_saved(tmp_path, monkeypatch, quick, chosen):
    """The model cell of 08, in this process, beside both of 07's models, with a stand-in for
    Keras whose load_model() names the file it was given: mnist_dense.keras (all of MNIST)
    comes first, whatever MNIST the lesson reads; --quick takes the sample's."""

    def load_model(path):
        raise ValueError(f"loaded {os.path.basename(path)}")

    (tmp_path / "models").mkdir()
    for name in ("mnist_dense.keras", "mnist_dense_sample.keras"):
        (tmp_path / "models" / name).write_bytes(b"a model")
    said = model_cell_stops(
        SERVER,
        "The model lesson 07 saved",
        tmp_path,
        load_model,
        monkeypatch,
        args=types.SimpleNamespace(quick=quick),
        data_name="Bundled sample",
    )
    name = "mnist_dense.keras" if chosen == "mnist_dense.keras" else "mnist_dense_sample.keras"
    assert said.startswith(f"Cannot load {tmp_path / 'models' / name}: loaded {name}")


def test_digits_drawn_from_mnist_strokes_are_read_right(server):
    with np.load(SAMPLE) as f:
        images, labels = f["x_test"][:20], f["y_test"][:20]
    right = 0
    for image, label in zip(images, labels):
        status, answer = ask(server.port, body=canvas_png(drawn(image)))
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
    _, centred = ask(server.port, body=canvas_png(drawn(seven)))
    _, cornered = ask(server.port, body=canvas_png(drawn(seven, height=60, top=200, left=200)))
    assert cornered["digit"] == centred["digit"] == 7
    assert np.abs(np.array(cornered["input"]) - np.array(centred["input"])).mean() < 40


def test_two_digits_side_by_side_are_read_as_two(server):
    with np.load(SAMPLE) as f:
        one, seven = (f["x_test"][f["y_test"] == d][0] for d in (1, 7))
    canvas = np.maximum(drawn(one, height=110, top=80, left=10), drawn(seven, 110, 80, 140))
    status, answer = ask(server.port, body=canvas_png(canvas))
    assert status == 200 and len(answer["digits"]) == 2 and len(answer["details"]) == 2
    assert answer["digits"] == "".join(str(d["digit"]) for d in answer["details"])
    assert answer["digit"] == answer["details"][0]["digit"]
    assert answer["probabilities"] == answer["details"][0]["probabilities"]
    for detail in answer["details"]:
        scores = detail["probabilities"]
        assert detail["sure"] == (max(scores) >= 0.95) and detail["or"] != detail["digit"]
        assert sorted(scores)[-2] == scores[detail["or"]]


@pytest.mark.parametrize("mark", ["dash", "dot"])
def test_a_dash_or_a_dot_is_no_digit(server, mark):
    canvas = np.zeros((280, 280), np.float32)
    if mark == "dash":
        canvas[130:148, 80:200] = 1
    else:
        y, x = np.ogrid[:280, :280]
        canvas[(y - 140) ** 2 + (x - 140) ** 2 < 12**2] = 1
    status, answer = ask(server.port, body=canvas_png(canvas))
    assert status == 200 and answer["digit"] is None and answer["digits"] == ""
    assert answer["message"].startswith("no digit")


def test_an_empty_canvas_gets_no_guess(server):
    status, answer = ask(server.port, body=canvas_png(np.zeros((280, 280))))
    assert status == 200 and answer["digit"] is None and "probabilities" not in answer


def test_eight_clients_sending_200_requests_are_all_answered(server):
    with np.load(SAMPLE) as f:
        pngs = [canvas_png(drawn(image)) for image in f["x_test"][:8]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: ask(server.port, body=pngs[i % 8]), range(200)))
    assert [status for status, _ in answers] == [200] * 200
    # The same canvas gets the same answer, however the threads interleave.
    for i, (_, answer) in enumerate(answers):
        assert answer == answers[i % 8][1]


def draw_in_chromium(url, strokes):
    """Open the page in headless Chromium, draw each stroke (a window size, then a list of
    (x, y) on the 280x280 canvas) with the mouse, and return what #guess says after each, every
    URL the page asked for, and where the 28x28 panel was before and after each stroke."""
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
        guesses, places = [], {}
        for size, stroke in strokes:
            if size != tuple(driver.get_window_size().values()):
                driver.set_window_size(*size)
            driver.find_element(By.ID, "clear").click()
            places.setdefault(size, []).append(driver.find_element(By.ID, "input").location)
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
            places[size].append(driver.find_element(By.ID, "input").location)
        logs = driver.get_log("performance")
    finally:
        driver.quit()
    asked = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in logs
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    return guesses, asked, places


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium and chromedriver here (apt: chromium chromium-driver)",
)
def test_the_page_reads_digits_drawn_with_the_mouse_in_chromium(server):
    pytest.importorskip("selenium", reason="selenium is in requirements-dev.txt")
    url = f"http://127.0.0.1:{server.port}/"
    one = [(140, 40 + 10 * i) for i in range(21)]
    # A small zero, off in the top left corner: an ellipse of 22 points.
    zero = [(60 + 28 * np.sin(t), 70 - 40 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 23)]
    zero = [(round(x), round(y)) for x, y in zero]
    wide, phone = (1000, 800), (390, 844)
    guesses, asked, places = draw_in_chromium(url, [(wide, one), (wide, zero), (phone, one)])
    assert guesses == ["1", "0", "1"]
    assert asked and all(address.startswith(url) for address in asked), asked
    assert sum(address == url + "predict" for address in asked) >= 3
    assert not any(address.endswith("favicon.ico") for address in asked)
    # The 28x28 panel stays where it is while one draws, on a wide screen and on a phone's.
    for size, where in places.items():
        assert all(place == where[0] for place in where), (size, where)

"""Lesson 08, its page: beside the model 07's first run saved, it names that model, reads
digits drawn as the page sends them (several side by side, a small one in a corner, a dash, a
dot, nothing), answers 8 clients at once, and its page is drawn on with the mouse in a real
headless Chromium."""

import json
import os
import re
import shutil
import types

import numpy as np
import pytest
from conftest import ROOT, model_cell_stops
from lesson08 import SERVER, ask

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


@pytest.mark.parametrize(
    "quick, model, chosen",
    [
        (False, None, "mnist_dense_yours.keras"),
        (True, None, "mnist_dense_sample_yours.keras"),
        (False, "elsewhere.keras", "elsewhere.keras"),
    ],
)
def test_08_reaches_for_the_best_model_saved(tmp_path, monkeypatch, quick, model, chosen):
    """The model cell of 08, in this process, beside 07's two models and the two lesson 09
    taught, with a stand-in for Keras whose load_model() names the file it was given: yours
    (from all of MNIST) comes first, whatever MNIST the lesson reads; --quick takes the sample's
    yours; --model FILE, that file."""

    def load_model(path):
        raise ValueError(f"loaded {os.path.basename(path)}")

    (tmp_path / "models").mkdir()
    for name in ("mnist_dense", "mnist_dense_sample"):
        for end in (".keras", "_yours.keras"):
            (tmp_path / "models" / f"{name}{end}").write_bytes(b"a model")
    said = model_cell_stops(
        SERVER,
        "The model lesson 07 saved",
        tmp_path,
        load_model,
        monkeypatch,
        args=types.SimpleNamespace(quick=quick, model=model and str(tmp_path / model)),
        data_name="Bundled sample",
    )
    folder = tmp_path if model else tmp_path / "models"
    assert said.startswith(f"Cannot load {folder / chosen}: loaded {chosen}")


def chromium():
    """Debian's headless Chromium, driven by Selenium, logging every request it makes."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def draw_in_chromium(url, strokes, save_as):
    """Open the page in headless Chromium, draw each stroke (a window size, then a list of
    (x, y) on the 280x280 canvas) with the mouse, and return what #guess says after each, every
    URL the page asked for, where the 28x28 panel was before and after each stroke, and what the
    page said once "This is a `save_as`" was pressed after the last."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
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
        button = f"//span[@id='labels']/button[text()='{save_as}']"
        driver.find_element(By.XPATH, button).click()
        saved = driver.find_element(By.ID, "saved")
        WebDriverWait(driver, 20).until(lambda d: f"my_digits/{save_as}/" in saved.text)
        said = saved.text
        logs = driver.get_log("performance")
    finally:
        driver.quit()
    asked = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in logs
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    return guesses, asked, places, said


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium and chromedriver here (apt: chromium chromium-driver)",
)
def test_the_page_reads_digits_drawn_with_the_mouse_and_saves_one_in_chromium(server):
    pytest.importorskip("selenium", reason="selenium is in requirements-dev.txt")
    url = f"http://127.0.0.1:{server.port}/"
    one = [(140, 40 + 10 * i) for i in range(21)]
    # A small zero, off in the top left corner: an ellipse of 22 points.
    zero = [(60 + 28 * np.sin(t), 70 - 40 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 23)]
    zero = [(round(x), round(y)) for x, y in zero]
    wide, phone = (1000, 800), (390, 844)
    folder = server.folder / "my_digits" / "1"
    before = set(folder.glob("*.png"))
    strokes = [(wide, one), (wide, zero), (phone, one)]
    guesses, asked, places, said = draw_in_chromium(url, strokes, save_as=1)
    assert guesses == ["1", "0", "1"]
    # "This is a 1" under the last: the drawing became a file in my_digits/1/, named on the page.
    new = set(folder.glob("*.png")) - before
    assert len(new) == 1 and f"my_digits/1/{new.pop().name}" in said
    assert asked and all(address.startswith(url) for address in asked), asked
    assert sum(address == url + "predict" for address in asked) >= 3
    assert not any(address.endswith("favicon.ico") for address in asked)
    # The 28x28 panel stays where it is while one draws, on a wide screen and on a phone's.
    for size, where in places.items():
        assert all(place == where[0] for place in where), (size, where)

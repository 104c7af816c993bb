"""Time lesson 08's page where a learner waits: from the pen's lift to the answer on screen.

It opens the page in Debian's headless Chromium (chromium, chromium-driver), draws digits on
the canvas with the mouse (a 1, a 7 and a 0 in turn), and reads what the page itself measured
for each (performance.measure "answer on screen": from the pointerup to the first frame painted
after the answer arrived). Without --url it starts `08_draw_a_digit.py --quick --no-browser`
itself and stops it with Ctrl-C (SIGINT) at the end.

Run:
    python benchmarks/bench_page.py                  # 20 digits
    python benchmarks/bench_page.py --url http://127.0.0.1:8000/ --digits 40
"""

import argparse
import math
import shutil
import signal
import statistics
import time

from bench_draw import start_server  # 08 --quick --no-browser, as a learner starts it

SHAPES = {  # (x, y) points on the 280x280 canvas
    "1": [(140, 40 + 10 * i) for i in range(21)],
    "7": [(70 + 7 * i, 50) for i in range(21)] + [(210 - 4 * i, 50 + 10 * i) for i in range(21)],
    "0": [
        (round(140 + 60 * math.sin(t)), round(140 - 90 * math.cos(t)))
        for t in (2 * math.pi * i / 24 for i in range(25))
    ],
}


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,800"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def draw(driver, pad, points):
    from selenium.webdriver.common.action_chains import ActionChains

    actions = ActionChains(driver, duration=10)
    actions.move_to_element_with_offset(pad, points[0][0] - 140, points[0][1] - 140)
    actions.click_and_hold()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        actions.move_by_offset(x1 - x0, y1 - y0)
    actions.release().perform()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", help="a running lesson 08 (default: start one)")
    parser.add_argument("--digits", type=int, default=20, help="how many to draw (default 20)")
    args = parser.parse_args()
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        raise SystemExit("No chromium and chromedriver here (apt: chromium chromium-driver)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    lesson, url = (None, args.url) if args.url else start_server()
    driver = browser()
    try:
        driver.get(url)
        pad = driver.find_element(By.ID, "pad")
        measured = "return performance.getEntriesByName('answer on screen').length"
        for n in range(args.digits):
            driver.find_element(By.ID, "clear").click()
            draw(driver, pad, list(SHAPES.values())[n % len(SHAPES)])
            WebDriverWait(driver, 20).until(lambda d, n=n: d.execute_script(measured) > n)
            time.sleep(0.05)
        times = driver.execute_script(
            "return performance.getEntriesByName('answer on screen').map((m) => m.duration)"
        )
    finally:
        driver.quit()
        if lesson:
            lesson.send_signal(signal.SIGINT)
            lesson.wait(timeout=30)
    times = sorted(times)
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    print(f"Lesson 08's page in headless Chromium, {url}: {len(times)} digits drawn")
    print("from the pen's lift to the answer on screen, ms (the page's own performance.measure)")
    print(f"median {statistics.median(times):.1f}   p95 {p95:.1f}   slowest {times[-1]:.1f}")


if __name__ == "__main__":
    main()

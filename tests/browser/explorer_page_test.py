#!/usr/bin/env python3
"""The explorer page of `vae_cnn serve` in a real browser (Debian's chromium and chromium-driver,
driven by python3-selenium): it loads without a console error, the map holds every test image, the
digit shown under the pointer has the pixels `vae_cnn decode --z` gives at that z (within one grey
level), a stroke drawn on the pad puts a marker on the map, and a screenshot is written.

    /usr/bin/python3 tests/browser/explorer_page_test.py --binary build/vae_cnn --data data/mnist-sample \\
        --work DIR --screenshot FILE.png

Exit 0 when every check holds, 1 when one fails, 77 (ctest's "skipped") without chromium.
"""
import argparse
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None

SKIP = 77


def png_grey(path):
    """The grey levels of an 8-bit greyscale PNG (what `vae_cnn decode` writes), with zlib alone."""
    data = open(path, "rb").read()
    width, height = struct.unpack(">II", data[16:24])
    chunks, at = b"", 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks += data[at + 8:at + 8 + length]
        at += 12 + length
    raw, pixels, previous = zlib.decompress(chunks), [], [0] * width
    for row in range(height):
        line = raw[row * (width + 1):(row + 1) * (width + 1)]
        kind, values = line[0], list(line[1:])
        for i in range(width):
            left = values[i - 1] if i else 0
            up, up_left = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                values[i] = (values[i] + left) & 255
            elif kind == 2:
                values[i] = (values[i] + up) & 255
            elif kind == 3:
                values[i] = (values[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                values[i] = (values[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        pixels += values
        previous = values
    return pixels


def start_server(binary, weights, data, log):
    server = subprocess.Popen([binary, "serve", "-w", weights, "--data", data, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=log, text=True)
    line = server.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        server.kill()
        sys.exit(f"explorer_page_test: the server did not start: {line!r}")
    return server, f"http://127.0.0.1:{match.group(1)}/"


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1500,1150", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check(condition, message, failures):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def decoded_pixels_on_page(driver):
    """The 784 grey levels of the large decoded digit, read back from its canvas (8x8 pixel squares)."""
    return driver.execute_script("""
        const canvas = document.getElementById('decoded');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const step = canvas.width / 28, grey = [];
        for (let y = 0; y < 28; ++y) for (let x = 0; x < 28; ++x)
          grey.push(data[4 * (Math.floor((y + 0.5) * step) * canvas.width + Math.floor((x + 0.5) * step))]);
        return grey;""")


def move_pointer_to(driver, element, z):
    """Moves the mouse over `element` to the page position of latent point z."""
    x, y = driver.execute_script("return window.explorer.zToClient(arguments[0]);", z)
    box = driver.execute_script("const b = arguments[0].getBoundingClientRect(); return [b.left, b.top, b.width, b.height];",
                                element)
    ActionChains(driver).move_to_element_with_offset(element, round(x - box[0] - box[2] / 2),
                                                     round(y - box[1] - box[3] / 2)).perform()


def run_checks(driver, url, args, failures):
    started = time.monotonic()
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.explorer && window.explorer.ready === true"))
    print(f"     page interactive {time.monotonic() - started:.2f} s after it was asked for", flush=True)
    points = driver.execute_script("return window.explorer.means.length")
    check(points == 1663, f"the map holds {points} points (1,663 test images)", failures)
    latent = driver.execute_script("return window.explorer.info.latent_dim")
    if latent > 2:
        sliders = len(driver.find_elements(By.CSS_SELECTOR, "#sliders input[type=range]"))
        selects = len(driver.find_elements(By.CSS_SELECTOR, "#dims select"))
        check(sliders == latent - 2 and selects == 2,
              f"latent size {latent}: {selects} selects choose the map's dimensions, {sliders} sliders set the rest",
              failures)
        # The third dimension's slider moved: the next decode carries its value.
        driver.execute_script("""const s = document.querySelector('#sliders input');
            s.value = 1.5; s.dispatchEvent(new Event('input'));""")

    map_canvas = driver.find_element(By.ID, "map")
    move_pointer_to(driver, map_canvas, [0.5, -1.0])
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "const e = window.explorer; return e.lastDecoded && !e.inFlight && !e.pendingZ"))
    z = driver.execute_script("return window.explorer.lastDecoded.z")
    check(len(z) == latent and abs(z[0] - 0.5) < 0.05 and abs(z[1] + 1.0) < 0.05 and all(abs(v - 1.5) < 1e-6 for v in z[2:]),
          f"the pointer is at z = {z} (asked for 0.5, -1{', sliders 1.5' if latent > 2 else ''})", failures)
    expected_png = os.path.join(args.work, "decoded.png")
    subprocess.run([args.binary, "decode", "-w", args.weights, "--z", ",".join(repr(v) for v in z), "-o", expected_png],
                   check=True)
    expected, shown = png_grey(expected_png), decoded_pixels_on_page(driver)
    largest = max(abs(a - b) for a, b in zip(expected, shown))
    check(len(shown) == 784 and largest <= 1,
          f"the digit under the pointer matches vae_cnn decode --z at that z (largest difference {largest} grey levels)",
          failures)

    pad = driver.find_element(By.ID, "pad")
    stroke = ActionChains(driver).move_to_element_with_offset(pad, -10, -80).click_and_hold()
    for dx, dy in ((20, 30), (10, 40), (-5, 40), (-10, 30)):
        stroke = stroke.move_by_offset(dx, dy)
    stroke.release().perform()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return window.explorer.drawnZ !== null"))
    drawn = driver.execute_script("return window.explorer.drawnZ")
    check(isinstance(drawn, list) and len(drawn) == latent, f"the drawn digit is marked on the map at z = {drawn}", failures)

    move_pointer_to(driver, map_canvas, driver.execute_script("return window.explorer.means[0]"))
    ActionChains(driver).click().perform()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return window.explorer.selected >= 0"))
    text = driver.find_element(By.ID, "test-text").text
    check(text.startswith("test image"), f"a clicked point shows its test image: {text!r}", failures)

    driver.find_element(By.ID, "line-mode").click()
    for z_end in ([-2.0, 0.0], [2.0, 0.5]):
        move_pointer_to(driver, map_canvas, z_end)
        ActionChains(driver).click().perform()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#line-digits canvas').length === 10"))
    check(True, "the line between two clicked points shows 10 digits", failures)

    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    check(not errors, f"no console error ({errors})", failures)
    driver.save_screenshot(args.screenshot)
    print(f"     screenshot: {args.screenshot}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--weights", help="weights to serve (default: a short training run of its own)")
    parser.add_argument("--latent-dim", default="2", help="latent size of that training run (2)")
    args = parser.parse_args()
    if webdriver is None or not os.path.exists("/usr/bin/chromedriver") or not shutil.which("chromium"):
        print("explorer_page_test: chromium, chromium-driver or python3-selenium missing (scripts/install_deps.sh)")
        return SKIP
    os.makedirs(args.work, exist_ok=True)
    if not args.weights:
        model = os.path.join(args.work, "model")
        subprocess.run([args.binary, "train", "--data", args.data, "--limit", "2048", "--epochs", "3", "--seed", "3",
                        "--latent-dim", args.latent_dim,
                        "--lr-warmup", "0", "--threads", "2", "--overwrite", "--out", model], check=True,
                       stdout=subprocess.DEVNULL)
        # Weights are named after the data folder they were trained on.
        args.weights = os.path.join(model, f"vae_cnn.{os.path.basename(os.path.normpath(args.data))}.pt")
    failures = []
    with open(os.path.join(args.work, "serve.err"), "w") as log:
        server, url = start_server(args.binary, args.weights, args.data, log)
        driver = None
        try:
            driver = browser()
            run_checks(driver, url, args, failures)
        finally:
            if driver is not None:
                driver.quit()
            server.send_signal(signal.SIGINT)
            code = server.wait(timeout=30)
    check(code == 130, f"Ctrl-C ended the server with {code}", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

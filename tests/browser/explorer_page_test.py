#!/usr/bin/env python3
"""The explorer page of `vae_cnn serve` in a real browser (Debian's chromium and chromium-driver,
driven by python3-selenium): it loads without a console error, the map holds every test image, the
legend names the classes, the digit shown under the pointer has the pixels `vae_cnn decode --z`
gives at that z (within one level per channel), a stroke drawn on the pad puts a marker on the map,
a clicked point and the point under the pointer name their class, and a screenshot is written.

    /usr/bin/python3 tests/browser/explorer_page_test.py --binary build/vae_cnn --data data/mnist-sample \\
        --work DIR --screenshot FILE.png [--colour]

--colour serves a colour model instead: DIR/tinted, 300 training and 300 test images of the MNIST
sample as 32x32 RGB digits in class folders named zero..nine (scripts/mnist_to_image_folder.py
--tinted), and the weights of three epochs on them.

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


DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def png_levels(path):
    """The levels of an 8-bit grey or RGB PNG (colour type 0 or 2, what `vae_cnn decode` writes),
    with zlib alone, planar as the API sends them: channel after channel, each row by row."""
    data = open(path, "rb").read()
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    if depth != 8 or colour_type not in (0, 2):
        sys.exit(f"explorer_page_test: {path}: bit depth {depth}, colour type {colour_type}; expected 8 and 0 or 2")
    channels = 3 if colour_type == 2 else 1
    stride = width * channels
    chunks, at = b"", 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks += data[at + 8:at + 8 + length]
        at += 12 + length
    raw, interleaved, previous = zlib.decompress(chunks), [], [0] * stride
    for row in range(height):
        line = raw[row * (stride + 1):(row + 1) * (stride + 1)]
        kind, values = line[0], list(line[1:])
        for i in range(stride):
            # Filters work on the byte one pixel to the left: `channels` bytes back.
            left = values[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
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
        interleaved += values
        previous = values
    return [interleaved[i * channels + c] for c in range(channels) for i in range(width * height)]


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
    """The C·H·W levels of the large decoded digit, planar, read back from the centres of its
    canvas's pixel squares (8x8 for 28x28 images, 7x7 for 32x32)."""
    return driver.execute_script("""
        const canvas = document.getElementById('decoded');
        const [channels, height, width] = window.explorer.info.image_shape;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const stepX = canvas.width / width, stepY = canvas.height / height, levels = [];
        for (let c = 0; c < channels; ++c) for (let y = 0; y < height; ++y) for (let x = 0; x < width; ++x)
          levels.push(data[4 * (Math.floor((y + 0.5) * stepY) * canvas.width + Math.floor((x + 0.5) * stepX)) + c]);
        return levels;""")


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
    check(points == args.test_images, f"the map holds {points} points ({args.test_images:,} test images)", failures)
    latent = driver.execute_script("return window.explorer.info.latent_dim")
    shape = driver.execute_script("return window.explorer.info.image_shape")
    check(shape == args.image_shape, f"the page shows images of {shape} (C, H, W; expected {args.image_shape})", failures)
    legend = [entry.text for entry in driver.find_elements(By.CSS_SELECTOR, "#legend span")]
    check(legend == args.class_names, f"the legend names the classes {legend} (expected {args.class_names})", failures)
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
    expected, shown = png_levels(expected_png), decoded_pixels_on_page(driver)
    largest = max(abs(a - b) for a, b in zip(expected, shown))
    levels = args.image_shape[0] * args.image_shape[1] * args.image_shape[2]
    check(len(expected) == levels and len(shown) == levels and largest <= 1,
          f"the digit under the pointer matches vae_cnn decode --z at that z ({len(shown)} levels, largest "
          f"difference {largest} per channel)", failures)
    if args.image_shape[0] == 3:
        # Drawn grey, the page would miss decode's colours wherever its channels differ: there are such pixels.
        area = args.image_shape[1] * args.image_shape[2]
        tinted = sum(1 for i in range(area) if max(expected[i::area]) - min(expected[i::area]) > 1)
        check(tinted > 0, f"decode's digit there has {tinted} pixels whose channels differ (so the match is in colour)",
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
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "pointer-text").text != "")
    hover = driver.find_element(By.ID, "pointer-text").text
    check(re.fullmatch(r"test image \d+, " + args.class_pattern, hover) is not None,
          f"the point under the pointer names its class: {hover!r}", failures)
    ActionChains(driver).click().perform()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return window.explorer.selected >= 0"))
    text = driver.find_element(By.ID, "test-text").text
    label = driver.execute_script("return window.explorer.labels[window.explorer.selected]")
    named = f"digit {label}" if args.class_names == [str(d) for d in range(10)] else f"class {args.class_names[label]}"
    check(text.startswith("test image ") and f", {named}, z = (" in text,
          f"a clicked point shows its test image and names its class ({named}): {text!r}", failures)
    # The test image as the API sent it, against its canvas: a tinted digit's channels differ, so this
    # holds only if the page draws each channel where it belongs.
    sent, drawn = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('api/test/' + window.explorer.selected).then((r) => r.json()).then((reply) => {
          const canvas = document.getElementById('test-original');
          const [channels, height, width] = window.explorer.info.image_shape;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const stepX = canvas.width / width, stepY = canvas.height / height, levels = [];
          for (let c = 0; c < channels; ++c) for (let y = 0; y < height; ++y) for (let x = 0; x < width; ++x)
            levels.push(data[4 * (Math.floor((y + 0.5) * stepY) * canvas.width + Math.floor((x + 0.5) * stepX)) + c]);
          done([reply.pixels, levels]);
        });""")
    area = args.image_shape[1] * args.image_shape[2]
    tinted = sum(1 for i in range(area) if len(set(sent[i::area])) > 1)
    check(sent == drawn and (args.image_shape[0] == 1 or tinted > 0),
          f"the test image's canvas holds the {len(sent)} levels the API sent ({tinted} pixels of more than one colour)",
          failures)

    driver.find_element(By.ID, "line-mode").click()
    for z_end in ([-2.0, 0.0], [2.0, 0.5]):
        move_pointer_to(driver, map_canvas, z_end)
        ActionChains(driver).click().perform()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#line-digits canvas').length === 10"))
    check(True, "the line between two clicked points shows 10 digits", failures)

    # For the screenshot: the pointer back on the clicked test image, its class named under the map.
    move_pointer_to(driver, map_canvas, driver.execute_script("return window.explorer.means[window.explorer.selected]"))
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "const e = window.explorer; return !e.inFlight && !e.pendingZ"))
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    check(not errors, f"no console error ({errors})", failures)
    driver.save_screenshot(args.screenshot)
    print(f"     screenshot: {args.screenshot}")


def make_colour_model(args):
    """The tinted digits of --data (300 of each split) under WORK/tinted, three epochs' weights on them
    under WORK/model-colour; --data becomes that folder, --weights those weights (unless given)."""
    tinted = os.path.join(args.work, "tinted")
    shutil.rmtree(tinted, ignore_errors=True)
    subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                                                     "mnist_to_image_folder.py"),
                    "--tinted", "--limit", "300", "--data", args.data, tinted], check=True, stdout=subprocess.DEVNULL)
    args.data = tinted
    if not args.weights:
        model = os.path.join(args.work, "model-colour")
        # Three epochs, not one: after one the decoder draws the same grey everywhere, and a grey
        # digit would not show whether the page puts each channel where it belongs.
        subprocess.run([args.binary, "train", "--data", tinted, "--epochs", "3", "--lr-warmup", "0", "--seed", "1",
                        "--threads", "1", "--overwrite", "--out", model], check=True, stdout=subprocess.DEVNULL)
        args.weights = os.path.join(model, "vae_cnn.tinted.pt")
    args.test_images, args.image_shape = 300, [3, 32, 32]
    # Class folders in byte order: "eight" first.
    args.class_names = sorted(DIGIT_WORDS)
    args.class_pattern = "class (" + "|".join(DIGIT_WORDS) + ")"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--weights", help="weights to serve (default: a short training run of its own)")
    parser.add_argument("--latent-dim", default="2", help="latent size of that training run (2)")
    parser.add_argument("--colour", action="store_true",
                        help="serve a colour model: 32x32 RGB digits in class folders zero..nine, made from --data")
    args = parser.parse_args()
    if webdriver is None or not os.path.exists("/usr/bin/chromedriver") or not shutil.which("chromium"):
        print("explorer_page_test: chromium, chromium-driver or python3-selenium missing (scripts/install_deps.sh)")
        return SKIP
    os.makedirs(args.work, exist_ok=True)
    if args.colour:
        make_colour_model(args)
    else:
        args.test_images, args.image_shape = 1663, [1, 28, 28]
        args.class_names, args.class_pattern = [str(d) for d in range(10)], r"digit \d"
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

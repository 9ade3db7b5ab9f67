"""results/draw.html: its size for each preset, the time it takes to open, and how closely it follows
the package, in headless Chromium (Debian's chromium and chromium-driver, and selenium).

- size: the page of a 784-H-10 network, H being each preset's hidden units (256, 256, 800): it
  depends on H alone (the weights are base64 float32), so the frontier's is made of random weights;
- open: `performance.now()` when the page's script has finished (the weights decoded, a blank canvas
  classified), the median of 5 loads from file://;
- agreement: N held-out sample digits put on the canvas (dark on white, upscaled to 120-270 px at
  random places, as tests/test_draw_browser.py does) with the `best` preset trained on the sample's
  4,000 training rows: the largest difference of the page's 28x28 from to_mnist of the same canvas
  pixels, of its probabilities from NumPy's, the answers that differ, and the median time of one
  classification in the page.

    python benchmarks/bench_draw.py [N]
"""

from __future__ import annotations

import base64
import io
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from selenium import webdriver

from mnistflow.data.prepare import split
from mnistflow.data.sources import load_sample
from mnistflow.own_digits.draw_page import write_draw_page
from mnistflow.own_digits.images import to_mnist
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.settings.presets import PRESETS
from mnistflow.training import network
from mnistflow.training.train import train

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_draw_browser import CHROMIUM, DRIVER, PUT_DIGIT, READ_BACK  # as the test draws


def _driver() -> webdriver.Chrome:
    if CHROMIUM is None or DRIVER is None:
        sys.exit("bench_draw.py: needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # and the driver named: selenium then looks for nothing online
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))


def main(n: int) -> None:
    data = split(load_sample())
    best, _ = train(data["X_train"], data["Y_train"], PRESETS["best"])
    rng = np.random.default_rng(0)
    frontier = {"W1": rng.normal(size=(784, 800)), "b1": rng.normal(size=800),
                "W2": rng.normal(size=(800, 10)), "b2": rng.normal(size=10)}
    folder = Path(tempfile.mkdtemp())
    driver = _driver()
    for preset, params in (("exercise, best", best), ("frontier", frontier)):
        page = folder / f"{preset[:5]}.html"
        write_draw_page(page, params, ModelInfo("results/model.npz", "0" * 64, f"preset {preset}"))
        opened = []
        for _ in range(5):
            driver.get(page.as_uri())
            opened.append(driver.execute_script("return window.mnistflow.openedMs"))
        print(f"{preset}: {page.stat().st_size / 1e6:.2f} MB ({page.stat().st_size:,} bytes), opens in "
              f"{statistics.median(opened):.0f} ms (median of 5: {', '.join(f'{t:.0f}' for t in opened)})")
    driver.get((folder / "exerc.html").as_uri())
    pixels, probabilities, differ, ms = 0.0, 0.0, 0, []
    for k in range(n):
        size = int(rng.integers(120, 271))
        x, y = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        digit = np.rint(data["X_test"][k] * 255).astype(int).tolist()
        driver.execute_script(PUT_DIGIT, digit, size, x, y)
        url, state = driver.execute_script(READ_BACK)
        expected = to_mnist(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
        _, proba = network.forward(best, expected.reshape(1, -1))
        pixels = max(pixels, float(np.abs(np.array(state["input"]).reshape(28, 28) - expected).max()))
        probabilities = max(probabilities, float(np.abs(np.array(state["probabilities"]) - proba[0]).max()))
        differ += state["answer"] != int(np.argmax(proba))
        ms.append(state["ms"])
    driver.quit()
    print(f"{n} digits: largest pixel difference {pixels * 255:.2f}/255, probability {probabilities:.1e}; "
          f"answers differing {differ}; one classification {statistics.median(ms):.0f} ms (median)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)

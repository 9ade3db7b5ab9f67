"""results/draw.html in a real browser: headless Chromium driven by Selenium (`make test-browser`
installs Debian's chromium and chromium-driver when they are missing, as root).

Digits are put on the canvas as a user's drawing would be: held-out sample digits, dark on white,
upscaled with the canvas's own smoothing to 120-270 px at random places, and a few drawn with real
pointer events (mouse and touch). For each, the page's 28x28 input must be to_mnist's of the very same
canvas pixels (read back from the page as a PNG) to within 1/255 a pixel, its probabilities NumPy's to
1e-5, and its answer the package's. Screenshots at desktop and phone sizes go to $MNISTFLOW_SCREENSHOTS
(default: the test's temporary folder), to be looked at.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnistflow.own_digits.draw_page import write_draw_page
from mnistflow.own_digits.image_file import read_image
from mnistflow.own_digits.images import to_mnist
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.training import network

pytestmark = pytest.mark.browser

N_DIGITS = 36  # held-out digits put on the canvas
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
DRIVER = shutil.which("chromedriver")

# a 28x28 digit (bytes, white ink on black) drawn dark on white, scaled to `size` px at (x, y)
PUT_DIGIT = """
const [pixels, size, x, y] = arguments, small = document.createElement("canvas");
small.width = small.height = 28;
const sctx = small.getContext("2d"), im = sctx.createImageData(28, 28);
for (let i = 0; i < 784; i++) { const v = 255 - pixels[i]; im.data.set([v, v, v, 255], 4 * i); }
sctx.putImageData(im, 0, 0);
window.mnistflow.clear();
const ctx = window.mnistflow.canvas.getContext("2d");
ctx.imageSmoothingEnabled = true; ctx.drawImage(small, x, y, size, size);
window.mnistflow.classify();
"""
READ_BACK = "return [window.mnistflow.canvas.toDataURL('image/png'), window.mnistflow.state()]"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no chromium and chromedriver: `make test-browser` installs them (apt-get install "
                    "chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="no selenium: pip install selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                     "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(best_on_sample: network.Params, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("draw") / "draw.html"
    write_draw_page(path, best_on_sample, ModelInfo("model.npz", "0" * 64, "preset best, on the sample"))
    return path


@pytest.fixture
def opened(browser: Any, page: Path) -> Any:
    browser.set_window_size(1280, 900)
    browser.get(page.as_uri())
    return browser


def _compare(driver: Any, params: network.Params, tmp_path: Path) -> tuple[float, float, int | None]:
    """(max pixel difference, max probability difference, answer) of the page against to_mnist of the
    canvas's pixels and network.forward; asserts the page's answer is the package's."""
    url, state = driver.execute_script(READ_BACK)
    png = tmp_path / "canvas.png"
    png.write_bytes(base64.b64decode(url.split(",", 1)[1]))
    expected = to_mnist(read_image(png))  # (28, 28)
    seen = np.array(state["input"], dtype=np.float64).reshape(28, 28)
    _, proba = network.forward(params, expected.reshape(1, -1))  # (1, 10)
    assert state["answer"] == int(np.argmax(proba)), (state["answer"], proba)
    return (float(np.abs(seen - expected).max()),
            float(np.abs(np.array(state["probabilities"]) - proba[0]).max()), state["answer"])


def test_the_page_sees_and_answers_as_the_package_for_digits_put_on_the_canvas(
    opened: Any, best_on_sample: network.Params, sample_split: dict[str, np.ndarray], tmp_path: Path
) -> None:
    rng = np.random.default_rng(22)
    right = 0
    for k in range(N_DIGITS):
        digit = np.rint(sample_split["X_test"][k] * 255).astype(int).tolist()
        size = int(rng.integers(120, 271))
        x, y = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        opened.execute_script(PUT_DIGIT, digit, size, x, y)
        pixels, proba, answer = _compare(opened, best_on_sample, tmp_path)
        assert pixels <= 1 / 255 + 1e-7, (k, pixels * 255)
        assert proba <= 1e-5, (k, proba)
        right += answer == int(np.argmax(sample_split["Y_test"][k]))
    assert right >= 0.8 * N_DIGITS  # the network reads them: the page is of use


def _stroke(actions: Any, canvas: Any, points: list[tuple[float, float]]) -> None:
    """One stroke through ``points`` (offsets from the canvas's centre, CSS px)."""
    actions.pointer_action.move_to(canvas, *points[0]).pointer_down()
    for point in points[1:]:
        actions.pointer_action.move_to(canvas, *point)
    actions.pointer_action.pointer_up()


@pytest.mark.parametrize("kind", ["mouse", "touch"])
def test_a_digit_drawn_with_pointer_events_is_seen_as_the_package_sees_it(
    opened: Any, best_on_sample: network.Params, tmp_path: Path, kind: str
) -> None:
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    from selenium.webdriver.common.by import By

    canvas = opened.find_element(By.ID, "pad")
    pointer = interaction.POINTER_MOUSE if kind == "mouse" else interaction.POINTER_TOUCH
    actions = ActionBuilder(opened, mouse=PointerInput(pointer, kind), duration=50)  # ms a move
    if kind == "mouse":  # a 7: the bar, then the stem
        _stroke(actions, canvas, [(-70, -110), (0, -112), (70, -110), (40, -30), (10, 50), (-10, 120)])
    else:  # a 0: an oval, closed
        oval = [(60 * np.sin(t), -100 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 25)]
        _stroke(actions, canvas, [(round(float(a)), round(float(b))) for a, b in oval])
    actions.perform()
    pixels, proba, answer = _compare(opened, best_on_sample, tmp_path)
    assert pixels <= 1 / 255 + 1e-7 and proba <= 1e-5
    assert answer == (7 if kind == "mouse" else 0)


def test_clear_clears_and_a_blank_canvas_says_draw_a_digit(
    opened: Any, sample_split: dict[str, np.ndarray]
) -> None:
    from selenium.webdriver.common.by import By

    assert opened.find_element(By.ID, "answer").text == "draw a digit"  # as it opens
    digit = np.rint(sample_split["X_test"][0] * 255).astype(int).tolist()
    opened.execute_script(PUT_DIGIT, digit, 200, 40, 40)
    assert opened.execute_script(READ_BACK)[1]["answer"] is not None
    opened.find_element(By.ID, "clear").click()
    state = opened.execute_script(READ_BACK)[1]
    assert state["answer"] is None and state["probabilities"] is None
    assert opened.find_element(By.ID, "answer").text == "draw a digit"
    white = opened.execute_script("const c = window.mnistflow.canvas; return Array.from("
                                  "c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
                                  ".every((v) => v === 255)")
    assert white
    assert [row.text for row in opened.find_elements(By.CSS_SELECTOR, "#bars td:last-child")] == [""] * 10


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 900, "desktop"), (390, 844, "phone")])
def test_the_page_fits_the_screen_and_opens_in_under_a_second(
    browser: Any, page: Path, sample_split: dict[str, np.ndarray], tmp_path: Path,
    width: int, height: int, name: str,
) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 2 if name == "phone" else 1,
        "mobile": name == "phone"})
    try:
        browser.get(page.as_uri())
        assert browser.execute_script("return window.mnistflow.openedMs") < 1000
        browser.execute_script(PUT_DIGIT, np.rint(sample_split["X_test"][3] * 255).astype(int).tolist(),
                               190, 50, 40)
        # the whole canvas within the screen's width, and no sideways scrolling
        box = browser.execute_script("const r = window.mnistflow.canvas.getBoundingClientRect();"
                                     "return [r.left, r.right, document.documentElement.scrollWidth]")
        assert box[0] >= 0 and box[1] <= width and box[2] <= width
        folder = Path(os.environ.get("MNISTFLOW_SCREENSHOTS", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(folder / f"draw-{name}.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

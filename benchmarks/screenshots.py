"""Screenshots of the workflow's pages in headless Chromium, and whether each fits its window.

Opens each page at each ``--width`` (a viewport of that many CSS pixels, device scale 1), saves a
full-length PNG as ``DIR/<page>-<width>.png`` and prints, per page and width: the page's width
(``document.documentElement.scrollWidth``) against the window's (``clientWidth``; larger means the
page scrolls sideways), the elements that stick out of the window, the boxes that scroll sideways
inside themselves (a wide table's wrapper: that is fine), and each figure's on-screen scale
(displayed / natural width: a figure's 11 px text shows at 11 x scale px). The same, as JSON, is
``DIR/screenshots.json``. Exits 1 when any page scrolls sideways.

It needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``) and nothing
from PyPI: it speaks the WebDriver protocol (plain HTTP and JSON) to ``chromedriver`` itself. The
pages are opened as ``file://`` URLs with the network off; they are self-contained.

    python benchmarks/screenshots.py results/report.html results/predictions.html \\
        results/sweeps/learning_rate/comparison.html --width 1280 --width 390 --out /tmp/shots
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
MAX_HEIGHT = 12000  # px: a screenshot taller than this is cut there

# run in the page: its width against the window's, what sticks out, what scrolls inside itself
MEASURE = """
const doc = document.documentElement, win = doc.clientWidth;
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
  + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
const sideways = e => { const s = getComputedStyle(e).overflowX; return s === 'auto' || s === 'scroll'; };
const outside = [], scrolling = [];
for (const e of document.body.querySelectorAll('*')) {
  let up = e.parentElement, clipped = false;
  for (; up && up !== document.body; up = up.parentElement) if (sideways(up)) { clipped = true; break; }
  if (clipped) continue;
  if (sideways(e) && e.scrollWidth > e.clientWidth)
    scrolling.push({element: name(e), width: e.scrollWidth, box: e.clientWidth});
  const box = e.getBoundingClientRect(), style = getComputedStyle(e);
  let right = box.right + window.scrollX;  // its box, or the text that overflows it
  if (!sideways(e) && style.display !== 'inline' && e.scrollWidth > e.clientWidth + 1)
    right = Math.max(right, box.left + window.scrollX + e.scrollWidth);
  if (right > win + 0.5) outside.push({element: name(e), right: Math.round(right)});
}
const figures = [...document.images].filter(i => i.naturalWidth > 200).map(i => ({
  alt: i.alt, natural: i.naturalWidth, shown: Math.round(i.getBoundingClientRect().width),
  scale: Math.round(100 * i.getBoundingClientRect().width / i.naturalWidth) / 100}));
return {page_width: doc.scrollWidth, window_width: win, inner_width: window.innerWidth,
        height: doc.scrollHeight, outside: outside.slice(0, 8), scrolling, figures};
"""


def find(names: Sequence[str]) -> str | None:
    """The first of ``names`` on the PATH, or None."""
    return next((path for name in names if (path := shutil.which(name))), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Driver:
    """A minimal WebDriver client: one session of headless Chromium through chromedriver."""

    def __init__(self, url: str, browser: str, profile: str) -> None:
        self.url = url
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--hide-scrollbars", "--force-device-scale-factor=1", f"--user-data-dir={profile}"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": browser, "args": args}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"chromedriver: {method} {path}: {error.read().decode()[:500]}") from None

    def command(self, method: str, path: str, body: Any = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def cdp(self, cmd: str, params: dict[str, Any]) -> Any:
        """A Chrome DevTools command (chromedriver passes it through)."""
        return self.command("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params})

    def viewport(self, width: int, height: int) -> None:
        self.cdp("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def close(self) -> None:
        self.command("DELETE", "")


@contextmanager
def chromium() -> Iterator[Driver]:
    """chromedriver on a free loopback port, and a session of headless Chromium with a fresh
    profile; both ended afterwards."""
    browser, driver = find(BROWSERS), find(("chromedriver",))
    if not browser or not driver:
        raise SystemExit("needs chromium and chromedriver on the PATH "
                         "(Debian: apt-get install chromium chromium-driver)")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="screenshots-") as profile:
        process = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):  # ready within a few seconds
                try:
                    with urllib.request.urlopen(url + "/status", timeout=2) as response:
                        if json.load(response)["value"].get("ready"):
                            break
                except OSError:
                    pass
                time.sleep(0.1)
            session = Driver(url, browser, os.path.join(profile, "profile"))
            try:
                session.cdp("Network.emulateNetworkConditions", {  # the pages need no network
                    "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
                yield session
            finally:
                session.close()
        finally:
            process.terminate()
            process.wait(timeout=10)


def look(driver: Driver, page: Path, width: int, png: Path | None) -> dict[str, Any]:
    """Open ``page`` in a ``width``-px window, measure it and (to ``png``) take a full screenshot."""
    driver.viewport(width, 900)
    driver.command("POST", "/url", {"url": page.resolve().as_uri()})
    measured: dict[str, Any] = driver.command("POST", "/execute/sync", {"script": MEASURE, "args": []})
    if png is not None:
        driver.viewport(width, min(int(measured["height"]), MAX_HEIGHT))
        shot = driver.command("GET", "/screenshot")
        png.write_bytes(base64.b64decode(shot))
    fits = measured["page_width"] <= measured["window_width"]
    return {"page": str(page), "width": width, "fits": fits, **measured,
            "screenshot": None if png is None else str(png)}


def _stem(page: Path) -> str:
    """A file name for a page: comparison pages are named after their sweep."""
    if page.name == "comparison.html":
        return f"comparison-{page.parent.name}"
    return page.stem


def _print(result: dict[str, Any]) -> None:
    verdict = "fits" if result["fits"] else "SCROLLS SIDEWAYS"
    print(f"{result['page']} at {result['width']} px: page {result['page_width']} px wide in a "
          f"{result['window_width']} px window ({verdict}), {result['height']} px tall")
    for box in result["scrolling"]:
        print(f"    scrolls inside itself: {box['element']} ({box['width']} px in {box['box']} px)")
    for element in result["outside"]:
        print(f"    sticks out: {element['element']} (right edge at {element['right']} px)")
    for figure in result["figures"]:
        print(f"    figure {figure['alt']!r}: {figure['natural']} px shown at {figure['shown']} px "
              f"(scale {figure['scale']})")
    if result["screenshot"]:
        print(f"    {result['screenshot']}")


def main(cli_args: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, help="HTML files")
    parser.add_argument("--width", type=int, action="append",
                        help="window width in CSS px (repeatable; default 1280)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs and screenshots.json")
    parser.add_argument("--no-png", action="store_true", help="measure only")
    args = parser.parse_args(cli_args)
    missing = [str(p) for p in args.pages if not p.is_file()]
    if missing:
        parser.error(f"no such page: {', '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    with chromium() as driver:
        for page in args.pages:
            for width in args.width or [1280]:
                png = None if args.no_png else args.out / f"{_stem(page)}-{width}.png"
                results.append(look(driver, page, width, png))
                _print(results[-1])
    (args.out / "screenshots.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0 if all(r["fits"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The results pages fit a 1280-px window and a phone's: a wide table scrolls inside its own box,
never the page; figures are shown at their own size there, so their text (the legends' included)
is at least 11 px on the screen.

The fast tests read the pages' HTML and style sheets and the comparison's matplotlib figures; the
slow one opens the pages in headless Chromium (benchmarks/screenshots.py) and measures them, when
Chromium and chromedriver are installed.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from conftest import ROOT, Workflow
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.own_digits.predict import Prediction
from mnistflow.own_digits.predict_page import render_predictions
from mnistflow.sweeps.compare import Comparison, RunFiles, RunResult
from mnistflow.sweeps.compare_page import (
    DPI,
    curves_figure,
    metric_figure,
    plot_curves,
    plot_metric_by_setting,
    write_page,
)

MIN_TEXT_PX = 11  # the smallest text a figure may show at its own size
REM_PX = 16  # a browser's default font size


def _run(settings: dict[str, object], line: int, val: float, last_loss: float = 0.6) -> RunResult:
    """A made-up run that trained 3 epochs; its folder named after its row, as a sweep names it."""
    folder = "/".join(f"{k}~{v}" for k, v in settings.items())
    files = RunFiles(folder=folder, line=line, settings=settings, config=settings,
                     metrics=f"{folder}/metrics.json", history=f"{folder}/training_log.csv",
                     report=f"{folder}/report.html", train_seconds=12.5, peak_memory_mb=512.0)
    history = {"epoch": np.array([1.0, 2, 3]), "loss": np.array([2.3, 1.1, last_loss]),
               "val_accuracy": np.array([val - 0.2, val - 0.05, val])}
    return RunResult(files=files, val_accuracy=val, val_epoch=3, val_rows=400, test_accuracy=val - 0.01,
                     test_loss=0.4567, epochs_run=3, train_seconds=12.5, peak_memory_mb=512.0,
                     history=history)


def _learning_rates() -> Comparison:
    """One setting, short run names (config/sweeps/learning_rate.tsv)."""
    runs = [_run({"learning_rate": lr}, i, v)
            for i, (lr, v) in enumerate([(0.5, 0.58), (0.05, 0.17), (0.1, 0.25), (0.2, 0.45), (0.8, 0.56),
                                         (1.0, 0.55)], start=2)]
    return Comparison("learning_rate", "config/sweeps/learning_rate.tsv", ("learning_rate",), tuple(runs))


def _grid() -> Comparison:
    """Three columns, long run names, a wide table (config/sweeps/best_grid.tsv)."""
    runs = [_run({"preset": "best", "hidden": h, "learning_rate": lr}, i, 0.7 + 0.01 * i)
            for i, (h, lr) in enumerate([(256, 0.003), (256, 0.001), (256, 0.01), (64, 0.001),
                                         (64, 0.003), (64, 0.01)], start=2)]
    return Comparison("best_grid", "config/sweeps/best_grid.tsv", ("preset", "hidden", "learning_rate"),
                      tuple(runs))


def _diverging() -> Comparison:
    """Two runs, one of whose losses is drawn clipped: its label says so, at length."""
    runs = [_run({"learning_rate": 0.5}, 2, 0.6), _run({"learning_rate": 8.0}, 3, 0.1, last_loss=1e250)]
    return Comparison("diverging", "config/sweeps/diverging.tsv", ("learning_rate",), tuple(runs))


SWEEPS = {"learning_rate": _learning_rates, "best_grid": _grid, "diverging": _diverging}

FIGURES: dict[str, Callable[[Comparison], Figure]] = {
    "curves": curves_figure,
    "by-learning_rate": lambda c: metric_figure(c, "learning_rate"),
}


# --- reading a page ---------------------------------------------------------------------------------


def _css(page: str) -> dict[str, dict[str, str]]:
    """The page's style sheet: selector -> {property: value} (a rule with several selectors gives
    each of them its declarations)."""
    (sheet,) = re.findall(r"<style>(.*?)</style>", page, re.S)
    style = re.sub(r"/\*.*?\*/", "", sheet, flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", style):
        pairs = (d.split(":", 1) for d in body.split(";") if ":" in d)
        declared = {k.strip(): v.strip() for k, v in pairs}
        for selector in selectors.split(","):
            rules.setdefault(" ".join(selector.split()), {}).update(declared)
    return rules


class _Tables(HTMLParser):
    """For each <table>, the classes of the elements it lies in (outermost first)."""

    VOID: ClassVar[frozenset[str]] = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str]] = []
        self.tables: list[list[str]] = []
        self.meta: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag == "table":
            self.tables.append([c for _, c in self.open] + [f"table.{classes}"])
        if tag == "meta":
            self.meta.append(dict(attrs))
        if tag not in self.VOID:
            self.open.append((tag, f"{tag}.{classes}"))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:  # an unclosed <p> or <li> closes too
            pass


def _parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def _png_width(data: str) -> int:
    """The width in px of a base64 PNG (from its IHDR chunk)."""
    return int(struct.unpack(">I", base64.b64decode(data)[16:20])[0])


def _column_px(page: str) -> float:
    """The width of the page's column: the body's max-width, in px."""
    width = _css(page)["body"]["max-width"]
    assert width.endswith("rem"), width
    return float(width.removesuffix("rem")) * REM_PX


# --- the pages --------------------------------------------------------------------------------------


def _comparison_page(tmp_path: Path, sweep: str = "best_grid") -> Path:
    path = tmp_path / sweep / "comparison.html"
    write_page(SWEEPS[sweep](), path, f"snakemake --configfile {tmp_path / sweep / 'best.yaml'}")
    return path


def _predictions_page(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(10))  # (10,)
    predictions = [Prediction(f"images/{i}-a-rather-long-file-name-for-a-phone.png", proba=proba,
                              pixels=rng.random((28, 28))) for i in range(3)]
    predictions.append(Prediction("images/notes.txt", error="images/notes.txt: not an image"))
    model = ModelInfo(model="results/model.npz", sha256="0" * 64, recipe="784-256-10, exercise, 3 epochs")
    render_predictions(predictions, model, tmp_path / "predictions.html")
    return tmp_path / "predictions.html"


@pytest.mark.parametrize("sweep", list(SWEEPS))
def test_the_runs_table_scrolls_inside_its_own_box_not_the_page(tmp_path: Path, sweep: str) -> None:
    page = _comparison_page(tmp_path, sweep).read_text()
    css, parsed = _css(page), _parse(page)
    assert len(parsed.tables) == 1
    assert "div.scroll" in parsed.tables[0] and css[".scroll"]["overflow-x"] == "auto"
    assert css["body"]["max-width"] and css["img"]["max-width"] == "100%"
    # the numbers keep to one line; the run names and a failure's reason wrap (at "/" for names)
    assert css["td"]["white-space"] == "nowrap" and css["td:nth-child(2)"]["white-space"] == "normal"
    assert css["code"]["overflow-wrap"] == "anywhere"
    if sweep == "best_grid":
        assert ">preset~best/<wbr>hidden~256/<wbr>learning_rate~0.003</a>" in page


def test_every_table_of_the_report_scrolls_inside_its_own_box(_finished_once: Workflow) -> None:
    page = (_finished_once / "results/report.html").read_text()
    css, parsed = _css(page), _parse(page)
    assert len(parsed.tables) >= 3  # per class, configuration, provenance
    assert all("div.scroll" in inside for inside in parsed.tables), parsed.tables
    assert css[".scroll"]["overflow-x"] == "auto" and css["img"]["max-width"] == "100%"
    assert css["code"]["overflow-wrap"] == "anywhere"  # a sha256 wraps on a phone


def test_the_cards_of_the_predictions_page_never_get_wider_than_the_window(tmp_path: Path) -> None:
    css = _css(_predictions_page(tmp_path).read_text())
    # a column is 17rem, or the whole width when the window is narrower than that
    assert "minmax(min(17rem, 100%), 1fr)" in css[".grid"]["grid-template-columns"]


@pytest.mark.parametrize("kind", ["report", "comparison", "predictions"])
def test_a_phone_shows_each_page_at_its_own_width(
    _finished_once: Workflow, tmp_path: Path, kind: str
) -> None:
    path = {"report": lambda: _finished_once / "results/report.html",
            "comparison": lambda: _comparison_page(tmp_path),
            "predictions": lambda: _predictions_page(tmp_path)}[kind]()
    page = path.read_text()
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in _parse(page).meta
    assert "http:" not in page and "https:" not in page  # self-contained: nothing to fetch


# --- the comparison's figures -----------------------------------------------------------------------


@pytest.mark.parametrize("sweep", list(SWEEPS))
@pytest.mark.parametrize("kind", list(FIGURES))
def test_every_text_of_a_figure_is_at_least_11_px_and_the_legend_hides_no_curve(
    kind: str, sweep: str
) -> None:
    fig = FIGURES[kind](SWEEPS[sweep]())
    fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    small = [(t.get_text(), t.get_fontsize()) for t in texts
             if float(t.get_fontsize()) * DPI / 72 < MIN_TEXT_PX]
    assert small == []
    (legend,) = fig.legends
    n_runs = len(SWEEPS[sweep]().runs)
    assert len(legend.get_texts()) == (n_runs if kind == "curves" else len(legend.get_lines()))
    box = legend.get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)


@pytest.mark.parametrize("sweep", list(SWEEPS))
def test_the_figures_are_shown_at_their_own_size_in_a_1280_px_window(tmp_path: Path, sweep: str) -> None:
    column = min(_column_px(_comparison_page(tmp_path, sweep).read_text()), 1280 - 2 * REM_PX)
    comparison = SWEEPS[sweep]()
    widths = [_png_width(plot_curves(comparison))] + [
        _png_width(plot_metric_by_setting(comparison, c)) for c in comparison.varied]
    assert max(widths) <= column, widths  # so no figure is scaled down, nor its text


# --- in a browser -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_page_scrolls_sideways_in_chromium(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None or shutil.which("chromedriver") is None:
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    finished: Workflow = request.getfixturevalue("_finished_once")  # only with a browser to look
    pages = [finished / "results/report.html", _comparison_page(tmp_path), _predictions_page(tmp_path)]
    out = tmp_path / "shots"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/screenshots.py"), *map(str, pages), "--width", "1280",
         "--width", "390", "--no-png", "--out", str(out)], capture_output=True, text=True, timeout=300)
    measured = json.loads((out / "screenshots.json").read_text())
    assert len(measured) == 6, result.stderr
    wide = [(m["page"], m["width"], m["page_width"], m["outside"]) for m in measured if not m["fits"]]
    assert wide == [] and result.returncode == 0
    comparison = next(m for m in measured if m["page"].endswith("comparison.html") and m["width"] == 390)
    assert [box["element"] for box in comparison["scrolling"]] == ["div.scroll"]  # the table, in its box

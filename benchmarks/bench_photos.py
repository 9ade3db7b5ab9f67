"""How well the network reads digits photographed on paper, against the same digits drawn cleanly,
and thick fonts with and without stroke-width normalisation.

    python benchmarks/bench_photos.py [--digits 1000]

The `best` preset is trained on the embedded sample's 4,000 training rows; its held-out digits (the
first ``--digits`` of the 1,000) are rendered by tests/user_images.paper_photo, 200-400 px, off-centre
on a page half as large again, once for each entry of user_images.DAMAGES: clean (black on white,
upright, evenly lit), then each kind of damage alone (the light falling off to half across the page,
a soft shadow taking half of it, tinted ink and paper, noise, JPEG quality 70, turned by up to 8
degrees), then all at once. Then thick digits: MNIST's with their strokes thickened (a marker), and
the DejaVu fonts' 0-9 (when installed; skipped otherwise), bold and regular, white on black and blue
on cream, turned by -6 to 6 degrees, 120 and 300 px.

Each line gives the share read right with stroke-width normalisation (as to_mnist does) and without
it (to_mnist with images.THICKEST set to infinity, so nothing counts as too thick), and how many
images it changed. Then the time to_mnist takes: its median over the all-at-once photos, and for
a 1023x1023 photo (median of 20).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image, ImageFilter

from mnistflow.data.prepare import split
from mnistflow.data.sources import load_sample
from mnistflow.own_digits import images
from mnistflow.own_digits.images import to_mnist
from mnistflow.settings.presets import PRESETS
from mnistflow.training import network
from mnistflow.training.train import train

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the renderings the tests use
from user_images import DAMAGES, font_digit, larger, on_paper, paper_photo  # noqa: E402

FONTS = Path("/usr/share/fonts")
BOLD = ["DejaVuSans-Bold", "DejaVuSansCondensed-Bold", "DejaVuSerif-Bold", "DejaVuSansMono-Bold",
        "DejaVuSans-BoldOblique", "DejaVuSerifCondensed-Bold"]
REGULAR = ["DejaVuSans", "DejaVuSansCondensed", "DejaVuSerif", "DejaVuSansMono", "DejaVuSans-ExtraLight"]
COLOURS = [((255, 255, 255), (0, 0, 0)), ((30, 40, 140), (250, 245, 225))]  # (ink, paper)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=1000, help="held-out digits to render (at most 1000)")
    args = parser.parse_args(argv)
    sample = split(load_sample())
    params, _ = train(sample["X_train"], sample["Y_train"], PRESETS["best"])
    digits = np.rint(sample["X_test"][: args.digits] * 255).astype(np.uint8)  # (n, 784) white on black
    labels = sample["Y_test"][: args.digits].argmax(axis=1)  # (n,)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}, {platform.node()} "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}); best preset "
          f"({PRESETS['best'].epochs} epochs) on the sample's 4,000 training rows")
    print(f"{'rendering':24s} {'n':>5s} {'accuracy':>9s} {'without':>8s} {'changed':>8s}")
    for kind, damage in DAMAGES.items():
        rng = np.random.default_rng(0)  # the same draws for every kind: only the damage differs
        photos = [paper_photo(digit, rng, damage) for digit in digits]
        _row(kind, params, photos, labels)
    _row("marker", params, [_marker(d) for d in digits], labels)
    for name, fonts in (("bold fonts", BOLD), ("regular fonts", REGULAR)):
        found = [path for font in fonts for path in FONTS.rglob(f"{font}.ttf")]
        if found:
            pictures, answers = zip(*_font_digits(found), strict=True)
            _row(f"{name} ({len(found)})", params, list(pictures), np.array(answers))
    rng = np.random.default_rng(0)
    photos = [paper_photo(digit, rng) for digit in digits[:200]]
    print(f"to_mnist, median over {len(photos)} all-at-once photos (300-600 px): "
          f"{statistics.median(_seconds(photos)) * 1000:.1f} ms")
    big = paper_photo(digits[0], np.random.default_rng(0), size=682)  # a 1023x1023 page
    print(f"to_mnist of a {big.size[0]}x{big.size[1]} photo: "
          f"{statistics.median(_seconds([big] * 20)) * 1000:.0f} ms")


def _row(name: str, params: network.Params, pictures: list[Image.Image], labels: np.ndarray) -> None:
    """One line: the share of ``pictures`` read as ``labels`` (n,) with and without stroke-width
    normalisation, and how many pictures it changed."""
    thinned = _preprocessed(pictures)  # (n, 784)
    with mock.patch.object(images, "THICKEST", math.inf):  # no stroke counts as too thick
        as_drawn = _preprocessed(pictures)  # (n, 784)
    right = [float(np.mean(network.predict(params, X) == labels)) for X in (thinned, as_drawn)]
    changed = int(np.any(thinned != as_drawn, axis=1).sum())
    print(f"{name:24s} {len(labels):5d} {right[0]:9.1%} {right[1]:8.1%} {changed:8d}", flush=True)


def _preprocessed(pictures: Iterable[Image.Image]) -> np.ndarray:
    return np.stack([to_mnist(picture).reshape(-1) for picture in pictures])  # (n, 784)


def _seconds(pictures: Iterable[Image.Image]) -> list[float]:
    times = []
    for picture in pictures:
        start = time.perf_counter()
        to_mnist(picture)
        times.append(time.perf_counter() - start)
    return times


def _marker(digit: np.ndarray) -> Image.Image:
    """Black on white, 200 px, its strokes thickened by 7 px a side: a thick marker's."""
    return on_paper(larger(digit, 200).filter(ImageFilter.MaxFilter(15)))


def _font_digits(fonts: list[Path]) -> Iterable[tuple[Image.Image, int]]:
    """Every digit in every font, colour, angle and size, with its value."""
    for font in fonts:
        for ink, paper in COLOURS:
            for angle in (-6, -3, 0, 3, 6):
                for size in (120, 300):
                    for digit in range(10):
                        yield on_paper(font_digit(digit, font, size, angle), ink=ink, paper=paper), digit


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()

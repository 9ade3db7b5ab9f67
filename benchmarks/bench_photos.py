"""How well the network reads digits photographed on paper, against the same digits drawn plainly.

    python benchmarks/bench_photos.py [--digits 1000] [--epochs N]

The `best` preset (``--epochs`` to shorten it) is trained on the embedded sample's 4,000 training
rows; its held-out digits (the first ``--digits`` of the 1,000) are then rendered

- ``plain``: black on white, 200 px;
- ``photos``: photographed on paper (tests/user_images.paper_photo: 200-400 px, turned by up to 8
  degrees, on white, cream or blue paper, the light falling off to half across the page and a shadow
  taking up to half of it, noise), saved as PNG and JPEG (quality 70) in turn and read back;
- ``marker``: black on white, strokes thickened to 4.5-6 px in the 20 px box (MNIST's: 2.5);

and the DejaVu fonts' digits 0-9 (when the fonts are installed; skipped otherwise), bold and
regular, white on black and blue on cream, turned by -6 to 6 degrees, 120 and 300 px. Each line
gives the share read right. Then the time ``to_mnist`` takes for a 1024x1024 photo (median of 20).
tests/test_photos.py checks the photos against the plain digits on 150 of them, with 10 epochs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mnistflow.data.prepare import split
from mnistflow.data.sources import load_sample
from mnistflow.own_digits.image_file import read_image
from mnistflow.own_digits.images import to_mnist
from mnistflow.settings.presets import PRESETS
from mnistflow.training import network
from mnistflow.training.train import train

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the renderings the tests use
from user_images import font_digit, larger, on_paper, paper_photo  # noqa: E402

FONTS = Path("/usr/share/fonts")
BOLD = ["DejaVuSans-Bold", "DejaVuSansCondensed-Bold", "DejaVuSerif-Bold", "DejaVuSansMono-Bold",
        "DejaVuSans-BoldOblique", "DejaVuSerifCondensed-Bold"]
REGULAR = ["DejaVuSans", "DejaVuSansCondensed", "DejaVuSerif", "DejaVuSansMono", "DejaVuSans-ExtraLight"]
COLOURS = [((255, 255, 255), (0, 0, 0)), ((30, 40, 140), (250, 245, 225))]  # (ink, paper)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=1000, help="held-out digits to render (at most 1000)")
    parser.add_argument("--epochs", type=int, default=None, help="train this many epochs (the preset's: 40)")
    args = parser.parse_args(argv)
    sample = split(load_sample())
    hp = replace(PRESETS["best"], epochs=args.epochs) if args.epochs else PRESETS["best"]
    params, _ = train(sample["X_train"], sample["Y_train"], hp)
    digits = np.rint(sample["X_test"][: args.digits] * 255).astype(np.uint8)  # (n, 784) white on black
    labels = sample["Y_test"][: args.digits].argmax(axis=1)
    print(f"{datetime.now(UTC):%Y-%m-%d} commit {_commit()}, {platform.node()} ({os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}); best preset, {hp.epochs} epochs on the sample's 4,000 rows")
    with tempfile.TemporaryDirectory() as folder:
        rows = {
            "plain": _accuracy(params, (on_paper(larger(d, 200)) for d in digits), labels),
            "photos": _accuracy(params, _photos(digits, Path(folder)), labels),
            "marker": _accuracy(params, (_marker(d) for d in digits), labels),
        }
    for name, fonts in (("bold fonts", BOLD), ("regular fonts", REGULAR)):
        found = [path for font in fonts for path in FONTS.rglob(f"{font}.ttf")]
        if found:
            images, answers = zip(*_font_digits(found), strict=True)
            rows[f"{name} ({len(found)})"] = _accuracy(params, iter(images), np.array(answers))
    for name, (accuracy, n) in rows.items():
        print(f"{name:20s} {accuracy:6.1%} of {n}")
    photo = paper_photo(digits[0], np.random.default_rng(0), size=682)  # a 1023x1023 page
    times = []
    for _ in range(20):
        start = time.perf_counter()
        to_mnist(photo)
        times.append(time.perf_counter() - start)
    print(f"to_mnist of a {photo.size[0]}x{photo.size[1]} photo: {statistics.median(times) * 1000:.0f} ms")


def _accuracy(params: network.Params, images: Iterator[Image.Image], labels: np.ndarray) -> tuple[float, int]:
    """Share of ``images`` read as ``labels`` (n,), and n."""
    X = np.stack([to_mnist(image).reshape(-1) for image in images])  # (n, 784)
    return float(np.mean(network.predict(params, X) == labels)), len(labels)


def _photos(digits: np.ndarray, folder: Path) -> Iterator[Image.Image]:
    """Each digit photographed on paper, saved as PNG and JPEG (quality 70) in turn, read back."""
    rng = np.random.default_rng(0)
    for i, digit in enumerate(digits):
        path = folder / f"{i}.{'jpg' if i % 2 else 'png'}"
        paper_photo(digit, rng).save(path, quality=70, compress_level=1)
        yield read_image(path)


def _marker(digit: np.ndarray) -> Image.Image:
    """Black on white, 200 px, its strokes thickened by 7 px a side: a thick marker's."""
    return on_paper(larger(digit, 200).filter(ImageFilter.MaxFilter(15)))


def _font_digits(fonts: list[Path]) -> Iterator[tuple[Image.Image, int]]:
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

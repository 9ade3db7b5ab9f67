"""Write the example digit images of examples/images/ (committed; run again only to change them).

    python tests/make_example_images.py [FOLDER]

Ten real MNIST digits, one of each class, rendered as a user's images would arrive: large, dark ink
on light paper, off-centre, in colour, with a transparent background, as a photo, a scan, in PNG,
JPEG, BMP and GIF. Each is the first digit of its class among the rows the workflow's default split
holds out for testing (the embedded sample, ``train_test_split(test_size=0.2, random_state=42)``),
so the model of a default run has not seen them. The file name starts with the true digit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from mnistflow.data.prepare import split_indices
from mnistflow.data.sources import load_sample
from user_images import larger, on_canvas, on_paper, photo, transparent

ROOT = Path(__file__).resolve().parent.parent

Render = Callable[[np.ndarray, np.random.Generator], Image.Image]

# name (after the digit) and how the digit is rendered, for digits 0 to 9
EXAMPLES: list[tuple[str, Render]] = [
    ("black-on-white.png", lambda d, rng: on_paper(larger(d, 240)).convert("L")),
    ("off-centre.png", lambda d, rng: on_canvas(on_paper(larger(d, 150)).convert("L"), (420, 300),
                                                (40, 20))),
    ("blue-ink.jpg", lambda d, rng: on_paper(larger(d, 260), ink=(25, 45, 150), paper=(250, 246, 228))),
    ("transparent.png", lambda d, rng: transparent(larger(d, 200), ink=(30, 30, 30))),
    ("photo.jpg", lambda d, rng: photo(on_canvas(on_paper(larger(d, 180)).convert("L"), (400, 300),
                                                 (170, 70)), rng)),
    ("small.bmp", lambda d, rng: on_paper(larger(d, 56)).convert("L")),
    ("chalk-on-board.gif", lambda d, rng: on_paper(larger(d, 180), ink=(235, 235, 230),
                                                   paper=(40, 60, 50)).convert("P")),
    ("green-pen.png", lambda d, rng: on_canvas(on_paper(larger(d, 160), ink=(20, 120, 40)),
                                               (240, 320), (60, 140))),
    ("red-marker.jpg", lambda d, rng: on_paper(larger(d, 220), ink=(200, 20, 30))),
    ("scan.png", lambda d, rng: on_paper(larger(d, 200), ink=(60, 60, 60),
                                         paper=(228, 228, 222)).convert("L")),
]


def held_out_digits() -> dict[int, np.ndarray]:
    """The first held-out digit of each class, as (784,) uint8 (white on black)."""
    digits = load_sample()
    _, test = split_indices(digits, "random", 0.2, 42, False)
    first: dict[int, np.ndarray] = {}
    for row in test:
        first.setdefault(int(digits.labels[row]), digits.pixels[row])
    return first


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12)
    digits = held_out_digits()
    for label, (name, render) in enumerate(EXAMPLES):
        path = folder / f"{label}-{name}"
        image = render(digits[label], rng)
        if path.suffix == ".jpg":
            image.convert("RGB").save(path, quality=75)  # with JPEG's artefacts
        else:
            image.save(path)
        print(f"{path}: {image.size[0]}x{image.size[1]} {image.mode}, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "images")

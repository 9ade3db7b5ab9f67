"""MNIST digits rendered the way a user's image of a digit arrives: large, dark ink on light paper,
off-centre, in colour, with alpha, JPEG-compressed, as a scan or photo would be.

Used by tests/test_images.py (the network must answer the same for a rendered digit as for the
original 28x28 one), tests/test_photos.py and benchmarks/bench_photos.py (:func:`paper_photo`: a
digit photographed on paper under uneven light) and by tests/make_example_images.py (the example
images in examples/images/).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["DAMAGES", "PAPERS", "Damage", "font_digit", "jpeg", "larger", "lit_unevenly", "on_canvas",
           "on_paper", "paper_photo", "photo", "transparent", "user_image"]


def larger(digit: np.ndarray, size: int = 200) -> Image.Image:
    """A 28x28 uint8 MNIST digit (white on black) upscaled to size x size, smoothly (bicubic)."""
    image = Image.fromarray(digit.reshape(28, 28).astype(np.uint8))  # mode L
    return image.resize((size, size), Image.Resampling.BICUBIC)


def on_paper(image: Image.Image, ink: tuple[int, int, int] = (0, 0, 0),
             paper: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """A white-on-black grey image as coloured ink on coloured paper (RGB): the inverse polarity."""
    amount = np.asarray(image.convert("L"), dtype=np.float64)[..., None] / 255  # (h, w, 1)
    rgb = np.array(paper) * (1 - amount) + np.array(ink) * amount  # (h, w, 3)
    return Image.fromarray(np.rint(rgb).astype(np.uint8))  # mode RGB


def on_canvas(image: Image.Image, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    """``image`` pasted at ``at`` (left, top) on a larger canvas of the colour of its top-left pixel."""
    canvas = Image.new(image.mode, size, image.getpixel((0, 0)))
    canvas.paste(image, at)
    return canvas


def transparent(image: Image.Image, ink: tuple[int, int, int] = (20, 20, 120)) -> Image.Image:
    """A white-on-black grey image as RGBA ink on a transparent background, as a paint program
    exports a drawing: the colour is ``ink`` everywhere, the alpha is the ink's amount."""
    alpha = image.convert("L")
    rgba = Image.new("RGBA", image.size, (*ink, 0))
    rgba.putalpha(alpha)
    return rgba


def jpeg(image: Image.Image, quality: int = 75) -> Image.Image:
    """``image`` after a JPEG round trip (its artefacts included)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


def photo(image: Image.Image, rng: np.random.Generator, paper: float = 200.0) -> Image.Image:
    """A grey ink-on-paper image as a phone photo of it: grey paper lit unevenly, soft focus, noise."""
    grey = np.asarray(image.convert("L").filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float64)
    h, w = grey.shape
    light = np.linspace(0.85, 1.0, w)[None, :] * np.linspace(0.95, 1.0, h)[:, None]  # (h, w)
    shot = grey / 255 * paper * light + rng.normal(0, 4, (h, w))  # dark ink stays dark
    return Image.fromarray(np.clip(np.rint(shot), 0, 255).astype(np.uint8))


def user_image(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Most at once: 200 px, blue ink on cream paper, off-centre in 360x300, as a JPEG."""
    image = on_paper(larger(digit, 200), ink=(30, 40, 140), paper=(250, 245, 225))
    left, top = int(rng.integers(0, 160)), int(rng.integers(0, 100))
    return jpeg(on_canvas(image, (360, 300), (left, top)), quality=70)


# (ink, paper) of a tinted paper_photo: black, dark blue and pencil grey on white, cream and light blue
PAPERS: list[tuple[tuple[int, int, int], tuple[int, int, int]]] = [
    ((20, 20, 25), (250, 250, 248)), ((25, 35, 120), (248, 238, 210)), ((70, 70, 75), (215, 228, 245)),
]


@dataclass(frozen=True)
class Damage:
    """What photographing a digit on paper does to it (:func:`paper_photo`); the defaults do nothing,
    which gives the clean rendering: black ink on white paper, upright, evenly lit, lossless."""

    turn: float = 0.0  # the digit is turned by up to this many degrees either way
    tinted: bool = False  # coloured ink on coloured paper (one of PAPERS), not black on white
    dark: float = 1.0  # the light falls off linearly across the page, to this share of full
    shadow: float = 0.0  # a soft round shadow takes this share of the light at its centre
    noise: float = 0.0  # sd of the gaussian noise added, in grey levels
    jpeg: int = 0  # JPEG quality of a round trip (0: none)


# each kind of damage alone, then all at once; what tests/test_photos.py and bench_photos.py render
DAMAGES = {
    "clean": Damage(),
    "gradient": Damage(dark=0.5),
    "shadow": Damage(shadow=0.5),
    "tinted": Damage(tinted=True),
    "noise": Damage(noise=8.0),
    "jpeg": Damage(jpeg=70),
    "turned": Damage(turn=8.0),
    "all-at-once": Damage(turn=8.0, tinted=True, dark=0.5, shadow=0.5, noise=5.0, jpeg=70),
}


def lit_unevenly(image: Image.Image, rng: np.random.Generator, dark: float = 0.5,
                 shadow: float = 0.5, noise: float = 5.0) -> Image.Image:
    """An RGB image as photographed under uneven light: the light falls off linearly across the page
    in a random direction (to ``dark`` of full at the far side) and a soft round shadow (a gaussian
    blob ``shadow`` deep at its centre, its sd a fifth to a third of the shorter side) lies somewhere
    on it; ink and paper alike are multiplied by the light, then gaussian noise (sd ``noise``) is
    added. The same draws from ``rng`` whatever the settings, so that renderings differ only by them."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)  # (h, w, 3)
    h, w = rgb.shape[:2]
    y, x = np.ogrid[0:h, 0:w]
    y, x = y / np.float32(max(h, w)), x / np.float32(max(h, w))  # (h, 1) and (1, w), in [0, 1)
    angle = rng.uniform(0, 2 * np.pi)
    along = x * np.cos(angle) + y * np.sin(angle)  # (h, w) distance along the light's fall-off
    along = (along - along.min()) / np.ptp(along)
    light = 1 - (1 - dark) * along  # (h, w) 1 at the bright side, ``dark`` at the far side
    cy, cx = rng.uniform(0.2, 0.8) * h / max(h, w), rng.uniform(0.2, 0.8) * w / max(h, w)
    sigma = rng.uniform(0.2, 0.33) * min(h, w) / max(h, w)
    light *= 1 - shadow * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))  # (h, w)
    shot = rgb * light[..., None] + noise * rng.standard_normal(rgb.shape, np.float32)  # (h, w, 3)
    return Image.fromarray(np.clip(np.rint(shot), 0, 255).astype(np.uint8))


def paper_photo(digit: np.ndarray, rng: np.random.Generator, damage: Damage = DAMAGES["all-at-once"],
                size: int | None = None) -> Image.Image:
    """A digit written on paper and photographed (RGB): 200-400 px (``size`` when given), off-centre
    on a page half as large again, with ``damage`` (turned, tinted, lit unevenly, noisy, JPEG).
    Every choice is drawn from ``rng``, the same draws whatever the damage: the same digit and seed
    give the same photo, and the clean rendering of the same digit, size and place."""
    side = size or int(rng.integers(200, 401))
    angle = float(rng.uniform(-1, 1)) * damage.turn
    image = larger(digit, side).rotate(angle, Image.Resampling.BICUBIC)
    tint = PAPERS[int(rng.integers(len(PAPERS)))]
    ink, paper = tint if damage.tinted else ((0, 0, 0), (255, 255, 255))
    page = (side * 3 // 2, side * 3 // 2)
    at = (int(rng.integers(0, page[0] - side + 1)), int(rng.integers(0, page[1] - side + 1)))
    shot = lit_unevenly(on_canvas(on_paper(image, ink=ink, paper=paper), page, at), rng, damage.dark,
                        damage.shadow, damage.noise)
    return jpeg(shot, damage.jpeg) if damage.jpeg else shot


def font_digit(digit: int, font: Path, size: int = 220, angle: float = 0.0) -> Image.Image:
    """The character of ``digit`` in a TrueType ``font``, ``size`` px, turned by ``angle`` degrees,
    white on black (mode L, 2 size x 2 size) as :func:`larger` gives MNIST's: :func:`on_paper` colours it."""
    image = Image.new("L", (2 * size, 2 * size), 0)
    ImageDraw.Draw(image).text((size // 2, size // 4), str(digit), fill=255,
                               font=ImageFont.truetype(str(font), size))
    return image.rotate(angle, Image.Resampling.BICUBIC)

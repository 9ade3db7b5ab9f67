"""MNIST digits rendered the way a user's image of a digit arrives: large, dark ink on light paper,
off-centre, in colour, with alpha, JPEG-compressed, as a scan or photo would be.

Used by tests/test_images.py (the network must answer the same for a rendered digit as for the
original 28x28 one) and by tests/make_example_images.py (the example images in examples/images/).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

__all__ = ["jpeg", "larger", "on_canvas", "on_paper", "photo", "transparent", "user_image"]


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

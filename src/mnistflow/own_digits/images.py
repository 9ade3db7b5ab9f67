"""A user's digit image made into what the network was trained on: an MNIST-style 28x28 digit.

MNIST's digits are not just any 28x28 picture (LeCun et al., "Gradient-based learning applied to
document recognition", 1998, and the MNIST page): each NIST digit, white ink on black, was
size-normalised to fit a 20x20 box keeping its aspect ratio, with anti-aliasing (hence the grey
edges), then placed in a 28x28 field so that its centre of mass is at the centre. A photo or a
drawing fed to the network without the same treatment is misread. :func:`to_mnist` applies it to
an image of any size, colour or mode (:func:`mnistflow.own_digits.image_file.read_image` opens one).

Where "the centre" is: MNIST's own digits have their centre of mass at row 14, column 14 (counting
from 0), each within half a pixel (5,000 of them: mean 13.99, 14.00), so that is where it goes.
"""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from mnistflow.own_digits._paper import box_mean, paper_brightness
from mnistflow.own_digits._strokes import THICKEST, UPSCALE, eroded, erosion_steps, stroke_width
from mnistflow.plumbing.errors import DataError

__all__ = ["BOX", "CENTRE", "SIDE", "centre_of_mass", "to_mnist"]

SIDE = 28  # the network's input is SIDE x SIDE pixels
BOX = 20  # the digit's longer side after size normalisation
CENTRE = (14.0, 14.0)  # (row, column) of the centre of mass in MNIST's digits
# the ink must stand out from the background by this share of the full grey range (255), or the
# image counts as empty: JPEG noise and paper texture stay below it, faint pencil does not
MIN_CONTRAST = 0.08
# a pixel is ink, for the crop, when it is this far from the background towards the strongest ink:
# the middle of the anti-aliased edge, where the edge of the pen stroke was
INK_LEVEL = 0.5
# the paper is estimated over windows (_paper.paper_brightness) of this share of the image's longer
# side to find the digit, then of the digit's longer side (a stroke is at most about a fifth of it,
# in a bold font) around the digit, with this share of it as a margin of paper on every side
PAGE_WINDOW = 0.2
DIGIT_WINDOW = 0.4
MARGIN = 0.25
# the ink is measured as a share of the paper's brightness, but of at least this share of the
# brightest paper's: in a deeper shadow, the noise would count for more than the ink
PAPER_FLOOR = 0.1
# images larger than this on their longer side are first reduced to it: a 20 px digit needs far
# less, and a 12-megapixel photo would otherwise cost hundreds of MB of float arrays
MAX_SIDE = 1024
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601 weights of R, G, B: what Pillow's "L" uses
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")  # grey in 16 or 32 bits, or float


def to_mnist(image: Image.Image, name: str | os.PathLike[str] = "image") -> np.ndarray:
    """An image of a digit as MNIST's digits are: (28, 28) float32 in [0, 1], white ink on black.

    Any size, colour or grey, with or without alpha, 8 bits or more. ``name`` is used in the message
    of the :class:`DataError` raised for an image without ink (blank, or one flat colour) or with
    non-finite pixels (NaN, inf). The steps, and why each (the helpers' docstrings give
    the details):

    1. grey: MNIST has no colour; transparent parts go over a background the ink stands out on;
    2. ink bright on black, as in MNIST, measured against the paper around it: the paper's colour,
       the photo's exposure, uneven light and shadows taken out;
    3. crop to the ink: the digit's size, not the picture's, decides how much it is scaled;
    4. longer side to 20 px keeping the aspect ratio, anti-aliased: MNIST's size normalisation;
       strokes far thicker than MNIST's (a bold font, a marker) thinned;
    5. centre of mass at the centre of 28x28: MNIST's centring;
    6. grey levels to bytes, then to [0, 1] as prepare does: what the network was trained on.
    """
    grey = _grey(image, name)  # 1. (h, w) float64 in 0..255, alpha composited
    page = _paper_light(grey)  # 2. (h, w) light paper, dark ink
    # 2.-3. on the whole page, to find the digit; then on the digit and the paper around it
    found = _ink_box(_bright_ink(page, PAGE_WINDOW * max(page.shape), name))
    side = max(found[0].stop - found[0].start, found[1].stop - found[1].start)  # the digit's size
    ink = _bright_ink(page[_around(found, side, page.shape)], DIGIT_WINDOW * side, name)  # (h', w')
    rows, cols = _ink_box(ink)  # 3.
    small = _fit(ink[rows, cols], BOX)  # 4. (<= 20, <= 20), longer side 20
    if (width := stroke_width(small)) > THICKEST:  # 4. far thicker strokes than MNIST's: thinned
        thin = eroded(_fit(ink[rows, cols], UPSCALE * BOX), erosion_steps(width, BOX))
        if thin.max() >= INK_LEVEL:
            small = _fit(thin[_ink_box(thin)], BOX)
    pixels = _place(small, SIDE, CENTRE)  # 5. (28, 28) uint8
    # 6. prepare.normalise's scaling, written out: importing prepare would pull in scikit-learn
    X = pixels.astype(np.float32)  # (28, 28)
    X *= 1.0 / 255.0
    return X


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    """(row, column) of the centre of mass of a 2-D array of non-negative weights."""
    total = float(pixels.sum())
    rows = float(pixels.sum(axis=1) @ np.arange(pixels.shape[0])) / total
    cols = float(pixels.sum(axis=0) @ np.arange(pixels.shape[1])) / total
    return rows, cols


def _grey(image: Image.Image, name: str | os.PathLike[str]) -> np.ndarray:
    """Luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B) as (h, w) float64 in 0..255.

    Transparent parts are laid over a background: over white when the visible (opaque) pixels are
    dark, over black when they are light. A drawing exported with a transparent background (ink
    opaque, the rest transparent, often transparent *black*) then has its ink on a contrasting
    background, whatever the ink's colour. Grey in more than 8 bits: :func:`_wide_grey`.
    """
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)  # area average: no aliasing
    if image.mode in _WIDE_MODES:  # (a NaN or inf survives the averaging: it is still seen)
        return _wide_grey(np.asarray(image, dtype=np.float64), image.mode == "F", name)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)  # (h, w, 4)
        luma: np.ndarray = rgba[..., :3] @ _LUMA  # (h, w)
        alpha = rgba[..., 3] / 255.0  # (h, w) 0: transparent, 1: opaque
        seen = alpha.sum()
        visible = float((luma * alpha).sum() / seen) if seen else 255.0
        background = 255.0 if visible < 128 else 0.0
        return luma * alpha + background * (1.0 - alpha)
    luminance: np.ndarray = np.asarray(image.convert("RGB"), dtype=np.float64) @ _LUMA  # (h, w)
    return luminance


def _wide_grey(values: np.ndarray, is_float: bool, name: str | os.PathLike[str]) -> np.ndarray:
    """16-bit, 32-bit or float grey levels (h, w) as 0..255, full scale being the range they were
    made in, which the values tell. Only what counts as ink depends on it (:data:`MIN_CONTRAST`).

    - floats within [0, 1] or [-1, 1]: that range, the usual ones for float images;
    - other values >= 0: 0 to the top of the fewest bits, at least 8, that hold the largest value:
      0-255 is 8-bit, 0-65535 16-bit, and a 10-bit sensor's 0-1023 in a 16-bit PNG is a 10-bit
      image, not a nearly black 16-bit one;
    - values below 0 (below -1 for floats): no convention; the image's own range.

    NaN or infinite pixels (float images only) are refused: no grey level stands for them.
    """
    if not np.isfinite(values).all():
        raise DataError(name, "has NaN or infinite pixels, which stand for no grey level; save the "
                        "image with finite values")
    lo, hi = float(values.min()), float(values.max())
    if is_float and lo >= -1.0 and hi <= 1.0:
        bottom, top = (0.0 if lo >= 0 else -1.0), 1.0
    elif lo >= 0:
        bottom, top = 0.0, float(2 ** max(math.ceil(hi).bit_length(), 8) - 1)
    else:
        bottom, top = lo, hi
    if top == bottom:  # one flat value: no ink, which _bright_ink says
        return np.zeros_like(values)
    return (values - bottom) * (255.0 / (top - bottom))


def _paper_light(grey: np.ndarray) -> np.ndarray:
    """``grey`` (h, w) as dark ink on light paper, inverted if it is light ink on dark: (h, w).

    The background is the median of the image's border (a digit rarely touches all four edges).
    When it is nearer the light end of the image's range than the dark end, the image is dark ink
    on light paper already; otherwise (chalk on a board, white on black) it is inverted.
    """
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    lo, hi = float(grey.min()), float(grey.max())
    return grey if background - lo > hi - background else 255.0 - grey


def _bright_ink(page: np.ndarray, window: float, name: str | os.PathLike[str]) -> np.ndarray:
    """Ink bright on a background of 0, scaled so the strongest ink is 1: MNIST's polarity and range.

    ``page`` (h, w) is light paper with dark ink. The paper's brightness is estimated at every pixel
    from the paper around it, over a ``window`` px wide
    (:func:`~mnistflow.own_digits._paper.paper_brightness`), and the ink is how much darker than
    that paper a pixel is, as a share of the paper's brightness: the share of the light the ink
    absorbs, the same in a shadow as in full light (down to PAPER_FLOOR of the brightest paper).
    """
    paper = paper_brightness(page, window)  # (h, w)
    darker = paper - page  # (h, w) > 0 where darker than the paper
    strongest = float(box_mean(darker, 1).max())  # over 3x3 pixels: a lone noisy pixel is not ink
    if strongest < MIN_CONTRAST * 255:
        raise DataError(
            name, f"no ink found (the image is blank or one flat colour: nothing differs from "
            f"its background by more than {MIN_CONTRAST:.0%})"
        )
    floor = PAPER_FLOOR * float(paper.max())  # darker paper than this: noise would be amplified
    ink: np.ndarray = darker / np.maximum(paper, floor)  # (h, w) share of the light absorbed
    ink /= float(box_mean(ink, 1).max())  # the strongest ink (over 3x3 pixels) 1
    return np.clip(ink, 0.0, 1.0, out=ink)


def _around(box: tuple[slice, slice], side: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """``box`` widened by MARGIN times ``side`` on every side, within an image of ``shape``."""
    rows, cols = box
    margin = round(MARGIN * side)
    return (slice(max(0, rows.start - margin), min(shape[0], rows.stop + margin)),
            slice(max(0, cols.start - margin), min(shape[1], cols.stop + margin)))


def _ink_box(ink: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the smallest box holding every ink pixel (at least INK_LEVEL)."""
    rows = np.flatnonzero((ink >= INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((ink >= INK_LEVEL).any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _fit(ink: np.ndarray, box: int) -> np.ndarray:
    """Scale so the longer side is ``box`` pixels, keeping the aspect ratio, anti-aliased.

    Each output pixel averages the input area it covers (Pillow's BOX filter on a float image), so
    thin strokes fade to grey rather than vanish, as in MNIST's anti-aliased normalisation.
    """
    h, w = ink.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow: (width, height)
    resized = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.BOX)  # mode F
    return np.asarray(resized, dtype=np.float64)


def _place(small: np.ndarray, side: int, centre: tuple[float, float]) -> np.ndarray:
    """``small`` pasted into a side x side black field with its centre of mass at ``centre``.

    The offset is rounded to whole pixels (no resampling blurs the strokes), so the centre of mass
    lands within half a pixel of ``centre``; it is clamped so that no ink leaves the field, which
    only matters for very lopsided shapes. Grey levels are rounded to bytes, like MNIST's.
    """
    patch = np.rint(np.clip(small, 0, 1) * 255).astype(np.uint8)  # (h, w) bytes
    h, w = patch.shape
    com_row, com_col = centre_of_mass(patch)  # of the bytes, so rounding them moves nothing
    top = min(max(round(centre[0] - com_row), 0), side - h)
    left = min(max(round(centre[1] - com_col), 0), side - w)
    field = np.zeros((side, side), dtype=np.uint8)  # (28, 28)
    field[top : top + h, left : left + w] = patch
    return field

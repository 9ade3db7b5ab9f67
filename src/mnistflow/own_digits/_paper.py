"""The paper's brightness under the ink, estimated locally: the page as it would look with the digit
taken away, uneven light, shadows and tinted paper included.

A photo's paper is not one grey: the light falls off across the page, a hand or a phone casts a soft
shadow, and shaded paper can be darker than ink in full light. So the ink is found against the paper
around it, not against one background level. The estimate works on a copy reduced to :data:`CELLS`
cells on its longer side (each cell the average of the pixels it covers, which also averages out
noise and JPEG artefacts), with the paper light and the ink dark:

1. a morphological *closing*: the maximum over a square ``window``, then the minimum over the same
   window. It fills every dark mark narrower than the window, which the pen strokes are, with the
   paper around it, and keeps what is wider, which the light's changes are; then it is smoothed;
2. a closing also fills in part of a shadow not much wider than the window, so the estimate is
   refined: the cells that are ink by the first estimate (darker than it by at least half as much
   as the inkiest cell) and two rings of cells around them are set aside, and the paper at each
   cell is the average of the other cells within half the window (the closing's estimate stays
   where they are too few).

Beyond the image's edges the cells are continued by an odd reflection, so that a slope of light goes
on as it went (capped at the brightest cell, so that a stroke at the edge does not reflect as a
glare), rather than stopping as if the edge were a wall. The estimate is enlarged back to the
image's size bilinearly; all the work before is on the reduced copy, so a large photo costs little.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

__all__ = ["CELLS", "box_mean", "paper_brightness"]

CELLS = 64  # the longer side of the reduced copy the paper is estimated on
# a cell is ink when it is darker than the first estimate of the paper by at least this share of
# the inkiest cell's darkness (both as shares of the paper's brightness)
INK_CELL = 0.5
# the ink cells and this many rings of cells around them are set aside: a blurred stroke's edge
# spreads over a cell or two, and would pull the paper down beside the stroke
GROW = 2
# the refined estimate keeps the closing's where fewer than this share of the cells around are paper
MIN_PAPER = 0.05

Reduce = Callable[..., np.ndarray]  # np.max or np.min, with an axis


def paper_brightness(grey: np.ndarray, window: float) -> np.ndarray:
    """The paper's grey level at each pixel of ``grey`` (h, w), light paper with dark ink: (h, w).

    ``window``: the width in pixels of the closing's square window, wider than the pen strokes.
    """
    h, w = grey.shape
    scale = min(1.0, CELLS / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow: (width, height)
    image = Image.fromarray(grey.astype(np.float32))  # mode F
    cells = np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float64)  # (ch, cw)
    radius = max(1, round(window * scale / 2))  # the window is 2 radius + 1 cells
    margin = 3 * radius + GROW  # as far as the windows of steps 1 and 2 reach together
    extended = np.pad(cells, margin, mode="reflect", reflect_type="odd")  # (ch + 2 m, cw + 2 m)
    np.clip(extended, 0.0, float(cells.max()), out=extended)
    closed = _sliding(_sliding(extended, radius, np.max), radius, np.min)  # 1. dilate, erode
    paper = _refined(extended, box_mean(closed, max(1, radius // 2)), max(1, radius // 2))  # 2.
    inside = paper[margin : margin + cells.shape[0], margin : margin + cells.shape[1]]  # (ch, cw)
    enlarged = Image.fromarray(inside.astype(np.float32)).resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(enlarged, dtype=np.float64)


def _refined(cells: np.ndarray, paper: np.ndarray, radius: int) -> np.ndarray:
    """The paper at each cell as the mean of the cells around it (within ``radius``) that are paper
    by the first estimate ``paper``; that estimate where fewer than MIN_PAPER of them are. (ch, cw)"""
    darkness = (paper - cells) / np.maximum(paper, 1e-9)  # (ch, cw) share of the light absorbed
    inky = darkness >= INK_CELL * float(darkness.max())  # (ch, cw)
    is_paper = 1.0 - _sliding(inky.astype(np.float64), GROW, np.max)  # (ch, cw) 0 at and near ink
    share = box_mean(is_paper, radius)  # (ch, cw) share of paper cells around each cell
    mean = box_mean(cells * is_paper, radius) / np.maximum(share, 1e-9)  # (ch, cw)
    return np.where(share >= MIN_PAPER, mean, paper)


def box_mean(a: np.ndarray, radius: int) -> np.ndarray:
    """The mean of the (2 radius + 1)^2 square around each element of ``a`` (h, w), edges repeated
    outwards: (h, w). Separable: the sum of 2 radius + 1 shifted rows, then columns."""
    (h, w), k = a.shape, 2 * radius + 1
    padded = np.pad(a.astype(np.float64, copy=False), radius, mode="edge")  # (h + 2 r, w + 2 r)
    rows = padded[:h].copy()  # (h, w + 2 r): sums of k rows
    for i in range(1, k):
        rows += padded[i : i + h]
    window = rows[:, :w].copy()  # (h, w): sums of k x k squares
    for i in range(1, k):
        window += rows[:, i : i + w]
    window /= k * k
    return window


def _sliding(a: np.ndarray, radius: int, reduce: Reduce) -> np.ndarray:
    """``reduce`` (np.max or np.min) over the (2 radius + 1)^2 square around each element of ``a``
    (h, w), edges repeated outwards: (h, w). Separable: a square's maximum is that of its rows'."""
    for axis in (0, 1):
        padded = np.pad(a, [(radius, radius) if ax == axis else (0, 0) for ax in (0, 1)], mode="edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1, axis=axis)
        a = reduce(windows, axis=-1)  # (h, w)
    return a

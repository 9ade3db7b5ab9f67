"""Stroke width: how thick a digit's strokes are once it fits the 20 px box, and thinning strokes far
thicker than MNIST's.

MNIST's strokes are about 2.5 px wide in the 20 px box (the median of the sample's 5,000 digits; 90 %
are narrower than 3.4 px, 95 % than 3.8). A bold font's are 3.5-4.2 px, a thick marker's more, and
the network, which has seen few such digits, misreads more of them. So a digit whose strokes are
wider than :data:`THICKEST` is eroded (each pixel becomes the darkest of its neighbours, some times
over) until they are :data:`THINNED` wide: still among MNIST's thick ones, so that MNIST's own
thick digits, which the network reads well, are changed little and only the few beyond them at all.
Thin strokes are left as they are: the network has seen plenty of thin ones. What it gains and
costs: benchmarks/bench_photos.py (docs/benchmarks.md, own digits).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["THICKEST", "THINNED", "UPSCALE", "eroded", "erosion_steps", "stroke_width"]

THICKEST = 3.8  # px in the 20 px box: the 95th percentile of the sample's digits
THINNED = 3.4  # px in the 20 px box, what wider strokes are thinned to: the 90th percentile
UPSCALE = 4  # the digit is eroded at this many times the 20 px box: steps of 1/8 px a side


def stroke_width(pixels: np.ndarray) -> float:
    """The mean width in pixels of the strokes in ``pixels`` (h, w) in [0, 1].

    Twice the area of the ink (the pixels at least half-bright) over the length of its outline,
    since a long stroke's outline runs along both its sides. The outline is counted in pixel edges,
    which makes a curve pi/4 times longer on average than it is, hence that factor.
    """
    ink = np.pad(pixels >= 0.5, 1)  # (h + 2, w + 2) bool
    edges = int((ink[1:] != ink[:-1]).sum() + (ink[:, 1:] != ink[:, :-1]).sum())
    return 2 * int(ink.sum()) / max(edges, 1) * 4 / math.pi


def erosion_steps(width: float, box: int) -> int:
    """How many 1-px erosions, at UPSCALE times a ``box`` px digit, thin strokes ``width`` px wide
    (at ``box`` px) to THINNED px once the thinned digit is cropped and fitted to ``box`` again.

    Eroding by d px a side narrows the digit too, by 2 d, so refitting it widens its strokes by
    box / (box - 2 d); (width - 2 d) box / (box - 2 d) = THINNED gives d.
    """
    side = box * (width - THINNED) / (2 * (box - THINNED))  # d, px a side at box px
    return max(0, round(side * UPSCALE))


def eroded(ink: np.ndarray, steps: int) -> np.ndarray:
    """``ink`` (h, w) eroded ``steps`` times: each pixel becomes the darkest of itself and its
    neighbours, the 8 around it and the 4 beside it in turn, so that strokes thin about as fast in
    every direction (an octagon, nearer a disc than a square). (h, w)"""
    h, w = ink.shape
    square = [(r, c) for r in range(3) for c in range(3)]
    cross = [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)]
    for step in range(steps):
        padded = np.pad(ink, 1, mode="edge")  # (h + 2, w + 2)
        ink = np.min([padded[r : r + h, c : c + w] for r, c in (cross if step % 2 else square)], axis=0)
    return ink

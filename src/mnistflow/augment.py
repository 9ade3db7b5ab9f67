"""On-the-fly data augmentation: every training image moved by a random small shift, each epoch anew.

A digit moved a pixel or two is still the same digit, so the network sees a slightly different
training set every epoch and learns that position does not matter (Simard et al. 2003 use the same
idea with elastic distortions). Images are moved, not resampled: pixels that leave the frame are
dropped and the ones that come in are 0 (background), so no interpolation blurs the strokes.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["image_side", "random_shifts", "shift_rows"]


def image_side(n_pixels: int) -> int:
    """Side of a square image of ``n_pixels`` pixels (28 for MNIST's 784); ValueError if not square."""
    side = math.isqrt(n_pixels)
    if side * side != n_pixels:
        raise ValueError(f"{n_pixels} pixels do not make a square image")
    return side


def random_shifts(n: int, max_shift: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets (dy, dx), each uniform in [-max_shift, max_shift], for n images."""
    d = rng.integers(-max_shift, max_shift + 1, size=(2, n))  # (2, n)
    return d[0], d[1]


def shift_rows(
    X: np.ndarray, rows: np.ndarray, dy: np.ndarray, dx: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """out[i] = image X[rows[i]] moved dy[i] pixels down and dx[i] pixels right, zero-filled.

    X (N, side*side) flattened square images; rows, dy, dx (n,); out (n, side*side), written in full.
    Images that share an offset are moved together: at most (2s+1)^2 copies for shifts up to s. A
    move by (dy, dx) is a move of the flattened image by dy * side + dx, one contiguous copy per
    image (a third faster than copying 28 short rows each), after which the columns that came round
    from the neighbouring image row are set to 0.
    """
    side = image_side(X.shape[1])
    d = side * side
    grid = out.reshape(-1, side, side)  # (n, side, side) view
    for oy in np.unique(dy):
        same_y = dy == oy
        for ox in np.unique(dx[same_y]):
            sel = np.flatnonzero(same_y & (dx == ox))  # (m,) positions in the batch
            s = int(oy) * side + int(ox)  # out[p] = X[p - s], flattened
            if s >= 0:
                out[sel, s:] = X[rows[sel], : d - s]
                out[sel, :s] = 0
            else:
                out[sel, : d + s] = X[rows[sel], -s:]
                out[sel, d + s :] = 0
            if ox > 0:  # the first ox columns came from the end of the row above
                grid[sel, :, :ox] = 0
            elif ox < 0:  # the last -ox columns came from the start of the row below
                grid[sel, :, ox:] = 0
    return out

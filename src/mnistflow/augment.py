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


def _span(offset: int, side: int) -> tuple[slice, slice]:
    """Destination and source slices along one axis for a move by ``offset`` pixels."""
    if offset >= 0:
        return slice(offset, side), slice(0, side - offset)
    return slice(0, side + offset), slice(-offset, side)


def shift_rows(
    X: np.ndarray, rows: np.ndarray, dy: np.ndarray, dx: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """out[i] = image X[rows[i]] moved dy[i] pixels down and dx[i] pixels right, zero-filled.

    X (N, side*side) flattened square images; rows, dy, dx (n,); out (n, side*side), written in full.
    Images that share an offset are copied together: at most (2s+1)^2 copies for shifts up to s.
    """
    side = image_side(X.shape[1])
    src = X.reshape(-1, side, side)  # (N, side, side) view
    dst = out.reshape(-1, side, side)  # (n, side, side) view
    dst.fill(0)
    for oy in np.unique(dy):
        same_y = dy == oy
        rows_dst, rows_src = _span(int(oy), side)
        for ox in np.unique(dx[same_y]):
            sel = np.flatnonzero(same_y & (dx == ox))  # (m,) positions in the batch
            cols_dst, cols_src = _span(int(ox), side)
            dst[sel, rows_dst, cols_dst] = src[rows[sel], rows_src, cols_src]
    return out

"""On-the-fly data augmentation: every training image moved by a random small shift, each epoch anew.

A digit moved a pixel or two is still the same digit, so the network sees a slightly different
training set every epoch and learns that position does not matter (Simard et al. 2003 use the same
idea with elastic distortions). Images are moved, not resampled: pixels that leave the frame are
dropped and the ones that come in are 0 (background), so no interpolation blurs the strokes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["ShiftFrame", "image_side", "random_shifts", "shift_rows"]


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
    X: np.ndarray, rows: np.ndarray, dy: np.ndarray, dx: np.ndarray, out: np.ndarray,
    frame: ShiftFrame | None = None,
) -> np.ndarray:
    """out[i] = image X[rows[i]] moved dy[i] pixels down and dx[i] pixels right, zero-filled.

    X (N, side*side) flattened square images; rows, dy, dx (n,); out (n, side*side), written in full.
    The images are copied into the middle of their frames (:class:`ShiftFrame`, made when not given),
    and image i is the side x side window of its frame that starts b - dy[i] rows down and b - dx[i]
    columns right, b being the frame's border: three NumPy calls whatever the offsets, which release
    the GIL, so workers that each gather their own block of rows (the engine's ``Gather``) run them
    at once; moving the images that share an offset together takes many small calls, which don't.
    """
    side = image_side(X.shape[1])
    n = len(rows)
    if frame is None:
        frame = ShiftFrame(n, side, int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0))),
                           X.dtype)
    b = frame.border
    frame.frames[:n, b : b + side, b : b + side] = X[rows].reshape(n, side, side)
    out.reshape(n, side, side)[...] = frame.windows[frame.index[:n], b - dy, b - dx]
    return out


class ShiftFrame:
    """Where :func:`shift_rows` moves up to ``rows`` images of side x side by up to ``shift`` pixels:
    a frame of ``shift`` zeros around each image, which stays 0 (only the middle is written), and
    every side x side window of it, a view made once."""

    def __init__(self, rows: int, side: int, shift: int, dtype: np.dtype | type) -> None:
        self.border = shift
        self.frames = np.zeros((rows, side + 2 * shift, side + 2 * shift), dtype)  # (rows, F, F)
        # (rows, 2s+1, 2s+1, side, side): window [i, y, x] starts y rows down and x columns right
        self.windows = sliding_window_view(self.frames, (side, side), axis=(1, 2))
        self.index = np.arange(rows)  # (rows,)



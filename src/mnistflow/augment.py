"""On-the-fly data augmentation: every training image moved by a random small shift, each epoch anew.

A digit moved a pixel or two is still the same digit, so the network sees a slightly different
training set every epoch and learns that position does not matter (Simard et al. 2003 use the same
idea with elastic distortions). Images are moved, not resampled: pixels that leave the frame are
dropped and the ones that come in are 0 (background), so no interpolation blurs the strokes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["Gather", "ShiftFrame", "image_side", "random_shifts", "shift_rows"]


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
    columns right, b being the frame's border: three NumPy calls whatever the offsets, so workers
    that each gather their own block of rows (:mod:`mnistflow._engine`) can do it at once (128 rows,
    cache-warm: 0.08 ms alone, 0.09 ms each for two threads at once; moving the images that share an
    offset together, 25 groups of small calls for shifts up to 2, took 0.24 ms alone).
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


@dataclass(frozen=True)
class Gather:
    """A batch's inputs, still to be gathered: rows ``at`` of ``source`` (N, D), each moved by
    (dy, dx) pixels when they are given (up to ``shift``). Gathered by the worker that steps on them
    (:meth:`into`), a block of rows at a time (``gather[a:b]``)."""

    source: np.ndarray  # (N, D)
    at: np.ndarray  # (n,)
    dy: np.ndarray | None = None  # (n,)
    dx: np.ndarray | None = None  # (n,)
    shift: int = 0

    def __len__(self) -> int:
        return len(self.at)

    def __getitem__(self, rows: slice) -> Gather:
        if self.dy is None or self.dx is None:
            return Gather(self.source, self.at[rows])
        return Gather(self.source, self.at[rows], self.dy[rows], self.dx[rows], self.shift)

    def into(self, out: np.ndarray, frame: ShiftFrame | None = None) -> np.ndarray:
        """The rows, gathered (and moved) into ``out`` (at least n, D): its first n rows (moved in
        ``frame``, see :func:`shift_rows`)."""
        gathered = out[: len(self.at)]  # (n, D)
        if self.dy is None or self.dx is None:
            return np.take(self.source, self.at, axis=0, out=gathered)
        return shift_rows(self.source, self.at, self.dy, self.dx, gathered, frame)

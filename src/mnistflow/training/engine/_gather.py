"""A batch's inputs still to be gathered, so that each worker gathers (and shifts) its own block of
rows right before its products use them, while the rows are warm in its cache."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnistflow.training.shifts import ShiftFrame, shift_rows

__all__ = ["Gather"]


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

"""The parameters, and each gradient of them, laid out one after another in one flat buffer.

The optimizer's update and the adding-up of the blocks' gradients are elementwise
(:mod:`mnistflow.training.optimizers`, :mod:`mnistflow.training.engine._block_grads`): the bytes are the same
however the elements are grouped. With W1, b1, W2 and b2 in one buffer (:class:`Layout`), a worker's share of
a step is a range of that buffer (:meth:`Layout.parts`, :meth:`Layout.span`), and Adam's eleven NumPy calls
run once over it instead of once per array. That matters because NumPy holds the GIL between its calls:
two workers making many short calls wait for each other, and a few long calls over one range
each keep both busy.

Each array starts at a multiple of ALIGN elements (64 bytes in float32), as a fresh array would; the
few elements between arrays belong to none: they are 0 in every buffer, and a step keeps them 0
(their gradient is 0, so are Adam's moments and the update).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

__all__ = ["ALIGN", "Layout", "Part"]

ALIGN = 16  # elements
Part: TypeAlias = dict[str, slice]  # array name -> the range of its first axis in the part


@dataclass(frozen=True)
class Layout:
    """Where each array of a set lies in a flat buffer of ``size`` elements: array ``name`` of shape
    ``shapes[name]`` from element ``starts[name]`` on, in C order; the arrays in the set's order."""

    shapes: dict[str, tuple[int, ...]]
    starts: dict[str, int]
    size: int

    @classmethod
    def of(cls, arrays: Mapping[str, np.ndarray]) -> Layout:
        """The layout of ``arrays`` (their shapes, in their order)."""
        starts, at = {}, 0
        for name, value in arrays.items():
            starts[name] = at
            at += -(-value.size // ALIGN) * ALIGN
        return cls({name: value.shape for name, value in arrays.items()}, starts, at)

    def views(self, buffer: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
        """Each array as a view of ``buffer`` (size,), named ``prefix + name`` ("dW1" with "d")."""
        return {prefix + name: buffer[self.starts[name] : self.starts[name] + math.prod(shape)]
                .reshape(shape) for name, shape in self.shapes.items()}

    def zeros(self, dtype: np.dtype | str, prefix: str = "") -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """A buffer of zeros and its arrays (see :meth:`views`)."""
        buffer = np.zeros(self.size, dtype)  # (size,)
        return buffer, self.views(buffer, prefix)

    def place(self, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """A buffer holding a copy of ``arrays`` (of this layout), and the copies, views of it."""
        dtype = next(iter(arrays.values())).dtype
        buffer, views = self.zeros(dtype)
        for name, value in arrays.items():
            views[name][...] = value
        return buffer, views

    def _rows(self, name: str) -> tuple[int, int]:
        """Array ``name``'s rows (its first axis) and elements per row."""
        shape = self.shapes[name]
        return shape[0], math.prod(shape[1:])

    def parts(self, count: int) -> list[Part]:
        """The arrays cut into ``count`` parts of consecutive whole rows, in order, of near-equal
        sizes (W1 (784, 256), b1, W2, b2 in two: W1's rows 0-397; W1's rows 398-783 and the rest).
        Each part is one range of the buffer (:meth:`span`); a part may be empty."""
        names = list(self.shapes)
        row_starts = [(name, j) for name in names for j in range(self._rows(name)[0])]
        at = np.array([self.starts[name] + j * self._rows(name)[1] for name, j in row_starts])
        # cut i: the row start nearest to i / count of the buffer, never before the cut before it
        cuts = [0]
        for i in range(1, count):
            cuts.append(max(cuts[-1], int(np.argmin(np.abs(at - i * self.size / count)))))
        cuts.append(len(row_starts))
        first = {name: row_starts.index((name, 0)) for name in names}  # index of each array's row 0
        parts: list[Part] = []
        for a, b in itertools.pairwise(cuts):
            part: Part = {}
            for name in names:
                lo, hi = max(a, first[name]), min(b, first[name] + self._rows(name)[0])
                if lo < hi:
                    part[name] = slice(lo - first[name], hi - first[name])
            parts.append(part)
        return parts

    def span(self, part: Part) -> slice:
        """The range of the buffer that holds ``part`` (a part of :meth:`parts`)."""
        if not part:
            return slice(0, 0)
        names = list(part)
        start = self.starts[names[0]] + part[names[0]].start * self._rows(names[0])[1]
        stop = self.starts[names[-1]] + part[names[-1]].stop * self._rows(names[-1])[1]
        return slice(start, stop)

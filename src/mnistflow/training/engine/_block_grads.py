"""A batch's gradient from its blocks' gradients: added up in block order, a part of the rows at a time.

Every block of a batch writes its own gradient (:mod:`mnistflow.training.engine._gradients`); the batch's
gradient is their sum, plus the L2 term. Added up in block order, whichever thread adds, the sum is the same
bytes every time; and since each element's sum involves that element only, the rows can be added up
in parts, each by its own worker (:mod:`mnistflow.training.engine._parallel_step`), with the bytes of adding
up all at once. Unfolded blocks' gradients lie in flat buffers of one layout
(:mod:`mnistflow.training.engine._flat`), so a part is one range of each, added up in two or three NumPy
calls. A folded block (zero columns left out, :mod:`mnistflow.training.engine._columns`) has the rows of dW1
of its live columns only, and db1 as its last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnistflow.training import network
from mnistflow.training.engine._columns import scatter_add
from mnistflow.training.engine._flat import Layout, Part

__all__ = ["BlockGrads"]


@dataclass(frozen=True)
class BlockGrads:
    """A batch's blocks' gradients (no L2): each block's arrays, and the flat buffer of the
    ``layout`` they are views of (:mod:`mnistflow.training.engine._flat`) unless they are folded, when
    ``columns``
    has each block's live columns; the L2 term's weights and factor."""

    blocks: list[network.Grads]
    flats: list[np.ndarray]  # (size,) each
    layout: Layout
    columns: list[np.ndarray] | None
    params: network.Params
    l2: float

    def alone(self) -> network.Grads | None:
        """The gradient of a single unfolded block without L2: the sum itself; else None."""
        return self.blocks[0] if len(self.blocks) == 1 and not self.columns and not self.l2 else None

    def add_up(self, part: Part, out: network.Grads, out_flat: np.ndarray) -> np.ndarray:
        """The rows ``part`` of the batch's gradient, into the same rows of ``out`` (dW1 db1 dW2 db2
        of the whole parameters, views of ``out_flat`` in the layout); returns the range of
        ``out_flat`` that holds them (of a lone block's buffer, see :meth:`alone`)."""
        span = self.layout.span(part)
        if self.alone() is not None:
            return self.flats[0][span]
        if self.columns is None:  # the blocks' buffers, added up over the part's range
            _sum([flat[span] for flat in self.flats], out_flat[span])
        else:  # dW2 and db2 as they are; dW1's rows of live columns, and db1 from its last row
            for key in ("dW2", "db2"):
                rows = part.get(key[1:])
                if rows is not None:
                    _sum([grads[key][rows] for grads in self.blocks], out[key][rows])
            dW1, db1 = out["dW1"], out["db1"]
            rows, units = part.get("W1", slice(0, 0)), part.get("b1", slice(0, 0))
            dW1[rows] = 0
            db1[units] = 0
            for live, grads in zip(self.columns, self.blocks, strict=True):
                scatter_add(dW1, live, grads["dW1"], rows)
                db1[units] += grads["dW1"][-1, units]
        for w in ("W1", "W2") if self.l2 else ():  # d/dW l2/2 |W|^2 = l2 W
            if w in part:
                W = self.params[w][part[w]]
                out[f"d{w}"][part[w]] += W * W.dtype.type(self.l2)
        return out_flat[span]


def _sum(terms: list[np.ndarray], out: np.ndarray) -> None:
    """out = terms[0] + terms[1] + ..., added in that order."""
    if len(terms) > 1:
        np.add(terms[0], terms[1], out=out)
        for term in terms[2:]:
            out += term
    else:
        out[...] = terms[0]

"""A batch's gradient from its blocks' gradients: added up in block order, a part of the rows at a time.

Every block of a batch writes its own gradient (:mod:`mnistflow._engine`); the batch's gradient is
their sum, plus the L2 term. Added up in block order, whichever thread adds, the sum is the same
bytes every time; and since each element's sum involves that element only, the rows can be added up
in parts, each by its own worker (:mod:`mnistflow._parallel_step`), with the bytes of adding up all
at once. A folded block (zero columns left out, :mod:`mnistflow._columns`) has the rows of dW1 of
its live columns only, and db1 as its last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnistflow import network
from mnistflow._columns import scatter_add
from mnistflow._workers import Part

__all__ = ["BlockGrads"]


@dataclass(frozen=True)
class BlockGrads:
    """A batch's blocks' gradients (no L2), each block's live columns when they are folded, and the
    L2 term's weights and factor."""

    blocks: list[network.Grads]
    columns: list[np.ndarray] | None
    params: network.Params
    l2: float

    def alone(self) -> network.Grads | None:
        """The gradient of a single unfolded block without L2: the sum itself; else None."""
        return self.blocks[0] if len(self.blocks) == 1 and not self.columns and not self.l2 else None

    def add_up(self, part: Part, out: network.Grads) -> network.Grads:
        """The rows ``part`` of the batch's gradient, into the same rows of ``out`` (dW1 db1 dW2 db2
        of the whole parameters); returns views of those rows (of a lone block's, see :meth:`alone`)."""
        alone = self.alone()
        if alone is not None:
            return {key: alone[key][part[key[1:]]] for key in alone if key[1:] in part}
        blocks = self.blocks
        for key, value in out.items():
            rows = part.get(key[1:])
            if rows is None or (self.columns is not None and key in ("dW1", "db1")):
                continue
            if len(blocks) > 1:
                np.add(blocks[0][key][rows], blocks[1][key][rows], out=value[rows])
                for grads in blocks[2:]:
                    value[rows] += grads[key][rows]
            else:
                value[rows] = blocks[0][key][rows]
        if self.columns is not None:  # dW1's rows of live columns, and db1 from the last row
            dW1, db1 = out["dW1"], out["db1"]
            rows, units = part.get("W1", slice(0, 0)), part.get("b1", slice(0, 0))
            dW1[rows] = 0
            db1[units] = 0
            for live, grads in zip(self.columns, blocks, strict=True):
                scatter_add(dW1, live, grads["dW1"], rows)
                db1[units] += grads["dW1"][-1, units]
        for w in ("W1", "W2") if self.l2 else ():  # d/dW l2/2 |W|^2 = l2 W
            if w in part:
                W = self.params[w][part[w]]
                out[f"d{w}"][part[w]] += W * W.dtype.type(self.l2)
        return {key: value[part[key[1:]]] for key, value in out.items() if key[1:] in part}

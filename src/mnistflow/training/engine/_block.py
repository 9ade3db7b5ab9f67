"""One block of a batch: the worker's buffers it is computed in, and its share of the gradient.

A block is at most :data:`~mnistflow.training.blocks.BLOCK_ROWS` rows, few enough that its (rows, H)
buffers stay in the worker's cache (4 MB in float32 for 256 hidden units);
:class:`~mnistflow.training.engine._gradients.Gradients` cuts a batch into blocks and adds their
gradients up in block order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mnistflow.training import network
from mnistflow.training.engine._gather import Gather
from mnistflow.training.shifts import ShiftFrame, image_side

__all__ = ["Block", "Scratch", "block_gradients"]


@dataclass
class Scratch:
    """A worker's buffers for one block of up to ``rows`` rows (views of their first m rows serve
    shorter blocks)."""

    A1: np.ndarray  # (rows, H) hidden activations, then the hidden delta
    P: np.ndarray  # (rows, K) probabilities, then the output delta
    mask: np.ndarray  # (rows, H) bool, relu'
    W1: np.ndarray  # (D + 1, H) a block's W1[live] and b1 below it (see Gradients.restrict)
    X: np.ndarray | None = None  # (rows, D) a block's gathered inputs, made at the first Gather
    frame: ShiftFrame | None = None  # where they are moved (by shifts up to its border)

    @classmethod
    def allocate(cls, rows: int, params: network.Params) -> Scratch:
        (d, h), k = params["W1"].shape, params["W2"].shape[1]
        dtype = params["W1"].dtype
        return cls(np.empty((rows, h), dtype), np.empty((rows, k), dtype), np.empty((rows, h), bool),
                   np.empty((d + 1, h), dtype))

    def gathered(self, g: Gather) -> np.ndarray:
        """A block's inputs ``g`` (m, D), gathered (and moved) into this worker's buffer."""
        rows, d = self.A1.shape[0], g.source.shape[1]
        if self.X is None:
            self.X = np.empty((rows, d), g.source.dtype)
        if g.shift and (self.frame is None or self.frame.border < g.shift):
            self.frame = ShiftFrame(rows, image_side(d), g.shift, g.source.dtype)
        return g.into(self.X, self.frame)



@dataclass(frozen=True)
class Block:
    """One block's share of a batch of ``n`` rows: X (m, D) or, folded, (m, L + 1) with W1 (L + 1, H)
    holding b1 as its last row; Y (m, K); ``kept`` (m, H) its dropout mask."""

    params: network.Params
    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray
    n: int
    folded: bool
    dropout: float
    kept: np.ndarray | None



def block_gradients(b: Block, scratch: Scratch, out: network.Grads) -> tuple[float, int]:
    """The part of the batch's mean-loss gradient that a block's rows contribute, into ``out``
    (no L2); returns their summed cross-entropy and how many rows are right.

    :func:`mnistflow.training.network.backward` with three shortcuts: the loss averages over the batch's n
    rows, not the block's m; relu' comes from the forward pass when there is no dropout; with a
    folded bias db1 is the last row of the product dW1 = X^T dZ1."""
    m = b.X.shape[0]
    mask = scratch.mask[:m]  # (m, H) relu'(Z1), from the forward pass when there is no dropout
    A1 = np.matmul(b.X, b.params["W1"], out=scratch.A1[:m])  # (m, H) = Z1 (bias if folded)
    if not b.folded:
        A1 += b.params["b1"]
    if b.dropout:
        assert b.kept is not None
        network.inplace_relu(A1)
        network.inplace_dropout(A1, b.dropout, b.kept)
    else:
        network.inplace_relu(A1, mask)
    P = network.output(b.params, A1, out=scratch.P[:m])  # (m, K)
    ce = network.loss(P, b.Y)
    correct = int(np.count_nonzero(np.argmax(P, axis=1) == b.labels))
    if not math.isfinite(ce):
        return ce * m, correct
    dZ2 = P
    dZ2 -= b.Y
    dZ2 *= dZ2.dtype.type(1.0 / b.n)  # (m, K) = dL/dZ2 = (P - Y) / n
    np.matmul(A1.T, dZ2, out=out["dW2"])  # (H, K)
    np.sum(dZ2, axis=0, out=out["db2"])  # (K,)
    if b.dropout:
        np.greater(A1, 0, out=mask)  # (m, H) relu'(Z1): A1 > 0 exactly where Z1 > 0
    dZ1 = np.matmul(dZ2, b.params["W2"].T, out=A1)  # (m, H) = dL/dA1, into A1's memory
    np.multiply(dZ1, mask, out=dZ1)  # (m, H) = dL/dZ1
    if b.dropout:
        dZ1 *= dZ1.dtype.type(1.0 / (1.0 - b.dropout))
    np.matmul(b.X.T, dZ1, out=out["dW1"])  # (D, H), or folded (L + 1, H) with db1 last
    if not b.folded:
        np.sum(dZ1, axis=0, out=out["db1"])  # (H,)
    return ce * m, correct

"""The gradient engine of training: a batch's loss gradients, fast, on every core, bit-identically.

It computes what :func:`mnistflow.training.network.backward` computes for a batch (plus the L2 term), the same
maths in another order of work:

- The batch is cut into blocks small enough to stay in cache; a free worker (:mod:`mnistflow.training.engine._workers`)
  takes the next block (a core slowed by another process just does fewer), and every block writes its
  own gradient. Then the workers add them up in block order, each its own rows of every gradient
  (:mod:`mnistflow.training.engine._block_grads`): the result does not depend on which thread did what, so it is
  bit-identical from run to run. The dropout mask of the whole batch is drawn up front from the one
  generator.
- Every buffer is allocated once and the products write into it (``out=``): an epoch allocates
  nothing big.
- A mini-batch's inputs come as rows still to gather (:class:`mnistflow.training.shifts.Gather`): each
  worker gathers (and shifts) its own block's rows into its buffer, right before its products use
  them, so that this memory-bound work runs on every core too and its rows are still in cache.
- Zero input columns (full batches, after :meth:`Gradients.restrict`): each block's products leave
  out the columns of X that are 0 in all of its rows (:mod:`mnistflow.training.engine._columns`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from queue import SimpleQueue
from typing import NamedTuple

import numpy as np

from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.engine._block_grads import BlockGrads
from mnistflow.training.engine._columns import fold_weights, live_columns, restrict_columns
from mnistflow.training.engine._flat import Layout, Part
from mnistflow.training.engine._gather import Gather
from mnistflow.training.engine._workers import Workers
from mnistflow.training.shifts import ShiftFrame, image_side

__all__ = ["BLOCK_ROWS", "Batch", "Gradients"]

# rows a worker handles at once: its (rows, H) buffers (4 MB in float32) stay in cache
BLOCK_ROWS = 4096


class Batch(NamedTuple):
    """Rows to step on."""

    X: np.ndarray | Gather  # (m, D) inputs, or the rows to gather them from (by the workers)
    Y: np.ndarray  # (m, K) one-hot targets
    labels: np.ndarray  # (m,) argmax of Y


@dataclass
class _Scratch:
    """A worker's buffers for one block of up to ``rows`` rows (views of their first m rows serve
    shorter blocks)."""

    A1: np.ndarray  # (rows, H) hidden activations, then the hidden delta
    P: np.ndarray  # (rows, K) probabilities, then the output delta
    mask: np.ndarray  # (rows, H) bool, relu'
    W1: np.ndarray  # (D + 1, H) a block's W1[live] and b1 below it (see Gradients.restrict)
    X: np.ndarray | None = None  # (rows, D) a block's gathered inputs, made at the first Gather
    frame: ShiftFrame | None = None  # where they are moved (by shifts up to its border)

    @classmethod
    def allocate(cls, rows: int, params: network.Params) -> _Scratch:
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
class _Block:
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


def _block_gradients(b: _Block, scratch: _Scratch, out: network.Grads) -> tuple[float, int]:
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


class Gradients:
    """Loss gradients of a batch, computed by ``workers`` on blocks of at most ``block`` rows (see
    the module docstring).

    ``gradients(params, batch, hp, rng)`` computes the blocks' gradients of any batch of up to
    ``batch`` rows; after :meth:`restrict`, ``gradients.restricted(params, hp, rng)`` those of the
    fixed full batch. Either way :meth:`add_up` then gives the batch's gradient (dW1, db1, dW2, db2),
    a part of the rows at a time (the optimizer's step asks each worker for its own rows), and
    ``gradients.grads`` all of it. Use it in a ``with`` block: at its end the workers stop (the
    optimizer's steps, on the same workers, belong inside it)."""

    def __init__(self, params: network.Params, batch: int, workers: Workers, block: int = BLOCK_ROWS) -> None:
        # rows per block: at most ``block``, and as many equal blocks as make a multiple of the
        # workers, so that on a quiet machine they all finish together (56,000 rows on 2 workers:
        # 14 blocks of 4,000 rows, not 13 of 4,096 and one of 2,752)
        count = -(-batch // min(block, -(-batch // workers.count)))
        self.block = -(-batch // (-(-count // workers.count) * workers.count))
        self._workers = workers
        layout = Layout.of(params)  # the gradients' arrays, each in a flat buffer (mnistflow.training.engine._flat)
        self._parts = layout.parts(workers.count)  # for grads: each worker its own rows
        self._scratch: SimpleQueue[_Scratch] = SimpleQueue()  # one per worker, taken per block
        for _ in range(workers.count):
            self._scratch.put(_Scratch.allocate(self.block, params))
        dtype = params["W1"].dtype
        blocks = [layout.zeros(dtype, "d") for _ in range(-(-batch // self.block))]
        self._block_flats = [flat for flat, _ in blocks]  # one gradient per block of a full batch
        self._block_grads = [grads for _, grads in blocks]
        self._flat, self._grads = layout.zeros(dtype, "d")  # the sum
        self._layout = layout
        self._columns: list[np.ndarray] | None = None  # each block's live columns, see restrict()
        self._restricted: list[Batch] = []  # the full batch's blocks, see restrict()
        self._last: BlockGrads | None = None  # the last batch's blocks, to add up

    def __enter__(self) -> Gradients:
        return self

    def __exit__(self, *exc: object) -> None:
        self._workers.close()

    def _cuts(self, n: int) -> list[slice]:
        """The blocks of a batch of ``n`` rows."""
        return [slice(a, min(a + self.block, n)) for a in range(0, n, self.block)]

    def restrict(self, data: Batch, rows: np.ndarray | None = None) -> list[int]:
        """Prepare :meth:`restricted`: the full batch of ``data``'s ``rows`` (default: all), with
        each block's zero columns left out of its products (see :mod:`mnistflow.training.engine._columns`). Returns
        the number of columns each block keeps."""
        X = data.X
        assert isinstance(X, np.ndarray), "restrict() takes the rows themselves"
        n = len(X) if rows is None else len(rows)
        assert len(self._block_grads) == len(self._cuts(n)), "restrict() is for a full batch"
        H, dtype = self._grads["dW1"].shape[1], self._grads["dW1"].dtype
        blocks, self._columns = [], []
        for c, grads in zip(self._cuts(n), self._block_grads, strict=True):
            block_rows = np.arange(n)[c] if rows is None else rows[c]  # (m,)
            live = live_columns(X, block_rows)  # (L,)
            blocks.append(restrict_columns(X, live, block_rows))  # (m, L + 1)
            self._columns.append(live)
            grads["dW1"] = np.empty((len(live) + 1, H), dtype)
            grads.pop("db1")  # the last row of the folded dW1
        Y, labels = (data.Y, data.labels) if rows is None else (data.Y[rows], data.labels[rows])
        self._restricted = [Batch(Xb, Y[c], labels[c]) for Xb, c in zip(blocks, self._cuts(n), strict=True)]
        return [len(live) for live in self._columns]

    def __call__(
        self, params: network.Params, batch: Batch, hp: Hyperparams, rng: np.random.Generator
    ) -> tuple[float, int]:
        """The blocks' gradients of ``batch``, to add up (L2 included); returns the mean
        cross-entropy and the number of rows predicted right."""
        assert self._columns is None, "after restrict(), the gradients are of that batch only"
        cuts = self._cuts(len(batch.Y))
        return self._run(params, [Batch(batch.X[c], batch.Y[c], batch.labels[c]) for c in cuts], hp, rng)

    def restricted(
        self, params: network.Params, hp: Hyperparams, rng: np.random.Generator
    ) -> tuple[float, int]:
        """:meth:`__call__` for the full batch given to :meth:`restrict`, on its live columns."""
        assert self._restricted, "restrict() first"
        return self._run(params, self._restricted, hp, rng)

    def _run(
        self, params: network.Params, blocks: list[Batch], hp: Hyperparams, rng: np.random.Generator
    ) -> tuple[float, int]:
        n = sum(len(b.Y) for b in blocks)
        kept = None
        if hp.dropout:
            kept = network.dropout_mask((n, params["W1"].shape[1]), hp.dropout, rng)  # (n, H)
        cuts = self._cuts(n)
        columns = self._columns if blocks is self._restricted else None

        def block(i: int) -> tuple[float, int]:
            scratch = self._scratch.get()
            try:
                block_params = params
                if columns is not None:  # W1[live] with b1 below: (L + 1, H)
                    W1 = fold_weights(params["W1"], params["b1"], columns[i], scratch.W1)
                    block_params = {"W1": W1, "W2": params["W2"], "b2": params["b2"]}
                X, Y, labels = blocks[i]
                if isinstance(X, Gather):  # each worker gathers the rows of its own block
                    X = scratch.gathered(X)
                b = _Block(block_params, X, Y, labels, n, columns is not None, hp.dropout,
                           None if kept is None else kept[cuts[i]])
                return _block_gradients(b, scratch, self._block_grads[i])
            finally:
                self._scratch.put(scratch)

        # the map first finishes the optimizer's update of the last step, which reads self._last
        results = self._workers.map(block, len(cuts))
        n_blocks = len(cuts)
        self._last = BlockGrads(self._block_grads[:n_blocks], self._block_flats[:n_blocks],
                                self._layout, columns, params, hp.l2)
        return sum(r[0] for r in results) / n, sum(r[1] for r in results)

    @property
    def grads(self) -> network.Grads:
        """The last batch's gradient, dW1 db1 dW2 db2, added up by the workers (at each access)."""
        assert self._last is not None, "no gradient yet"
        alone = self._last.alone()
        if alone is not None:
            return alone
        self._workers.map(lambda i: self.add_up(self._parts[i]), len(self._parts))
        return self._grads

    def add_up(self, part: Part) -> np.ndarray:
        """The rows ``part`` of the last batch's gradient (see :mod:`mnistflow.training.engine._block_grads`): the range of
        its flat buffer that holds them (:meth:`mnistflow.training.engine._flat.Layout.span`)."""
        assert self._last is not None, "no gradient yet"
        return self._last.add_up(part, self._grads, self._flat)

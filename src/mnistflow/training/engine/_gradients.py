"""The gradient engine of training: a batch's loss gradients, fast, on every core, bit-identically.

It computes what :func:`mnistflow.training.network.backward` computes for a batch (plus the L2 term),
the same maths in another order of work:

- The batch is cut into blocks small enough to stay in cache (``_block``); a free worker
  (``_workers``) takes the next block (a core slowed by another process just does fewer), and every
  block writes its own gradient. Then the workers add them up in block order, each its own rows of
  every gradient (``_block_grads``). The cut depends on the batch alone
  (:func:`mnistflow.training.blocks.block_rows`), so the result depends neither on which thread did
  what nor on how many threads there are: it is bit-identical from run to run and at any thread
  count. The dropout mask of the whole batch is drawn up front from the one generator.
- Every buffer is allocated once and the products write into it (``out=``): an epoch allocates
  nothing big.
- A mini-batch's inputs come as rows still to gather (``_gather.Gather``): each worker gathers (and
  shifts) its own block's rows into its buffer, right before its products use them, so that this
  memory-bound work runs on every core too and its rows are still in cache.
- Zero input columns (full batches, after :meth:`Gradients.restrict`): each block's products leave
  out the columns of X that are 0 in all of its rows (``_columns``).
"""

from __future__ import annotations

from queue import SimpleQueue
from typing import NamedTuple

import numpy as np

from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.blocks import BLOCK_ROWS, block_rows
from mnistflow.training.engine._block import Block, Scratch, block_gradients
from mnistflow.training.engine._block_grads import BlockGrads
from mnistflow.training.engine._columns import fold_weights, live_columns, restrict_columns
from mnistflow.training.engine._flat import Layout, Part
from mnistflow.training.engine._gather import Gather
from mnistflow.training.engine._workers import Workers

__all__ = ["Batch", "Gradients"]


class Batch(NamedTuple):
    """Rows to step on."""

    X: np.ndarray | Gather  # (m, D) inputs, or the rows to gather them from (by the workers)
    Y: np.ndarray  # (m, K) one-hot targets
    labels: np.ndarray  # (m,) argmax of Y


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
        self.block = block_rows(batch, block)  # the cut depends on the batch only, not the workers
        self._workers = workers
        layout = Layout.of(params)  # the gradients' arrays, each in a flat buffer (_flat)
        self._parts = layout.parts(workers.count)  # for grads: each worker its own rows
        self._scratch: SimpleQueue[Scratch] = SimpleQueue()  # one per worker, taken per block
        for _ in range(workers.count):
            self._scratch.put(Scratch.allocate(self.block, params))
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
        each block's zero columns left out of its products (see :mod:`mnistflow.training.engine._columns`).
        Returns
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
                b = Block(block_params, X, Y, labels, n, columns is not None, hp.dropout,
                           None if kept is None else kept[cuts[i]])
                return block_gradients(b, scratch, self._block_grads[i])
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
        """The rows ``part`` of the last batch's gradient (see :mod:`mnistflow.training.engine._block_grads`):
        the range of
        its flat buffer that holds them (:meth:`mnistflow.training.engine._flat.Layout.span`)."""
        assert self._last is not None, "no gradient yet"
        return self._last.add_up(part, self._grads, self._flat)

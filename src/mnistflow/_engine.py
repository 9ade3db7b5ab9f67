"""The gradient engine of training: a batch's loss gradients, fast, on every core, bit-identically.

It computes what :func:`mnistflow.network.backward` computes for a batch (plus the L2 term), the same
maths in another order of work:

- One worker thread per BLAS thread (Snakemake sets those from the rule's ``threads:``), each with
  single-threaded BLAS (the caller limits it, see :func:`blas_threads`). NumPy's elementwise work
  (bias, ReLU, masks, sums) runs on one core, OpenBLAS splits products of 10-column matrices poorly,
  and its threads spin badly on small products when another process shares the cores (a mini-batch
  epoch took 9x longer than single-threaded).
- The batch is cut into blocks small enough to stay in cache; a free worker takes the next block (a
  core slowed by another process just does fewer), and every block writes its own gradient, added
  up in block order at the end: the result does not depend on which thread did what, so it is
  bit-identical from run to run. The dropout mask of the whole batch is drawn up front from the one
  generator.
- Every buffer is allocated once and the products write into it (``out=``): an epoch allocates
  nothing big.
- Zero input columns (full batches, after :meth:`Gradients.restrict`): each block keeps only the
  columns of X that are not 0 in all of its rows, plus a column of ones, (m, L + 1), and its
  products use W1[live] with b1 as the last row, (L + 1, H). This is exact: a column of zeros adds
  nothing to X W1, its rows of the block's dW1 = X^T dZ1 are exactly 0, and the ones make
  X W1 + b1 and db1 = 1^T dZ1 part of the two products. On MNIST's 56,000 training rows 68 of the
  784 pixels are 0 in every image, and 132 on average in a block of 4,000: 17 % less work. The
  copy is 146 MB for MNIST, against 176 MB for all 784 columns.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_info

from mnistflow import network
from mnistflow.presets import Hyperparams

__all__ = ["BLOCK_ROWS", "GATHER_ROWS", "Batch", "Gradients", "blas_threads", "live_columns",
           "restrict_columns", "workers_for"]

# rows a worker handles at once: its (rows, H) buffers (4 MB in float32) stay in cache
BLOCK_ROWS = 4096
# rows read (and gathered, shifted) at once: a few MB, so it stays in cache
GATHER_ROWS = 4096
# below this many rows per thread, splitting a batch over threads costs more than it saves
MIN_ROWS_PER_WORKER = 32


def blas_threads() -> int:
    """Threads OpenBLAS (or another BLAS) would use: Snakemake sets them from the rule's ``threads:``."""
    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(1, min(counts, default=1))


def workers_for(batch: int, threads: int) -> int:
    """Worker threads for batches of ``batch`` rows: one per BLAS thread, none with too few rows."""
    return max(1, min(threads, batch // MIN_ROWS_PER_WORKER))


def live_columns(X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Columns of X (n, D) that are not 0 in at least one of ``rows`` (default: all), (L,) ascending.

    Read GATHER_ROWS rows at a time, so it needs no (n, D) temporary."""
    live = np.zeros(X.shape[1], dtype=bool)  # (D,)
    n = X.shape[0] if rows is None else len(rows)
    for i in range(0, n, GATHER_ROWS):
        part = X[i : i + GATHER_ROWS] if rows is None else X[rows[i : i + GATHER_ROWS]]
        live |= np.any(part != 0, axis=0)
    return np.flatnonzero(live)


def restrict_columns(X: np.ndarray, live: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """[X[rows][:, live], 1]: the live columns of X (n, D) and a column of ones, (n, L + 1)."""
    n = X.shape[0] if rows is None else len(rows)
    out = np.empty((n, len(live) + 1), X.dtype)  # (n, L + 1)
    for i in range(0, n, GATHER_ROWS):
        part = X[i : i + GATHER_ROWS] if rows is None else X[rows[i : i + GATHER_ROWS]]
        np.take(part, live, axis=1, out=out[i : i + GATHER_ROWS, :-1])
    out[:, -1] = 1
    return out


class Batch(NamedTuple):
    """Rows to step on."""

    X: np.ndarray  # (m, D) inputs
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

    @classmethod
    def allocate(cls, rows: int, params: network.Params) -> _Scratch:
        (d, h), k = params["W1"].shape, params["W2"].shape[1]
        dtype = params["W1"].dtype
        return cls(np.empty((rows, h), dtype), np.empty((rows, k), dtype), np.empty((rows, h), bool),
                   np.empty((d + 1, h), dtype))


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

    :func:`mnistflow.network.backward` with three shortcuts: the loss averages over the batch's n
    rows, not the block's m; relu' comes from the forward pass when there is no dropout; with a
    folded bias db1 is the last row of the product dW1 = X^T dZ1."""
    # np.errstate is per thread: say again here that overflow is reported by the loss check
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
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
    """Loss gradients of a batch, computed by ``workers`` threads on blocks of at most ``block`` rows
    (see the module docstring). Use it in a ``with`` block (it owns a thread pool).

    ``gradients(params, batch, hp, rng)`` computes the gradient of any batch of up to ``batch`` rows;
    after :meth:`restrict`, ``gradients.restricted(params, hp, rng)`` that of the fixed full batch.
    Either way the result is in ``gradients.grads`` (dW1, db1, dW2, db2)."""

    def __init__(self, params: network.Params, batch: int, workers: int, block: int = BLOCK_ROWS) -> None:
        # rows per block: at most ``block``, and as many equal blocks as make a multiple of the
        # workers, so that on a quiet machine they all finish together (56,000 rows on 2 workers:
        # 14 blocks of 4,000 rows, not 13 of 4,096 and one of 2,752)
        count = -(-batch // min(block, -(-batch // workers)))
        self.block = -(-batch // (-(-count // workers) * workers))
        self._scratch: SimpleQueue[_Scratch] = SimpleQueue()  # one per worker, taken per block
        for _ in range(workers):
            self._scratch.put(_Scratch.allocate(self.block, params))
        self._block_grads = [  # one gradient per block of a full batch
            {f"d{name}": np.empty_like(value) for name, value in params.items()}
            for _ in range(-(-batch // self.block))
        ]
        # the batch's gradient, dW1 db1 dW2 db2, after each call
        self.grads = self._block_grads[0] if len(self._block_grads) == 1 else {
            f"d{name}": np.empty_like(value) for name, value in params.items()
        }
        self._columns: list[np.ndarray] | None = None  # each block's live columns, see restrict()
        self._restricted: list[Batch] = []  # the full batch's blocks, see restrict()
        self._pool = ThreadPoolExecutor(workers) if workers > 1 else None

    def __enter__(self) -> Gradients:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _cuts(self, n: int) -> list[slice]:
        """The blocks of a batch of ``n`` rows."""
        return [slice(a, min(a + self.block, n)) for a in range(0, n, self.block)]

    def restrict(self, data: Batch, rows: np.ndarray | None = None) -> list[int]:
        """Prepare :meth:`restricted`: the full batch of ``data``'s ``rows`` (default: all), with
        each block's zero columns left out of its products (see the module docstring). Returns the
        number of columns each block keeps."""
        X = data.X
        n = len(X) if rows is None else len(rows)
        assert len(self._block_grads) == len(self._cuts(n)), "restrict() is for a full batch"
        W1_shape, dtype = self.grads["dW1"].shape, self.grads["dW1"].dtype  # (D, H)
        blocks, self._columns = [], []
        for c, grads in zip(self._cuts(n), self._block_grads, strict=True):
            block_rows = np.arange(n)[c] if rows is None else rows[c]  # (m,)
            live = live_columns(X, block_rows)  # (L,)
            blocks.append(restrict_columns(X, live, block_rows))  # (m, L + 1)
            self._columns.append(live)
            grads["dW1"] = np.empty((len(live) + 1, W1_shape[1]), dtype)
            grads.pop("db1")  # the last row of the folded dW1
        if self.grads is self._block_grads[0]:  # a single block: the sum needs its own dW1, db1
            self.grads = {**self.grads, "dW1": np.empty(W1_shape, dtype),
                          "db1": np.empty(W1_shape[1], dtype)}
        Y, labels = (data.Y, data.labels) if rows is None else (data.Y[rows], data.labels[rows])
        self._restricted = [Batch(Xb, Y[c], labels[c]) for Xb, c in zip(blocks, self._cuts(n), strict=True)]
        return [len(live) for live in self._columns]

    def __call__(
        self, params: network.Params, batch: Batch, hp: Hyperparams, rng: np.random.Generator
    ) -> tuple[float, int]:
        """The gradient of ``batch`` into ``self.grads`` (L2 included); returns the mean
        cross-entropy and the number of rows predicted right."""
        assert self._columns is None, "after restrict(), the gradients are of that batch only"
        cuts = self._cuts(len(batch.Y))
        return self._run(params, [Batch(*(a[c] for a in batch)) for c in cuts], hp, rng)

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
                    W1 = scratch.W1[: len(columns[i]) + 1]
                    np.take(params["W1"], columns[i], axis=0, out=W1[:-1])
                    W1[-1] = params["b1"]
                    block_params = {"W1": W1, "W2": params["W2"], "b2": params["b2"]}
                X, Y, labels = blocks[i]
                b = _Block(block_params, X, Y, labels, n, columns is not None, hp.dropout,
                           None if kept is None else kept[cuts[i]])
                return _block_gradients(b, scratch, self._block_grads[i])
            finally:
                self._scratch.put(scratch)

        results = list(self._pool.map(block, range(len(cuts)))) if self._pool else [
            block(i) for i in range(len(cuts))
        ]
        ce, correct = sum(r[0] for r in results), sum(r[1] for r in results)
        self._add_up(len(cuts), columns)
        if hp.l2:
            for w in ("W1", "W2"):
                self.grads[f"d{w}"] += params[w] * params[w].dtype.type(hp.l2)  # d/dW l2/2 |W|^2
        return ce / n, correct

    def _add_up(self, blocks: int, columns: list[np.ndarray] | None) -> None:
        """The blocks' gradients added up in block order into ``self.grads``; a folded block's dW1
        goes into the rows of its live ``columns`` of dW1 and db1 (the other rows get exactly 0)."""
        if columns is not None:
            dW1, db1 = self.grads["dW1"], self.grads["db1"]
            dW1.fill(0)
            db1.fill(0)
            for live, grads in zip(columns, self._block_grads, strict=True):
                dW1[live] += grads["dW1"][:-1]  # (L, H); live has no repeats
                db1 += grads["dW1"][-1]
            for key in ("dW2", "db2"):
                value = self.grads[key]
                np.copyto(value, self._block_grads[0][key])
                for grads in self._block_grads[1:blocks]:
                    value += grads[key]
        elif blocks > 1:
            for key, value in self.grads.items():
                np.add(self._block_grads[0][key], self._block_grads[1][key], out=value)
                for grads in self._block_grads[2:blocks]:
                    value += grads[key]
        elif self.grads is not self._block_grads[0]:  # a short last batch of a single block
            for key, value in self.grads.items():
                value[...] = self._block_grads[0][key]

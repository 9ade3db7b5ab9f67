"""Training the network of :mod:`mnistflow.network`: full-batch or mini-batch, with the optimizers,
schedule and augmentation that the hyperparameters (:mod:`mnistflow.presets`) ask for.

``train`` runs the epochs, logs progress (epoch i/N, loss, elapsed, ETA) and returns the parameters
with one row of history per epoch. ``save_model`` / ``load_model`` keep the weights together with the
architecture and hyperparameters that made them, in a plain ``.npz`` (no pickle).

Speed: a step's gradient is computed by :class:`_Gradients`: one worker thread per BLAS thread
(Snakemake sets those from the rule's ``threads:``), each on an equal share of the batch's rows,
walked in cache-sized blocks, with single-threaded BLAS. Every block buffer is allocated once and
the network functions write into it (``out=``), so an epoch allocates nothing big. Full-batch
training without shifts copies the training rows once, up front, in blocks that leave out their
columns that are 0 in all their rows (exact; see :class:`_Gradients`): 146 MB for MNIST's 56,000
rows, against 176 MB for all 784 columns. Mini-batches are gathered with ``np.take(..., out=)``
(or moved by :func:`mnistflow.augment.shift_rows`) 4096 rows at a time into one buffer. Memory
beyond the data and that copy is a few MB.

One ``numpy.random.default_rng(seed)`` drives everything random (initialisation, validation hold-out,
shuffling, shifts, dropout), in a fixed order, so the same data, hyperparameters and seed give
bit-identical weights.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from queue import SimpleQueue
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from mnistflow import network
from mnistflow._io import load_npz, rebuild_hint, save_npz, write_text
from mnistflow.augment import random_shifts, shift_rows
from mnistflow.errors import ConfigError, DataError, TrainingError
from mnistflow.optimizers import Optimizer, learning_rate_at, make_optimizer
from mnistflow.presets import Hyperparams

__all__ = ["Epoch", "History", "Hyperparams", "load_model", "save_model", "train", "write_history"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Epoch:
    """One row of the training log."""

    epoch: int
    loss: float  # full batch: loss before the epoch's step; mini-batch: mean over the epoch's batches
    train_accuracy: float  # on the same forward passes as the loss (shifted / dropped-out rows)
    seconds: float  # since training started
    learning_rate: float  # at the epoch's last step
    val_accuracy: float | None = None  # on the held-out validation rows, after the epoch


History = list[Epoch]


@dataclass
class _Scratch:
    """A worker's buffers for one block of up to ``rows`` rows (views of their first m rows serve
    shorter blocks)."""

    A1: np.ndarray  # (rows, H) hidden activations, then the hidden delta
    P: np.ndarray  # (rows, K) probabilities, then the output delta
    mask: np.ndarray  # (rows, H) bool, relu'
    W1: np.ndarray  # (D + 1, H) a block's W1[live] and b1 below it (see _Gradients.restrict)

    @classmethod
    def allocate(cls, rows: int, params: network.Params) -> _Scratch:
        (d, h), k = params["W1"].shape, params["W2"].shape[1]
        dtype = params["W1"].dtype
        return cls(np.empty((rows, h), dtype), np.empty((rows, k), dtype), np.empty((rows, h), bool),
                   np.empty((d + 1, h), dtype))


def _block_gradients(
    params: network.Params, X: np.ndarray, Y: np.ndarray, labels: np.ndarray, n: int,
    scratch: _Scratch, out: network.Grads, dropout: float = 0.0, kept: np.ndarray | None = None,
    folded_bias: bool = False,
) -> tuple[float, int]:
    """The part of the gradient of a batch's mean loss (over ``n`` rows) that the rows X (m, D),
    Y (m, K) contribute, into ``out``; returns their summed cross-entropy and how many are right.
    With dropout, ``kept`` is the (m, H) mask of these rows; ``folded_bias``: see
    :func:`mnistflow.network.hidden`."""
    # np.errstate is per thread: say again here that overflow is reported by the loss check
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        m = X.shape[0]
        mask = scratch.mask[:m]  # (m, H) relu'(Z1), from the forward pass when there is no dropout
        A1 = network.hidden(params, X, out=scratch.A1[:m], folded_bias=folded_bias,
                            mask=None if dropout else mask)  # (m, H)
        if dropout:
            assert kept is not None
            network.inplace_dropout(A1, dropout, kept)
        P = network.output(params, A1, out=scratch.P[:m])  # (m, K)
        ce = network.loss(P, Y)
        correct = int(np.count_nonzero(np.argmax(P, axis=1) == labels))
        if math.isfinite(ce):
            network.backward(params, X, Y, A1, P, dropout=dropout, out=out, mask=mask, n=n,
                             folded_bias=folded_bias, active=None if dropout else mask)
        return ce * m, correct


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
    """[X[rows][:, live], 1]: the live columns of X (n, D) and a column of ones, (n, L + 1).

    A block's input after :meth:`_Gradients.restrict`: its products skip the columns that are 0
    in all its rows, and the ones fold the bias b1 into them."""
    n = X.shape[0] if rows is None else len(rows)
    out = np.empty((n, len(live) + 1), X.dtype)  # (n, L + 1)
    for i in range(0, n, GATHER_ROWS):
        part = X[i : i + GATHER_ROWS] if rows is None else X[rows[i : i + GATHER_ROWS]]
        np.take(part, live, axis=1, out=out[i : i + GATHER_ROWS, :-1])
    out[:, -1] = 1
    return out


class _Gradients:
    """Loss gradients of a batch, computed by ``workers`` threads on blocks of at most ``block`` rows.

    NumPy's elementwise work (bias, ReLU, masks, sums) runs on one core, OpenBLAS splits products
    of 10-column matrices poorly, and its threads spin badly on small products when another process
    shares the cores (a mini-batch epoch took 9x longer than single-threaded). So the batch is cut
    into blocks small enough to stay in cache, the worker threads take the next block as soon as
    they are free (a core slowed by another process just does fewer blocks), each with
    single-threaded BLAS (the caller limits it), and every block writes its own gradient, added up
    in block order at the end: the result does not depend on which thread did what, so it is
    bit-identical from run to run. The dropout mask of the whole batch is drawn up front from the
    one generator.

    Zero input columns (full batches, after :meth:`restrict`): each block of rows keeps only the
    columns of X that are not 0 in all of its rows, plus a column of ones, (m, L + 1), and its
    products use W1[live] with b1 as the last row, (L + 1, H). This is exact: a column of zeros
    adds nothing to X W1, its rows of the block's dW1 = X^T dZ1 are exactly 0, and the ones make
    X W1 + b1 and db1 = 1^T dZ1 part of the two products. On MNIST's 56,000 training rows 68 of
    the 784 pixels are 0 in every image, and 132 on average in a block of 4,000: 17 % less work.
    """

    def __init__(
        self, params: network.Params, batch: int, workers: int, block: int | None = None
    ) -> None:
        self.workers = workers
        # rows per block: at most ``block``, and as many equal blocks as make a multiple of the
        # workers, so that on a quiet machine they all finish together (56,000 rows on 2 workers:
        # 14 blocks of 4,000 rows, not 13 of 4,096 and one of 2,752)
        count = -(-batch // min(block or BLOCK_ROWS, -(-batch // workers)))
        self.block = -(-batch // (-(-count // workers) * workers))
        self.scratch: SimpleQueue[_Scratch] = SimpleQueue()  # one per worker, taken per block
        for _ in range(workers):
            self.scratch.put(_Scratch.allocate(self.block, params))
        self.block_grads = [  # one gradient per block of a full batch
            {f"d{name}": np.empty_like(value) for name, value in params.items()}
            for _ in range(-(-batch // self.block))
        ]
        self.grads = self.block_grads[0] if len(self.block_grads) == 1 else {
            f"d{name}": np.empty_like(value) for name, value in params.items()
        }
        self.columns: list[np.ndarray] | None = None  # each block's live columns, see restrict()
        self.dtype, self.W1_shape = params["W1"].dtype, params["W1"].shape  # (D, H)
        self.pool = ThreadPoolExecutor(workers) if workers > 1 else None

    def cuts(self, n: int) -> list[slice]:
        """The blocks of a batch of ``n`` rows."""
        return [slice(a, min(a + self.block, n)) for a in range(0, n, self.block)]

    def restrict(self, X: np.ndarray, rows: np.ndarray | None = None) -> list[np.ndarray]:
        """Leave each block's zero columns out of its products (see the class docstring), for a
        full batch of X's ``rows`` (default: all) given at every step. Returns the blocks' inputs
        (m, L + 1), to pass as X to every call."""
        n = len(X) if rows is None else len(rows)
        assert len(self.block_grads) == len(self.cuts(n)), "restrict() is for a full batch"
        blocks, self.columns = [], []
        for c, grads in zip(self.cuts(n), self.block_grads, strict=True):
            block_rows = np.arange(n)[c] if rows is None else rows[c]  # (m,)
            live = live_columns(X, block_rows)  # (L,)
            blocks.append(restrict_columns(X, live, block_rows))  # (m, L + 1)
            self.columns.append(live)
            grads["dW1"] = np.empty((len(live) + 1, grads["dW1"].shape[1]), grads["dW1"].dtype)
            grads.pop("db1")  # the last row of the folded dW1
        if self.grads is self.block_grads[0]:  # a single block: the sum needs its own dW1, db1
            self.grads = {**self.grads, "dW1": np.empty(self.W1_shape, self.dtype),
                          "db1": np.empty(self.W1_shape[1], self.dtype)}
        return blocks

    def __call__(
        self, params: network.Params, X: np.ndarray | list[np.ndarray], Y: np.ndarray,
        labels: np.ndarray, hp: Hyperparams, rng: np.random.Generator,
    ) -> tuple[float, int]:
        """Batch gradient into ``self.grads`` (L2 included); returns mean cross-entropy, correct rows.
        After :meth:`restrict`, X is the list of blocks it returned."""
        n = Y.shape[0]
        kept = None
        if hp.dropout:
            kept = network.dropout_mask((n, params["W1"].shape[1]), hp.dropout, rng)  # (n, H)
        cuts = self.cuts(n)
        columns = self.columns
        assert (columns is None) == isinstance(X, np.ndarray)

        def block(i: int) -> tuple[float, int]:
            scratch = self.scratch.get()
            try:
                c = cuts[i]
                block_params, Xb = params, X[c] if isinstance(X, np.ndarray) else X[i]
                if columns is not None:  # W1[live] with b1 below: (L + 1, H)
                    W1 = scratch.W1[: len(columns[i]) + 1]
                    np.take(params["W1"], columns[i], axis=0, out=W1[:-1])
                    W1[-1] = params["b1"]
                    block_params = {"W1": W1, "W2": params["W2"], "b2": params["b2"]}
                return _block_gradients(block_params, Xb, Y[c], labels[c], n, scratch,
                                        self.block_grads[i], hp.dropout,
                                        None if kept is None else kept[c], columns is not None)
            finally:
                self.scratch.put(scratch)

        results = list(self.pool.map(block, range(len(cuts)))) if self.pool else [
            block(i) for i in range(len(cuts))
        ]
        ce, correct = sum(r[0] for r in results), sum(r[1] for r in results)
        if columns is not None:
            self._add_up_restricted(len(cuts))
        elif len(cuts) > 1:
            for key, value in self.grads.items():
                np.add(self.block_grads[0][key], self.block_grads[1][key], out=value)
                for grads in self.block_grads[2 : len(cuts)]:
                    value += grads[key]
        elif self.grads is not self.block_grads[0]:  # a short last batch of a single block
            for key, value in self.grads.items():
                value[...] = self.block_grads[0][key]
        if hp.l2:
            for w in ("W1", "W2"):
                self.grads[f"d{w}"] += params[w] * params[w].dtype.type(hp.l2)  # d/dW l2/2 |W|^2
        return ce / n, correct

    def _add_up_restricted(self, blocks: int) -> None:
        """The blocks' gradients added up in block order, each block's folded dW1 into the rows of
        its live columns of dW1 and db1 (the other rows get exactly 0 from it)."""
        assert self.columns is not None
        dW1, db1 = self.grads["dW1"], self.grads["db1"]
        dW1.fill(0)
        db1.fill(0)
        for live, grads in zip(self.columns[:blocks], self.block_grads, strict=True):
            dW1[live] += grads["dW1"][:-1]  # (L, H); live has no repeats
            db1 += grads["dW1"][-1]
        for key in ("dW2", "db2"):
            value = self.grads[key]
            np.copyto(value, self.block_grads[0][key])
            for grads in self.block_grads[1:blocks]:
                value += grads[key]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _progress_every(epochs: int) -> int:
    """Log about 20 progress lines per run, whatever the number of epochs."""
    return max(1, epochs // 20)


def _check_data(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> None:
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or not len(X):
        raise DataError(f"training data: X {X.shape} and Y {Y.shape} are not (n, D) and (n, K) rows")
    if X.dtype != hp.dtype or Y.dtype != hp.dtype:
        raise DataError(f"training data is {X.dtype}/{Y.dtype}, but dtype is {hp.dtype}")


def _holdout(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers to fit on and to validate on: a random ``fraction`` of the rows is held out."""
    n_val = round(n * fraction)
    if not fraction:
        return np.arange(n), np.arange(0)
    if not n_val:  # a tiny fraction would hold out nothing, silently: no validation, no early stop
        raise ConfigError(
            f"validation_fraction: {fraction} of {n} training rows holds out no row; choose "
            f"validation_fraction >= {math.ceil(1e6 / n) / 1e6:g}, or 0 for no validation"
        )
    if n_val >= n:
        raise DataError(f"validation_fraction={fraction} leaves no rows to train on ({n} rows)")
    order = rng.permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _diverged(value: float, where: str, hp: Hyperparams) -> TrainingError:
    return TrainingError(
        f"the loss became {value} at {where} with {_step_settings(hp)}: training diverged; "
        f"try a smaller {' or '.join(_step_keys(hp))}"
    )


def _step_keys(hp: Hyperparams) -> list[str]:
    """The settings that scale a step: the learning rate, and l2 when set (W -= lr * l2 * W each
    step, so with plain gradient descent lr * l2 > 2 alone makes the weights grow without bound)."""
    return ["learning_rate", "l2"] if hp.l2 else ["learning_rate"]


def _step_settings(hp: Hyperparams) -> str:
    return ", ".join(f"{key}={getattr(hp, key):g}" for key in _step_keys(hp))


def _l2_penalty(params: network.Params, l2: float) -> float:
    """l2/2 (|W1|^2 + |W2|^2): the part of the loss the cross-entropy of a step leaves out."""
    return 0.5 * l2 * sum(float(np.vdot(params[w], params[w])) for w in ("W1", "W2")) if l2 else 0.0


def train(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> tuple[network.Params, History]:
    """Train a fresh network on X (n, D), Y (n, K) one-hot, both already in ``hp.dtype``.

    Raises :class:`TrainingError` as soon as the loss is not finite, naming the learning rate.
    """
    # a diverging run overflows on its way to a non-finite loss; the loss check below reports that
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _train(X, Y, hp)


def _blas_threads() -> int:
    """Threads OpenBLAS (or another BLAS) would use: Snakemake sets them from the rule's ``threads:``."""
    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(1, min(counts, default=1))


# below this many rows per thread, splitting a batch over threads costs more than it saves
MIN_ROWS_PER_WORKER = 32
# rows a worker handles at once: its (rows, H) buffers (4 MB in float32) stay in cache
BLOCK_ROWS = 4096
# rows gathered (and shifted) at once for mini-batches: a few MB, so it stays in cache
GATHER_ROWS = 4096
# full batches without shifts (which would move pixels into them): leave each block's input columns
# that are 0 in all its rows out of its products (see _Gradients)
SKIP_ZERO_COLUMNS = True


def _train(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> tuple[network.Params, History]:
    hp.check()
    _check_data(X, Y, hp)
    rng = np.random.default_rng(hp.seed)
    params = network.init_params(X.shape[1], hp.hidden, Y.shape[1], rng, hp.dtype, init=hp.init)
    labels = np.argmax(Y, axis=1)  # (n,)
    fit_rows, val_rows = _holdout(len(X), hp.validation_fraction, rng)
    n_fit = len(fit_rows)
    batch = min(hp.batch_size or n_fit, n_fit)
    # full batch, nothing to move: step on the same rows every epoch (the seed recipe), in blocks
    # that leave out their zero columns (see _Gradients.restrict)
    in_place = batch == n_fit and not hp.shift
    X_val, labels_val = X[val_rows], labels[val_rows]
    X_fit: np.ndarray | list[np.ndarray] = X
    Y_fit, labels_fit = Y, labels
    if in_place and len(val_rows):
        Y_fit, labels_fit = Y[fit_rows], labels[fit_rows]  # one copy, up front
        if not SKIP_ZERO_COLUMNS:
            X_fit = X[fit_rows]
    # mini-batches are gathered (and shifted) GATHER_ROWS at a time: fewer, bigger NumPy calls
    gather = min(n_fit, batch * max(1, GATHER_ROWS // batch))
    X_batch = None if in_place else np.empty((gather, X.shape[1]), X.dtype)  # (G, D)
    Y_batch = None if in_place else np.empty((gather, Y.shape[1]), Y.dtype)  # (G, K)
    steps_per_epoch = math.ceil(n_fit / batch)
    opt = make_optimizer(hp.optimizer, params, hp.momentum)
    threads = _blas_threads()
    workers = max(1, min(threads, batch // MIN_ROWS_PER_WORKER))
    gradients = _Gradients(params, batch, workers)
    if in_place and SKIP_ZERO_COLUMNS:  # one copy of the blocks' live columns, up front
        X_fit = gradients.restrict(X, fit_rows if len(val_rows) else None)
        mean_live = sum(b.shape[1] - 1 for b in X_fit) / len(X_fit)
        log.info("input columns: %.0f of %d on average are not 0 in a block of %d rows, and only "
                 "they enter the products", mean_live, X.shape[1], gradients.block)
    log.info(
        "%d rows to fit on, %d to validate on; %d step(s) of %d rows per epoch, %d epochs; "
        "%d thread(s), %d worker(s)",
        n_fit, len(val_rows), steps_per_epoch, batch, hp.epochs, threads, workers,
    )
    try:
        with threadpool_limits(1, user_api="blas"):  # the workers are the threads (see _Gradients)
            return _epochs(params, X, Y, labels, X_fit, Y_fit, labels_fit, X_val, labels_val,
                           X_batch, Y_batch, fit_rows, batch, in_place, gradients, opt, rng, hp)
    finally:
        gradients.close()


def _epochs(
    params: network.Params, X: np.ndarray, Y: np.ndarray, labels: np.ndarray,
    X_fit: np.ndarray | list[np.ndarray], Y_fit: np.ndarray, labels_fit: np.ndarray,
    X_val: np.ndarray, labels_val: np.ndarray, X_batch: np.ndarray | None, Y_batch: np.ndarray | None,
    fit_rows: np.ndarray, batch: int, in_place: bool, gradients: _Gradients, opt: Optimizer,
    rng: np.random.Generator, hp: Hyperparams,
) -> tuple[network.Params, History]:
    """The epoch loop of :func:`train`."""
    n_fit = len(fit_rows)
    steps_per_epoch = math.ceil(n_fit / batch)
    total_steps = hp.epochs * steps_per_epoch
    history: History = []
    best: tuple[float, network.Params] | None = None  # validation accuracy, weights
    since_best = 0
    every = _progress_every(hp.epochs)
    step = 0
    start = time.perf_counter()
    for epoch in range(1, hp.epochs + 1):
        total_ce, total_correct = 0.0, 0
        order = fit_rows if in_place else rng.permutation(fit_rows)  # (n_fit,)
        for i in range(0, n_fit, batch):
            lr = learning_rate_at(step, total_steps, hp.learning_rate, hp.lr_schedule,
                                  hp.warmup_epochs * steps_per_epoch)
            if in_place:
                Xb, Yb, lb = X_fit, Y_fit, labels_fit
            else:
                assert X_batch is not None and Y_batch is not None
                g = i % len(X_batch)  # position in the gathered rows
                if g == 0:  # gather the next rows of this epoch's order
                    rows = order[i : i + len(X_batch)]  # (G,)
                    m = len(rows)
                    if hp.shift:
                        shift_rows(X, rows, *random_shifts(m, hp.shift, rng), out=X_batch[:m])
                    else:
                        np.take(X, rows, axis=0, out=X_batch[:m])
                    np.take(Y, rows, axis=0, out=Y_batch[:m])
                    labels_batch = labels[rows]
                size = min(batch, n_fit - i)  # the last batch of an epoch may be short
                Xb, Yb = X_batch[g : g + size], Y_batch[g : g + size]
                lb = labels_batch[g : g + size]
            ce, correct = gradients(params, Xb, Yb, lb, hp, rng)
            if not math.isfinite(ce):
                raise _diverged(ce, f"epoch {epoch}/{hp.epochs}, step {step + 1}", hp)
            opt.step(gradients.grads, lr)
            total_ce += ce * len(Yb)
            total_correct += correct
            step += 1
        loss = total_ce / n_fit + _l2_penalty(params, hp.l2)
        if not math.isfinite(loss):
            raise _diverged(loss, f"epoch {epoch}/{hp.epochs}", hp)
        val_accuracy = None
        if len(X_val):
            val_accuracy = float(np.mean(network.predict(params, X_val) == labels_val))
            if best is None or val_accuracy > best[0]:
                best, since_best = (val_accuracy, {k: v.copy() for k, v in params.items()}), 0
            else:
                since_best += 1
        elapsed = time.perf_counter() - start
        history.append(Epoch(epoch, loss, total_correct / n_fit, elapsed, lr, val_accuracy))
        stop = bool(hp.patience) and since_best >= hp.patience
        if epoch % every == 0 or epoch in (1, hp.epochs) or stop:
            eta = elapsed / epoch * (hp.epochs - epoch)
            val = "" if val_accuracy is None else f"  val acc {val_accuracy:.4f}"
            log.info(
                "epoch %*d/%d  loss %.4f  train acc %.4f%s  lr %.3g  elapsed %.1fs  ETA %.1fs",
                len(str(hp.epochs)), epoch, hp.epochs, loss, total_correct / n_fit, val, lr,
                elapsed, eta,
            )
        if stop:
            log.info("early stop: no better validation accuracy for %d epochs", hp.patience)
            break
    if hp.patience and best is not None:
        log.info("keeping the weights of the best validation accuracy, %.4f", best[0])
        for name, value in best[1].items():
            params[name][...] = value
    for name, value in params.items():
        if not np.all(np.isfinite(value)):
            raise TrainingError(
                f"weights {name} are not finite after training with {_step_settings(hp)}; "
                f"try a smaller {' or '.join(_step_keys(hp))}"
            )
    return params, history


def write_history(path: str | os.PathLike[str], history: History) -> None:
    """The training log as CSV: epoch, loss, train_accuracy, seconds, learning_rate, and
    val_accuracy when a validation part was held out."""
    with_val = any(e.val_accuracy is not None for e in history)
    lines = ["epoch,loss,train_accuracy,seconds,learning_rate" + (",val_accuracy" if with_val else "")]
    for e in history:
        line = f"{e.epoch},{e.loss:.6f},{e.train_accuracy:.6f},{e.seconds:.3f},{e.learning_rate:.6g}"
        lines.append(line + (f",{e.val_accuracy:.6f}" if with_val else ""))
    write_text(path, "\n".join(lines) + "\n")


def save_model(path: str | os.PathLike[str], params: network.Params, hp: Hyperparams) -> None:
    """Weights plus the hyperparameters (as JSON in a string array) in one deterministic .npz."""
    meta = {"architecture": _architecture(params), "hyperparams": asdict(hp)}
    save_npz(path, {**params, "meta": np.array(json.dumps(meta, sort_keys=True))})


def _architecture(params: network.Params) -> dict[str, Any]:
    n_in, n_hidden = params["W1"].shape
    return {"layers": [int(n_in), int(n_hidden), int(params["W2"].shape[1])],
            "hidden_activation": "relu", "output": "softmax", "loss": "cross-entropy"}


def load_model(path: str | os.PathLike[str]) -> tuple[network.Params, dict[str, Any]]:
    """Weights and metadata from :func:`save_model`, with their shapes checked."""
    arrays = load_npz(
        path,
        {"W1": "first-layer weights", "b1": "", "W2": "second-layer weights", "b2": "", "meta": ""},
        rebuild="train",
    )
    hint = rebuild_hint("train")
    meta_array = arrays.pop("meta")
    try:
        if meta_array.shape != () or meta_array.dtype.kind != "U":
            raise ValueError
        meta = json.loads(str(meta_array))
    except (json.JSONDecodeError, ValueError):
        raise DataError(f"{path}: its metadata is not one JSON text; {hint}") from None
    if not (isinstance(meta, dict) and isinstance(meta.get("hyperparams"), dict)
            and isinstance(meta.get("architecture"), dict)):
        raise DataError(f"{path}: its metadata lacks the architecture and hyperparams; {hint}")
    W1, b1, W2, b2 = (arrays[k] for k in ("W1", "b1", "W2", "b2"))
    wrong = [f"{k} is {a.dtype}" for k, a in zip(("W1", "b1", "W2", "b2"), (W1, b1, W2, b2), strict=True)
             if a.dtype not in (np.float32, np.float64)]
    if wrong:
        raise DataError(f"{path}: weights must be float32 or float64, but {', '.join(wrong)}; {hint}")
    if not (W1.ndim == 2 and W2.ndim == 2 and b1.shape == (W1.shape[1],)
            and W2.shape[0] == W1.shape[1] and b2.shape == (W2.shape[1],)):
        raise DataError(
            f"{path}: weight shapes do not fit together (W1 {W1.shape}, b1 {b1.shape}, "
            f"W2 {W2.shape}, b2 {b2.shape}); {hint}"
        )
    if not all(np.all(np.isfinite(a)) for a in (W1, b1, W2, b2)):
        raise DataError(f"{path}: weights contain NaN or infinity; {hint}")
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, meta

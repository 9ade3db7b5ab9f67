"""Training the network of :mod:`mnistflow.training.network`: full-batch or mini-batch, with the optimizers,
schedule, augmentation and early stopping that the hyperparameters (:mod:`mnistflow.settings.presets`) ask
for.

``train`` runs the epochs, logs progress (epoch i/N, loss, elapsed, ETA) and returns the parameters
with one row of history per epoch (:mod:`mnistflow.training.training_log`). Each step's gradient comes from
the
engine (:mod:`mnistflow.training.engine._gradients`) and its update from
:mod:`mnistflow.training.engine._parallel_step`, both on the same worker threads
(:mod:`mnistflow.training.engine._workers`); saving the result is
:mod:`mnistflow.training.model_file`'s job.

Memory: full-batch training without shifts gives the engine the training rows once, up front (it
keeps a copy of their non-zero columns); a mini-batch's rows are gathered (and shifted) by the
workers, each its own block's into a buffer of its own (:mod:`mnistflow.training.batches`). The weights,
and each gradient of them, are one flat buffer each (:mod:`mnistflow.training.engine._flat`). Beyond the data
and that copy, training needs a few MB; with distortions (:mod:`mnistflow.training.distort`), two more copies
of the rows to fit on: the current epoch's distorted rows, and the next epoch's, which a background
thread prepares meanwhile (:mod:`mnistflow.training.prefetch`). Batches are then gathered from the epoch's
distorted rows (and shifted, if ``shift`` is set too).

One ``numpy.random.default_rng(seed)`` drives everything random (initialisation, validation hold-out,
shuffling, shifts, dropout), in a fixed order, so the same data, hyperparameters and seed give
bit-identical weights. Distortions are drawn from a generator of each epoch's own, derived from the
same seed, so they leave that order as it is and do not depend on the thread's timing.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from mnistflow.plumbing.errors import ConfigError, DataError, TrainingError
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.batches import distorted_epochs, mini_batches
from mnistflow.training.distort import Distortions
from mnistflow.training.engine import (
    Batch,
    Gradients,
    Layout,
    ParallelOptimizer,
    Workers,
    blas_threads,
    workers_for,
)
from mnistflow.training.optimizers import learning_rate_at
from mnistflow.training.prefetch import DistortedEpochs
from mnistflow.training.training_log import Epoch, History

__all__ = ["EarlyStopping", "early_stopping", "train"]

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """What training steps on and what changes as it goes."""

    data: Batch  # all training rows: X (n, D), Y (n, K), labels (n,)
    fit_rows: np.ndarray  # (n_fit,) the rows to fit on, ascending; the others validate
    batch: int  # rows per step
    params: network.Params
    opt: ParallelOptimizer
    rng: np.random.Generator
    step: int = 0  # steps taken so far
    history: History = field(default_factory=list)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.fit_rows) / self.batch)


@dataclass
class EarlyStopping:
    """The best validation accuracy so far, its weights, and the epochs since."""

    patience: int  # epochs without a better accuracy before training stops (0: never)
    best: float = -math.inf
    best_params: network.Params | None = None
    since_best: int = 0


def early_stopping(stop: EarlyStopping, val_accuracy: float, params: network.Params) -> bool:
    """Record an epoch's validation accuracy (keeping a copy of better weights); True when
    ``stop.patience`` epochs in a row brought no better one."""
    if not stop.patience:
        return False
    if val_accuracy > stop.best:
        stop.best, stop.since_best = val_accuracy, 0
        stop.best_params = {k: v.copy() for k, v in params.items()}
    else:
        stop.since_best += 1
    return stop.since_best >= stop.patience


def train(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> tuple[network.Params, History]:
    """Train a fresh network on X (n, D), Y (n, K) one-hot, both already in ``hp.dtype``.

    Raises :class:`TrainingError` as soon as the loss is not finite, naming the learning rate.
    """
    hp.check()
    _check_data(X, Y, hp)
    rng = np.random.default_rng(hp.seed)
    params = network.init_params(X.shape[1], hp.hidden, Y.shape[1], rng, hp.dtype, init=hp.init)
    layout = Layout.of(params)
    buffer, params = layout.place(params)  # one flat buffer, for the optimizer's step (_flat)
    data = Batch(X, Y, np.argmax(Y, axis=1))
    fit_rows, val_rows = _holdout(len(X), hp.validation_fraction, rng)
    batch = min(hp.batch_size or len(fit_rows), len(fit_rows))
    threads = blas_threads()
    workers = Workers(workers_for(batch, threads))  # their threads stop with `gradients` below
    opt = ParallelOptimizer(hp.optimizer, buffer, layout, workers, hp.momentum)  # on every worker
    run = _Run(data, fit_rows, batch, params, opt, rng)
    log.info(
        "%d rows to fit on, %d to validate on; %d step(s) of %d rows per epoch, %d epochs; "
        "%d thread(s), %d worker(s)",
        len(fit_rows), len(val_rows), run.steps_per_epoch, batch, hp.epochs, threads, workers.count,
    )
    distortions = Distortions.of(hp)
    # a diverging run overflows on its way to a non-finite loss; the loss check reports that
    with (np.errstate(over="ignore", invalid="ignore", divide="ignore"),
          threadpool_limits(1, user_api="blas"),  # the workers are the threads (see the engine)
          Gradients(params, batch, workers) as gradients,
          distorted_epochs(X, fit_rows, distortions, hp.seed, hp.epochs) as distorted):
        # full batch, nothing to move: step on the same rows every epoch, without their zero columns
        full = batch == len(fit_rows) and not hp.shift and not distortions.on
        if full:
            live = gradients.restrict(data, fit_rows if len(val_rows) else None)
            log.info("input columns: %.0f of %d on average are not 0 in a block of %d rows, and only "
                     "they enter the products", sum(live) / len(live), X.shape[1], gradients.block)
        _epochs(run, gradients, full, Batch(X[val_rows], Y[val_rows], data.labels[val_rows]), hp,
                distorted)
    for name, value in params.items():
        if not np.all(np.isfinite(value)):
            raise TrainingError(f"weights {name} are not finite after training with "
                                f"{_step_settings(hp)}; try a smaller {' or '.join(_step_keys(hp))}")
    return params, run.history


def _epochs(
    run: _Run, gradients: Gradients, full: bool, val: Batch, hp: Hyperparams,
    distorted: DistortedEpochs | None = None,
) -> None:
    """The epoch loop of :func:`train`: steps, the epoch's log line, early stopping. With
    ``distorted``, each epoch's batches come from that epoch's distorted rows."""
    stop = EarlyStopping(hp.patience)
    assert isinstance(val.X, np.ndarray)
    start = time.perf_counter()
    for epoch in range(1, hp.epochs + 1):
        total_ce, total_correct, lr = 0.0, 0, 0.0
        steps = _full_batch(run, gradients, hp) if full else _mini_batches(
            run, gradients, hp, None if distorted is None else distorted.rows(epoch))
        for ce, correct, rows in steps:  # each: the gradient of the next batch, in gradients.grads
            lr = learning_rate_at(run.step, hp.epochs * run.steps_per_epoch, hp.learning_rate,
                                  hp.lr_schedule, hp.warmup_epochs * run.steps_per_epoch)
            if not math.isfinite(ce):
                raise _diverged(ce, f"epoch {epoch}/{hp.epochs}, step {run.step + 1}", hp)
            run.opt.step(gradients, lr)  # each worker adds up and updates its own rows
            total_ce += ce * rows
            total_correct += correct
            run.step += 1
        run.opt.wait()  # the last step's update
        n_fit = len(run.fit_rows)
        loss = total_ce / n_fit + _l2_penalty(run.params, hp.l2)
        if not math.isfinite(loss):
            raise _diverged(loss, f"epoch {epoch}/{hp.epochs}", hp)
        val_accuracy = None
        if len(val.Y):
            val_accuracy = float(np.mean(network.predict(run.params, val.X) == val.labels))
        elapsed = time.perf_counter() - start
        run.history.append(Epoch(epoch, loss, total_correct / n_fit, elapsed, lr, val_accuracy))
        stopping = val_accuracy is not None and early_stopping(stop, val_accuracy, run.params)
        if epoch % max(1, hp.epochs // 20) == 0 or epoch in (1, hp.epochs) or stopping:  # ~20 lines
            _log_epoch(run.history[-1], hp.epochs)
        if stopping:
            log.info("early stop: no better validation accuracy for %d epochs", hp.patience)
            break
    if stop.best_params is not None:
        log.info("keeping the weights of the best validation accuracy, %.4f", stop.best)
        for name, value in stop.best_params.items():
            run.params[name][...] = value


# A step's gradient: mean cross-entropy, rows predicted right, rows in the batch.
_Step = tuple[float, int, int]


def _full_batch(run: _Run, gradients: Gradients, hp: Hyperparams) -> Iterator[_Step]:
    """An epoch of full-batch training: one step on the rows given to :meth:`Gradients.restrict`."""
    yield (*gradients.restricted(run.params, hp, run.rng), len(run.fit_rows))


def _mini_batches(
    run: _Run, gradients: Gradients, hp: Hyperparams, distorted: np.ndarray | None = None
) -> Iterator[_Step]:
    """An epoch of mini-batch steps, one on each batch of :func:`mnistflow.training.batches.mini_batches`."""
    for batch in mini_batches(run.data, run.fit_rows, run.batch, hp.shift, run.rng, distorted):
        yield (*gradients(run.params, batch, hp, run.rng), len(batch.Y))


def _log_epoch(e: Epoch, epochs: int) -> None:
    eta = e.seconds / e.epoch * (epochs - e.epoch)
    val = "" if e.val_accuracy is None else f"  val acc {e.val_accuracy:.4f}"
    log.info("epoch %*d/%d  loss %.4f  train acc %.4f%s  lr %.3g  elapsed %.1fs  ETA %.1fs",
             len(str(epochs)), e.epoch, epochs, e.loss, e.train_accuracy, val, e.learning_rate,
             e.seconds, eta)


def _check_data(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> None:
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or not len(X):
        raise DataError(None, f"training data: X {X.shape} and Y {Y.shape} are not (n, D) and (n, K) "
                              "rows")
    if X.dtype != hp.dtype or Y.dtype != hp.dtype:
        raise DataError(None, f"training data is {X.dtype}/{Y.dtype}, but dtype is {hp.dtype}")


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
        raise DataError(None, f"validation_fraction={fraction} leaves no rows to train on ({n} rows)")
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

"""The optimizer's step on every worker: each adds up and updates its own rows of every parameter.

An optimizer's update is elementwise (:mod:`mnistflow.optimizers`: m, v, W of one element depend on
the same element of the gradient only), so an optimizer over rows a:b of every parameter and its
state makes exactly the bytes that the whole optimizer makes in those rows. :class:`ParallelOptimizer`
keeps one optimizer per worker, over that worker's rows (:func:`mnistflow._workers.row_parts`; each
with its own state, of its rows' size, so no more memory than one), and in a step each worker first
adds up its rows of the batch's gradient (``add_up``, from the blocks the engine computed), then
updates them while they are still in its cache.

The step only begins the update on the helper threads and returns: the main thread goes on with
the loop and the next batch (gathering and shifting the next rows, every 16 steps), and the next
phase on the workers (the engine's next gradient, which needs the new weights) first takes the
parts no helper took yet and waits for the update to end; :meth:`ParallelOptimizer.wait` does the
same for a reader of the weights (the end of an epoch). So nothing reads half-updated weights, and
the bytes are those of the one-thread step.

Measured on the 2-core VM (Adam, batches of 256; microbenchmarks and whole runs, 2026-11-30): one
part per worker, not more (NumPy holds the GIL between its loops, so two threads doing many short
loops hand it back and forth and wait for each other: four parts made 784-256-10's update 1.8
times slower than two); on 784-800-10 the update takes 0.7 ms on two workers against 1.0 ms on
one; beginning it in the background made 784-256-10's training about 8 % faster than waiting for it.
"""

from __future__ import annotations

from typing import Protocol

from mnistflow._workers import Part, Workers, row_parts
from mnistflow.network import Grads, Params
from mnistflow.optimizers import Optimizer, make_optimizer

__all__ = ["ParallelOptimizer", "RowGradients"]


class RowGradients(Protocol):
    def add_up(self, part: Part) -> Grads:
        """The gradient's rows ``part``: dW1, db1, dW2, db2 of the parameters in ``part``."""


class ParallelOptimizer:
    """The optimizer called ``name`` (:func:`mnistflow.optimizers.make_optimizer`) over ``params``,
    its step run by ``workers``, each on its own rows of every parameter."""

    def __init__(self, name: str, params: Params, workers: Workers, momentum: float = 0.0) -> None:
        self.params = params
        self._workers = workers
        self._parts = row_parts(params, workers.count)
        self._optimizers: list[Optimizer] = [
            make_optimizer(name, {k: params[k][rows] for k, rows in part.items()}, momentum)
            for part in self._parts
        ]

    def step(self, gradients: RowGradients, lr: float) -> None:
        """Update the parameters in place from ``gradients`` with step size ``lr``: begin it on the
        helpers and return (see the module docstring); the next phase on the workers, or
        :meth:`wait`, finishes it."""
        self._workers.start(
            lambda i: self._optimizers[i].step(gradients.add_up(self._parts[i]), lr), len(self._parts)
        )

    def wait(self) -> None:
        """Return once the last step's update is done: read the parameters only after this (or after
        the next phase on the workers)."""
        self._workers.wait()

"""The optimizer's step on every worker: each adds up and updates its own rows of every parameter.

An optimizer's update is elementwise (:mod:`mnistflow.optimizers`: m, v, W of one element depend on
the same element of the gradient only), so an optimizer over rows a:b of every parameter and its
state makes exactly the bytes that the whole optimizer makes in those rows. :class:`ParallelOptimizer`
keeps one optimizer per worker, over that worker's rows (:func:`mnistflow._workers.row_parts`; each
with its own state, of its rows' size, so no more memory than one), and in a step each worker first
adds up its rows of the batch's gradient (``add_up``, from the blocks the engine computed), then
updates them while they are still in its cache.

One part per worker, not more: NumPy holds the GIL between its loops, so two threads doing many short
loops hand the GIL back and forth and wait for each other; with Adam, 784-256-10 and 2 workers, four
parts made the step 1.7 times slower than two. With Adam and 784-800-10 a step's update reads and
writes five (784, 800) arrays (W1, its gradient, m, v, a scratch): on one thread, it and the adding-up
were a fifth of a step.
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
        """Update the parameters in place from ``gradients`` with step size ``lr``."""
        self._workers.map(lambda i: self._optimizers[i].step(gradients.add_up(self._parts[i]), lr),
                          len(self._parts))

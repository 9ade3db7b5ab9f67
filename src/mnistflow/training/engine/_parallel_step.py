"""The optimizer's step on every worker: each adds up and updates its own part of the parameters.

An optimizer's update is elementwise (:mod:`mnistflow.training.optimizers`: m, v, W of one element depend on
the same element of the gradient only), so an optimizer over some of the elements and their state
makes exactly the bytes that the whole optimizer makes in them. The parameters lie in one flat
buffer (:mod:`mnistflow.training.engine._flat`), and :class:`ParallelOptimizer` keeps one optimizer per
worker, over that worker's range of it (:meth:`mnistflow.training.engine._flat.Layout.parts`; each with its
own state, of its range's size, so no more memory than one); in a step each worker first adds up its range of
the batch's gradient (``add_up``, from the blocks the engine computed), then updates it while it is
still in its cache, in a few long NumPy calls.

The step only begins the update on the helper threads and returns: the main thread goes on with
the loop and the next batch (drawing the next rows' shifts, every 16 steps), and the next
phase on the workers (the engine's next gradient, which needs the new weights) first takes the
parts no helper took yet and waits for the update to end; :meth:`ParallelOptimizer.wait` does the
same for a reader of the weights (the end of an epoch). So nothing reads half-updated weights, and
the bytes are those of the one-thread step.

One part per worker, not more: NumPy holds the GIL between its loops, so threads doing many short
loops hand it back and forth and wait for each other. Beginning the update in the background lets
the main thread prepare the next batch meanwhile. (The timings behind both choices are in the
benchmarks' records, docs/benchmarks.md.)
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mnistflow.training.engine._flat import Layout, Part
from mnistflow.training.engine._workers import Workers
from mnistflow.training.optimizers import Optimizer, make_optimizer

__all__ = ["ParallelOptimizer", "RowGradients"]


class RowGradients(Protocol):
    def add_up(self, part: Part) -> np.ndarray:
        """The gradient's rows ``part``: the range :meth:`Layout.span` of its flat buffer."""


class ParallelOptimizer:
    """The optimizer called ``name`` (:func:`mnistflow.training.optimizers.make_optimizer`) over the
    parameters in ``buffer`` (laid out as ``layout`` says), its step run by ``workers``, each on its
    own range of the buffer."""

    def __init__(
        self, name: str, buffer: np.ndarray, layout: Layout, workers: Workers, momentum: float = 0.0
    ) -> None:
        self._workers = workers
        self._parts = layout.parts(workers.count)
        self._optimizers: list[Optimizer] = [
            make_optimizer(name, {"flat": buffer[layout.span(part)]}, momentum) for part in self._parts
        ]

    def step(self, gradients: RowGradients, lr: float) -> None:
        """Update the parameters in place from ``gradients`` with step size ``lr``: begin it on the
        helpers and return (see the module docstring); the next phase on the workers, or
        :meth:`wait`, finishes it."""
        self._workers.start(
            lambda i: self._optimizers[i].step({"dflat": gradients.add_up(self._parts[i])}, lr),
            len(self._parts),
        )

    def wait(self) -> None:
        """Return once the last step's update is done: read the parameters only after this (or after
        the next phase on the workers)."""
        self._workers.wait()

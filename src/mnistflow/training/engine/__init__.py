"""The fast engine: a batch's gradients and the optimizer's step, computed by a few worker threads.

The training loop (:mod:`mnistflow.training.train`) uses only what this file exports:

- :class:`Workers` the threads (one per core given, each with single-threaded BLAS), and
  :func:`workers_for` / :func:`blas_threads`, how many to start;
- :class:`Gradients` the loss and gradients of one :class:`Batch` (rows still to be gathered: a
  :class:`Gather`, a block of :data:`GATHER_ROWS` rows at a time), cut into blocks the workers share;
- :class:`ParallelOptimizer` the optimizer's step over the parameters in one flat buffer
  (:class:`Layout`), each worker updating its own range.

It uses the maths (:mod:`mnistflow.training.network`, :mod:`~mnistflow.training.optimizers`,
:mod:`~mnistflow.training.shifts`) and the recipe (:class:`mnistflow.settings.presets.Hyperparams`),
never the loop. The modules: ``_workers`` (threads), ``_gradients`` (a batch's blocks), ``_block``
(one block's buffers and gradient),
``_block_grads`` (adding up the blocks), ``_flat`` (one buffer for all parameters), ``_columns``
(hidden units dropped or dead), ``_gather`` (rows gathered by the worker that uses them),
``_parallel_step`` (the step).
"""

from mnistflow.training.engine._columns import GATHER_ROWS
from mnistflow.training.engine._flat import Layout
from mnistflow.training.engine._gather import Gather
from mnistflow.training.engine._gradients import Batch, Gradients
from mnistflow.training.engine._parallel_step import ParallelOptimizer
from mnistflow.training.engine._workers import Workers, blas_threads, workers_for

__all__ = ["GATHER_ROWS", "Batch", "Gather", "Gradients", "Layout", "ParallelOptimizer", "Workers",
           "blas_threads", "workers_for"]

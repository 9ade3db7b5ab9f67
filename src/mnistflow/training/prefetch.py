"""Each epoch's distorted training rows (:mod:`mnistflow.training.distort`), prepared an epoch ahead in a
background thread while the network trains on the current epoch's.

Two (n_fit, D) buffers take turns: the epoch being trained reads one, the next epoch is distorted
into the other. Distorting is NumPy work on large arrays (matrix products, elementwise passes,
gathers), which releases the GIL, so it runs on a core beside the engine's workers instead of
stalling them between epochs. Only the first epoch waits for its rows.

Bit-identical whatever the timing: epoch e's distortions come from a generator of its own
(:func:`mnistflow.training.distort.distortion_rng`, a child of the run's seed), never from the run's generator
(which shuffles and drops out on the training thread), and the buffer of an epoch is handed over only
once it is complete. The thread distorts SLAB_ROWS rows at a time (whole chunks, so the draws are
those of one call) and looks for a stop between slabs: an interrupted or finished run does not wait
for a whole epoch of distortions.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

import numpy as np

from mnistflow.training.distort import CHUNK_ROWS, Distortions, distort_rows, distortion_rng

__all__ = ["SLAB_ROWS", "DistortedEpochs"]

# rows distorted between two looks for a stop: whole chunks (about 50 ms of work on one core)
SLAB_ROWS = 16 * CHUNK_ROWS


class DistortedEpochs:
    """Epochs 1 to ``epochs`` of ``X[rows]`` distorted by ``d``, each from its own generator.

    Use as a context manager (it starts preparing epoch 1 on entry, stops the thread on exit), and
    ask for the epochs in order: ``rows(e)`` waits for epoch e's rows, starts on epoch e + 1 in the
    other buffer, and returns e's, valid until ``rows(e + 1)`` is called.
    """

    def __init__(self, X: np.ndarray, rows: np.ndarray, d: Distortions, seed: int, epochs: int) -> None:
        self._X, self._rows, self._d, self._seed, self._epochs = X, rows, d, seed, epochs
        # (n, D) each; one is enough for a single epoch
        self._buffers = [np.empty((len(rows), X.shape[1]), X.dtype) for _ in range(min(2, epochs))]
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="distort")
        self._pending: Future[np.ndarray] | None = None
        self._next = 1  # the epoch being prepared

    def __enter__(self) -> DistortedEpochs:
        self._start(1)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()  # an epoch in the making ends at its next slab
        self._pool.shutdown(wait=True, cancel_futures=True)

    def rows(self, epoch: int) -> np.ndarray:
        """Epoch ``epoch``'s distorted rows, (n, D): ``X[rows]`` with a new distortion each."""
        if epoch != self._next or self._pending is None:
            raise ValueError(f"epoch {epoch} asked for, but epoch {self._next} is the next one")
        distorted = self._pending.result()  # waits; an error in the thread is raised here
        if epoch < self._epochs:
            self._start(epoch + 1)
        return distorted

    def _start(self, epoch: int) -> None:
        self._next = epoch
        buffer = self._buffers[(epoch - 1) % len(self._buffers)]  # not the one epoch - 1 trains on
        self._pending = self._pool.submit(self._distort, epoch, buffer)

    def _distort(self, epoch: int, out: np.ndarray) -> np.ndarray:
        """The background thread's work: all the rows, slab by slab, with epoch ``epoch``'s generator."""
        rng = distortion_rng(self._seed, epoch)
        for start in range(0, len(self._rows), SLAB_ROWS):
            if self._stop.is_set():
                break
            part = slice(start, start + SLAB_ROWS)
            distort_rows(self._X, self._rows[part], self._d, rng, out[part])
        return out

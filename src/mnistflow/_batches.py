"""The batches of a mini-batch epoch: the rows to fit on shuffled, gathered GATHER_ROWS at a time
(moved by :func:`mnistflow.augment.shift_rows`, or taken from the epoch's distorted rows), cut into
batches; and where each epoch's distorted rows come from (:mod:`mnistflow._prefetch`).

Gathering a few thousand rows at once into one buffer makes fewer, bigger NumPy calls; a batch is
a view of that buffer. Every random draw (the order, the shifts) comes from the run's generator at
the moment the loop asks for the batch that needs it, so the training loop's other draws (dropout)
keep their place in the sequence.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mnistflow._columns import GATHER_ROWS
from mnistflow._engine import Batch
from mnistflow._prefetch import DistortedEpochs
from mnistflow.augment import random_shifts, shift_rows
from mnistflow.distort import Distortions

__all__ = ["GatherBuffers", "distorted_epochs", "mini_batches"]

log = logging.getLogger(__name__)


@dataclass
class GatherBuffers:
    """Where mini-batches are gathered (and shifted), a whole number of batches of at most
    GATHER_ROWS rows at a time."""

    X: np.ndarray  # (G, D)
    Y: np.ndarray  # (G, K)

    @classmethod
    def allocate(cls, data: Batch, n_fit: int, batch: int) -> GatherBuffers:
        rows = min(n_fit, batch * max(1, GATHER_ROWS // batch))
        X, Y = data.X, data.Y
        return cls(np.empty((rows, X.shape[1]), X.dtype), np.empty((rows, Y.shape[1]), Y.dtype))


def mini_batches(
    data: Batch, fit_rows: np.ndarray, batch: int, shift: int, rng: np.random.Generator,
    buffers: GatherBuffers, distorted: np.ndarray | None = None,
) -> Iterator[Batch]:
    """An epoch's batches of ``batch`` rows: ``fit_rows`` of ``data`` shuffled, gathered (and moved by
    up to ``shift`` pixels), cut into batches; the last one may be short. ``distorted`` (n_fit, D):
    the epoch's distorted fit rows, in the order of ``fit_rows``, gathered instead of the rows
    themselves. Each batch is a view of ``buffers``, valid until the next one is asked for."""
    n_fit, (X, Y, labels) = len(fit_rows), data
    order = rng.permutation(fit_rows)  # (n_fit,)
    # where each row of the order is found: in X, or at its position among the distorted fit rows
    source, at = (X, order) if distorted is None else (distorted, np.searchsorted(fit_rows, order))
    labels_gathered = labels[:0]
    for i in range(0, n_fit, batch):
        g = i % len(buffers.X)  # position in the gathered rows
        if g == 0:  # gather the next rows of this epoch's order
            rows = order[i : i + len(buffers.X)]  # (G,)
            m = len(rows)
            if shift:
                shift_rows(source, at[i : i + m], *random_shifts(m, shift, rng), out=buffers.X[:m])
            else:
                np.take(source, at[i : i + m], axis=0, out=buffers.X[:m])
            np.take(Y, rows, axis=0, out=buffers.Y[:m])
            labels_gathered = labels[rows]
        size = min(batch, n_fit - i)
        yield Batch(buffers.X[g : g + size], buffers.Y[g : g + size], labels_gathered[g : g + size])


def distorted_epochs(
    X: np.ndarray, fit_rows: np.ndarray, d: Distortions, seed: int, epochs: int
) -> contextlib.AbstractContextManager[DistortedEpochs | None]:
    """Each epoch's distorted fit rows, prepared in the background; None without distortions."""
    if not d.on:
        return contextlib.nullcontext()
    log.info("distortions: %s; each epoch's distorted rows prepared in a background thread",
             d.describe())
    return DistortedEpochs(X, fit_rows, d, seed, epochs)

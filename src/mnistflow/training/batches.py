"""The batches of a mini-batch epoch: the rows to fit on shuffled and cut into batches, each batch's
inputs handed to the engine as rows still to gather (:class:`mnistflow.training.engine.Gather`: moved by
random shifts, or taken from the epoch's distorted rows), which each worker gathers for its own block
of rows in parallel (:mod:`mnistflow.training.engine._gradients`); and where each epoch's distorted rows come
from (:mod:`mnistflow.training.prefetch`).

Every random draw (the order, the shifts) comes from the run's generator at the moment the loop asks
for the batch that needs it, so the training loop's other draws (dropout) keep their place in the
sequence: the shifts of GATHER_ROWS rows (a whole number of batches) at a time, as when the main
thread gathered those rows itself, so the weights are those it made, byte for byte.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np

from mnistflow.training.distort import Distortions
from mnistflow.training.engine import GATHER_ROWS, Batch, Gather
from mnistflow.training.prefetch import DistortedEpochs
from mnistflow.training.shifts import random_shifts

__all__ = ["distorted_epochs", "mini_batches"]

log = logging.getLogger(__name__)


def mini_batches(
    data: Batch, fit_rows: np.ndarray, batch: int, shift: int, rng: np.random.Generator,
    distorted: np.ndarray | None = None,
) -> Iterator[Batch]:
    """An epoch's batches of ``batch`` rows: ``fit_rows`` of ``data`` shuffled (and moved by up to
    ``shift`` pixels), cut into batches; the last one may be short. ``distorted`` (n_fit, D): the
    epoch's distorted fit rows, in the order of ``fit_rows``, gathered instead of the rows
    themselves. Each batch's X is a :class:`Gather` of its rows."""
    n_fit, (X, Y, labels) = len(fit_rows), data
    assert isinstance(X, np.ndarray)
    order = rng.permutation(fit_rows)  # (n_fit,)
    # where each row of the order is found: in X, or at its position among the distorted fit rows
    source, at = (X, order) if distorted is None else (distorted, np.searchsorted(fit_rows, order))
    draws = min(n_fit, batch * max(1, GATHER_ROWS // batch))  # rows whose shifts are drawn at once
    for i in range(0, n_fit, batch):
        rows = order[i : i + batch]  # (m,)
        if not shift:
            gather = Gather(source, at[i : i + batch])
        else:
            if i % draws == 0:  # the shifts of the next rows of this epoch's order
                dy, dx = random_shifts(min(draws, n_fit - i), shift, rng)  # (G,) each
            g = i % draws  # position among them
            gather = Gather(source, at[i : i + batch], dy[g : g + batch], dx[g : g + batch], shift)
        yield Batch(gather, Y[rows], labels[rows])


def distorted_epochs(
    X: np.ndarray, fit_rows: np.ndarray, d: Distortions, seed: int, epochs: int
) -> contextlib.AbstractContextManager[DistortedEpochs | None]:
    """Each epoch's distorted fit rows, prepared in the background; None without distortions."""
    if not d.on:
        return contextlib.nullcontext()
    log.info("distortions: %s; each epoch's distorted rows prepared in a background thread",
             d.describe())
    return DistortedEpochs(X, fit_rows, d, seed, epochs)

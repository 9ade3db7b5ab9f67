"""A sweep run whose training failed: an outcome of its recipe, recorded, not a crash of the sweep.

A row of a sweep may ask for a recipe that diverges (``learning_rate: 1e30``): training raises a
:class:`~mnistflow.plumbing.errors.TrainingError` (the loss, or the weights, became non-finite). The
single run stops there, with that message and no model. A sweep's run instead records the failure:
its ``model.npz`` holds the recipe and the reason and no weights
(:func:`mnistflow.training.model_file.save_failure`), its ``training_log.csv`` no rows, and evaluate,
the report and the comparison then say "failed: <reason>" for it and choose among the other runs.
Any other error (damaged input, out of memory, killed) still stops the job.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from mnistflow.plumbing.errors import TrainingError
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.model_file import save_failure, save_model
from mnistflow.training.train import train
from mnistflow.training.training_log import History, write_history

__all__ = ["Trained", "save_trained", "train_or_failure"]

log = logging.getLogger(__name__)


class Trained(NamedTuple):
    """What a sweep run's training gave: weights and their history, or why there are none."""

    params: network.Params | None  # None: training failed
    history: History  # empty when training failed (the job's log has the epochs up to the failure)
    failure: str | None = None  # why training failed, in one line


def train_or_failure(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> Trained:
    """:func:`mnistflow.training.train.train`, with a :class:`TrainingError` as the outcome (its
    message, on one line) rather than an error."""
    try:
        params, history = train(X, Y, hp)
    except TrainingError as exc:
        reason = " ".join(str(exc).split())
        log.warning("training failed: %s; recorded as this run's outcome (no weights)", reason)
        return Trained(None, [], reason)
    return Trained(params, history)


def save_trained(model: str | os.PathLike[str], history: str | os.PathLike[str], trained: Trained,
                 hp: Hyperparams, numerics: Mapping[str, Any] | None = None) -> None:
    """The model file (weights, or the failure and no weights) and the training log of a run;
    ``numerics``: what computed them (:func:`mnistflow.plumbing.numerics.numerics`)."""
    if trained.params is None:
        assert trained.failure, "a run without weights says why"
        save_failure(model, hp, trained.failure)
    else:
        save_model(model, trained.params, hp, numerics)
    write_history(history, trained.history)

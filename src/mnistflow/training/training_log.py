"""The training log, ``results/training_log.csv``: one row per epoch, written by training and read
by the report.

Columns: ``epoch``, ``loss``, ``train_accuracy``, ``seconds`` (since training started),
``learning_rate`` (at the epoch's last step), and ``val_accuracy`` when a validation part was held out.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import short_message, write_text

__all__ = ["Epoch", "History", "read_history", "write_history"]


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

# what the report needs of a log
_REQUIRED = ("epoch", "loss", "train_accuracy")
# what train can write in each column (read_history refuses anything else): a column not named
# here only has to hold finite numbers
_RANGES = {"loss": (0.0, math.inf), "seconds": (0.0, math.inf), "learning_rate": (0.0, math.inf),
           "train_accuracy": (0.0, 1.0), "val_accuracy": (0.0, 1.0)}


def write_history(path: str | os.PathLike[str], history: History) -> None:
    """The training log as CSV, atomically; ``val_accuracy`` only when some epoch has one."""
    with_val = any(e.val_accuracy is not None for e in history)
    lines = ["epoch,loss,train_accuracy,seconds,learning_rate" + (",val_accuracy" if with_val else "")]
    for e in history:
        line = f"{e.epoch},{e.loss:.6f},{e.train_accuracy:.6f},{e.seconds:.3f},{e.learning_rate:.6g}"
        lines.append(line + (f",{e.val_accuracy:.6f}" if with_val else ""))
    write_text(path, "\n".join(lines) + "\n")


def read_history(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The training log as columns; a damaged or empty one, or one holding a value train cannot
    write (:func:`_value_problem`), is a :class:`DataError` naming it."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        columns = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]} if rows else {}
    except (OSError, ValueError, TypeError, csv.Error) as exc:  # a missing cell reads as None
        raise DataError(path, f"not a readable training log ({short_message(exc)})") from None
    if not rows:
        raise DataError(path, "the training log has no rows")
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise DataError(path, f"the training log lacks the column(s) {', '.join(missing)}")
    if problem := _value_problem(columns):
        raise DataError(path, problem)
    return columns


def _value_problem(columns: dict[str, np.ndarray]) -> str | None:
    """The first value of a training log that train cannot have written, in words (row 1 is the
    first after the header); None when all are fine. Each number is finite, the epochs are 1, 2, 3,
    ... and each column of :data:`_RANGES` within its range (the report draws a huge but finite loss
    clipped: :func:`mnistflow.evaluation.report.drawn_loss`)."""
    for key, values in columns.items():
        low, high = _RANGES.get(key, (-math.inf, math.inf))
        bad = ~np.isfinite(values) | (values < low) | (values > high)  # (rows,)
        if key == "epoch":
            bad |= values != np.arange(1, len(values) + 1)
        if bad.any():
            row = int(np.argmax(bad))
            if key == "epoch":
                allowed = f"epoch {row + 1} (one row per epoch, from 1)"
            elif key in _RANGES:
                allowed = f"a number >= {low:g}" + (f" and <= {high:g}" if high < math.inf else "")
            else:
                allowed = "a finite number"
            return f"row {row + 1}, column {key}: {float(values[row])!r}, expected {allowed}"
    return None

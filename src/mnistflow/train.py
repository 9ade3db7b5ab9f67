"""Training: full-batch gradient descent on the network of :mod:`mnistflow.network`.

``train`` runs the epochs, logs progress (epoch i/N, loss, elapsed, ETA) and returns the parameters
with one row of history per epoch. ``save_model`` / ``load_model`` keep the weights together with the
architecture and hyperparameters that made them, in a plain ``.npz`` (no pickle).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mnistflow import network
from mnistflow._io import load_npz, save_npz, write_text
from mnistflow.errors import DataError, TrainingError

__all__ = ["History", "Hyperparams", "load_model", "save_model", "train", "write_history"]

log = logging.getLogger(__name__)

# one row per epoch: epoch, loss, train accuracy, seconds since training started
History = list[tuple[int, float, float, float]]


@dataclass(frozen=True)
class Hyperparams:
    """Everything that decides the weights, besides the data. Saved inside model.npz."""

    hidden: int = 256
    epochs: int = 100
    learning_rate: float = 0.5
    seed: int = 0
    dtype: str = "float32"
    init_scale: float = 0.01  # weights ~ randn * init_scale (the seed's recipe)


def _progress_every(epochs: int) -> int:
    """Log about 20 progress lines per run, whatever the number of epochs."""
    return max(1, epochs // 20)


def train(
    X: np.ndarray, Y: np.ndarray, hp: Hyperparams
) -> tuple[network.Params, History]:
    """Full-batch gradient descent: each epoch one forward pass, one backward pass, one update.

    X (n, D) and Y (n, K) must already be in ``hp.dtype``. Raises :class:`TrainingError` as soon as
    the loss is not finite, naming the learning rate.
    """
    rng = np.random.default_rng(hp.seed)
    params = network.init_params(X.shape[1], hp.hidden, Y.shape[1], rng, hp.dtype, hp.init_scale)
    labels = np.argmax(Y, axis=1)  # (n,)
    history: History = []
    every = _progress_every(hp.epochs)
    start = time.perf_counter()
    for epoch in range(1, hp.epochs + 1):
        A1, P = network.forward(params, X)
        loss = network.loss(P, Y)
        if not math.isfinite(loss):
            raise TrainingError(
                f"the loss became {loss} at epoch {epoch}/{hp.epochs} with "
                f"learning_rate={hp.learning_rate}: training diverged; try a smaller learning_rate"
            )
        accuracy = float(np.mean(np.argmax(P, axis=1) == labels))
        grads = network.backward(params, X, Y, A1, P)
        for name, value in params.items():
            value -= hp.learning_rate * grads[f"d{name}"]  # in place
        elapsed = time.perf_counter() - start
        history.append((epoch, loss, accuracy, elapsed))
        if epoch % every == 0 or epoch in (1, hp.epochs):
            eta = elapsed / epoch * (hp.epochs - epoch)
            log.info(
                "epoch %*d/%d  loss %.4f  train acc %.4f  elapsed %.1fs  ETA %.1fs",
                len(str(hp.epochs)), epoch, hp.epochs, loss, accuracy, elapsed, eta,
            )
    for name, value in params.items():
        if not np.all(np.isfinite(value)):
            raise TrainingError(
                f"weights {name} are not finite after training with "
                f"learning_rate={hp.learning_rate}; try a smaller learning_rate"
            )
    return params, history


def write_history(path: str | os.PathLike[str], history: History) -> None:
    """The training log as CSV: epoch, loss, train_accuracy, seconds."""
    lines = ["epoch,loss,train_accuracy,seconds"]
    lines += [f"{e},{loss:.6f},{acc:.6f},{sec:.3f}" for e, loss, acc, sec in history]
    write_text(path, "\n".join(lines) + "\n")


def save_model(path: str | os.PathLike[str], params: network.Params, hp: Hyperparams) -> None:
    """Weights plus the hyperparameters (as JSON in a string array) in one deterministic .npz."""
    meta = {"architecture": _architecture(params), "hyperparams": asdict(hp)}
    save_npz(path, {**params, "meta": np.array(json.dumps(meta, sort_keys=True))})


def _architecture(params: network.Params) -> dict[str, Any]:
    n_in, n_hidden = params["W1"].shape
    return {"layers": [int(n_in), int(n_hidden), int(params["W2"].shape[1])],
            "hidden_activation": "relu", "output": "softmax", "loss": "cross-entropy"}


def load_model(path: str | os.PathLike[str]) -> tuple[network.Params, dict[str, Any]]:
    """Weights and metadata from :func:`save_model`, with their shapes checked."""
    arrays = load_npz(
        path,
        {"W1": "first-layer weights", "b1": "", "W2": "second-layer weights", "b2": "", "meta": ""},
        rebuild="train",
    )
    hint = "rebuild it with `snakemake --cores 1 -R train`"
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (json.JSONDecodeError, ValueError):
        raise DataError(f"{path}: its metadata is not valid JSON; {hint}") from None
    W1, b1, W2, b2 = (arrays[k] for k in ("W1", "b1", "W2", "b2"))
    if not (W1.ndim == 2 and W2.ndim == 2 and b1.shape == (W1.shape[1],)
            and W2.shape[0] == W1.shape[1] and b2.shape == (W2.shape[1],)):
        raise DataError(
            f"{path}: weight shapes do not fit together (W1 {W1.shape}, b1 {b1.shape}, "
            f"W2 {W2.shape}, b2 {b2.shape}); {hint}"
        )
    if not all(np.all(np.isfinite(a)) for a in (W1, b1, W2, b2)):
        raise DataError(f"{path}: weights contain NaN or infinity; {hint}")
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, meta

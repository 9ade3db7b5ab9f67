"""The model file, ``results/model.npz``: the weights together with the architecture and the
hyperparameters that made them, in a plain ``.npz`` (no pickle).

Arrays: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, K), ``b2`` (K,) in float32 or float64, and ``meta``,
a 0-d string array holding one JSON text: ``{"architecture": {...}, "hyperparams": {...}}``.

A sweep records a training that failed (it diverged) as its run's outcome: that model file holds
``meta`` alone, ``{"failure": "<why, in one line>", "hyperparams": {...}}``, and no weights, so
:func:`load_model` refuses it (saying why) and nothing can take it for a trained model.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

import numpy as np

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import parse_json
from mnistflow.plumbing.npz_files import load_npz, save_npz
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network

__all__ = ["load_model", "read_failure", "save_failure", "save_model"]

_WEIGHTS = ("W1", "b1", "W2", "b2")


def save_model(path: str | os.PathLike[str], params: network.Params, hp: Hyperparams) -> None:
    """Weights plus the hyperparameters (as JSON in a string array) in one deterministic .npz."""
    meta = {"architecture": _architecture(params), "hyperparams": asdict(hp)}
    save_npz(path, {**params, "meta": np.array(json.dumps(meta, sort_keys=True))})


def save_failure(path: str | os.PathLike[str], hp: Hyperparams, reason: str) -> None:
    """A model file of a training that failed: the recipe and ``reason``, no weights."""
    meta = {"failure": reason, "hyperparams": asdict(hp)}
    save_npz(path, {"meta": np.array(json.dumps(meta, sort_keys=True))})


def _architecture(params: network.Params) -> dict[str, Any]:
    n_in, n_hidden = params["W1"].shape
    return {"layers": [int(n_in), int(n_hidden), int(params["W2"].shape[1])],
            "hidden_activation": "relu", "output": "softmax", "loss": "cross-entropy"}


def _read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of a model file (trained or failed), checked to hold the hyperparams."""
    meta_array = load_npz(path, {"meta": "the recipe"})["meta"]
    if meta_array.shape != () or meta_array.dtype.kind != "U":
        raise DataError(path, "its metadata is not one JSON text")
    meta = parse_json(str(meta_array), path, "its metadata: ")  # bounded: depth, number sizes
    if not (isinstance(meta, dict) and isinstance(meta.get("hyperparams"), dict)):
        raise DataError(path, "its metadata lacks the architecture and hyperparams")
    if "failure" in meta and not (isinstance(meta["failure"], str) and meta["failure"]):
        raise DataError(path, "its metadata gives no reason for the failure it records")
    return meta


def read_failure(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The metadata of a model file of :func:`save_failure` (``failure``: why, ``hyperparams``);
    None for a model file that holds weights (read those with :func:`load_model`)."""
    meta = _read_meta(path)
    return meta if "failure" in meta else None


def load_model(path: str | os.PathLike[str]) -> tuple[network.Params, dict[str, Any]]:
    """Weights and metadata from :func:`save_model`, with their shapes checked; a model file of a
    failed training (:func:`save_failure`) is refused, saying why it failed."""
    meta = _read_meta(path)
    if "failure" in meta:
        raise DataError(path, f"no weights: its training failed ({meta['failure']})")
    if not isinstance(meta.get("architecture"), dict):
        raise DataError(path, "its metadata lacks the architecture and hyperparams")
    arrays = load_npz(path, {"W1": "first-layer weights", "b1": "", "W2": "second-layer weights", "b2": ""})
    W1, b1, W2, b2 = (arrays[k] for k in _WEIGHTS)
    wrong = [f"{k} is {arrays[k].dtype}" for k in _WEIGHTS if arrays[k].dtype not in (np.float32, np.float64)]
    if wrong:
        raise DataError(path, f"weights must be float32 or float64, but {', '.join(wrong)}")
    if not (W1.ndim == 2 and W2.ndim == 2 and b1.shape == (W1.shape[1],)
            and W2.shape[0] == W1.shape[1] and b2.shape == (W2.shape[1],)):
        raise DataError(
            path, f"weight shapes do not fit together (W1 {W1.shape}, b1 {b1.shape}, "
                  f"W2 {W2.shape}, b2 {b2.shape})"
        )
    if not all(np.all(np.isfinite(arrays[k])) for k in _WEIGHTS):
        raise DataError(path, "weights contain NaN or infinity")
    return {k: arrays[k] for k in _WEIGHTS}, meta

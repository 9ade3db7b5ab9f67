"""Evaluation of a trained model on the test split: ``results/metrics.json`` and predictions.

The metrics come from :mod:`sklearn.metrics`; the file also records how they were made (the config,
sha256 of every input, library versions, the git commit, seconds per stage), so a number in it can
always be traced back to what produced it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistflow import network
from mnistflow._io import load_npz, read_json, sha256_file
from mnistflow._provenance import git_commit, git_dirty, versions
from mnistflow.data import N_CLASSES, labels_outside
from mnistflow.errors import DataError

__all__ = ["METRICS_SCHEMA", "check_compatible", "check_metrics", "load_predictions", "metrics",
           "read_metrics"]

_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}
_STRINGS = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
# What :func:`metrics` writes and the report reads (JSON Schema): a metrics.json edited by hand or
# damaged on disk is refused by :func:`check_metrics` with the place and the problem.
METRICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["test", "per_class", "confusion_matrix", "sizes", "config", "model", "sha256",
                 "versions", "seconds"],
    "properties": {
        "test": {"type": "object", "required": ["accuracy", "loss", "n_errors"],
                 "properties": {"accuracy": {"type": "number", "minimum": 0, "maximum": 1},
                                "loss": {**_NUMBER, "minimum": 0}, "n_errors": _COUNT}},
        "per_class": {
            "type": "object",
            "propertyNames": {"enum": [str(k) for k in range(N_CLASSES)]},
            "additionalProperties": {
                "type": "object", "required": ["precision", "recall", "f1-score", "support"],
                "properties": {m: _NUMBER for m in ("precision", "recall", "f1-score", "support")},
            },
        },
        "confusion_matrix": {
            "type": "array", "minItems": N_CLASSES, "maxItems": N_CLASSES,
            "items": {"type": "array", "minItems": N_CLASSES, "maxItems": N_CLASSES, "items": _COUNT},
        },
        "sizes": {"type": "object", "required": ["train", "test"],
                  "properties": {"train": _COUNT, "test": _COUNT}},
        "config": {"type": "object"},
        "model": {"type": "object", "properties": {"hyperparams": {"type": "object"}}},
        "sha256": _STRINGS,
        "versions": _STRINGS,
        "git_commit": {"type": ["string", "null"]},
        "seconds": {"type": "object", "additionalProperties": _NUMBER},
    },
}


def check_metrics(data: Any, path: str | os.PathLike[str]) -> None:
    """Raise :class:`DataError` naming ``path`` and the first bad field unless ``data`` (a parsed
    metrics.json) has the structure and types that :data:`METRICS_SCHEMA` describes."""
    from jsonschema import Draft202012Validator

    error = next(iter(sorted(Draft202012Validator(METRICS_SCHEMA).iter_errors(data),
                             key=lambda e: list(map(str, e.absolute_path)))), None)
    if error is not None:
        where = ".".join(map(str, error.absolute_path)) or "the top level"
        message = error.message if len(error.message) <= 120 else error.message[:117] + "..."
        raise DataError(path, f"{where}: {message}")


def check_compatible(params: network.Params, X: np.ndarray, model_path: str, split_path: str) -> None:
    """A model trained on other data (different width) cannot be evaluated: a DataError naming it."""
    if params["W1"].shape[0] != X.shape[1] or params["W2"].shape[1] != N_CLASSES:
        raise DataError(
            model_path,
            f"the model expects {params['W1'].shape[0]} inputs and "
            f"{params['W2'].shape[1]} classes, but {split_path} has {X.shape[1]} pixels and "
            f"{N_CLASSES} classes"
        )


def read_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """metrics.json as :func:`metrics` wrote it, checked (:func:`check_metrics`)."""
    data = read_json(path)
    check_metrics(data, path)
    return dict(data)


def load_predictions(path: str | os.PathLike[str], n_test: int) -> dict[str, np.ndarray]:
    """``y_true`` and ``y_pred`` of predictions.npz: (n_test,) integer labels 0-9 each."""
    pred = load_npz(path, {"y_true": "true labels", "y_pred": "predicted labels"})
    for name, y in pred.items():
        if y.shape != (n_test,) or not np.issubdtype(y.dtype, np.integer):
            raise DataError(path, f"{name} is {y.dtype} {y.shape}, expected ({n_test},) integer "
                                  "labels, one per test row")
        if bad_labels := labels_outside(y):
            raise DataError(path, f"{name} has {bad_labels}")
    return pred


def metrics(
    y_true: np.ndarray, proba: np.ndarray, *, sizes: Mapping[str, int], config: Mapping[str, Any],
    model: Mapping[str, Any], files: Mapping[str, str | os.PathLike[str]], seconds: Mapping[str, float],
) -> dict[str, Any]:
    """Everything evaluate reports, as a JSON-ready dict. ``proba`` is (n, 10) softmax output.

    ``config`` is the workflow's config as given (training keys may be null: "the preset's value");
    ``model`` is the metadata saved with the weights: the architecture and the resolved hyperparameters;
    ``files`` the inputs whose sha256 is recorded; ``seconds`` the wall-clock seconds of each stage that
    made them, as measured by whoever ran it (a stage left out is unknown).
    """
    # deferred: the report reads metrics.json through this module and needs none of scikit-learn
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, log_loss

    y_pred = np.argmax(proba, axis=1)
    labels = list(range(N_CLASSES))
    per_class = classification_report(
        y_true, y_pred, labels=labels, output_dict=True, zero_division=0
    )
    return {
        "test": {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "loss": float(log_loss(y_true, proba, labels=labels)),
            "n_errors": int(np.sum(y_true != y_pred)),
        },
        "per_class": {
            str(k): {m: round(float(per_class[str(k)][m]), 6)
                     for m in ("precision", "recall", "f1-score", "support")}
            for k in labels
        },
        "macro_avg": {m: round(float(per_class["macro avg"][m]), 6)
                      for m in ("precision", "recall", "f1-score")},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "sizes": dict(sizes),
        "config": dict(config),
        "model": dict(model),
        "sha256": {name: sha256_file(path) for name, path in files.items()},
        "versions": versions(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "seconds": dict(seconds),
    }

"""Reading back what evaluate wrote: ``metrics.json`` (checked against :data:`METRICS_SCHEMA`, or
:data:`FAILED_SCHEMA` for a sweep run whose training failed) and ``predictions.npz``. The writers are
:func:`mnistflow.evaluation.metrics.metrics` and :func:`~mnistflow.evaluation.metrics.failed_metrics`;
the report, the sweep comparison and the CLI read through here, so a file edited by hand or damaged
on disk is refused with the place and the problem, and a failed run's file is never read as metrics."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from mnistflow.data.parquet_file import N_CLASSES, labels_outside
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import read_json
from mnistflow.plumbing.npz_files import load_npz

__all__ = ["FAILED_SCHEMA", "METRICS_SCHEMA", "check_metrics", "load_predictions", "read_metrics",
           "read_outcome"]


# a number within a float's range: the report formats each as a float (json reads an integer of
# any length, and 10**400 would overflow there)
_NUMBER = {"type": "number", "minimum": -sys.float_info.max, "maximum": sys.float_info.max}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}

# a count of rows or errors: at most what NumPy's int64 holds (the report draws the confusion
# matrix as an array; a bigger number would make it an array of Python objects)
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}

_STRINGS = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
# mnistflow.plumbing.numerics.numerics(): the BLAS, its kernel and NumPy's SIMD features
_NUMERICS = {"type": "object", "properties": {
    "blas": {"type": ["string", "null"]}, "blas_kernel": {"type": ["string", "null"]},
    "numpy_simd": {"type": "array", "items": {"type": "string"}}, "portable": {"type": "boolean"}}}


# What :func:`metrics` writes and the report reads (JSON Schema): a metrics.json edited by hand or
# damaged on disk is refused by :func:`check_metrics` with the place and the problem.
METRICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["test", "per_class", "confusion_matrix", "sizes", "config", "model", "sha256",
                 "versions", "seconds"],
    "properties": {
        "test": {"type": "object", "required": ["accuracy", "loss", "n_errors"],
                 "properties": {"accuracy": _SHARE,
                                "loss": {**_NUMBER, "minimum": 0}, "n_errors": _COUNT}},
        "per_class": {
            "type": "object",
            "propertyNames": {"enum": [str(k) for k in range(N_CLASSES)]},
            "additionalProperties": {
                "type": "object", "required": ["precision", "recall", "f1-score", "support"],
                "properties": {**{m: _SHARE for m in ("precision", "recall", "f1-score")},
                               "support": {**_NUMBER, "minimum": 0}},
            },
        },
        "confusion_matrix": {
            "type": "array", "minItems": N_CLASSES, "maxItems": N_CLASSES,
            "items": {"type": "array", "minItems": N_CLASSES, "maxItems": N_CLASSES, "items": _COUNT},
        },
        "sizes": {"type": "object", "required": ["train", "test"],
                  "properties": {"train": _COUNT, "test": _COUNT}},
        "config": {"type": "object"},
        "model": {"type": "object", "properties": {"hyperparams": {
            "type": "object",  # what the sweep comparison reads of it
            "properties": {"patience": _COUNT,
                           "validation_fraction": _SHARE},
        }, "numerics": _NUMERICS}},
        "sha256": _STRINGS,
        "versions": _STRINGS,
        "git_commit": {"type": ["string", "null"]},
        "seconds": {"type": "object", "additionalProperties": _NUMBER},
        "code": _STRINGS,  # digest of each stage's code that made it (the workflow's)
        "numerics": _NUMERICS,  # what computed the predictions (the model's own: model.numerics)
    },
}


# What :func:`~mnistflow.evaluation.metrics.failed_metrics` writes for a run whose training failed:
# the reason (one line) instead of test metrics, and the same record of how the run came about.
FAILED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["failed", "config", "model", "sha256", "versions", "seconds"],
    "properties": {
        "failed": {"type": "string", "minLength": 1, "pattern": "^[^\\n]*$"},
        **{key: METRICS_SCHEMA["properties"][key]
           for key in ("config", "model", "sha256", "versions", "git_commit", "seconds", "numerics")},
    },
}


def _check(data: Any, schema: dict[str, Any], path: str | os.PathLike[str]) -> None:
    from jsonschema import Draft202012Validator

    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(data),
                             key=lambda e: list(map(str, e.absolute_path)))), None)
    if error is not None:
        where = ".".join(map(str, error.absolute_path)) or "the top level"
        message = error.message if len(error.message) <= 120 else error.message[:117] + "..."
        raise DataError(path, f"{where}: {message}")


def check_metrics(data: Any, path: str | os.PathLike[str]) -> None:
    """Raise :class:`DataError` naming ``path`` and the first bad field unless ``data`` (a parsed
    metrics.json) has the structure and types that :data:`METRICS_SCHEMA` describes."""
    _check(data, METRICS_SCHEMA, path)


def read_outcome(path: str | os.PathLike[str]) -> dict[str, Any]:
    """metrics.json of a trained run (as :func:`read_metrics` reads it) or of a run whose training
    failed (checked against :data:`FAILED_SCHEMA`; its ``failed`` says why); tell them apart by
    ``"failed" in``."""
    data = read_json(path)
    _check(data, FAILED_SCHEMA if isinstance(data, dict) and "failed" in data else METRICS_SCHEMA,
           path)
    return dict(data)


def read_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """metrics.json as :func:`metrics` wrote it, checked (:func:`check_metrics`); a failed run's
    (which has no test metrics) is refused, saying why it failed."""
    data = read_outcome(path)
    if "failed" in data:
        raise DataError(path, f"no test metrics: the run's training failed ({data['failed']})")
    return data


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

"""Evaluation of a trained model on the test split: ``results/metrics.json`` and predictions.

The metrics come from :mod:`sklearn.metrics`; the file also records how they were made (the config,
sha256 of every input, library versions, the git commit, seconds per stage), so a number in it can
always be traced back to what produced it. A sweep run whose training failed has no model to
evaluate: its file says so instead (:func:`failed_metrics`), with the same record of how it came about.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistflow.data.parquet_file import N_CLASSES
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import sha256_file
from mnistflow.plumbing.versions import git_commit, git_dirty, versions
from mnistflow.training import network

__all__ = ["check_compatible", "failed_metrics", "metrics"]


def check_compatible(params: network.Params, X: np.ndarray, model_path: str, split_path: str) -> None:
    """A model trained on other data (different width) cannot be evaluated: a DataError naming it."""
    if params["W1"].shape[0] != X.shape[1] or params["W2"].shape[1] != N_CLASSES:
        raise DataError(
            model_path,
            f"the model expects {params['W1'].shape[0]} inputs and "
            f"{params['W2'].shape[1]} classes, but {split_path} has {X.shape[1]} pixels and "
            f"{N_CLASSES} classes"
        )


def metrics(
    y_true: np.ndarray, proba: np.ndarray, *, sizes: Mapping[str, int], config: Mapping[str, Any],
    model: Mapping[str, Any], files: Mapping[str, str | os.PathLike[str]], seconds: Mapping[str, float],
) -> dict[str, Any]:
    """Everything evaluate reports, as a JSON-ready dict. ``proba`` is (n, 10) softmax output.

    ``config`` is the settings that made the inputs, as the config gives them (the chosen source's,
    prepare's and the training keys, which may be null: "the preset's value");
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


def failed_metrics(
    failure: str, *, config: Mapping[str, Any], model: Mapping[str, Any],
    files: Mapping[str, str | os.PathLike[str]], seconds: Mapping[str, float],
) -> dict[str, Any]:
    """What evaluate writes for a run whose training failed (``failure``: why, in one line): no
    test metrics, and the rest as :func:`metrics` records it (``model``: the model file's metadata,
    the recipe and the failure)."""
    return {
        "failed": failure,
        "config": dict(config),
        "model": dict(model),
        "sha256": {name: sha256_file(path) for name, path in files.items()},
        "versions": versions(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "seconds": dict(seconds),
    }

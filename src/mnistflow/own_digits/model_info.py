"""Which model answered: the lines the predictions page and ``mnistflow predict`` show above the answers.

The model file is named with its sha256 and its recipe (:func:`mnistflow.training.model_card.recipe`).
The data it was trained on and its test accuracy are not in the model file: they come from a
``metrics.json`` when that file belongs to the model, i.e. when the sha256 of the model it records
(``sha256.model``) is the model file's own. When it describes another model, is missing or cannot
be read, a line says so plainly and the data and the test accuracy are left unknown: a prediction
never needs an evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mnistflow.evaluation.metrics_file import read_outcome
from mnistflow.own_digits.image_folder import printable_name
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import sha256_file
from mnistflow.plumbing.numerics import describe
from mnistflow.training.model_card import data_summary, recipe, shown

__all__ = ["ModelInfo", "describe_model"]

UNKNOWN = "this model's test accuracy is unknown"


@dataclass(frozen=True)
class ModelInfo:
    """What is known of the model that answered, each field one line of text."""

    model: str  # the model file, as printable_name shows it
    sha256: str  # of the model file's bytes
    recipe: str  # network, epochs, optimizer, ... (and the preset, when metrics.json names it)
    data: str | None = None  # source, split, rows, split.npz's sha256; None: unknown
    accuracy: str | None = None  # '56.30% (437 errors in 1,000 test rows), from results/metrics.json'
    unknown: str | None = None  # when data and accuracy are unknown: why, ending in UNKNOWN
    # the BLAS kernel and SIMD that trained it (model.npz's metadata); None for a model made before
    # they were recorded
    numerics: str | None = None

    def fields(self) -> list[tuple[str, str]]:
        """(what, text) in order: model, recipe, what trained it, and the data and test accuracy,
        each when known."""
        known = [("trained with", self.numerics), ("data", self.data), ("test accuracy", self.accuracy)]
        return [("model", f"{self.model}, sha256 {self.sha256}"), ("recipe", self.recipe),
                *((what, text) for what, text in known if text is not None)]

    def lines(self) -> list[str]:
        """The fields as 'what: text' lines, then the line saying what is unknown, if anything is."""
        return [f"{what}: {text}" for what, text in self.fields()] + ([self.unknown] if self.unknown else [])


def describe_model(model: str | os.PathLike[str], meta: Mapping[str, Any],
                   metrics: str | os.PathLike[str]) -> ModelInfo:
    """What the model file ``model`` (whose metadata, as load_model read it, is ``meta``) is, and
    what the metrics.json at ``metrics`` adds when it belongs to that model (read if it exists)."""
    sha = sha256_file(model)
    name, where = printable_name(model), printable_name(metrics)
    numerics = describe(meta["numerics"]) if isinstance(meta.get("numerics"), dict) else None

    def unknown(problem: str) -> ModelInfo:
        return ModelInfo(name, sha, recipe(meta), unknown=f"{problem}; {UNKNOWN}", numerics=numerics)

    if not os.path.lexists(metrics):
        return unknown(f"no {where}")
    try:
        record = read_outcome(metrics)
    except DataError as exc:
        return unknown(f"{where}: {exc.problem}")
    recorded = record.get("sha256", {}).get("model")
    if recorded is None:
        return unknown(f"{where} does not say which model it describes")
    if recorded != sha:
        return unknown(f"{where} describes another model (sha256 {shown(recorded)})")
    if "failed" in record:  # its model file has no weights, so is never read up to here
        return unknown(f"{where} says this model's training failed")
    test, sizes = record["test"], record["sizes"]
    accuracy = (f"{test['accuracy']:.2%} ({test['n_errors']:,} errors in {sizes['test']:,} test rows), "
                f"from {where}")
    return ModelInfo(name, sha, recipe(meta, record["config"]), data_summary(record), accuracy,
                     numerics=numerics)

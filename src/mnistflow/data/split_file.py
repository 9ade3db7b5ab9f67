"""Content checks of a ``split.npz`` (under ``data/processed/``) for every stage that reads it.

A split edited by hand, written by another version or damaged on disk must stop the reading stage
with a message naming the file, the array and what is wrong (the stage script adds how to rebuild
it), rather than train on NaN or crash deep inside NumPy or scikit-learn. What a valid file holds, per part
(``train``, ``test``):

    X_<part>    (n, 784) floats in [0, 1]: the scaled pixels
    Y_<part>    (n, 10) one-hot rows (exactly one 1, the rest 0)
    y_<part>    (n,) integer labels 0-9, equal to argmax(Y_<part>)
    row_<part>  (n,) row numbers in the parquet (not checked: only provenance)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from mnistflow.data.parquet_file import N_CLASSES, N_PIXELS, labels_outside
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.npz_files import load_npz

__all__ = ["PARTS", "check_split", "load_split"]

PARTS = ("train", "test")


def _part_problems(arrays: dict[str, np.ndarray], part: str) -> list[str]:
    X, Y, y = (arrays.get(f"{k}_{part}") for k in ("X", "Y", "y"))
    problems = []
    n = None
    if X is not None:
        n = X.shape[0] if X.ndim else None
        if X.ndim != 2 or X.shape[1] != N_PIXELS or not np.issubdtype(X.dtype, np.floating):
            problems.append(f"X_{part} is {X.dtype} {X.shape}, expected floats (n, {N_PIXELS})")
        elif X.size:
            lo, hi = X.min(), X.max()  # NaN propagates through min/max; inf fails the range test
            if not (np.isfinite(lo) and np.isfinite(hi)):
                bad = int(np.count_nonzero(~np.isfinite(X)))
                problems.append(f"X_{part} has {bad} NaN or infinite pixel values")
            elif lo < 0 or hi > 1:
                problems.append(f"X_{part} has pixels outside [0, 1] (min {lo:g}, max {hi:g})")
    if Y is not None:
        if Y.ndim != 2 or Y.shape[1] != N_CLASSES or (n is not None and Y.shape[0] != n):
            problems.append(f"Y_{part} has shape {Y.shape}, expected ({n}, {N_CLASSES}) one-hot rows")
        elif not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
            problems.append(f"Y_{part} is not one-hot (each row: one 1, the rest 0)")
    if y is not None:
        if y.ndim != 1 or (n is not None and y.shape[0] != n) or not np.issubdtype(y.dtype, np.integer):
            problems.append(f"y_{part} is {y.dtype} {y.shape}, expected ({n},) integer labels")
        elif bad_labels := labels_outside(y):
            problems.append(f"y_{part} has {bad_labels}")
        elif Y is not None and not problems and not np.array_equal(np.argmax(Y, axis=1), y):
            problems.append(f"y_{part} does not agree with the one-hot Y_{part}")
    if n == 0:
        problems.append(f"the {part} part has no rows")
    return problems


def check_split(arrays: dict[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Raise :class:`DataError` naming ``path`` unless every split array present is well-formed."""
    problems = [p for part in PARTS for p in _part_problems(arrays, part)]
    widths = {a.shape[1] for k, a in arrays.items() if k.startswith("X_") and a.ndim == 2}
    if len(widths) > 1:
        problems.append(f"X_train and X_test have different widths {sorted(widths)}")
    if problems:
        raise DataError(path, "; ".join(problems))


def load_split(path: str | os.PathLike[str], names: Iterable[str]) -> dict[str, np.ndarray]:
    """Load ``split.npz``, require the arrays in ``names`` and check all of its content."""
    arrays = load_npz(path, {name: "split array" for name in names})
    check_split(arrays, path)
    return arrays

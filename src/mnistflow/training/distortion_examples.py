"""The distortion examples, ``results/distortions.npz``: a few training digits and distortions of them,
drawn as training draws them. The train stage writes it and the report shows it, so that a user can
judge the distorted digits still look like digits (the report recomputes nothing).

Arrays: ``digits`` (k, D) the first training digit of each class, as it is; ``distorted`` (k, j, D)
j distortions of each, every one drawn like an epoch's (:func:`mnistflow.training.distort.distort_rows`, from
the run's seed with epoch number 0, which training never uses); ``labels`` (k,); ``settings``, a 0-d
string: the distortions in words. A run without distortions has j = 0.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.npz_files import load_npz, save_npz
from mnistflow.training.distort import Distortions, distort_rows, distortion_rng
from mnistflow.training.shifts import image_side

__all__ = ["PER_DIGIT", "Examples", "load_examples", "make_examples", "save_examples"]

# distortions shown of each digit
PER_DIGIT = 5


class Examples(NamedTuple):
    """A few digits and distortions of them."""

    digits: np.ndarray  # (k, D) float32
    distorted: np.ndarray  # (k, j, D) float32; j = 0 without distortions
    labels: np.ndarray  # (k,) int
    settings: str  # the distortions in words (Distortions.describe)


def make_examples(X: np.ndarray, labels: np.ndarray, d: Distortions, seed: int,
                  per_digit: int = PER_DIGIT) -> Examples:
    """The first row of each class of X (n, D) with labels (n,), and ``per_digit`` distortions of
    each by ``d`` (none when ``d`` is off), from the generator of epoch 0 of a run seeded ``seed``."""
    _, first = np.unique(labels, return_index=True)  # (k,) first row of each class, by class
    digits = X[first].astype(np.float32)  # (k, D)
    j = per_digit if d.on else 0
    distorted = np.empty((len(first) * j, X.shape[1]), np.float32)  # (k j, D)
    distort_rows(digits, np.repeat(np.arange(len(first)), j), d, distortion_rng(seed, 0), distorted)
    return Examples(digits, distorted.reshape(len(first), j, X.shape[1]), labels[first].astype(np.int64),
                    d.describe())


def save_examples(path: str | os.PathLike[str], examples: Examples) -> None:
    """Write the examples as one deterministic .npz, atomically."""
    save_npz(path, {"digits": examples.digits, "distorted": examples.distorted,
                    "labels": examples.labels, "settings": np.array(examples.settings)})


def load_examples(path: str | os.PathLike[str]) -> Examples:
    """The examples :func:`save_examples` wrote, with their shapes checked (a :class:`DataError`
    naming ``path`` otherwise)."""
    arrays = load_npz(path, {"digits": "the digits", "distorted": "their distortions",
                             "labels": "their classes", "settings": "the distortions in words"})
    digits, distorted, labels, settings = (arrays[k] for k in ("digits", "distorted", "labels", "settings"))
    k = len(digits)
    fits = (digits.ndim == 2 and distorted.ndim == 3 and distorted.shape[0] == k
            and digits.dtype.kind == "f" and distorted.dtype.kind == "f" and labels.dtype.kind in "iu"
            and distorted.shape[2] == digits.shape[1] and labels.shape == (k,)
            and settings.shape == () and settings.dtype.kind == "U")
    if not fits:
        raise DataError(path, f"arrays do not fit together (digits {digits.dtype} {digits.shape}, "
                              f"distorted {distorted.dtype} {distorted.shape}, labels {labels.dtype} "
                              f"{labels.shape}, settings {settings.dtype} {settings.shape})")
    try:
        image_side(digits.shape[1])
    except ValueError:
        raise DataError(path, f"digits of {digits.shape[1]} pixels are not square images") from None
    return Examples(digits, distorted, labels, str(settings))

"""Turn the parquet rows into arrays the network trains on: ``split.npz``.

Pixels are scaled from 0-255 to [0, 1] in float32 (or float64), labels are one-hot encoded with
scikit-learn, and rows are split either at random with ``train_test_split`` (the seed's 80/20 with
``random_state=42``) or along the source's own train/test parts (``split: original``).

Arrays in the file: ``X_train`` (n_train, 784), ``Y_train`` (n_train, 10) one-hot, ``y_train`` (n_train,)
labels, ``row_train`` (n_train,) row numbers in the parquet; the same four for ``test``.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder

from mnistflow.data.parquet_file import N_CLASSES, Digits
from mnistflow.plumbing.errors import ConfigError

__all__ = ["DTYPES", "SPLITS", "normalise", "one_hot", "split", "split_indices"]

SPLITS = ("random", "original")
DTYPES = ("float32", "float64")


def normalise(pixels: np.ndarray, dtype: str = "float32") -> np.ndarray:
    """Scale uint8 pixels to [0, 1]: X = pixels / 255, in ``dtype``."""
    X = pixels.astype(dtype)  # (n, 784), one new array
    X *= 1.0 / 255.0  # in place: no second temporary
    return X


def one_hot(labels: np.ndarray, dtype: str = "float32") -> np.ndarray:
    """(n,) labels 0-9 -> (n, 10) one-hot rows, with all ten classes even if some are absent."""
    encoder = OneHotEncoder(categories=[np.arange(N_CLASSES)], sparse_output=False, dtype=dtype)
    result: np.ndarray = encoder.fit_transform(labels.reshape(-1, 1).astype(np.int64))
    return result


def _at_most(x: float) -> str:
    """x rounded down to 6 decimals, so that a test_size <= it keeps its promise."""
    return f"{math.floor(round(x * 1e6, 3)) / 1e6:g}"


def _at_least(x: float) -> str:
    """x rounded up to 6 decimals."""
    return f"{math.ceil(round(x * 1e6, 3)) / 1e6:g}"


def _check_random_split(labels: np.ndarray, test_size: float, stratify: bool) -> None:
    """Raise :class:`ConfigError` if ``train_test_split`` could not split these rows as asked.

    The sizes are train_test_split's own: ceil(test_size * n) test rows, the rest for training. The
    schema admits any 0 < test_size < 1, so only the data can tell whether both parts get rows and,
    with ``stratify``, whether every class has two rows and each part one row per class.
    """
    n = len(labels)
    if n < 2:
        raise ConfigError(f"split: random needs at least 2 rows (one to train, one to test), "
                          f"but the data has {n}")
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if not stratify:
        if n_train < 1:
            raise ConfigError(
                f"test_size: {test_size} of {n} rows puts {n_test} rows in the test part and leaves "
                f"{n_train} to train on; choose test_size <= {_at_most((n - 1) / n)}"
            )
        return
    classes, counts = np.unique(labels, return_counts=True)
    k = len(classes)
    if counts.min() < 2:
        rare = ", ".join(str(c) for c in classes[counts < 2])
        raise ConfigError(
            f"stratify: true needs at least 2 rows of every class, but of the {n} rows only 1 has "
            f"class {rare}; set stratify=False"
        )
    for part, rows, fix in (("test", n_test, f"test_size >= {_at_least(k / n)}"),
                            ("train", n_train, f"test_size <= {_at_most((n - k) / n)}")):
        if rows < k:
            raise ConfigError(
                f"stratify: true with test_size: {test_size} gives the {part} part {rows} of {n} "
                f"rows, fewer than its {k} classes (one row each at least); choose {fix} or set "
                f"stratify=False"
            )


def split_indices(
    digits: Digits, how: str, test_size: float, random_state: int, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the train and test parts.

    ``random`` splits the row numbers with ``train_test_split``: the permutation depends only on the
    number of rows and ``random_state`` (and the labels, when stratified), so it picks exactly the
    rows that ``train_test_split(X, y, ...)`` on the full arrays would.
    """
    rows = np.arange(len(digits))
    if how == "random":
        _check_random_split(digits.labels, test_size, stratify)
        train, test = train_test_split(
            rows,
            test_size=test_size,
            random_state=random_state,
            stratify=digits.labels if stratify else None,
        )
        return np.asarray(train), np.asarray(test)
    if how == "original":
        train, test = rows[digits.origin == "train"], rows[digits.origin == "test"]
        if not len(train) or not len(test):
            source = digits.metadata.get("source", "this source")
            raise ConfigError(
                f"split: 'original' needs rows from both the source's train and test parts, but "
                f"{source} has {len(train)} train and {len(test)} test rows; use split=random"
            )
        return train, test
    raise ConfigError(f"split: unknown value {how!r}; choose one of {', '.join(SPLITS)}")


def split(
    digits: Digits,
    how: str = "random",
    test_size: float = 0.2,
    random_state: int = 42,
    stratify: bool = False,
    dtype: str = "float32",
) -> dict[str, np.ndarray]:
    """Normalise, one-hot encode and split ``digits``; returns the arrays of ``split.npz``."""
    if dtype not in DTYPES:
        raise ConfigError(f"dtype: unknown value {dtype!r}; choose one of {', '.join(DTYPES)}")
    train, test = split_indices(digits, how, test_size, random_state, stratify)
    arrays: dict[str, np.ndarray] = {}
    for part, rows in (("train", train), ("test", test)):
        labels = digits.labels[rows]
        arrays[f"X_{part}"] = normalise(digits.pixels[rows], dtype)  # (n_part, 784)
        arrays[f"Y_{part}"] = one_hot(labels, dtype)  # (n_part, 10)
        arrays[f"y_{part}"] = labels  # (n_part,)
        arrays[f"row_{part}"] = rows.astype(np.int64)  # (n_part,)
    return arrays

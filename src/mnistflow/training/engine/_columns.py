"""Zero input columns left out of a full batch's products, exactly (see ``Gradients.restrict``).

For full-batch training on fixed rows (no shifts), each block of rows keeps, once, up front, only the
columns of X that are not 0 in all of its rows, plus a column of ones, (m, L + 1), and its products
use W1[live] with b1 as the last row, (L + 1, H) (:func:`fold_weights`). This is exact: a column of zeros
adds nothing to X W1, its rows of the block's dW1 = X^T dZ1 are exactly 0, and the ones make
X W1 + b1 and db1 = 1^T dZ1 part of the two products; :func:`scatter_add` puts a block's folded dW1
back into the rows of dW1. On MNIST's 56,000 training rows 68 of the 784 pixels are 0 in
every image, and 132 on average in a block of 4,000: 17 % less work. The copy is 146 MB for MNIST,
against 176 MB for all 784 columns.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GATHER_ROWS", "fold_weights", "live_columns", "restrict_columns", "scatter_add"]

# rows read at once (and, in a mini-batch epoch, whose shifts are drawn at once): a few MB, in cache
GATHER_ROWS = 4096


def live_columns(X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Columns of X (n, D) that are not 0 in at least one of ``rows`` (default: all), (L,) ascending.

    Read GATHER_ROWS rows at a time, so it needs no (n, D) temporary."""
    live = np.zeros(X.shape[1], dtype=bool)  # (D,)
    n = X.shape[0] if rows is None else len(rows)
    for i in range(0, n, GATHER_ROWS):
        part = X[i : i + GATHER_ROWS] if rows is None else X[rows[i : i + GATHER_ROWS]]
        live |= np.any(part != 0, axis=0)
    return np.flatnonzero(live)


def restrict_columns(X: np.ndarray, live: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """[X[rows][:, live], 1]: the live columns of X (n, D) and a column of ones, (n, L + 1)."""
    n = X.shape[0] if rows is None else len(rows)
    out = np.empty((n, len(live) + 1), X.dtype)  # (n, L + 1)
    for i in range(0, n, GATHER_ROWS):
        part = X[i : i + GATHER_ROWS] if rows is None else X[rows[i : i + GATHER_ROWS]]
        np.take(part, live, axis=1, out=out[i : i + GATHER_ROWS, :-1])
    out[:, -1] = 1
    return out


def fold_weights(W1: np.ndarray, b1: np.ndarray, live: np.ndarray, out: np.ndarray) -> np.ndarray:
    """[W1[live]; b1]: the rows of W1 (D, H) that live columns meet, and b1 (H,) below, (L + 1, H),
    written into the first L + 1 rows of ``out``."""
    folded = out[: len(live) + 1]  # (L + 1, H)
    np.take(W1, live, axis=0, out=folded[:-1])
    folded[-1] = b1
    return folded


def scatter_add(dW1: np.ndarray, live: np.ndarray, folded: np.ndarray, rows: slice) -> None:
    """dW1[live] += folded[:-1], in the rows ``rows`` of dW1 (D, H) only: a block's folded gradient
    (L + 1, H) (see :func:`fold_weights`; its last row, db1, is the caller's) added into the rows of its
    live columns; the other rows get nothing (their gradient is exactly 0)."""
    lo, hi = np.searchsorted(live, (rows.start, rows.stop))  # the live columns within ``rows``
    dW1[live[lo:hi]] += folded[lo:hi]  # (l, H); live has no repeats

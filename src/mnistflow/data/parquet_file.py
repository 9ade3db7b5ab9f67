"""The parquet format of ``data/raw/<source>/mnist.parquet``: one row per digit.

Columns
    ``pixels``  fixed_size_list<uint8>[784]: the 28x28 image, row-major, 0 (background) to 255 (ink)
    ``label``   uint8, 0-9
    ``origin``  dictionary<string>: the part of the source the row came from ("train" or "test")
    ``index``   int32: the row's position inside that part of the source

Schema metadata (``mnistflow.*`` keys) records the source, checksums of the files read and the row
count. Pixels stay uint8 (lossless and compact); normalising is the prepare stage's job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import atomic_path

if TYPE_CHECKING:  # pyarrow is imported where a file is read or written: the stages that only use
    import pyarrow as pa  # the constants and Digits (train, evaluate, report) do without it

__all__ = ["N_CLASSES", "N_PIXELS", "ORIGINS", "Digits", "labels_outside", "read_parquet", "validate",
           "write_parquet"]

N_PIXELS = 28 * 28
N_CLASSES = 10
ORIGINS = ("train", "test")
ROW_GROUP = 10_000  # rows per parquet row group


@dataclass(frozen=True)
class Digits:
    """Rows of MNIST-like digits, as read from a source or from the parquet file."""

    pixels: np.ndarray  # (n, 784) uint8
    labels: np.ndarray  # (n,) uint8
    origin: np.ndarray  # (n,) str, one of ORIGINS
    index: np.ndarray  # (n,) int32, row number inside its origin
    metadata: dict[str, str] = field(default_factory=dict)  # source description, sha256 of inputs

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def labels_outside(labels: np.ndarray) -> str | None:
    """'3 labels outside 0-9 (e.g. 12)' when some of the integer ``labels`` are not digits, else None:
    the one range check of labels, for every reader of them."""
    if not labels.size or (labels.min() >= 0 and labels.max() < N_CLASSES):
        return None
    bad = labels[(labels < 0) | (labels >= N_CLASSES)]
    return f"{bad.size} labels outside 0-{N_CLASSES - 1} (e.g. {bad[0]})"


def validate(digits: Digits, where: str | os.PathLike[str], expected_rows: int | None = None) -> None:
    """Raise :class:`DataError` naming ``where`` (a file or a source) unless ``digits`` is well-formed."""
    n = len(digits)
    problems = []
    if digits.pixels.ndim != 2 or digits.pixels.shape != (n, N_PIXELS):
        problems.append(f"pixels have shape {digits.pixels.shape}, expected ({n}, {N_PIXELS})")
    if digits.pixels.dtype != np.uint8:
        problems.append(f"pixels are {digits.pixels.dtype}, expected uint8 (0-255)")
    if bad_labels := labels_outside(digits.labels):
        problems.append(bad_labels)
    if digits.origin.shape != (n,) or digits.index.shape != (n,):
        problems.append("origin/index columns do not have one entry per row")
    elif n and not np.isin(digits.origin, ORIGINS).all():
        problems.append(f"origin values other than {ORIGINS}")
    if n == 0:
        problems.append("no rows")
    if expected_rows is not None and n != expected_rows:
        problems.append(f"{n} rows, expected {expected_rows}")
    if problems:
        raise DataError(where, "; ".join(problems))


def write_parquet(path: str | os.PathLike[str], digits: Digits) -> None:
    """Validate ``digits`` and write them to ``path`` atomically (zstd-compressed parquet)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    validate(digits, where=str(path))
    pixels = pa.FixedSizeListArray.from_arrays(pa.array(digits.pixels.reshape(-1)), N_PIXELS)
    origin = pa.array(digits.origin.astype(str)).dictionary_encode()
    table = pa.table(
        {
            "pixels": pixels,
            "label": pa.array(digits.labels.astype(np.uint8)),
            "origin": origin,
            "index": pa.array(digits.index.astype(np.int32)),
        }
    )
    meta = {f"mnistflow.{k}": v for k, v in digits.metadata.items()}
    meta["mnistflow.rows"] = str(len(digits))
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        # Dictionary-encoded pixels compress best (most are 0 or 255). Min/max statistics of 55 M
        # pixel values would double the write time and no reader uses them, so only the small
        # columns get statistics. Row groups of 10,000 rows let readers decode them in parallel
        # (full MNIST reads about twice as fast on 2 cores) at no cost in size.
        pq.write_table(table, tmp, compression="zstd", compression_level=3,
                       write_statistics=["label", "origin", "index"], row_group_size=ROW_GROUP)


def read_parquet(path: str | os.PathLike[str], expected_rows: int | None = None) -> Digits:
    """Read and validate ``path``; any problem is a :class:`DataError` naming the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        table.validate(full=True)  # damaged pages can decode to out-of-range dictionary indices
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:  # the last: damaged column names
        raise DataError(path, f"not a readable parquet file ({exc})") from None
    expected = {"pixels", "label", "origin", "index"}
    if missing := expected - set(table.column_names):
        raise DataError(path, f"missing columns {sorted(missing)}")
    for name in expected:
        if table.column(name).null_count:
            raise DataError(path, f"column {name!r} has null values")
    pixels_col = table.column("pixels").combine_chunks()
    if not pa.types.is_fixed_size_list(pixels_col.type) or pixels_col.type.list_size != N_PIXELS:
        raise DataError(path, f"column 'pixels' is {pixels_col.type}, expected 784 uint8 values")
    if not pa.types.is_uint8(pixels_col.type.value_type):
        raise DataError(path, f"pixels are {pixels_col.type.value_type}, expected uint8 (0-255)")
    for name in ("label", "index"):
        if not pa.types.is_integer(table.schema.field(name).type):
            raise DataError(path, f"column {name!r} is {table.schema.field(name).type}, expected "
                                  "integers")
    raw_meta = table.schema.metadata or {}
    metadata = {
        k.decode(errors="replace")[len("mnistflow.") :]: v.decode(errors="replace")
        for k, v in raw_meta.items()
        if k.startswith(b"mnistflow.")
    }
    digits = Digits(
        pixels=pixels_col.flatten().to_numpy(zero_copy_only=False).reshape(-1, N_PIXELS),
        labels=table.column("label").to_numpy(),
        origin=_strings(table.column("origin").combine_chunks()),
        index=table.column("index").to_numpy(),
        metadata=metadata,
    )
    if expected_rows is None and "rows" in metadata:
        expected_rows = int(metadata["rows"]) if metadata["rows"].isdecimal() else -1  # -1: damaged
    validate(digits, where=path, expected_rows=expected_rows)
    return digits


def _strings(column: pa.Array) -> np.ndarray:
    """A (dictionary-encoded) string column as a NumPy str array, without a Python loop per row."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        names = np.asarray(column.dictionary.to_pylist(), dtype=str)
        strings: np.ndarray = names[column.indices.to_numpy(zero_copy_only=False)]
        return strings
    return np.asarray(column.to_pylist(), dtype=str)

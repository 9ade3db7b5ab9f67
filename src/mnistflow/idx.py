"""MNIST's IDX file format: reading, checking and downloading the four files of an IDX dataset.

An IDX file (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS") is a 4-byte magic number
``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the values in row-major order.
Datasets in MNIST's layout (MNIST, Fashion-MNIST, KMNIST) ship four of them, usually gzip'd:

    train-images-idx3-ubyte   magic 0x00000803, (n_train, 28, 28) uint8
    train-labels-idx1-ubyte   magic 0x00000801, (n_train,) uint8
    t10k-images-idx3-ubyte    magic 0x00000803, (n_test, 28, 28) uint8
    t10k-labels-idx1-ubyte    magic 0x00000801, (n_test,) uint8

A location is a local directory or an http(s) URL prefix. Downloads are retried, report progress,
and go to a temporary file that is renamed into the download cache only once it is complete and
verified (it decompresses, its IDX header agrees with its length, and its md5 is the expected one),
so a later run reads the cached copy and never downloads again.

Checksums are md5 of the *uncompressed* content: the same IDX bytes can be gzip'd in different ways.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import re
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import numpy as np

from mnistflow import __version__
from mnistflow._io import atomic_path, sha256_bytes
from mnistflow.errors import ConfigError, DataError

__all__ = [
    "FILES",
    "MNIST_MD5",
    "IdxFile",
    "checksums",
    "download",
    "is_url",
    "parse_idx",
    "read_idx",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# The four files in row order: the training part, then the test part.
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# Published md5 of MNIST's uncompressed files (yann.lecun.com/exdb/mnist).
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 or 1 dimensions
_IMAGE_SHAPE = (28, 28)
_GZIP_MAGIC = b"\x1f\x8b"
_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class IdxFile:
    """One IDX file as read: its values and where they came from."""

    name: str  # e.g. "train-images-idx3-ubyte"
    array: np.ndarray  # (n, 28, 28) or (n,) uint8
    location: str  # the path or URL it was read from
    md5: str  # md5 of the uncompressed content
    sha256: str  # sha256 of the bytes as stored (gzip'd or not)


def is_url(location: str) -> bool:
    return urlsplit(location).scheme in ("http", "https")


def checksums(setting: str) -> dict[str, str]:
    """The ``idx_md5`` setting as {file: md5}: ``none`` -> {}, ``mnist`` -> MNIST's, or four md5s."""
    value = setting.strip().lower()
    if value in ("", "none"):
        return {}
    if value == "mnist":
        return dict(MNIST_MD5)
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != len(FILES) or not all(_MD5.fullmatch(p) for p in parts):
        raise ConfigError(
            f"idx_md5: {setting!r} is not 'none', 'mnist' or four comma-separated md5 values "
            f"(in the order {', '.join(FILES)})"
        )
    return dict(zip(FILES, parts, strict=True))


def _kind(name: str) -> str:
    return "images" if "images" in name else "labels"


def parse_idx(data: bytes, name: str, where: str) -> np.ndarray:
    """Decode uncompressed IDX bytes of file ``name`` (images or labels); ``where`` names it in errors."""
    kind = _kind(name)
    if len(data) < 4:
        raise DataError(f"{where}: only {len(data)} bytes, too short for an IDX file")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != _MAGIC[kind]:
        raise DataError(
            f"{where}: bad magic number 0x{magic:08x}, expected 0x{_MAGIC[kind]:08x} (IDX {kind} of "
            f"unsigned bytes); this is not an IDX {kind} file"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{where}: truncated IDX header ({len(data)} bytes, expected {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if kind == "images" and shape[1:] != _IMAGE_SHAPE:
        raise DataError(f"{where}: images of {shape[1]}x{shape[2]} pixels, expected 28x28")
    expected = int(np.prod(shape, dtype=np.int64))
    found = len(data) - header
    if found != expected:
        raise DataError(
            f"{where}: the header announces {shape[0]} {kind} ({expected} bytes of values) but the "
            f"file holds {found} bytes after the header; the file is truncated or corrupt"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)  # read-only view
    if kind == "labels" and array.size and array.max() > 9:
        bad = int(np.count_nonzero(array > 9))
        raise DataError(f"{where}: {bad} labels outside 0-9 (e.g. {array[array > 9][0]})")
    return array


def _decompress(stored: bytes, where: str) -> bytes:
    """gzip'd or plain bytes -> plain bytes (told apart by the gzip magic, not the file name)."""
    if not stored.startswith(_GZIP_MAGIC):
        return stored
    try:
        return gzip.decompress(stored)
    except (EOFError, OSError, zlib.error) as exc:  # EOFError: truncated; BadGzipFile is an OSError
        raise DataError(f"{where}: truncated or corrupt gzip data ({exc})") from None


def _decode(stored: bytes, name: str, where: str, expected_md5: str | None) -> IdxFile:
    """Check and decode the stored bytes of one file."""
    data = _decompress(stored, where)
    md5 = hashlib.md5(data).hexdigest()
    if expected_md5 is not None and md5 != expected_md5:
        raise DataError(
            f"{where}: checksum mismatch: the uncompressed content has md5 {md5}, expected "
            f"{expected_md5}; the file is corrupt or a different dataset (set idx_md5 to 'none' or to "
            f"the right checksums)"
        )
    return IdxFile(name, parse_idx(data, name, where), where, md5, sha256_bytes(stored))


def read_idx(
    location: str | os.PathLike[str],
    name: str,
    *,
    expected_md5: str | None = None,
    downloads: str | os.PathLike[str] = "data/raw/downloads",
    retries: int = 3,
    retry_delay: float = 1.0,
    timeout: float = 60.0,
) -> IdxFile:
    """Read IDX file ``name`` (e.g. ``train-images-idx3-ubyte``) from a directory or URL prefix.

    ``<name>.gz`` is tried before ``<name>``. From a URL the file is downloaded once into
    ``downloads`` (then read from there); a cached copy that fails its checks is downloaded again.
    """
    location = os.fspath(location)
    if is_url(location):
        return _read_url(location, name, expected_md5, Path(downloads), retries, retry_delay, timeout)
    folder = Path(location)
    if not folder.is_dir():
        raise DataError(
            f"idx_path: {folder} is not a directory (nor an http(s) URL) holding the four IDX files"
        )
    # also accept the dotted spelling some copies use (train-images.idx3-ubyte)
    dotted = name.replace("-idx", ".idx")
    for candidate in (f"{name}.gz", name, f"{dotted}.gz", dotted):
        path = folder / candidate
        if path.is_file():
            return _decode(path.read_bytes(), name, str(path), expected_md5)
    raise DataError(f"{folder}: no {name}.gz or {name} file; idx_path must hold the four IDX files")


def _cache_dir(prefix: str, downloads: Path) -> Path:
    """A readable, file-system-safe folder per URL prefix: ``downloads/idx/<host>/<path>``."""
    parts = urlsplit(prefix)
    safe = [re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in [parts.netloc, *parts.path.split("/")]]
    return downloads.joinpath("idx", *(p for p in safe if p.strip(".")))


def _read_url(
    prefix: str,
    name: str,
    expected_md5: str | None,
    downloads: Path,
    retries: int,
    retry_delay: float,
    timeout: float,
) -> IdxFile:
    cache = _cache_dir(prefix, downloads)
    base = prefix.rstrip("/") + "/"
    for filename in (f"{name}.gz", name):
        cached = cache / filename
        if cached.is_file():
            try:
                found = _decode(cached.read_bytes(), name, str(cached), expected_md5)
            except DataError as exc:
                log.warning("%s; downloading it again", exc)
                cached.unlink()
            else:
                log.info("%s: using the copy downloaded before (%s)", base + filename, cached)
                return found
    for filename in (f"{name}.gz", name):
        url = base + filename
        check = partial(_decode, name=name, where=url, expected_md5=expected_md5)
        downloaded = download(url, cache / filename, check, retries=retries,
                              retry_delay=retry_delay, timeout=timeout, missing_ok=True)
        if downloaded is not None:
            return downloaded
    raise DataError(f"{base}: neither {name}.gz nor {name} found there (HTTP 404)")


class _IncompleteError(Exception):
    """The connection ended before Content-Length bytes arrived."""


def download(
    url: str,
    dest: Path,
    check: Callable[[bytes], T],
    *,
    retries: int = 3,
    retry_delay: float = 1.0,
    timeout: float = 60.0,
    missing_ok: bool = False,
) -> T | None:
    """Download ``url`` to ``dest``: retried, with progress, renamed into place once checked.

    The bytes are streamed into a temporary file beside ``dest``; ``check`` (given the downloaded
    bytes, raising :class:`DataError` when they are wrong) runs before the rename, so ``dest`` only
    ever holds a complete, verified file. Returns what ``check`` returned, or None for HTTP 404 when
    ``missing_ok``. Network errors, server errors (5xx, 429) and short reads are tried ``retries``
    times in all, waiting ``retry_delay`` seconds, then twice as long each time; every failure ends
    in a :class:`DataError` naming the URL.
    """
    problem = ""
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(dest) as tmp:
                _fetch(url, tmp, timeout)
                # a DataError here means wrong content: it propagates (no retry) and tmp is removed
                return check(tmp.read_bytes())
        except HTTPError as exc:
            exc.close()
            if exc.code == 404 and missing_ok:
                return None
            if exc.code < 500 and exc.code != 429:
                raise DataError(f"{url}: download failed with HTTP {exc.code} {exc.reason}") from None
            problem = f"HTTP {exc.code} {exc.reason}"
        except (URLError, OSError, http.client.HTTPException, _IncompleteError) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            problem = f"{type(exc).__name__}: {reason}"
        if attempt < retries:
            wait = retry_delay * 2 ** (attempt - 1)
            log.warning("%s: attempt %d of %d failed (%s); retrying in %.1fs",
                        url, attempt, retries, problem, wait)
            time.sleep(wait)
    raise DataError(f"{url}: could not download it after {retries} attempts ({problem})")


def _fetch(url: str, dest: Path, timeout: float) -> None:
    """GET ``url`` into the file ``dest``, logging a progress bar every 10 %."""
    request = Request(url, headers={"User-Agent": f"mnistflow/{__version__}"})
    name = url.rsplit("/", 1)[-1]
    with urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        received, shown = 0, -1
        while chunk := response.read(1 << 16):
            out.write(chunk)
            received += len(chunk)
            if total and (tenth := min(10, received * 10 // total)) > shown:
                shown = tenth
                log.info("%s [%-10s] %3d%% of %s", name, "#" * tenth, tenth * 10, _size(total))
    if total and received != total:
        raise _IncompleteError(f"received {received} of {total} bytes")
    if not total:
        log.info("%s: %s downloaded", name, _size(received))


def _size(n_bytes: int) -> str:
    if n_bytes < 1000:
        return f"{n_bytes} bytes"
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"

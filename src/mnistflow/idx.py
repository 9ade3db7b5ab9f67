"""MNIST's IDX file format: reading, checking and downloading the four files of an IDX dataset.

An IDX file (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS") is a 4-byte magic number
``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the values in row-major order.
Datasets in MNIST's layout (MNIST, Fashion-MNIST, KMNIST) ship four of them, usually gzip'd:

    train-images-idx3-ubyte   magic 0x00000803, (n_train, 28, 28) uint8
    train-labels-idx1-ubyte   magic 0x00000801, (n_train,) uint8
    t10k-images-idx3-ubyte    magic 0x00000803, (n_test, 28, 28) uint8
    t10k-labels-idx1-ubyte    magic 0x00000801, (n_test,) uint8

A file is read header first, then no further than the values its header announces (plus one byte,
to tell whether more follows), and a header announcing more than :data:`MAX_IDX_BYTES` is refused:
neither a gzip bomb nor a corrupt header can make the reader hold more than the header says.

A location is a local directory or an http(s) URL prefix. Downloads (:mod:`mnistflow.download`) are
retried, report progress, are bounded in time (``idx_download_timeout`` per attempt) and size, and go
to a temporary file that is renamed into the download cache (:func:`download_cache`, one folder per
URL prefix) only once it is complete and verified (it decompresses, its IDX header agrees with its
length, and its md5 is the expected one), so a later run reads the cached copy and never downloads
again.

Checksums are md5 of the *uncompressed* content: the same IDX bytes can be gzip'd in different ways.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import os
import re
import struct
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import numpy as np

from mnistflow._io import sha256_file
from mnistflow.data import labels_outside
from mnistflow.download import DEADLINE, DownloadPolicy, download, format_size
from mnistflow.errors import ConfigError, DataError

__all__ = [
    "DOWNLOAD_TIMEOUT",
    "FILES",
    "MAX_IDX_BYTES",
    "MNIST_MD5",
    "IdxFile",
    "checksums",
    "download_cache",
    "is_url",
    "parse_idx",
    "read_idx",
]

log = logging.getLogger(__name__)

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
_HEADER_BYTES = {"images": 16, "labels": 8}  # magic and sizes, 4 + 4 * ndim
# The most a header may announce: 1 GiB of values (1.37 million 28x28 images; MNIST's largest file
# holds 47 MB). Nothing larger is read, so a corrupt header or a gzip bomb cannot exhaust memory.
MAX_IDX_BYTES = 1 << 30
# The most a file may take as stored: gzip adds a few bytes per 64 kB to data it cannot compress.
MAX_STORED_BYTES = MAX_IDX_BYTES + (1 << 20)
# Seconds one download attempt may take: the default of the idx_download_timeout setting.
DOWNLOAD_TIMEOUT = DEADLINE
_GZIP_MAGIC = b"\x1f\x8b"
_MD5 = re.compile(r"[0-9a-f]{32}")
_READABLE = 80  # characters of a URL path kept in the name of its download folder


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


class _Reader(Protocol):
    """A binary file, or the decompressed content of one: read(n) gives n bytes, fewer at the end."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class _Header:
    """What an IDX header announces."""

    kind: str  # "images" or "labels"
    shape: tuple[int, ...]  # (n, 28, 28) or (n,)
    length: int  # bytes of the header itself: 4 + 4 * ndim

    @property
    def n_values(self) -> int:
        return math.prod(self.shape)


def _header(data: bytes, name: str, where: str) -> _Header:
    """Decode and check the IDX header at the start of ``data`` (the file, or at least its header)."""
    kind = _kind(name)
    if len(data) < 4:
        raise DataError(where, f"only {len(data)} bytes, too short for an IDX file")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != _MAGIC[kind]:
        raise DataError(
            where,
            f"bad magic number 0x{magic:08x}, expected 0x{_MAGIC[kind]:08x} (IDX {kind} of "
            f"unsigned bytes); this is not an IDX {kind} file"
        )
    ndim = magic & 0xFF
    length = 4 + 4 * ndim
    if len(data) < length:
        raise DataError(where, f"truncated IDX header ({len(data)} bytes, expected {length})")
    header = _Header(kind, struct.unpack(f">{ndim}I", data[4:length]), length)
    if kind == "images" and header.shape[1:] != _IMAGE_SHAPE:
        raise DataError(where, f"images of {header.shape[1]}x{header.shape[2]} pixels, expected 28x28")
    if header.n_values > MAX_IDX_BYTES:
        raise DataError(
            where,
            f"the header announces {header.shape[0]} {kind} ({header.n_values} bytes of "
            f"values), more than the {format_size(MAX_IDX_BYTES)} this reader accepts; the file is corrupt"
        )
    return header


def _check_count(header: _Header, found: int, where: str, *, at_least: bool = False) -> None:
    """Raise unless ``found`` bytes of values are what the header announces (``at_least``: or more)."""
    if found != header.n_values:
        holds = f"at least {found}" if at_least else str(found)
        raise DataError(
            where,
            f"the header announces {header.shape[0]} {header.kind} ({header.n_values} bytes "
            f"of values) but the file holds {holds} bytes after the header; the file is truncated or "
            f"corrupt"
        )


def _array(values: bytes, header: _Header, where: str) -> np.ndarray:
    """The values as an array of the header's shape, with labels checked to be digits."""
    array = np.frombuffer(values, dtype=np.uint8).reshape(header.shape)  # read-only view
    if header.kind == "labels" and (bad_labels := labels_outside(array)):
        raise DataError(where, bad_labels)
    return array


def parse_idx(data: bytes, name: str, where: str) -> np.ndarray:
    """Decode uncompressed IDX bytes of file ``name`` (images or labels); ``where`` names it in errors."""
    header = _header(data[:_HEADER_BYTES[_kind(name)]], name, where)
    _check_count(header, len(data) - header.length, where)
    return _array(data[header.length:], header, where)


@dataclass(frozen=True)
class _Content:
    """The uncompressed content of an IDX file: its header, as bytes and decoded, and its values."""

    head: bytes
    header: _Header
    values: bytes

    def md5(self) -> str:
        digest = hashlib.md5(self.head)
        digest.update(self.values)
        return digest.hexdigest()


def _read_content(stream: _Reader, name: str, where: str, size: int | None) -> _Content:
    """The uncompressed IDX content in ``stream``, checked against its header; ``size``: its length,
    if known before reading.

    Reads the header, then no more than the values it announces and one byte, so a file far longer
    than its header says costs no more memory than the header says.
    """
    head = stream.read(_HEADER_BYTES[_kind(name)])
    header = _header(head, name, where)
    if size is not None:  # a plain file: its length is checked before its values are read
        _check_count(header, size - header.length, where)
    values = stream.read(header.n_values)
    # one byte more says whether the file goes on (in gzip, reading to the end checks CRC and length)
    more = len(values) == header.n_values and stream.read(1) != b""
    _check_count(header, len(values) + 1 if more else len(values), where, at_least=more)
    return _Content(head, header, values)


def _read_gzip(stored: BinaryIO, name: str, where: str) -> _Content:
    """The content of a gzip'd IDX file, decompressed no further than its header announces."""
    try:
        with gzip.GzipFile(fileobj=stored, mode="rb") as content:
            return _read_content(content, name, where, None)
    except (EOFError, OSError, zlib.error) as exc:  # EOFError: truncated; BadGzipFile is an OSError
        raise DataError(where, f"truncated or corrupt gzip data ({exc})") from None


def _read_stored(path: Path, name: str, where: str) -> _Content:
    """The content of a stored file, gzip'd or plain (told apart by the gzip magic, not the name)."""
    with open(path, "rb") as stored:
        size = os.fstat(stored.fileno()).st_size
        gzipped = stored.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
        stored.seek(0)
        if not gzipped:
            return _read_content(stored, name, where, size)
        if size > MAX_STORED_BYTES:
            raise DataError(where, f"{format_size(size)} of gzip data, more than an IDX file within "
                                   f"this reader's limit ({format_size(MAX_IDX_BYTES)} of values) "
                                   f"takes; the file is corrupt or not an IDX file")
        return _read_gzip(stored, name, where)


def _read_file(path: Path, name: str, where: str, expected_md5: str | None) -> IdxFile:
    """Check and decode one stored file; ``where`` (its path or URL) names it in errors."""
    content = _read_stored(path, name, where)
    md5 = content.md5()
    if expected_md5 is not None and md5 != expected_md5:
        raise DataError(
            where,
            f"checksum mismatch: the uncompressed content has md5 {md5}, expected "
            f"{expected_md5}; the file is corrupt or a different dataset (set idx_md5 to 'none' or to "
            f"the right checksums)"
        )
    array = _array(content.values, content.header, where)
    return IdxFile(name, array, where, md5, sha256_file(path))


def read_idx(
    location: str | os.PathLike[str],
    name: str,
    *,
    expected_md5: str | None = None,
    downloads: str | os.PathLike[str] = "data/raw/downloads",
    retries: int = 3,
    retry_delay: float = 1.0,
    timeout: float = 60.0,
    download_timeout: float = DOWNLOAD_TIMEOUT,
) -> IdxFile:
    """Read IDX file ``name`` (e.g. ``train-images-idx3-ubyte``) from a directory or URL prefix.

    ``<name>.gz`` is tried before ``<name>``. From a URL the file is downloaded once into
    ``downloads`` (then read from there); a cached copy that fails its checks is downloaded again.
    ``retries``, ``retry_delay``, ``timeout`` and ``download_timeout`` are :class:`DownloadPolicy`'s
    ``retries``, ``retry_delay``, ``timeout`` and ``deadline``.
    """
    location = os.fspath(location)
    if is_url(location):
        policy = DownloadPolicy(retries, retry_delay, timeout, download_timeout, "idx_download_timeout")
        return _read_url(location, name, expected_md5, Path(downloads), policy)
    folder = Path(location)
    if not folder.is_dir():
        raise DataError(
            None, f"idx_path: {folder} is not a directory (nor an http(s) URL) holding the four IDX files"
        )
    # also accept the dotted spelling some copies use (train-images.idx3-ubyte)
    dotted = name.replace("-idx", ".idx")
    for candidate in (f"{name}.gz", name, f"{dotted}.gz", dotted):
        path = folder / candidate
        if path.is_file():
            return _read_file(path, name, str(path), expected_md5)
    raise DataError(folder, f"no {name}.gz or {name} file; idx_path must hold the four IDX files")


def download_cache(prefix: str, downloads: str | os.PathLike[str]) -> Path:
    """The folder that keeps the files downloaded from URL prefix ``prefix``, one folder per prefix.

    ``downloads/idx/<host>/<path>-<digest>``: host and path are for reading only (odd characters
    become ``_``, long paths are cut); the digest, 16 hex digits of the sha256 of the whole prefix
    (scheme, user, host, port, path, query), is what tells two prefixes apart. The prefix is taken
    as the files are fetched from it, ``prefix.rstrip("/") + "/"``: ``.../mnist`` and ``.../mnist/``
    name the same files, so they share a folder; any other difference gives another folder.
    """
    base = _url_base(prefix)
    parts = urlsplit(base)
    host = _readable(parts.netloc.rpartition("@")[2])  # without user:password@
    path = _readable("_".join(p for p in parts.path.split("/") if p.strip(".")))[:_READABLE]
    digest = hashlib.sha256(base.encode()).hexdigest()[:16]
    return Path(downloads, "idx", host or "_", f"{path}-{digest}" if path else digest)


def _url_base(prefix: str) -> str:
    """The URL prefix that file names are appended to: one trailing slash."""
    return prefix.rstrip("/") + "/"


def _readable(text: str) -> str:
    """``text`` with every character that is not safe in a file name as ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).strip(".")


def _read_url(prefix: str, name: str, expected_md5: str | None, downloads: Path,
              policy: DownloadPolicy) -> IdxFile:
    cache = download_cache(prefix, downloads)
    base = _url_base(prefix)
    for filename in (f"{name}.gz", name):
        cached = cache / filename
        if cached.is_file():
            try:
                found = _read_file(cached, name, str(cached), expected_md5)
            except DataError as exc:
                log.warning("%s; downloading it again", exc)
                cached.unlink()
            else:
                log.info("%s: using the copy downloaded before (%s)", base + filename, cached)
                return found
    for filename in (f"{name}.gz", name):
        url = base + filename
        check = partial(_read_file, name=name, where=url, expected_md5=expected_md5)
        downloaded = download(url, cache / filename, check, policy, max_bytes=MAX_STORED_BYTES,
                              what="an IDX file", missing_ok=True)
        if downloaded is not None:
            return downloaded
    raise DataError(base, f"neither {name}.gz nor {name} found there (HTTP 404)")

"""MNIST's IDX file format: one stored file, gzip'd or plain, read and checked against its header.

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
Whether a file is gzip'd is told by its first bytes, not by its name. Its checksum is the md5 of
the *uncompressed* content: the same IDX bytes can be gzip'd in different ways.

Where the four files of a dataset are found (a folder, or a URL prefix and the download cache) is
:mod:`mnistflow.data.idx`'s job. The package writes no IDX files; the tests write theirs byte by byte,
independently of this reader (tests/fake_sources.py).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from mnistflow.data.download import format_size
from mnistflow.data.parquet_file import labels_outside
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import sha256_file

__all__ = ["MAX_IDX_BYTES", "MAX_STORED_BYTES", "IdxFile", "read_idx_file"]

_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 or 1 dimensions
_IMAGE_SHAPE = (28, 28)
_HEADER_BYTES = {"images": 16, "labels": 8}  # magic and sizes, 4 + 4 * ndim
# The most a header may announce: 1 GiB of values (1.37 million 28x28 images; MNIST's largest file
# holds 47 MB). Nothing larger is read, so a corrupt header or a gzip bomb cannot exhaust memory.
MAX_IDX_BYTES = 1 << 30
# The most a file may take as stored: gzip adds a few bytes per 64 kB to data it cannot compress.
MAX_STORED_BYTES = MAX_IDX_BYTES + (1 << 20)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class IdxFile:
    """One IDX file as read: its values and where they came from."""

    name: str  # e.g. "train-images-idx3-ubyte"
    array: np.ndarray  # (n, 28, 28) or (n,) uint8
    location: str  # the path or URL it was read from
    md5: str  # md5 of the uncompressed content
    sha256: str  # sha256 of the bytes as stored (gzip'd or not)


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


def read_idx_file(
    path: str | os.PathLike[str], name: str, *, where: str | None = None,
    expected_md5: str | None = None,
) -> IdxFile:
    """Check and decode stored IDX file ``path`` (gzip'd or plain), holding file ``name`` of an IDX
    dataset (e.g. ``train-labels-idx1-ubyte``: images or labels); ``where`` names it in errors (by
    default ``path``; the URL of a downloaded copy). ``expected_md5``: of the uncompressed content."""
    path = Path(path)
    where = str(path) if where is None else where
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

"""The four files of an IDX dataset: where they are found, which checksums they must have, and the
download cache.

A location is a local directory or an http(s) URL prefix holding ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (:data:`FILES`),
gzip'd (``<name>.gz``, tried first) or not. Each file is read and checked by
:func:`mnistflow.data.idx_format.read_idx_file` (the format: header, bounded reading, gzip, md5).

From a URL prefix, downloads (:mod:`mnistflow.data.download`) are retried, report progress, are bounded in
time (``idx_download_timeout`` per attempt) and size, and go to a temporary file that is renamed into
the download cache (:func:`download_cache`, one folder per URL prefix) only once it is complete and
verified (it decompresses, its IDX header agrees with its length, and its md5 is the expected one),
so a later run reads the cached copy and never downloads again. A user name and password in the URL
are sent as HTTP basic authentication; messages, logs and file names never show the password.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from mnistflow.data.download import DEADLINE, DownloadPolicy, download, public_url
from mnistflow.data.idx_format import MAX_STORED_BYTES, IdxFile, read_idx_file
from mnistflow.plumbing.errors import ConfigError, DataError

__all__ = [
    "DOWNLOAD_TIMEOUT",
    "FILES",
    "MNIST_MD5",
    "IdxFile",
    "checksums",
    "download_cache",
    "is_url",
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
# Seconds one download attempt may take: the default of the idx_download_timeout setting.
DOWNLOAD_TIMEOUT = DEADLINE
_MD5 = re.compile(r"[0-9a-f]{32}")
_READABLE = 80  # characters of a URL path kept in the name of its download folder


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
        raise DataError(None, f"idx_path: {public_url(location)} is not a directory (nor an http(s) URL) "
                              f"holding the four IDX files")
    # also accept the dotted spelling some copies use (train-images.idx3-ubyte)
    dotted = name.replace("-idx", ".idx")
    for candidate in (f"{name}.gz", name, f"{dotted}.gz", dotted):
        path = folder / candidate
        if path.is_file():
            return read_idx_file(path, name, expected_md5=expected_md5)
    raise DataError(folder, f"no {name}.gz or {name} file; idx_path must hold the four IDX files")


def download_cache(prefix: str, downloads: str | os.PathLike[str]) -> Path:
    """The folder that keeps the files downloaded from URL prefix ``prefix``, one folder per prefix.

    ``downloads/idx/<host>/<path>-<digest>``: host and path are for reading only (odd characters
    become ``_``, long paths are cut); the digest, 16 hex digits of the sha256 of the whole prefix
    (scheme, user, host, port, path, query; not the password), is what tells two prefixes apart. The
    prefix is taken as the files are fetched from it, ``prefix.rstrip("/") + "/"``: ``.../mnist`` and
    ``.../mnist/`` name the same files, so they share a folder; any other difference but the password
    gives another folder.
    """
    base = _url_base(prefix)
    parts = urlsplit(base)
    user_info, _, host_port = parts.netloc.rpartition("@")
    host = _readable(host_port)  # without user:password@
    path = _readable("_".join(p for p in parts.path.split("/") if p.strip(".")))[:_READABLE]
    if user_info:  # the user tells prefixes apart; the password is left out of the digest
        base = base.replace(parts.netloc, f"{user_info.partition(':')[0]}@{host_port}", 1)
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
    base = _url_base(prefix)  # may hold user:password@, which only download() sees
    shown = public_url(base)
    for filename in (f"{name}.gz", name):
        cached = cache / filename
        if cached.is_file():
            try:
                found = read_idx_file(cached, name, expected_md5=expected_md5)
            except DataError as exc:
                log.warning("%s; downloading it again", exc)
                cached.unlink()
            else:
                log.info("%s: using the copy downloaded before (%s)", shown + filename, cached)
                return found
    for filename in (f"{name}.gz", name):
        check = partial(read_idx_file, name=name, where=shown + filename, expected_md5=expected_md5)
        downloaded = download(base + filename, cache / filename, check, policy, max_bytes=MAX_STORED_BYTES,
                              what="an IDX file", missing_ok=True)
        if downloaded is not None:
            return downloaded
    raise DataError(shown, f"neither {name}.gz nor {name} found there (HTTP 404)")

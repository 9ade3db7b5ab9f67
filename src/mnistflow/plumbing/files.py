"""File helpers shared by all stages: atomic writes, text and JSON, sha256.

Every output is written to a temporary file in the destination folder and renamed into place only
once it is complete and closed, so a killed job never leaves a half-written file under its final name.
JSON is read back bounded (:func:`parse_json`): nesting depth, number sizes and file size, so a
damaged or hostile file is one :class:`DataError`, never a RecursionError or an infinity.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import math
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.supervisor import ensure_supervised

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "atomic_path", "parse_json", "read_json", "sha256_file",
           "short_message", "write_json", "write_text"]


# Temporaries are named .<final name>.<host>-<pid>.<random>.tmp: who wrote one says whether it is stale.
_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _remove_stale_temporaries(final: Path) -> None:
    """Delete temporaries of ``final`` left by a killed writer (SIGKILL skips the ``finally`` below).

    Only temporaries written on this host by a process that no longer exists are removed, so a
    concurrent writer of the same file (outside Snakemake's lock) keeps its own.
    """
    start = f".{final.name}."
    for stale in final.parent.glob(f"{glob.escape(start)}*.tmp"):
        host, _, pid = stale.name[len(start):].partition(".")[0].rpartition("-")
        if host == _HOST and pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)


# Errors of the disk being written to, told as one line naming the file (others are bugs or, in a
# download, network errors that the caller retries).
_DISK_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file system or the file size limit (ulimit -f)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "input/output error of the device",
}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    A full disk (or another problem of the disk) while the block writes is a :class:`DataError`
    naming ``path``; the temporary is removed, and ``path`` keeps what it held before.
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(final)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{final.name}.{_HOST}-{os.getpid()}.", suffix=".tmp", dir=final.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            with open(tmp, "rb+") as fh:  # make the bytes durable before they get the final name
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            ensure_supervised()  # a job whose Snakemake is gone must not publish anything
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        if exc.errno not in _DISK_ERRORS:
            raise
        raise DataError(final, f"cannot write it: {_DISK_ERRORS[exc.errno]} "
                               f"({exc.strerror}); nothing was written") from None


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def short_message(exc: BaseException) -> str:
    """An exception as one short line for a message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


# Bounds of the JSON the workflow reads back: what it writes is a few kB, nested 3 levels deep at
# most (metrics.json: per_class -> digit -> metric), so these leave ample room while keeping
# json's recursive parser (a RecursionError from about 1000 levels) and memory out of reach.
MAX_JSON_DEPTH = 64
MAX_JSON_BYTES = 64 << 20
_MAX_DIGITS = 4300  # Python's own limit on int(str) (sys.get_int_max_str_digits), said in words
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string: its brackets do not nest
_BRACKET = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """How deep ``text`` nests arrays and objects (stopping once past :data:`MAX_JSON_DEPTH`)."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
    return deepest


def _finite(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):  # json reads 1e400 as inf
        raise ValueError(f"the number {text[:20]} is beyond the largest float")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits (at most {_MAX_DIGITS})")
    return int(text)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(text: str, path: str | os.PathLike[str], what: str = "") -> Any:
    """Parse ``text`` (JSON from the file ``path``) within the bounds above; anything else is a
    :class:`DataError` naming ``path``, its message starting with ``what`` (e.g. "its metadata: ")."""
    if _depth(text) > MAX_JSON_DEPTH:
        raise DataError(path, f"{what}JSON nested more than {MAX_JSON_DEPTH} levels deep (the "
                              f"workflow writes at most 3); refused unread")
    try:
        return json.loads(text, parse_float=_finite, parse_int=_integer, parse_constant=_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: a safety net behind _depth
        raise DataError(path, f"{what}not valid JSON ({short_message(exc)})") from None


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file the workflow wrote (:func:`parse_json`); a missing, damaged or oversized
    one is a :class:`DataError`."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_JSON_BYTES + 1)
        if len(data) > MAX_JSON_BYTES:
            raise DataError(path, f"more than {MAX_JSON_BYTES >> 20} MiB: not a JSON file the "
                                  f"workflow wrote (those are a few kB); refused unread")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise DataError(path, f"not valid JSON ({short_message(exc)})") from None
    return parse_json(text, path)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Downloading one file over HTTP(S): retried, bounded in time and size, with progress, and renamed
into place only once complete and checked.

Used by :mod:`mnistflow.data.idx` for IDX files from a URL prefix. An attempt fails on a network error,
a server error (5xx, 429), a connection that ends before ``Content-Length`` bytes, or a deadline
that passes while the bytes trickle in; it is then tried again, waiting longer each time. A file
larger than the caller allows (announced or sent) is wrong content, never retried. The bytes go to a
temporary file beside the destination (:func:`mnistflow.plumbing.files.atomic_path`), so the destination only
ever holds a complete file that the caller's check accepted.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import TypeVar
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from mnistflow import __version__
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import atomic_path

__all__ = ["DEADLINE", "DownloadPolicy", "download", "format_size"]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEADLINE = 300.0  # seconds one attempt may take, by default
_PROGRESS_SECONDS = 10.0  # the most seconds between two progress lines of a download


@dataclass(frozen=True)
class DownloadPolicy:
    """How long and how often a download is tried."""

    retries: int = 3  # attempts in all
    retry_delay: float = 1.0  # seconds before the second attempt, then twice as long each time
    timeout: float = 60.0  # seconds to wait for the server to connect or send the next bytes
    deadline: float = DEADLINE  # seconds one attempt may take in all
    setting: str = ""  # the setting that sets the deadline, named in the message when it passes


class _UnfinishedError(Exception):
    """An attempt that did not finish: the connection ended early, or the deadline passed."""


def download(
    url: str,
    dest: Path,
    check: Callable[[Path], T],
    policy: DownloadPolicy,
    *,
    max_bytes: int,
    what: str = "the file",
    missing_ok: bool = False,
) -> T | None:
    """Download ``url`` to ``dest``: retried, bounded, with progress, renamed into place once checked.

    The bytes are streamed into a temporary file beside ``dest``; ``check`` (given that file, raising
    :class:`DataError` when its content is wrong) runs before the rename, so ``dest`` only ever holds
    a complete, verified file. Returns what ``check`` returned, or None for HTTP 404 when
    ``missing_ok``. Network errors, server errors (5xx, 429), short reads and attempts that take
    longer than ``policy.deadline`` are tried ``policy.retries`` times in all, waiting
    ``policy.retry_delay`` seconds, then twice as long each time. More than ``max_bytes`` (announced
    or sent) is wrong content, not retried: ``what`` names the expected file in that message. Every
    failure ends in a :class:`DataError` naming the URL.
    """
    problem = ""
    for attempt in range(1, policy.retries + 1):
        try:
            with atomic_path(dest) as tmp:
                _fetch(url, tmp, policy, max_bytes, what)
                # a DataError here means wrong content: it propagates (no retry) and tmp is removed
                return check(tmp)
        except HTTPError as exc:
            exc.close()
            if exc.code == 404 and missing_ok:
                return None
            if exc.code < 500 and exc.code != 429:
                raise DataError(url, f"download failed with HTTP {exc.code} {exc.reason}") from None
            problem = f"HTTP {exc.code} {exc.reason}"
        except _UnfinishedError as exc:
            problem = str(exc)
        except (URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            problem = f"{type(exc).__name__}: {reason}"
        if attempt < policy.retries:
            wait = policy.retry_delay * 2 ** (attempt - 1)
            log.warning("%s: attempt %d of %d failed (%s); retrying in %.1fs",
                        url, attempt, policy.retries, problem, wait)
            time.sleep(wait)
    raise DataError(url, f"could not download it after {policy.retries} attempts ({problem})")


def _fetch(url: str, dest: Path, policy: DownloadPolicy, max_bytes: int, what: str) -> None:
    """GET ``url`` into the file ``dest``, within ``policy.deadline`` and ``max_bytes``, with progress."""
    request = Request(url, headers={"User-Agent": f"mnistflow/{__version__}"})
    start = time.monotonic()
    # the socket timeout bounds each wait for the server; the deadline below, the whole attempt
    with urlopen(request, timeout=min(policy.timeout, policy.deadline)) as response, \
            open(dest, "wb") as out:
        progress = _Progress(url.rsplit("/", 1)[-1], _announced_length(response.headers), start,
                             every=min(_PROGRESS_SECONDS, policy.deadline / 10))
        if progress.total > max_bytes:
            raise DataError(url, f"the server announces {format_size(progress.total)}, more than {what} "
                                 f"can take ({format_size(max_bytes)}); this is not {what}")
        # read1 returns what has arrived (up to 64 kB) at once, so the deadline is checked even
        # while the bytes trickle in; read(n) would wait for all n
        while chunk := response.read1(1 << 16):
            out.write(chunk)
            progress.add(len(chunk))
            if progress.received > max_bytes:
                raise DataError(url, f"the server sent more than {format_size(max_bytes)}, more than "
                                     f"{what} can take; this is not {what}")
            if progress.elapsed() > policy.deadline:
                setting = f" ({policy.setting})" if policy.setting else ""
                raise _UnfinishedError(f"not complete after {policy.deadline:g} s{setting}: "
                                       f"{progress.so_far()}")
    if progress.total and progress.received != progress.total:
        raise _UnfinishedError(f"received {progress.received} of {progress.total} bytes")
    progress.done()


def _announced_length(headers: Message) -> int:
    """The Content-Length of a response; 0 if it has none (or not a number)."""
    try:
        return max(0, int(headers.get("Content-Length") or 0))
    except ValueError:
        return 0


class _Progress:
    """Log lines for one download: a bar at every 10 % of the announced length (if any), and the
    bytes received every ``every`` seconds in between, so a slow download shows that it moves."""

    def __init__(self, name: str, total: int, start: float, every: float) -> None:
        self.name, self.total, self.every = name, total, every  # total: 0 if not announced
        self.received, self.tenths = 0, -1
        self.start = self.logged = start  # time.monotonic() when the request was sent

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def so_far(self) -> str:
        if self.total:
            return f"{format_size(self.received)} of {format_size(self.total)} received"
        return f"{format_size(self.received)} received (length not announced)"

    def add(self, n_bytes: int) -> None:
        self.received += n_bytes
        now = time.monotonic()
        tenths = min(10, self.received * 10 // self.total) if self.total else -1
        if tenths > self.tenths:
            self.tenths, self.logged = tenths, now
            log.info("%s [%-10s] %3d%% of %s", self.name, "#" * tenths, tenths * 10, format_size(self.total))
        elif now - self.logged >= self.every:
            self.logged = now
            log.info("%s: %s after %.1f s", self.name, self.so_far(), now - self.start)

    def done(self) -> None:
        if not self.total:
            log.info("%s: %s downloaded", self.name, format_size(self.received))


def format_size(n_bytes: int) -> str:
    """A byte count for a message: '512 bytes', '45.3 kB', '9.9 MB'."""
    if n_bytes < 1000:
        return f"{n_bytes} bytes"
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"

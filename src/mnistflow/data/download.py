"""Downloading one file over HTTP(S): retried, bounded in time and size, with progress, and renamed
into place only once complete and checked.

Used by :mod:`mnistflow.data.idx` for IDX files from a URL prefix. An attempt fails on a network error,
a server error (5xx, 429), a connection that ends before ``Content-Length`` bytes, or its deadline,
which covers connecting, the status line, the headers, the chunk sizes and the body (``_timed_http``);
it is then tried again. A file larger than the caller allows is wrong content, never retried. A user
name and password in the URL, or else in ``~/.netrc`` for its host, are sent as HTTP basic
authentication, never shown (:func:`public_url`).
"""

from __future__ import annotations

import base64
import http.client
import logging
import netrc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit
from urllib.request import Request, build_opener

from mnistflow import __version__
from mnistflow.data._timed_http import Clock, TimedHandler
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import atomic_path

if TYPE_CHECKING:
    pass

__all__ = ["DEADLINE", "DownloadPolicy", "download", "format_size", "public_url"]

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


def public_url(url: str) -> str:
    """``url`` without the user name and password it may hold (``http://user:pw@host/x`` ->
    ``http://host/x``): the URL as messages, logs and files show it. Anything else is unchanged."""
    netloc = urlsplit(url).netloc
    return url.replace(netloc, netloc.rpartition("@")[2], 1) if "@" in netloc else url


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

    ``check`` (given the temporary file, raising :class:`DataError` when its content is wrong) runs
    before the rename. Returns what it returned, or None for HTTP 404 when ``missing_ok``. Network
    and server errors (5xx, 429), short reads and attempts longer than ``policy.deadline`` are tried
    ``policy.retries`` times in all, ``policy.retry_delay`` seconds apart, then twice as long each
    time. More than ``max_bytes`` is wrong content (``what`` names the expected file), not retried.
    Every failure ends in a :class:`DataError` naming the URL without user name and password.
    """
    where, problem = public_url(url), ""
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
                raise DataError(where, f"download failed with HTTP {exc.code} {exc.reason}") from None
            problem = f"HTTP {exc.code} {exc.reason}"
        except _UnfinishedError as exc:
            problem = str(exc)
        except (URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            problem = f"{type(exc).__name__}: {reason}"
        if attempt < policy.retries:
            wait = policy.retry_delay * 2 ** (attempt - 1)
            log.warning("%s: attempt %d of %d failed (%s); retrying in %.1fs",
                        where, attempt, policy.retries, problem, wait)
            time.sleep(wait)
    raise DataError(where, f"could not download it after {policy.retries} attempts ({problem})")


def _credentials(url: str) -> tuple[str, str] | None:
    """The user name and password for ``url``: those in it, else those ``~/.netrc`` (or the file
    ``$NETRC`` names) gives for its host, as curl and wget read them; None if neither has any. A
    netrc file that cannot be read or parsed counts as none, with a warning."""
    parts = urlsplit(url)
    if parts.username is not None:
        return unquote(parts.username), unquote(parts.password or "")
    try:
        found = netrc.netrc(os.environ.get("NETRC")).authenticators(parts.hostname or "")
    except FileNotFoundError:
        return None
    except (OSError, netrc.NetrcParseError) as exc:
        log.warning("netrc: %s; downloading without a password", " ".join(str(exc).split()))
        return None
    return (found[0], found[2] or "") if found else None


def _fetch(url: str, dest: Path, policy: DownloadPolicy, max_bytes: int, what: str) -> None:
    """GET ``url`` into the file ``dest``, within ``policy.deadline`` and ``max_bytes``, with progress."""
    where = public_url(url)
    request = Request(where, headers={"User-Agent": f"mnistflow/{__version__}"})
    if login := _credentials(url):  # basic authentication, not sent on to where a redirect points
        pair = f"{login[0]}:{login[1]}".encode()
        request.add_unredirected_header("Authorization", f"Basic {base64.b64encode(pair).decode()}")
    clock = Clock(policy.deadline, policy.timeout)
    progress = None
    try:
        with build_opener(TimedHandler(clock)).open(request) as response, open(dest, "wb") as out:
            length = response.headers.get("Content-Length", "").strip()  # not announced: 0
            progress = _Progress(where.rsplit("/", 1)[-1], int(length) if length.isdigit() else 0,
                                 clock.start, every=min(_PROGRESS_SECONDS, policy.deadline / 10))
            if progress.total > max_bytes:
                raise DataError(where, f"the server announces {format_size(progress.total)}, more than "
                                       f"{what} can take ({format_size(max_bytes)}); this is not {what}")
            while chunk := response.read1(1 << 16):  # what has arrived, up to 64 kB
                out.write(chunk)
                progress.add(len(chunk))
                if progress.received > max_bytes:
                    raise DataError(where, f"the server sent more than {format_size(max_bytes)}, more "
                                           f"than {what} can take; this is not {what}")
            if progress.total and progress.received != progress.total:
                raise _UnfinishedError(f"received {progress.received} of {progress.total} bytes")
            if not progress.total:
                log.info("%s: %s downloaded", progress.name, format_size(progress.received))
    except (URLError, OSError, http.client.HTTPException) as exc:
        if isinstance(exc, HTTPError) or time.monotonic() < clock.end:  # not the deadline
            raise
        setting = f" ({policy.setting})" if policy.setting else ""
        so_far = progress.so_far() if progress else "no complete response headers yet"
        raise _UnfinishedError(f"not complete after {policy.deadline:g} s{setting}: {so_far}") from None


class _Progress:
    """Log lines for one download: a bar at every 10 % of the announced length (if any), and the
    bytes received every ``every`` seconds in between, so a slow download shows that it moves."""

    def __init__(self, name: str, total: int, start: float, every: float) -> None:
        self.name, self.total, self.every = name, total, every  # total: 0 if not announced
        self.received, self.tenths = 0, -1
        self.start = self.logged = start  # time.monotonic() when the request was sent

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


def format_size(n_bytes: int) -> str:
    """A byte count for a message: '512 bytes', '45.3 kB', '9.9 MB'."""
    if n_bytes < 1000:
        return f"{n_bytes} bytes"
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"

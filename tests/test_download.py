"""Downloads against servers on 127.0.0.1 that drip their answer, want a password or redirect: one
deadline per attempt covers the whole answer, and a password in the URL is sent but never shown.

Every server here is written by the test itself; nothing touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, urlsplit

import numpy as np
import pytest

from conftest import first_fast
from fake_sources import IDX_FILES, Rows, make_rows, write_idx_dir
from mnistflow.data import download, idx, sources
from mnistflow.data.parquet_file import read_parquet, write_parquet
from mnistflow.plumbing.errors import DataError

DEADLINE = 1.0  # seconds: idx_download_timeout in these tests
DRIP = 0.2  # seconds between two bytes of a dripped part


@contextlib.contextmanager
def _serving(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port; yields the server's URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the raw bytes of ``answer``: pieces sent at once (False) or dripped one
    byte every ``drip`` seconds (True)."""

    answer: ClassVar[list[tuple[bytes, bool]]] = []
    drip = DRIP
    seen = 0

    def do_GET(self) -> None:
        cls = type(self)
        cls.seen += 1
        try:
            for piece, dripped in cls.answer:
                for part in [piece[i:i + 1] for i in range(len(piece))] if dripped else [piece]:
                    self.wfile.write(part)
                    time.sleep(cls.drip if dripped else 0)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[type[_Scripted]]:
    handler = type("Handler", (_Scripted,), {})
    with _serving(handler) as url:
        handler.url = url  # type: ignore[attr-defined]
        yield handler


_STATUS = b"HTTP/1.1 200 OK\r\n"
_HEADERS = b"Content-Type: application/octet-stream\r\nContent-Length: 11\r\n\r\n"
_CHUNKED = b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
_BODY = b"hello world"

# the answer, and what the message says was received when the deadline passed
DRIPPED: dict[str, tuple[list[tuple[bytes, bool]], str]] = {
    "status_line": ([(_STATUS, True), (_HEADERS + _BODY, False)], "no complete response headers yet"),
    "headers": ([(_STATUS, False), (_HEADERS, True), (_BODY, False)], "no complete response headers yet"),
    "chunk_size_lines": ([(_STATUS + _CHUNKED + b"5\r\nhello\r\n", False), (b"000000006\r\n", True),
                          (b" world\r\n0\r\n\r\n", False)], r"5 bytes received \(length not announced\)"),
}


@pytest.mark.parametrize(("answer", "so_far"), first_fast(list(DRIPPED.values()), list(DRIPPED), fast=1))
def test_a_server_dripping_any_part_of_its_answer_is_given_up_at_each_deadline(
    tmp_path: Path, scripted: type[_Scripted], answer: list[tuple[bytes, bool]], so_far: str
) -> None:
    scripted.answer = answer  # one byte every 0.2 s: each receive gets a byte in time
    url = scripted.url  # type: ignore[attr-defined]
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        idx.read_idx(url, "train-labels-idx1-ubyte", downloads=tmp_path, retry_delay=0,
                     download_timeout=DEADLINE)
    elapsed = time.monotonic() - start
    assert re.fullmatch(rf"{re.escape(url)}/train-labels-idx1-ubyte.gz: could not download it after 3 "
                        rf"attempts \(not complete after 1 s \(idx_download_timeout\): {so_far}\)",
                        str(info.value)), str(info.value)
    assert scripted.seen == 3  # the documented three attempts, each a connection of its own
    assert elapsed < 3 * (DEADLINE + 1.5), f"{elapsed:.1f} s"  # each given up within ~1 s of its deadline
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "partial download kept"


ANSWERED: dict[str, tuple[list[tuple[bytes, bool]], float]] = {
    "with_length": ([(_STATUS + _HEADERS + _BODY, False)], DRIP),
    "chunked": ([(_STATUS + _CHUNKED + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", False)], DRIP),
    "dripped_within_the_deadline": ([(_STATUS + _HEADERS[:20], False), (_HEADERS[20:], True),
                                     (_BODY, False)], 0.01),
}


@pytest.mark.parametrize(("answer", "drip"), ANSWERED.values(), ids=ANSWERED.keys())
def test_an_answer_within_the_deadline_is_downloaded_whole(
    tmp_path: Path, scripted: type[_Scripted], answer: list[tuple[bytes, bool]], drip: float
) -> None:
    scripted.answer, scripted.drip = answer, drip
    policy = download.DownloadPolicy(retry_delay=0, deadline=3 * DEADLINE)
    got = download.download(f"{scripted.url}/x", tmp_path / "x", Path.read_bytes,  # type: ignore[attr-defined]
                            policy, max_bytes=1000)
    assert got == _BODY and (tmp_path / "x").read_bytes() == _BODY
    assert scripted.seen == 1


# --- a user name and password in the URL -------------------------------------------------------------

USER, PASSWORD = "ann@lab", "s3cret:pa/ss?#"  # characters that must be percent-encoded in a URL
_ENCODED_PASSWORD = quote(PASSWORD, safe="")


class _Protected(http.server.SimpleHTTPRequestHandler):
    """Serves its folder to requests with the Authorization header ``wanted`` (None: to anyone), else
    answers 401; ``authorizations`` records the header of every request."""

    wanted: str | None = None
    authorizations: ClassVar[list[str | None]] = []
    redirect = ""  # if set: every request is sent there (302)

    def do_GET(self) -> None:
        cls = type(self)
        cls.authorizations.append(self.headers.get("Authorization"))
        if cls.wanted is not None and self.headers.get("Authorization") != cls.wanted:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="mnist"')
        elif cls.redirect:
            self.send_response(302)
            self.send_header("Location", cls.redirect + self.path)
        else:
            super().do_GET()
            return
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _protected(folder: Path, wanted: str | None, redirect: str = "") -> Iterator[type[_Protected]]:
    handler = type("Handler", (_Protected,), {"wanted": wanted, "authorizations": [], "redirect": redirect})
    with _serving(partial(handler, directory=str(folder))) as url:
        handler.url = url  # type: ignore[attr-defined]
        yield handler


def _with_credentials(url: str, password: str = PASSWORD) -> str:
    return url.replace("://", f"://{quote(USER, safe='')}:{quote(password, safe='')}@", 1)


_BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _files_naming_the_password(folder: Path) -> list[Path]:
    """The files and folders under ``folder`` whose name or content holds the password."""
    secrets = (PASSWORD, _ENCODED_PASSWORD)
    return [p for p in folder.rglob("*") if any(s in str(p) for s in secrets)
            or (p.is_file() and any(s.encode() in p.read_bytes() for s in secrets))]


@pytest.fixture(scope="module")
def rows() -> Rows:
    return make_rows(n_train=20, n_test=10)


def test_a_password_in_the_url_is_sent_as_basic_auth_and_never_shown(
    tmp_path: Path, rows: Rows, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    write_idx_dir(tmp_path / "site" / "mnist", rows)
    out = tmp_path / "out"
    with _protected(tmp_path / "site", wanted=_BASIC) as server:
        public = f"{server.url}/mnist/"  # type: ignore[attr-defined]
        digits = sources.load_idx(_with_credentials(public), downloads=out / "downloads", retry_delay=0)
        write_parquet(out / "mnist.parquet", digits)
        np.testing.assert_array_equal(digits.labels, rows.labels)
        assert server.authorizations == [_BASIC] * len(IDX_FILES)
        # the second time from the download cache: the same folder, whatever the password
        sources.load_idx(_with_credentials(public), downloads=out / "downloads")
    assert read_parquet(out / "mnist.parquet").metadata["location"] == public
    assert f"{public}train-images-idx3-ubyte.gz: using the copy downloaded before" in caplog.text
    assert PASSWORD not in caplog.text and _ENCODED_PASSWORD not in caplog.text
    assert len(list(out.rglob("*.gz"))) == len(IDX_FILES)
    assert not _files_naming_the_password(out)


def test_a_password_in_netrc_is_sent_for_its_host_when_the_url_has_none(
    tmp_path: Path, rows: Rows, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    write_idx_dir(tmp_path / "site", rows)
    with _protected(tmp_path / "site", wanted=_BASIC) as server:
        host = urlsplit(server.url).hostname  # type: ignore[attr-defined]
        (tmp_path / "netrc").write_text(f"machine {host}\nlogin {USER}\npassword {PASSWORD}\n")
        os.chmod(tmp_path / "netrc", 0o600)
        monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
        idx.read_idx(server.url, "train-labels-idx1-ubyte",  # type: ignore[attr-defined]
                     downloads=tmp_path / "downloads", retry_delay=0)
        assert server.authorizations == [_BASIC]
    assert PASSWORD not in caplog.text


def test_a_netrc_that_cannot_be_parsed_is_a_warning_and_no_password(
    tmp_path: Path, rows: Rows, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_idx_dir(tmp_path / "site", rows)
    (tmp_path / "netrc").write_text("machine\n")
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    with _protected(tmp_path / "site", wanted=None) as server:
        idx.read_idx(server.url, "train-labels-idx1-ubyte",  # type: ignore[attr-defined]
                     downloads=tmp_path / "downloads", retry_delay=0)
        assert server.authorizations == [None]
    assert "netrc:" in caplog.text and "downloading without a password" in caplog.text


def test_a_wrong_password_is_one_clear_error_without_it(
    tmp_path: Path, rows: Rows, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    write_idx_dir(tmp_path / "site", rows)
    with _protected(tmp_path / "site", wanted="Basic d3Jvbmc6d3Jvbmc=") as server, \
            pytest.raises(DataError) as info:
        idx.read_idx(_with_credentials(server.url), "train-labels-idx1-ubyte",  # type: ignore[attr-defined]
                     downloads=tmp_path / "downloads", retry_delay=0)
    assert str(info.value) == (f"{server.url}/train-labels-idx1-ubyte.gz: "  # type: ignore[attr-defined]
                               f"download failed with HTTP 401 Unauthorized")
    assert server.authorizations == [_BASIC]  # refused: not tried again
    assert PASSWORD not in caplog.text and _ENCODED_PASSWORD not in caplog.text
    assert not _files_naming_the_password(tmp_path / "downloads")


def test_the_password_is_not_sent_on_to_where_a_redirect_points(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path / "site", rows)
    with _protected(tmp_path / "site", wanted=None) as elsewhere, \
            _protected(tmp_path / "site", wanted=_BASIC, redirect=elsewhere.url) as server:  # type: ignore[attr-defined]
        found = idx.read_idx(_with_credentials(server.url), "train-labels-idx1-ubyte",  # type: ignore[attr-defined]
                             downloads=tmp_path / "downloads", retry_delay=0)
    np.testing.assert_array_equal(found.array, rows.labels[: rows.n_train])
    assert server.authorizations == [_BASIC] and elsewhere.authorizations == [None]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://ann:pw@host:8000/mnist/", "http://host:8000/mnist/"),
        ("https://ann@host/mnist", "https://host/mnist"),
        ("http://a%40b:p%40ss@host/x?q=1", "http://host/x?q=1"),
        ("http://host/mnist/", "http://host/mnist/"),
        ("/data/mnist@home", "/data/mnist@home"),
    ],
    ids=["user_and_password", "user", "percent_encoded", "none", "local_path"],
)
def test_public_url_drops_user_and_password(url: str, shown: str) -> None:
    assert download.public_url(url) == shown


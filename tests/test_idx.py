"""The idx source: IDX files from a directory or a local HTTP server, downloads, and bad input.

Every IDX file here is written by the test itself (tests/fake_sources.py); nothing touches the
network beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import logging
import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT
from fake_sources import (
    IDX_FILES,
    Rows,
    closed_port_url,
    idx_bytes,
    idx_contents,
    make_rows,
    serve,
    write_idx_dir,
)
from mnistflow.data import download, idx, sources
from mnistflow.data.parquet_file import Digits, read_parquet, write_parquet
from mnistflow.plumbing.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def rows() -> Rows:
    return make_rows(n_train=40, n_test=20)


def _assert_rows(digits: Digits, rows: Rows) -> None:
    np.testing.assert_array_equal(digits.pixels, rows.pixels)
    np.testing.assert_array_equal(digits.labels, rows.labels)
    assert digits.origin.tolist() == ["train"] * rows.n_train + ["test"] * rows.n_test
    assert digits.index.tolist() == [*range(rows.n_train), *range(rows.n_test)]


def _fetch(path: str, out: Path, **kwargs: object) -> Digits:
    """What the fetch stage does: load the source, then write the parquet file."""
    digits = sources.load_idx(path, retry_delay=0, **kwargs)  # type: ignore[arg-type]
    write_parquet(out, digits)
    return digits


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_directory_gives_train_then_test_rows(tmp_path: Path, rows: Rows, gz: bool) -> None:
    md5 = write_idx_dir(tmp_path / "idx", rows, gz=gz)
    out = tmp_path / "mnist.parquet"
    _fetch(str(tmp_path / "idx"), out, md5=",".join(md5[name] for name in IDX_FILES))
    back = read_parquet(out)
    _assert_rows(back, rows)
    assert back.metadata["source"] == "idx"
    assert back.metadata["md5"].split(",") == [md5[name] for name in IDX_FILES]
    assert back.metadata["files"].endswith(".gz") == gz


def test_dotted_file_names_are_found(tmp_path: Path, rows: Rows) -> None:
    for name, content in idx_contents(rows).items():
        (tmp_path / name.replace("-idx", ".idx")).write_bytes(content)  # train-images.idx3-ubyte
    _assert_rows(sources.load_idx(str(tmp_path)), rows)


def test_checksum_setting() -> None:
    assert idx.checksums("none") == {} and idx.checksums("") == {}
    assert idx.checksums("mnist") == idx.MNIST_MD5
    four = ",".join(f"{i:032x}" for i in range(4))
    assert list(idx.checksums(four).values()) == four.split(",")
    with pytest.raises(ConfigError, match="idx_md5"):
        idx.checksums("abc,def")


# --- bad input: one clear DataError naming the file, and no parquet ----------------------------------


def _bad_magic(files: dict[str, bytes]) -> str:
    files["train-labels-idx1-ubyte"] = b"\x00\x00\x08\x03" + files["train-labels-idx1-ubyte"][4:]
    return "train-labels-idx1-ubyte"


def _not_idx(files: dict[str, bytes]) -> str:
    files["t10k-images-idx3-ubyte"] = b"<html>not found</html>"
    return "t10k-images-idx3-ubyte"


def _too_few_items(files: dict[str, bytes]) -> str:
    files["train-images-idx3-ubyte"] = files["train-images-idx3-ubyte"][:-784]  # one image short
    return "train-images-idx3-ubyte"


def _too_many_items(files: dict[str, bytes]) -> str:
    files["t10k-labels-idx1-ubyte"] += b"\x03"
    return "t10k-labels-idx1-ubyte"


def _length_mismatch(files: dict[str, bytes]) -> str:
    files["train-labels-idx1-ubyte"] = idx_bytes(np.zeros(39, np.uint8))  # 40 images, 39 labels
    return "train-images-idx3-ubyte"


def _wrong_image_size(files: dict[str, bytes]) -> str:
    files["t10k-images-idx3-ubyte"] = idx_bytes(np.zeros((20, 32, 32), np.uint8))
    return "t10k-images-idx3-ubyte"


def _bad_label(files: dict[str, bytes]) -> str:
    labels = np.zeros(20, np.uint8)
    labels[5] = 11
    files["t10k-labels-idx1-ubyte"] = idx_bytes(labels)
    return "t10k-labels-idx1-ubyte"


CORRUPTIONS: dict[str, tuple[Callable[[dict[str, bytes]], str], str]] = {
    "bad_magic": (_bad_magic, "bad magic number 0x00000803, expected 0x00000801"),
    "not_idx": (_not_idx, "bad magic number"),
    "too_few_items": (_too_few_items, "header announces 40 images .* truncated or corrupt"),
    "too_many_items": (_too_many_items, "header announces 20 labels .* 21 bytes"),
    "length_mismatch": (_length_mismatch, "40 images but .*train-labels.* has 39 labels"),
    "wrong_image_size": (_wrong_image_size, "images of 32x32 pixels, expected 28x28"),
    "bad_label": (_bad_label, "1 labels outside 0-9"),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_corrupt_file_is_one_clear_error_and_no_parquet(
    tmp_path: Path, rows: Rows, corrupt: tuple[Callable[[dict[str, bytes]], str], str]
) -> None:
    change, message = corrupt
    files = idx_contents(rows)
    bad_file = change(files)
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, content in files.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(content))
    out = tmp_path / "out" / "mnist.parquet"
    with pytest.raises(DataError, match=message) as info:
        _fetch(str(folder), out)
    assert str(info.value).startswith(str(folder / f"{bad_file}.gz"))
    assert not out.exists()


def test_truncated_gzip(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path, rows)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: truncated or corrupt gzip"):
        _fetch(str(tmp_path), tmp_path / "mnist.parquet")
    assert not (tmp_path / "mnist.parquet").exists()


def test_checksum_mismatch(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path, rows)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: checksum mismatch: .* expected "
                                        r"6bbc9ace898e44ae57da46a324031adb"):
        _fetch(str(tmp_path), tmp_path / "mnist.parquet", md5="mnist")
    assert not (tmp_path / "mnist.parquet").exists()


def test_missing_file_and_missing_directory(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path, rows)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"no t10k-labels-idx1-ubyte.gz or t10k-labels-idx1-ubyte file"):
        sources.load_idx(str(tmp_path))
    with pytest.raises(DataError, match="is not a directory"):
        sources.load_idx(str(tmp_path / "nowhere"))


# --- over HTTP: downloads, cache, retries ------------------------------------------------------------


def test_url_gives_the_same_rows_and_downloads_once(
    tmp_path: Path, rows: Rows, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mnistflow")
    md5 = write_idx_dir(tmp_path / "site" / "mnist", rows)
    downloads = tmp_path / "downloads"
    with serve(tmp_path / "site") as server:
        url = f"{server.url}/mnist/"
        digits = _fetch(url, tmp_path / "mnist.parquet", downloads=downloads,
                        md5=",".join(md5[name] for name in IDX_FILES))
        assert sorted(server.requests) == sorted(f"/mnist/{name}.gz" for name in IDX_FILES)
        _assert_rows(digits, rows)
    assert re.search(r"train-images-idx3-ubyte.gz \[##########\] 100% of \d+\.\d kB", caplog.text)
    # the server is gone: a second load reads the verified copies in the download cache
    cached = sorted(p.name for p in downloads.rglob("*") if p.is_file())
    assert cached == sorted(f"{name}.gz" for name in IDX_FILES)
    _assert_rows(sources.load_idx(url, downloads=downloads), rows)


def test_url_without_gz_falls_back_to_plain_files(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path / "site", rows, gz=False)
    with serve(tmp_path / "site") as server:
        digits = sources.load_idx(server.url, downloads=tmp_path / "dl")
    _assert_rows(digits, rows)
    assert server.requests.count("/train-images-idx3-ubyte.gz") == 1  # 404, then the plain file
    assert "/train-images-idx3-ubyte" in server.requests


def test_missing_file_on_server(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path / "site", rows)
    (tmp_path / "site" / "t10k-images-idx3-ubyte.gz").unlink()
    with serve(tmp_path / "site") as server, pytest.raises(
        DataError, match=r"neither t10k-images-idx3-ubyte.gz nor t10k-images-idx3-ubyte found"
    ):
        sources.load_idx(server.url, downloads=tmp_path / "dl")


def test_unreachable_url_is_retried_then_a_clear_error(tmp_path: Path) -> None:
    url = closed_port_url()
    out = tmp_path / "mnist.parquet"
    with pytest.raises(DataError, match=rf"{url}/train-images-idx3-ubyte.gz: could not download it "
                                        r"after 2 attempts \(.*refused"):
        _fetch(url, out, downloads=tmp_path / "dl", retries=2)
    assert not out.exists()


def test_download_with_wrong_checksum_is_not_kept(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path / "site", rows)
    downloads = tmp_path / "dl"
    with serve(tmp_path / "site") as server, pytest.raises(DataError, match="checksum mismatch"):
        _fetch(server.url, tmp_path / "mnist.parquet", downloads=downloads, md5="mnist")
    assert not [p for p in downloads.rglob("*") if p.is_file()], "unverified download kept"
    assert not (tmp_path / "mnist.parquet").exists()


def test_corrupt_cached_copy_is_downloaded_again(tmp_path: Path, rows: Rows) -> None:
    write_idx_dir(tmp_path / "site", rows)
    downloads = tmp_path / "dl"
    with serve(tmp_path / "site") as server:
        sources.load_idx(server.url, downloads=downloads)
        cached = next(downloads.rglob("train-labels-idx1-ubyte.gz"))
        cached.write_bytes(cached.read_bytes()[:20])
        server.requests.clear()
        _assert_rows(sources.load_idx(server.url, downloads=downloads), rows)
    assert server.requests == ["/train-labels-idx1-ubyte.gz"]


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``content`` but fails the first ``failures`` requests: 503, or a cut-off body."""

    content = b""
    failures = 0
    mode = "503"
    seen = 0

    def do_GET(self) -> None:
        cls = type(self)
        cls.seen += 1
        body = cls.content
        if cls.seen <= cls.failures and cls.mode == "503":
            self.send_error(503, "busy")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cls.seen <= cls.failures:  # announce everything, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[None]:
    """Serve ``handler`` (a fresh subclass per test) on a free loopback port; its ``url`` is set."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def flaky_server(rows: Rows) -> Iterator[type[_FlakyHandler]]:
    handler = type("Handler", (_FlakyHandler,), {})
    handler.content = gzip.compress(idx_contents(rows)["train-labels-idx1-ubyte"])
    with _serving(handler):
        yield handler


@pytest.mark.parametrize("mode", ["503", "cut_off"])
def test_download_retries_until_complete(
    tmp_path: Path, rows: Rows, flaky_server: type[_FlakyHandler], mode: str
) -> None:
    flaky_server.mode, flaky_server.failures = mode, 2
    url = flaky_server.url  # type: ignore[attr-defined]
    found = idx.read_idx(url, "train-labels-idx1-ubyte", downloads=tmp_path, retries=3, retry_delay=0)
    np.testing.assert_array_equal(found.array, rows.labels[: rows.n_train])
    assert flaky_server.seen == 3
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["train-labels-idx1-ubyte.gz"]


def test_download_gives_up_after_the_retries(tmp_path: Path, flaky_server: type[_FlakyHandler]) -> None:
    flaky_server.mode, flaky_server.failures = "cut_off", 5
    url = flaky_server.url  # type: ignore[attr-defined]
    with pytest.raises(DataError, match=r"could not download it after 3 attempts \(.*received \d+ of"):
        idx.read_idx(url, "train-labels-idx1-ubyte", downloads=tmp_path, retries=3, retry_delay=0)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "partial download kept"


# --- one download folder per URL prefix ----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("a+b", "a_b"), ("a~b", "a_b"), ("a:b", "a_b"), ("a/b", "a_b")],
    ids=["plus", "tilde", "colon", "slash"],
)
def test_two_url_prefixes_never_share_downloaded_files(tmp_path: Path, first: str, second: str) -> None:
    datasets = {first: make_rows(n_train=6, n_test=3, seed=1), second: make_rows(n_train=8, n_test=4, seed=2)}
    for folder, dataset in datasets.items():
        write_idx_dir(tmp_path / "site" / "files" / folder, dataset)
    downloads = tmp_path / "dl"
    with serve(tmp_path / "site") as server:
        for folder, dataset in datasets.items():
            _assert_rows(sources.load_idx(f"{server.url}/files/{folder}/", downloads=downloads), dataset)


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("http://host/files/a+b/", "http://host/files/a_b/", False),
        ("http://host/mnist/", "https://host/mnist/", False),
        ("http://host:8000/mnist/", "http://host_8000/mnist/", False),
        ("http://host/mnist/", "http://user@host/mnist/", False),
        ("http://host/MNIST/", "http://host/mnist/", False),
        ("http://host/mnist", "http://host/mnist/", True),
        ("http://host/mnist//", "http://host/mnist/", True),
        ("http://user:one@host/mnist/", "http://user:two@host/mnist/", True),
    ],
    ids=["plus", "scheme", "port", "user", "case", "trailing_slash", "two_trailing_slashes",
         "password_left_out"],
)
def test_download_folder_is_one_to_one_with_the_url_prefix(first: str, second: str, shared: bool) -> None:
    # a prefix and the prefix with trailing slashes name the same files (prefix.rstrip("/") + "/name")
    assert (idx.download_cache(first, "dl") == idx.download_cache(second, "dl")) == shared
    assert idx.download_cache(first, "dl").parent.parent == Path("dl", "idx")


# --- issue 8: reading no more than the header announces ---------------------------------------------

_LABELS = struct.pack(">II", 0x0801, 20) + bytes(20)  # an IDX labels file: 20 labels, all 0
_BOMB_BYTES = 128 << 20  # what the bad files inflate to: far more than the reader is allowed below


def _gzip_bomb(path: Path, header: bytes) -> None:
    """A gzip file of ~130 kB holding ``header`` then 128 MiB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip wrapper
    zeros = bytes(1 << 20)
    with open(path, "wb") as out:
        out.write(compressor.compress(header))
        for _ in range(_BOMB_BYTES >> 20):
            out.write(compressor.compress(zeros))
        out.write(compressor.flush())


def _plain_with_zeros(path: Path, header: bytes) -> None:
    """``header`` then zeros up to 128 MiB, as a sparse file (no disk space used)."""
    with open(path, "wb") as out:
        out.write(header)
        out.truncate(_BOMB_BYTES)


BOMBS: dict[str, tuple[Callable[[Path, bytes], None], bytes, str, str]] = {
    "gzip_more_than_announced": (_gzip_bomb, _LABELS, "train-labels-idx1-ubyte.gz",
                                 r"announces 20 labels \(20 bytes of values\) but the file holds at "
                                 r"least 21 bytes"),
    "plain_more_than_announced": (_plain_with_zeros, _LABELS, "train-labels-idx1-ubyte",
                                  rf"announces 20 labels .* holds {_BOMB_BYTES - 8} bytes"),
    "gzip_absurd_announcement": (_gzip_bomb, struct.pack(">II", 0x0801, 0xFFFFFFFF),
                                 "train-labels-idx1-ubyte.gz",
                                 r"announces 4294967295 labels .* more than the 1073.7 MB this reader"),
}
# Runs the reader in a process allowed 48 MiB more address space than it has after its imports.
_LIMITED_READ = """
import resource, sys
from mnistflow.data import idx
from mnistflow.plumbing.errors import DataError
with open("/proc/self/status") as fh:
    size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + (48 << 20), resource.RLIM_INFINITY))
try:
    idx.read_idx(sys.argv[1], "train-labels-idx1-ubyte", downloads=sys.argv[2])
except DataError as exc:
    print(exc)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmSize from /proc")
@pytest.mark.parametrize("over_http", [False, True], ids=["file", "http"])
@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_file_larger_than_its_header_says_is_refused_within_bounded_memory(
    tmp_path: Path, bomb: tuple[Callable[[Path, bytes], None], bytes, str, str], over_http: bool
) -> None:
    write, header, filename, message = bomb
    site = tmp_path / "site"
    site.mkdir()
    write(site / filename, header)
    with serve(site) as server:
        location = server.url if over_http else str(site)
        result = subprocess.run([sys.executable, "-c", _LIMITED_READ, location, str(tmp_path / "dl")],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]  # MemoryError: the old reader read it all
    where = f"{location}/{filename}" if over_http else str(site / filename)
    assert re.match(rf"{re.escape(where)}: the header {message}", result.stdout), result.stdout


class _StreamHandler(http.server.BaseHTTPRequestHandler):
    """Sends ``body`` in pieces of ``piece`` bytes, ``pause`` seconds apart, after announcing
    ``length`` bytes (None: no Content-Length; the end of the connection ends the body); an
    ``endless`` body is sent again and again until the client hangs up."""

    body = b""
    length: int | None = None
    piece = 1 << 16
    pause = 0.0
    endless = False
    seen = 0

    def do_GET(self) -> None:
        cls = type(self)
        cls.seen += 1
        self.send_response(200)
        if cls.length is not None:
            self.send_header("Content-Length", str(cls.length))
        self.end_headers()
        try:
            while True:
                for start in range(0, len(cls.body), cls.piece):
                    self.wfile.write(cls.body[start:start + cls.piece])
                    time.sleep(cls.pause)
                if not cls.endless:
                    return
        except (BrokenPipeError, ConnectionResetError):  # the client gave up
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stream_server() -> Iterator[type[_StreamHandler]]:
    handler = type("Handler", (_StreamHandler,), {})
    with _serving(handler):
        yield handler


@pytest.mark.parametrize(
    ("length", "message"),
    [(None, r"the server sent more than 50.0 kB"), (10**12, r"the server announces 1000000.0 MB")],
    ids=["endless_without_length", "announces_too_much"],
)
def test_download_beyond_the_size_limit_is_cut_off_and_not_kept(
    tmp_path: Path, stream_server: type[_StreamHandler], length: int | None, message: str
) -> None:
    stream_server.body, stream_server.endless, stream_server.length = bytes(1 << 16), True, length
    url = f"{stream_server.url}/train-images-idx3-ubyte.gz"  # type: ignore[attr-defined]
    with pytest.raises(DataError, match=rf"^{re.escape(url)}: {message}, more than an IDX file"):
        download.download(url, tmp_path / "dl" / "x.gz", Path.stat,
                          download.DownloadPolicy(retry_delay=0), max_bytes=50_000,
                          what="an IDX file")
    assert stream_server.seen == 1  # wrong content: not retried
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "partial download kept"


def test_bytes_after_the_announced_length_are_ignored(
    tmp_path: Path, rows: Rows, stream_server: type[_StreamHandler]
) -> None:
    content = gzip.compress(idx_contents(rows)["train-labels-idx1-ubyte"])
    stream_server.body, stream_server.length = content + bytes(1 << 20), len(content)
    found = idx.read_idx(stream_server.url, "train-labels-idx1-ubyte",  # type: ignore[attr-defined]
                         downloads=tmp_path, retry_delay=0)
    np.testing.assert_array_equal(found.array, rows.labels[: rows.n_train])


# --- issue 8: a deadline for each download -----------------------------------------------------------


@pytest.mark.parametrize("announced", [True, False], ids=["with_length", "without_length"])
def test_download_slower_than_its_timeout_is_retried_then_a_clear_error(
    tmp_path: Path, stream_server: type[_StreamHandler], announced: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mnistflow")
    # one byte every 0.05 s: 2000 bytes would take 100 s, and every read gets a byte in time
    stream_server.body, stream_server.piece, stream_server.pause = bytes(2000), 1, 0.05
    stream_server.length = 2000 if announced else None
    url = stream_server.url  # type: ignore[attr-defined]
    with pytest.raises(DataError, match=rf"^{re.escape(url)}/train-labels-idx1-ubyte.gz: could not "
                                        r"download it after 2 attempts \(not complete after 0.5 s "
                                        r"\(idx_download_timeout\): \d+ bytes (of 2.0 kB )?received"):
        idx.read_idx(url, "train-labels-idx1-ubyte", downloads=tmp_path, retries=2, retry_delay=0,
                     download_timeout=0.5)
    assert stream_server.seen == 2
    # progress while it trickles in: the bytes so far, at least every download_timeout / 10
    assert re.search(r"train-labels-idx1-ubyte.gz: \d+ bytes (of 2.0 kB )?received.* after \d+\.\d s",
                     caplog.text), caplog.text
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "partial download kept"


def test_download_timeout_default_is_the_schemas() -> None:
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["properties"]["idx_download_timeout"]["default"] == idx.DOWNLOAD_TIMEOUT

"""Tiny stand-ins for the real data sources, written by the tests themselves (no network, no MNIST):

- IDX files in MNIST's layout, gzip'd or not, written byte by byte with :mod:`struct` (independently
  of the reader under test);
- a local HTTP server on 127.0.0.1 (a free port) serving a folder, with a log of the paths asked for;
- an OpenML dataset in OpenML's own format: the JSON answers of its API, pre-filled in sklearn's
  cache layout under a data home, and the ARFF file itself served from the local server (the URL
  of the data file comes from the dataset description, so sklearn downloads it from 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import json
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass
class Rows:
    """Digits in source order: the training part, then the test part."""

    pixels: np.ndarray  # (n, 784) uint8
    labels: np.ndarray  # (n,) uint8
    n_train: int

    @property
    def n_test(self) -> int:
        return len(self.labels) - self.n_train


def make_rows(n_train: int = 40, n_test: int = 20, seed: int = 0) -> Rows:
    """Random 28x28 uint8 images; labels cycle through 0-9 so every class is present."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    pixels = rng.integers(0, 256, (n, 784), dtype=np.uint8)
    pixels[rng.random((n, 784)) < 0.6] = 0  # mostly background, like real digits
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    return Rows(pixels, labels, n_train)


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """IDX encoding of a uint8 array: 00 00 08 <ndim>, big-endian uint32 sizes, values."""
    magic = 0x0800 + array.ndim if magic is None else magic
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def idx_contents(rows: Rows) -> dict[str, bytes]:
    """The four uncompressed IDX files of ``rows``, by file name."""
    images = rows.pixels.reshape(-1, 28, 28)
    t = rows.n_train
    return {
        "train-images-idx3-ubyte": idx_bytes(images[:t]),
        "train-labels-idx1-ubyte": idx_bytes(rows.labels[:t]),
        "t10k-images-idx3-ubyte": idx_bytes(images[t:]),
        "t10k-labels-idx1-ubyte": idx_bytes(rows.labels[t:]),
    }


def write_idx_dir(folder: Path, rows: Rows, gz: bool = True) -> dict[str, str]:
    """Write the four IDX files of ``rows`` into ``folder``; returns {file: md5 of the content}."""
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for name, content in idx_contents(rows).items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
        else:
            (folder / name).write_bytes(content)
        md5[name] = hashlib.md5(content).hexdigest()
    return md5


@dataclass
class Server:
    """A running local HTTP server: ``url`` of its root and the paths it was asked for."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[Server]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port chosen by the OS) in a thread."""
    server_info = Server("")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            server_info.requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server_info.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield server_info
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- OpenML ----------------------------------------------------------------------------------------


def arff_text(rows: Rows, name: str) -> str:
    """The dataset as OpenML serves it: ARFF with pixel1..pixel784 and a nominal ``class`` last."""
    lines = [f"@RELATION {name}", ""]
    lines += [f"@ATTRIBUTE pixel{i} NUMERIC" for i in range(1, rows.pixels.shape[1] + 1)]
    lines += ["@ATTRIBUTE class {0,1,2,3,4,5,6,7,8,9}", "", "@DATA"]
    for pixels, label in zip(rows.pixels, rows.labels, strict=True):
        lines.append(",".join(map(str, pixels.tolist())) + f",{label}")
    return "\n".join(lines) + "\n"


def write_openml(data_home: Path, served: Path, server_url: str, rows: Rows,
                 name: str = "mnist_784", version: int = 1, data_id: int = 554) -> Path:
    """Pre-fill sklearn's OpenML cache under ``data_home`` with the API's JSON answers for dataset
    ``name``/``version``, and put its ARFF file in ``served`` (to be served at ``server_url``).

    The cache layout is sklearn's: ``<data_home>/openml/openml.org/<URL path>.gz``. Returns the path
    at which sklearn will cache the downloaded ARFF.
    """
    arff = arff_text(rows, name).encode()
    file_id = 52667
    n_pixels = rows.pixels.shape[1]
    arff_path = f"data/v1/download/{file_id}/{name}.arff"
    (served / arff_path).parent.mkdir(parents=True, exist_ok=True)
    (served / arff_path).write_bytes(arff)
    features = [
        {"index": str(i), "name": f"pixel{i + 1}", "data_type": "numeric", "is_target": "false",
         "is_ignore": "false", "is_row_identifier": "false", "number_of_missing_values": "0"}
        for i in range(n_pixels)
    ]
    features.append(
        {"index": str(n_pixels), "name": "class", "data_type": "nominal",
         "nominal_value": [str(d) for d in range(10)], "is_target": "true", "is_ignore": "false",
         "is_row_identifier": "false", "number_of_missing_values": "0"}
    )
    n_rows = {"name": "NumberOfInstances", "value": f"{len(rows.labels)}.0"}
    answers = {
        f"api/v1/json/data/list/data_name/{name.lower()}/limit/2/data_version/{version}": {
            "data": {"dataset": [{"did": data_id, "name": name, "version": version,
                                  "status": "active", "format": "ARFF", "file_id": file_id,
                                  "quality": [n_rows]}]}
        },
        f"api/v1/json/data/{data_id}": {
            "data_set_description": {
                "id": str(data_id), "name": name, "version": str(version),
                "description": "A tiny stand-in written by the tests", "format": "ARFF",
                "url": f"{server_url}/{arff_path}", "file_id": str(file_id),
                "default_target_attribute": "class", "status": "active",
                "md5_checksum": hashlib.md5(arff).hexdigest(),
            }
        },
        f"api/v1/json/data/features/{data_id}": {"data_features": {"feature": features}},
        f"api/v1/json/data/qualities/{data_id}": {"data_qualities": {"quality": [n_rows]}},
    }
    cache = data_home / "openml" / "openml.org"
    for path, answer in answers.items():
        target = cache / f"{path}.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(json.dumps(answer).encode()))
    return cache / f"{arff_path}.gz"

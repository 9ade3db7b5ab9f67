"""The openml source through the real ``sklearn.datasets.fetch_openml``, without network.

sklearn looks for each OpenML API answer in its cache (``<data_home>/openml/openml.org/<URL path>.gz``)
before asking openml.org. The tests pre-fill that cache with the JSON answers for a tiny dataset in
OpenML's own format; the dataset description names the ARFF file's URL, which points at a local HTTP
server, so sklearn really downloads, checks (md5), caches and parses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from fake_sources import IDX_FILES, Rows, closed_port_url, make_rows, serve, write_idx_dir, write_openml
from mnistflow.data import prepare, sources
from mnistflow.data.parquet_file import Digits, read_parquet, write_parquet
from mnistflow.plumbing.errors import ConfigError, DataError


@dataclass
class OpenML:
    rows: Rows
    data_home: Path
    cached_arff: Path
    requests: list[str]


@pytest.fixture
def openml(tmp_path: Path) -> Iterator[OpenML]:
    """A tiny MNIST-like dataset 'mnist_784' version 1, reachable only through the local server."""
    rows = make_rows(n_train=40, n_test=20, seed=3)
    served = tmp_path / "served"
    with serve(served) as server:
        cached = write_openml(tmp_path / "data_home", served, server.url, rows)
        yield OpenML(rows, tmp_path / "data_home", cached, server.requests)


@pytest.mark.parametrize("parser", [None, "liac-arff"], ids=["default", "liac-arff"])
def test_fetch_openml_rows_origin_and_cache(openml: OpenML, parser: str | None, tmp_path: Path) -> None:
    digits = sources.load_openml("mnist_784", 1, test_rows=20, downloads=openml.data_home,
                                 parser=parser)
    np.testing.assert_array_equal(digits.pixels, openml.rows.pixels)
    np.testing.assert_array_equal(digits.labels, openml.rows.labels)
    assert digits.origin.tolist() == ["train"] * 40 + ["test"] * 20
    assert digits.index.tolist() == [*range(40), *range(20)]
    assert digits.metadata["source"] == "openml" and "data id 554" in digits.metadata["description"]
    # sklearn downloaded the ARFF file once, into the cache under data_home
    assert openml.requests == ["/data/v1/download/52667/mnist_784.arff"]
    assert openml.cached_arff.is_file()
    write_parquet(tmp_path / "mnist.parquet", digits)
    assert read_parquet(tmp_path / "mnist.parquet").metadata["source"] == "openml"


def test_second_fetch_reads_the_cache_only(tmp_path: Path) -> None:
    rows = make_rows(n_train=20, n_test=10, seed=4)
    with serve(tmp_path / "served") as server:
        write_openml(tmp_path / "home", tmp_path / "served", server.url, rows)
        sources.load_openml("mnist_784", 1, test_rows=10, downloads=tmp_path / "home")
    # the server is shut down now: a rerun must not need the network
    again = sources.load_openml("mnist_784", 1, test_rows=10, downloads=tmp_path / "home")
    np.testing.assert_array_equal(again.pixels, rows.pixels)


def test_other_dataset_name_and_no_test_part(tmp_path: Path) -> None:
    rows = make_rows(n_train=30, n_test=0, seed=5)
    with serve(tmp_path / "served") as server:
        write_openml(tmp_path / "home", tmp_path / "served", server.url, rows,
                     name="Fashion-MNIST", version=2, data_id=40996)
        digits = sources.load_openml("Fashion-MNIST", 2, test_rows=0, downloads=tmp_path / "home")
    assert (digits.origin == "train").all() and len(digits) == 30
    with pytest.raises(ConfigError, match="use split=random"):
        prepare.split(digits, "original")


def test_too_many_test_rows_is_a_config_error(openml: OpenML) -> None:
    with pytest.raises(ConfigError, match=r"openml_test_rows: 60, but .* has 60 rows"):
        sources.load_openml("mnist_784", 1, test_rows=60, downloads=openml.data_home)


def test_dataset_that_is_not_28x28_images_is_a_data_error(tmp_path: Path) -> None:
    rows = make_rows(n_train=4, n_test=2)
    rows.pixels = rows.pixels[:, :700]
    with serve(tmp_path / "served") as server:
        write_openml(tmp_path / "home", tmp_path / "served", server.url, rows)
        with pytest.raises(DataError, match=r"OpenML dataset 'mnist_784' version 1: 700 feature "
                                            r"columns, expected 784"):
            sources.load_openml("mnist_784", 1, test_rows=2, downloads=tmp_path / "home")


@pytest.mark.filterwarnings("ignore:A network error occurred:UserWarning")
def test_unreachable_data_file_is_a_data_error(tmp_path: Path) -> None:
    write_openml(tmp_path / "home", tmp_path / "served", closed_port_url(), make_rows(4, 2))
    with pytest.raises(DataError, match=r"OpenML dataset 'mnist_784' version 1: cannot reach"):
        sources.load_openml("mnist_784", 1, test_rows=2, downloads=tmp_path / "home")


def test_openml_and_idx_give_the_same_rows_and_split(openml: OpenML, tmp_path: Path) -> None:
    from_openml = sources.load_openml("mnist_784", 1, test_rows=20, downloads=openml.data_home)
    write_idx_dir(tmp_path / "idx", openml.rows)
    from_idx = sources.load_idx(str(tmp_path / "idx"))
    for field in ("pixels", "labels", "origin", "index"):
        np.testing.assert_array_equal(getattr(from_openml, field), getattr(from_idx, field))
    for how in prepare.SPLITS:
        a = prepare.split(_through_parquet(from_openml, tmp_path / "a.parquet"), how, random_state=7)
        b = prepare.split(_through_parquet(from_idx, tmp_path / "b.parquet"), how, random_state=7)
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{how}: {name}")
    assert IDX_FILES[0] in from_idx.metadata["files"]


def _through_parquet(digits: Digits, path: Path) -> Digits:
    write_parquet(path, digits)
    return read_parquet(path)

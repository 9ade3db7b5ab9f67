"""Choosing a source (sources.load, the fetch settings, an end-to-end idx run); reading the parquet."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from conftest import ROOT, Workflow
from fake_sources import make_rows, write_idx_dir
from mnistflow.data import sources
from mnistflow.data.parquet_file import read_parquet
from mnistflow.plumbing.errors import ConfigError, DataError

SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def test_unknown_source_and_missing_idx_path() -> None:
    with pytest.raises(ConfigError, match="source: unknown source 'mnist'; choose one of sample, idx"):
        sources.load("mnist")
    with pytest.raises(ConfigError, match="idx_path: empty"):
        sources.load("idx")


def test_load_passes_the_settings_of_the_source(tmp_path: Path) -> None:
    rows = make_rows(n_train=10, n_test=5)
    md5 = write_idx_dir(tmp_path, rows)
    digits = sources.load("idx", idx_path=str(tmp_path), idx_md5=",".join(md5.values()),
                          openml_name="ignored", downloads=tmp_path / "dl")
    assert len(digits) == 15 and digits.metadata["location"] == str(tmp_path)


@pytest.mark.slow
def test_workflow_on_idx_files_with_the_original_split(workflow_copy: Workflow, tmp_path: Path) -> None:
    rows = make_rows(n_train=60, n_test=20, seed=1)
    idx_dir = tmp_path / "idx"
    write_idx_dir(idx_dir, rows)
    settings = ("--config", "source=idx", f"idx_path={idx_dir}", "split=original")
    workflow_copy.snakemake(*settings)
    metrics = json.loads((workflow_copy / "results/metrics.json").read_text())
    assert metrics["sizes"] == {"train": 60, "test": 20}
    (parquet,) = (workflow_copy / "data/raw").glob("idx-idx-*/mnist.parquet")
    meta = pq.read_schema(parquet).metadata
    assert meta[b"mnistflow.source"] == b"idx" and meta[b"mnistflow.rows"] == b"80"

    # settings of another source do not rerun the data stages; this source's settings rerun the
    # fetch (evaluate records the whole config, so it reruns on any change)
    assert not {"fetch_mnist", "prepare", "train"} & set(
        workflow_copy.planned_jobs(*settings, "openml_name=Fashion-MNIST")
    )
    assert "fetch_mnist" in workflow_copy.planned_jobs(*settings, "idx_md5=mnist")
    # another spelling of the same folder is the same setting: nothing reruns
    for spelling in (f"{idx_dir}/", f"{idx_dir}//", f"{idx_dir}/./", f"{idx_dir.parent}/./idx"):
        other = ("--config", "source=idx", f"idx_path={spelling}", "split=original")
        assert workflow_copy.planned_jobs(*other) == {}, spelling
    assert "fetch_mnist" in workflow_copy.planned_jobs(*settings, "idx_download_timeout=60")

    # a corrupt file: the fetch (rerun because its input changed) fails with one clear message
    # and leaves no parquet behind
    path = idx_dir / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + path.read_bytes()[4:]))
    result = workflow_copy.snakemake(*settings, check=False)
    assert result.returncode != 0
    assert f"ERROR in fetch_mnist: {path}: bad magic number 0x00000801" in result.stdout
    assert "Traceback" not in (workflow_copy / f"logs/data/{parquet.parent.name}/fetch_mnist.log").read_text()
    assert not parquet.exists()


@pytest.mark.slow
def test_replaced_idx_files_rerun_the_fetch_whatever_their_modification_times(
    workflow_copy: Workflow, tmp_path: Path
) -> None:
    idx_dir = tmp_path / "idx"
    write_idx_dir(idx_dir, make_rows(n_train=60, n_test=20, seed=1))
    settings = ("--config", "source=idx", f"idx_path={idx_dir}", "split=original")
    workflow_copy.snakemake("fetch_mnist", *settings)
    # touched, same content: nothing reruns
    for path in idx_dir.iterdir():
        path.touch()
    assert workflow_copy.planned_jobs("fetch_mnist", *settings) == {}
    # other files, older than the parquet file (as `cp -p`, `tar x` or `rsync -a` leave them)
    write_idx_dir(idx_dir, make_rows(n_train=60, n_test=20, seed=2))
    for path in idx_dir.iterdir():
        os.utime(path, (946_684_800, 946_684_800))  # 2000-01-01
    assert workflow_copy.planned_jobs("fetch_mnist", *settings) == {"fetch_mnist": 1}


@pytest.mark.parametrize(
    "setting",
    [{"source": "mnist"}, {"idx_md5": "abc"}, {"idx_md5": ",".join(["0" * 32] * 3)},
     {"openml_version": 0}, {"openml_test_rows": -1}, {"idx_path": 5}, {"idx_download_timeout": 0}],
    ids=["source", "idx_md5", "idx_md5_three", "openml_version", "openml_test_rows", "idx_path",
         "idx_download_timeout"],
)
def test_schema_rejects_bad_source_settings(setting: dict[str, object]) -> None:
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    validate(config, str(SCHEMA))  # the shipped config is valid
    with pytest.raises(WorkflowError, match=next(iter(setting))):
        validate({**config, **setting}, str(SCHEMA))


def test_schema_fills_in_source_defaults() -> None:
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for key in ("idx_path", "idx_md5", "idx_download_timeout", "openml_name", "openml_version",
                "openml_test_rows"):
        expected = config.pop(key)
        validate(config, str(SCHEMA))
        assert config[key] == expected, key


# --- the parquet file is validated when prepare reads it ---------------------------------------------


def _table(n: int = 6, **columns: pa.Array) -> pa.Table:
    rows = make_rows(n_train=n - 2, n_test=2)
    base = {
        "pixels": pa.FixedSizeListArray.from_arrays(pa.array(rows.pixels.reshape(-1)), 784),
        "label": pa.array(rows.labels),
        "origin": pa.array(["train"] * (n - 2) + ["test"] * 2).dictionary_encode(),
        "index": pa.array(np.arange(n, dtype=np.int32)),
    }
    return pa.table({**base, **columns}).replace_schema_metadata({"mnistflow.rows": str(n)})


BAD_TABLES = {
    "null_label": (lambda: _table(label=pa.array([1, None, 3, 4, 5, 6], pa.uint8())),
                   "column 'label' has null values"),
    "label_10": (lambda: _table(label=pa.array([1, 2, 10, 4, 5, 6], pa.uint8())),
                 "1 labels outside 0-9"),
    "float_labels": (lambda: _table(label=pa.array([1.0] * 6)), "column 'label' is double"),
    "int16_pixels": (lambda: _table(pixels=pa.FixedSizeListArray.from_arrays(
        pa.array(np.zeros(6 * 784, np.int16)), 784)), "pixels are int16, expected uint8"),
    "short_rows": (lambda: _table(pixels=pa.FixedSizeListArray.from_arrays(
        pa.array(np.zeros(6 * 780, np.uint8)), 780)), "expected 784 uint8 values"),
    "row_count": (lambda: _table().replace_schema_metadata({"mnistflow.rows": "70000"}),
                  "6 rows, expected 70000"),
}


@pytest.mark.parametrize("bad", BAD_TABLES.values(), ids=BAD_TABLES.keys())
def test_read_rejects_bad_parquet(tmp_path: Path, bad: tuple[Callable[[], pa.Table], str]) -> None:
    make, message = bad
    path = tmp_path / "mnist.parquet"
    pq.write_table(make(), path)
    with pytest.raises(DataError, match=message) as info:
        read_parquet(path)
    assert str(info.value).startswith(str(path))


def test_read_checks_the_expected_row_count(tmp_path: Path) -> None:
    pq.write_table(_table(), tmp_path / "mnist.parquet")
    assert len(read_parquet(tmp_path / "mnist.parquet")) == 6
    with pytest.raises(DataError, match="6 rows, expected 7"):
        read_parquet(tmp_path / "mnist.parquet", expected_rows=7)

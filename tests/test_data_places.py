"""Fetched and prepared data are kept in one folder per setting that made them
(data/raw/<source key>/mnist.parquet, data/processed/<source key>/<split folder>/split.npz), so
switching settings back and forth, or running a sweep, makes no data twice and never replaces the
single run's files; results stay in one place (results/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PARQUET, SPLIT, Workflow, copy_workflow
from fake_sources import make_rows, write_idx_dir
from mnistflow.plumbing.files import sha256_file

DATA_JOBS = {"fetch_mnist", "prepare", "sweep_prepare"}


def _data_jobs(wf: Workflow, *args: str) -> set[str]:
    """The data stages a dry run of ``args`` would run."""
    return DATA_JOBS & set(wf.planned_jobs(*args))


@pytest.mark.slow
def test_switching_settings_back_and_forth_makes_no_data_twice(tmp_path: Path) -> None:
    wf = copy_workflow(tmp_path / "wf")
    wf.set_config(epochs=2)
    idx_dir = tmp_path / "digits"
    write_idx_dir(idx_dir, make_rows(n_train=60, n_test=20, seed=1))
    idx = ("--config", "source=idx", f"idx_path={idx_dir}", "split=original")
    wf.snakemake("results/metrics.json")  # the report is not needed here
    single = {name: sha256_file(wf / name) for name in (PARQUET, SPLIT)}

    def single_runs_data_kept() -> None:
        assert {name: sha256_file(wf / name) for name in single} == single

    # another source: its own folders, next to the sample's
    wf.snakemake("results/metrics.json", *idx)
    single_runs_data_kept()
    (parquet,) = (wf / "data/raw").glob("idx-digits-*/mnist.parquet")
    assert (wf / "data/processed" / parquet.parent.name / "split~original").is_dir()
    # back to the sample, and to idx again: only the results (one place) are made again
    assert _data_jobs(wf) == set()
    wf.snakemake("results/metrics.json")
    single_runs_data_kept()
    assert _data_jobs(wf, *idx) == set()

    # another split of the same parquet, and back
    assert _data_jobs(wf, "--config", "test_size=0.25") == {"prepare"}
    wf.snakemake("results/metrics.json", "--config", "test_size=0.25")
    single_runs_data_kept()
    other = wf / SPLIT.replace("test_size~0.2/", "test_size~0.25/")
    assert other.is_file()
    assert _data_jobs(wf) == set()
    wf.snakemake("results/metrics.json")

    # a sweep over both splits reads them where the single run made them, and leaves the single
    # run up to date
    (wf / "config/sweeps/places.tsv").write_text("test_size\n0.2\n0.25\n")
    targets = [f"results/sweeps/places/test_size~{size}/metrics.json" for size in ("0.2", "0.25")]
    assert _data_jobs(wf, *targets) == set()
    wf.snakemake(*targets)
    single_runs_data_kept()
    assert sorted((wf / "data/processed").rglob("split.npz")) == sorted(
        [wf / SPLIT, other, *(wf / "data/processed" / parquet.parent.name).rglob("split.npz")])
    assert wf.planned_jobs("results/metrics.json") == {}

"""Evaluate's bookkeeping: the seconds per stage, from Snakemake's benchmark files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mnistflow.evaluate import stage_seconds

BENCHMARK = "s\th:m:s\tmax_rss\n1.2505\t0:00:01\t80.5\n"


def test_stage_seconds_reads_the_s_column(tmp_path: Path) -> None:
    (tmp_path / "fetch.tsv").write_text(BENCHMARK)
    (tmp_path / "train.tsv").write_text(BENCHMARK.replace("1.2505", "7"))
    seconds = stage_seconds({"fetch_mnist": tmp_path / "fetch.tsv", "train": tmp_path / "train.tsv"})
    assert seconds == {"fetch_mnist": 1.25, "train": 7.0}


@pytest.mark.parametrize("content", [None, "", "s\n", "x\ty\n1\t2\n", "s\nslow\n"],
                         ids=["missing", "empty", "no-row", "no-s-column", "not-a-number"])
def test_a_missing_or_unreadable_benchmark_leaves_its_stage_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str | None
) -> None:
    # the files are not inputs of evaluate (they change on every run): one that is gone, say with
    # logs/, is no reason to stop, and no number is made up for it
    path = tmp_path / "prepare.tsv"
    if content is not None:
        path.write_text(content)
    (tmp_path / "train.tsv").write_text(BENCHMARK)
    with caplog.at_level(logging.WARNING):
        seconds = stage_seconds({"prepare": path, "train": tmp_path / "train.tsv"})
    assert seconds == {"train": 1.25}
    assert f"{path}: not a Snakemake benchmark file" in caplog.text and "prepare" in caplog.text

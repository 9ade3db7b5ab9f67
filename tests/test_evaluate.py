"""Evaluate: its numbers (those of scikit-learn) and the seconds per stage from the benchmark files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from mnistflow.evaluate import metrics, stage_seconds

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


def _softmax_rows(rng: np.random.Generator, n: int, scale: float, dtype: str) -> np.ndarray:
    z = rng.normal(size=(n, 10)) * scale  # (n, 10); a large scale gives probabilities of 1.0
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize(
    ("n", "classes", "scale", "dtype"),
    [(1000, 10, 3.0, "float32"), (2000, 10, 40.0, "float32"), (300, 4, 1.0, "float64"),
     (7, 2, 10.0, "float32"), (5000, 10, 0.1, "float64")],
    ids=["sample-like", "confident", "absent-classes", "tiny", "uncertain"],
)
def test_metrics_are_those_of_sklearn(n: int, classes: int, scale: float, dtype: str) -> None:
    from sklearn.metrics import classification_report, confusion_matrix
    from sklearn.metrics import log_loss as sklearn_log_loss

    rng = np.random.default_rng(n)
    proba = _softmax_rows(rng, n, scale, dtype)
    y_true = rng.integers(0, classes, n).astype(np.uint8)
    got = metrics(y_true, proba, sizes={}, config={}, model={}, files={}, seconds={})
    y_pred = proba.argmax(axis=1)
    labels = list(range(10))
    report = classification_report(y_true, y_pred, labels=labels, output_dict=True, zero_division=0)
    assert got["test"]["loss"] == sklearn_log_loss(y_true, proba, labels=labels)  # to the last bit
    assert got["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=labels).tolist()
    for k in labels:
        for m in ("precision", "recall", "f1-score", "support"):
            assert got["per_class"][str(k)][m] == round(float(report[str(k)][m]), 6), (k, m)
    for m in ("precision", "recall", "f1-score"):
        assert got["macro_avg"][m] == round(float(report["macro avg"][m]), 6), m
    assert got["test"]["accuracy"] == report["accuracy"]

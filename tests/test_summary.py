"""The closing summary: a run ends with what it made and where, the test accuracy, the recipe and the
data (or a sweep's page and chosen run); a failed run with the failed stage, its log and the command
that resumes it; a missing or damaged file gives a line, never an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import Workflow
from mnistflow.evaluation.run_summary import MAX_LINES, SweepPage, failure_lines, success_lines


def _metrics(**changes: Any) -> dict[str, Any]:
    """A metrics.json as evaluate writes it, small: full MNIST's original split, `best`."""
    data: dict[str, Any] = {
        "test": {"accuracy": 0.9876, "loss": 0.04, "n_errors": 124},
        "per_class": {},
        "confusion_matrix": [[0] * 10 for _ in range(10)],
        "sizes": {"train": 60000, "test": 10000},
        "config": {"source": "idx", "split": "original", "preset": "best", "epochs": None},
        "model": {"architecture": {"layers": [784, 256, 10]},
                  "hyperparams": {"hidden": 256, "epochs": 40}},
        "sha256": {}, "versions": {}, "seconds": {},
    }
    return {**data, **changes}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A results folder with a report and the metrics above."""
    (tmp_path / "report.html").write_text("<html></html>")
    (tmp_path / "metrics.json").write_text(json.dumps(_metrics()))
    return tmp_path


# --- a run that succeeded ------------------------------------------------------------------------


def test_a_finished_run_names_its_files_the_accuracy_the_recipe_and_the_data(results: Path) -> None:
    report, metrics = str(results / "report.html"), str(results / "metrics.json")
    assert success_lines([("report", report), ("metrics", metrics)], metrics) == [
        "mnistflow finished",
        f"  report      {report}",
        f"  metrics     {metrics}",
        "  accuracy    98.76% on 10000 test digits (124 wrong)",
        "  recipe      784-256-10, best, 40 epochs",
        "  data        idx, original split, 70000 rows (60000 train, 10000 test)",
    ]


def test_only_files_that_exist_are_named(results: Path) -> None:
    lines = success_lines([("report", str(results / "report.html")),
                           ("predictions", str(results / "predictions.html"))])
    assert lines == ["mnistflow finished", f"  report      {results / 'report.html'}"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file not found"),
        ("{not json", "not valid JSON"),
        (json.dumps(_metrics(test={"accuracy": 2.0, "loss": 0, "n_errors": 0})), "test.accuracy"),
        (json.dumps({"failed": "the loss became nan", "config": {}, "model": {}, "sha256": {},
                     "versions": {}, "seconds": {}}), "training failed (the loss became nan)"),
    ],
    ids=["missing", "not-json", "against-the-schema", "failed-training"],
)
def test_metrics_that_cannot_be_read_give_a_line_saying_why(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "metrics.json"
    if content is not None:
        path.write_text(content)
    lines = success_lines([("metrics", str(path))], str(path))
    assert lines[-1].startswith(f"  accuracy    unknown: {path}: ")
    assert problem in lines[-1]


def test_a_recipe_the_file_does_not_record_is_said_to_be_missing(tmp_path: Path) -> None:
    # the schema leaves the model's and the config's contents open
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(_metrics(model={}, config={})))
    lines = success_lines([], str(path))
    assert lines[-2:] == [
        "  recipe      network not recorded, preset not recorded, epochs not recorded",
        "  data        source not recorded, split not recorded, 70000 rows (60000 train, 10000 test)",
    ]


@pytest.mark.parametrize(
    ("best", "chosen"),
    [
        ("# chosen\nlearning_rate: 0.2\nhidden: 64\nsource: sample\n",
         "learning_rate=0.2, hidden=64 (its settings: {best})"),
        ("# Sweep lr: every run failed, so there is no best\n",
         "none: every run failed (the reasons are on the page)"),
        (None, "unknown: {best} cannot be read (No such file or directory)"),
        ("learning_rate: [0.2\n", "unknown: {best} cannot be read (ParserError)"),
        ("- 0.2\n", "unknown: {best} holds no settings"),
    ],
    ids=["chosen", "every-run-failed", "missing", "not-yaml", "not-a-mapping"],
)
def test_a_sweep_names_its_page_and_the_run_it_chose(
    tmp_path: Path, best: str | None, chosen: str
) -> None:
    page, best_path = tmp_path / "comparison.html", tmp_path / "best.yaml"
    page.write_text("<html></html>")
    if best is not None:
        best_path.write_text(best)
    sweep = SweepPage(str(page), str(best_path), ("learning_rate", "hidden"))
    assert success_lines([], sweeps=[sweep]) == [
        "mnistflow finished",
        f"  sweep       {page}",
        f"  chosen run  {chosen.format(best=best_path)}",
    ]


def test_the_summary_stays_short_and_counts_what_it_leaves_out(tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.txt" for i in range(12)]
    for path in paths:
        path.write_text("")
    lines = success_lines([("made", str(path)) for path in paths])
    assert len(lines) == MAX_LINES
    assert lines[-1] == f"  ... and {12 + 1 - MAX_LINES + 1} more lines"


# --- a run that failed ---------------------------------------------------------------------------

RESUME = "snakemake --cores 1 --config epochs=3 --rerun-incomplete"


def test_a_failed_run_names_the_stage_its_log_and_how_to_resume() -> None:
    assert failure_lines([("train", "logs/train.log")], RESUME) == [
        "mnistflow stopped: train failed (the log says why; fix that, then resume)",
        "  failed      train, log: logs/train.log",
        f"  resume      {RESUME}",
    ]


def test_many_failed_jobs_are_counted_beyond_the_first_few() -> None:
    failed = [("sweep_train", f"logs/sweeps/lr/learning_rate~{i}/train.log") for i in range(7)]
    lines = failure_lines([*failed, ("prepare", None)], RESUME, ".snakemake/log/run.log")
    assert lines[0].startswith("mnistflow stopped: prepare, sweep_train failed")
    assert lines[1:-1] == [
        *(f"  failed      sweep_train, log: {log}" for _, log in failed[:4]),
        "  ... and 4 more failed jobs: see .snakemake/log/run.log",
    ]
    assert len(lines) <= MAX_LINES


def test_a_run_that_stopped_with_no_failed_stage_names_the_runs_log() -> None:
    assert failure_lines([], RESUME, ".snakemake/log/run.log") == [
        "mnistflow stopped before it finished (its log names no failed stage)",
        "  log         .snakemake/log/run.log",
        f"  resume      {RESUME}",
    ]


# --- the workflow's last lines -------------------------------------------------------------------


def _last_lines(output: str, first: str) -> list[str]:
    """The output from its last line starting with ``first`` on, which must be among its last
    MAX_LINES + 1 lines (the summary, after a blank line, is the last thing printed)."""
    lines = output.rstrip("\n").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(first)]
    assert starts and starts[-1] >= len(lines) - MAX_LINES - 1, output[-3000:]
    return lines[starts[-1]:]


@pytest.mark.slow  # end to end; `make test-slow` runs it
def test_a_run_ends_with_where_the_report_is_and_the_accuracy(finished_copy: Workflow) -> None:
    output = finished_copy.snakemake("-R", "report").stdout
    accuracy = json.loads((finished_copy / "results/metrics.json").read_text())["test"]["accuracy"]
    summary = _last_lines(output, "mnistflow finished")
    assert "  report      results/report.html" in summary
    assert "  metrics     results/metrics.json" in summary
    assert any(line.startswith(f"  accuracy    {accuracy:.2%} on ") for line in summary)
    assert "  recipe      784-256-10, exercise, 5 epochs" in summary


@pytest.mark.slow  # end to end; `make test-slow` runs it
def test_a_failed_run_ends_with_the_stage_its_log_and_the_command_that_resumes_it(
    finished_copy: Workflow,
) -> None:
    result = finished_copy.snakemake("--config", "learning_rate=1e30", check=False)
    assert result.returncode != 0
    assert _last_lines(result.stdout, "mnistflow stopped") == [
        "mnistflow stopped: train failed (the log says why; fix that, then resume)",
        "  failed      train, log: logs/train.log",
        "  resume      snakemake --cores 1 --config learning_rate=1e30 --rerun-incomplete",
    ]


@pytest.mark.slow
def test_a_job_that_failed_and_was_run_again_counts_once(finished_copy: Workflow) -> None:
    result = finished_copy.snakemake("--retries", "1", "--config", "learning_rate=1e30", check=False)
    assert "Trying to restart job" in result.stdout
    summary = _last_lines(result.stdout, "mnistflow stopped")
    assert [line for line in summary if line.startswith("  failed")] == [
        "  failed      train, log: logs/train.log"]
    assert summary[-1].endswith("--retries 1 --config learning_rate=1e30 --rerun-incomplete")


@pytest.mark.slow
def test_a_sweep_ends_with_its_page_and_the_run_it_chose(finished_copy: Workflow) -> None:
    (finished_copy / "config/sweeps/tiny.tsv").write_text("learning_rate\n0.5\n1e30\n")
    output = finished_copy.snakemake("results/sweeps/tiny/comparison.html").stdout
    assert _last_lines(output, "mnistflow finished") == [
        "mnistflow finished",
        "  sweep       results/sweeps/tiny/comparison.html",
        "  chosen run  learning_rate=0.5 (its settings: results/sweeps/tiny/best.yaml)",
    ]

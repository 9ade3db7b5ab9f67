"""Sweeps: tables checked before any job runs, runs in their own folders, the choice by validation
accuracy, and only what changed recomputed."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import ROOT, Workflow, copy_workflow
from mnistflow.evaluation.metrics import failed_metrics
from mnistflow.evaluation.metrics_file import read_metrics, read_outcome
from mnistflow.evaluation.report import render_failed
from mnistflow.plumbing.errors import ConfigError, DataError
from mnistflow.plumbing.files import write_json, write_text
from mnistflow.settings.presets import TRAINING_KEYS, Hyperparams
from mnistflow.settings.schema import load_schema
from mnistflow.sweeps.compare import (
    Comparison,
    RunFiles,
    best_yaml,
    load,
    load_run,
    model_validation,
    write_csv,
)
from mnistflow.sweeps.compare_page import write_page
from mnistflow.sweeps.failed_training import save_trained, train_or_failure
from mnistflow.sweeps.folder_names import folder_value, parse_folder, parse_value
from mnistflow.sweeps.sweep_table import SweepKeys, read_sweep
from mnistflow.training.model_file import load_model, read_failure
from mnistflow.training.training_log import read_history

SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
CONFIG = {key: spec["default"] for key, spec in SCHEMA["properties"].items()}
KEYS = SweepKeys(data=("split", "test_size", "random_state", "stratify", "dtype"),
                 train=("preset", *TRAINING_KEYS))


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.tsv"
    path.write_text(text.replace("|", "\t"))
    return path


# --- reading a table ------------------------------------------------------------------------------


def test_a_table_gives_typed_runs_over_the_config_with_validation_rows_by_default(tmp_path: Path) -> None:
    path = _table(tmp_path, "# a comment\nlearning_rate|hidden|stratify\n1|64|true\n\n0.05|128|False\n")
    sweep = read_sweep(path, CONFIG, SCHEMA, KEYS)
    assert sweep.columns == ("learning_rate", "hidden", "stratify")
    assert [r.line for r in sweep.runs] == [3, 5]
    # 1 for a number setting is the float 1.0: one value, one folder, whatever the other rows hold
    assert sweep.runs[0].settings == {"learning_rate": 1.0, "hidden": 64, "stratify": True}
    assert sweep.runs[1].config["epochs"] is None  # the rest from the config
    assert sweep.runs[1].config["validation_fraction"] == SCHEMA["properties"]["validation_fraction"][
        "sweep_default"] == 0.1
    assert sweep.runs[1].data(KEYS)["stratify"] is False


def test_a_validation_fraction_set_in_the_config_is_kept(tmp_path: Path) -> None:
    path = _table(tmp_path, "learning_rate\n0.1\n")
    sweep = read_sweep(path, {**CONFIG, "validation_fraction": 0.25}, SCHEMA, KEYS)
    assert sweep.runs[0].config["validation_fraction"] == 0.25


def test_the_schema_says_what_a_sweep_does_with_validation_fraction() -> None:
    spec = SCHEMA["properties"]["validation_fraction"]
    assert f"null takes {spec['sweep_default']}" in " ".join(spec["description"].split())


@pytest.mark.parametrize(
    ("text", "config", "expected"),
    [
        ("hiden\n64\n", {}, r"line 1, column 'hiden': unknown setting \(did you mean hidden\?\)"),
        ("source|learning_rate\nsample|0.1\n", {},
         r"line 1, column 'source': not a setting of prepare or train"),
        ("learning_rate\n0.1\n-0.5\n", {},
         r"line 3, column learning_rate: got -0.5, allowed: a finite number > 0"),
        ("epochs\n5\nfive\n", {}, r"line 3, column epochs: got 'five', allowed: an integer >= 1"),
        ("learning_rate\n0.1\n0.5\n0.10\n", {},
         r"lines 2 and 4: the same values, so the same run twice; remove one"),
        ("learning_rate\nnull\n0.5\n", {},  # the exercise preset's learning rate is 0.5
         r"lines 2 and 3: the same settings once the preset's values are filled in"),
        ("# nothing but a header\nlearning_rate\n", {}, r"sweep.tsv: no runs"),
        ("", {}, r"sweep.tsv: no runs"),
        ("optimizer|momentum\nsgd|0.9\nadam|0.9\n", {},
         r"line 3, column momentum: 0.9 applies to optimizer sgd only"),
        ("learning_rate\n0.1\n", {"validation_fraction": 0.0},
         r"line 2: validation_fraction \(from config/config.yaml or --config\): 0.0 holds out no "
         r"validation rows, but a sweep chooses its best run by validation accuracy"),
        ("validation_fraction\n0.2\n0\n", {}, r"line 3, column validation_fraction: 0.0 holds out no"),
        ("learning_rate|hidden\n0.1\n", {}, r"line 2: 1 cell, but the header names 2 columns"),
        ("learning_rate|hidden\n0.1|\n", {}, r"line 2, column hidden: empty"),
        ("hidden|hidden\n1|2\n", {}, r"line 1, column 'hidden': named twice"),
    ],
    ids=["unknown-column", "fetch-setting", "out-of-range", "not-a-number", "duplicate-rows",
         "duplicate-once-resolved", "empty-table", "empty-file", "presets-refuse", "no-validation",
         "validation-zero-in-table", "short-row", "empty-cell", "column-twice"],
)
def test_a_bad_table_is_refused_naming_the_file_line_and_column(
    tmp_path: Path, text: str, config: dict[str, Any], expected: str
) -> None:
    path = _table(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_sweep(path, {**CONFIG, **config}, SCHEMA, KEYS)
    message = str(info.value)
    assert str(path) in message
    assert re.search(expected, message), message


def test_every_bad_line_is_named_in_one_message(tmp_path: Path) -> None:
    path = _table(tmp_path, "learning_rate|epochs\n-1|5\n0.1|0\n0.2|5\n")
    with pytest.raises(ConfigError) as info:
        read_sweep(path, CONFIG, SCHEMA, KEYS)
    assert "line 2, column learning_rate" in str(info.value)
    assert "line 3, column epochs" in str(info.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.05, "0.05"), (1.0, "1.0"), (1e-05, "1e-05"), (64, "64"), (False, "false"), (None, "null"),
     ("adam", "adam")],
    ids=["float", "whole-float", "tiny-float", "int", "bool", "null", "string"],
)
def test_a_folder_value_reads_back_as_the_same_value(value: Any, text: str) -> None:
    assert folder_value(value) == text
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def test_a_split_folder_gives_its_data_settings_and_refuses_others() -> None:
    folder = "split~random/test_size~0.2/random_state~42/stratify~false/dtype~float32"
    assert parse_folder(folder, SCHEMA, KEYS.data) == {
        "split": "random", "test_size": 0.2, "random_state": 42, "stratify": False, "dtype": "float32"}
    for bad in (folder.replace("0.2", "2.0"), folder.replace("42", "42.0"), "split~random"):
        with pytest.raises(ConfigError):
            parse_folder(bad, SCHEMA, KEYS.data)


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "config" / "sweeps").glob("*.tsv")))
def test_the_shipped_sweeps_are_valid(name: str) -> None:
    sweep = read_sweep(ROOT / "config" / "sweeps" / f"{name}.tsv", CONFIG, SCHEMA, KEYS)
    assert len(sweep.runs) >= 2


# --- the comparison -------------------------------------------------------------------------------


def _metrics(accuracy: float, loss: float, patience: int = 0) -> dict[str, Any]:
    """A metrics.json as evaluate writes it, with only what the comparison reads made up."""
    return {
        "test": {"accuracy": accuracy, "loss": loss, "n_errors": 0},
        "per_class": {}, "confusion_matrix": [[0] * 10 for _ in range(10)],
        "sizes": {"train": 1000, "test": 200}, "config": {},
        "model": {"hyperparams": {"patience": patience, "validation_fraction": 0.2}},
        "sha256": {}, "versions": {}, "seconds": {},
    }


def _run(tmp_path: Path, folder: str, settings: dict[str, Any], val: list[float], test: float,
         patience: int = 0, line: int = 2) -> RunFiles:
    """The files of one made-up run: validation accuracy per epoch ``val``, test accuracy ``test``."""
    d = tmp_path / folder
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps(_metrics(test, 1 - test, patience)))
    rows = [f"{e},{2.0 / e:.6f},{v:.6f},{e * 0.1:.3f},0.5,{v:.6f}" for e, v in enumerate(val, start=1)]
    (d / "training_log.csv").write_text(
        "epoch,loss,train_accuracy,seconds,learning_rate,val_accuracy\n" + "\n".join(rows) + "\n")
    (d / "report.html").write_text("<html></html>")
    return RunFiles(folder=folder, line=line, settings=settings,
                    config={**CONFIG, **settings, "validation_fraction": 0.2},
                    metrics=str(d / "metrics.json"), history=str(d / "training_log.csv"),
                    report=str(d / "report.html"), train_seconds=2.5, peak_memory_mb=123.4)


def _failed_run(tmp_path: Path, folder: str, settings: dict[str, Any], reason: str,
                line: int = 2) -> RunFiles:
    """The files of one made-up run whose training failed, as the sweep's stages write them."""
    d = tmp_path / folder
    d.mkdir(parents=True)
    write_json(d / "metrics.json", failed_metrics(
        reason, config=settings, model={"failure": reason, "hyperparams": {}}, files={}, seconds={}))
    (d / "training_log.csv").write_text("epoch,loss,train_accuracy,seconds,learning_rate\n")
    (d / "report.html").write_text("<html></html>")
    return RunFiles(folder=folder, line=line, settings=settings, config={**CONFIG, **settings},
                    metrics=str(d / "metrics.json"), history=str(d / "training_log.csv"),
                    report=str(d / "report.html"), train_seconds=0.5, peak_memory_mb=99.0)


def _compare(
    tmp_path: Path, runs: list[RunFiles], name: str = "lr", table: str = "config/sweeps/lr.tsv",
    columns: tuple[str, ...] = ("learning_rate",),
) -> Comparison:
    """What scripts/compare.py does: comparison.csv, best.yaml and comparison.html in tmp_path."""
    comparison = load(name, table, columns, runs)
    write_csv(tmp_path / "comparison.csv", comparison)
    command = f"train-it --with {tmp_path / 'best.yaml'}"  # the workflow's command, from the script
    write_text(tmp_path / "best.yaml", best_yaml(comparison, str(tmp_path / "comparison.html"), command))
    write_page(comparison, tmp_path / "comparison.html", command)
    return comparison


def test_the_run_is_chosen_by_validation_accuracy_even_where_test_accuracy_says_otherwise(
    tmp_path: Path,
) -> None:
    runs = [
        _run(tmp_path, "learning_rate~0.1", {"learning_rate": 0.1}, [0.5, 0.80], test=0.95),
        _run(tmp_path, "learning_rate~0.5", {"learning_rate": 0.5}, [0.6, 0.90], test=0.85),
        _run(tmp_path, "learning_rate~1.0", {"learning_rate": 1.0}, [0.7, 0.85], test=0.90),
    ]
    result = _compare(tmp_path, runs)
    assert result.chosen.files.folder == "learning_rate~0.5"  # best validation, worst test
    rows = list(csv.DictReader((tmp_path / "comparison.csv").read_text().splitlines()))
    assert [r["run"] for r in rows] == ["learning_rate~0.5", "learning_rate~1.0", "learning_rate~0.1"]
    assert [r["selected"] for r in rows] == ["true", "false", "false"]
    assert rows[0]["test_accuracy"] == "0.85" and rows[0]["val_accuracy"] == "0.9"
    assert rows[0]["train_seconds"] == "2.5" and rows[0]["peak_memory_mb"] == "123.4"
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert best["learning_rate"] == 0.5 and best["validation_fraction"] == 0.2
    assert set(best) == set(CONFIG)  # every setting, in config format
    assert f"#   train-it --with {tmp_path / 'best.yaml'}\n" in (tmp_path / "best.yaml").read_text()
    page = (tmp_path / "comparison.html").read_text()
    assert f"<code>train-it --with {tmp_path / 'best.yaml'}</code> trains it" in page
    assert '<tr class="chosen">' in page and 'href="learning_rate~0.5/report.html"' in page
    assert "test accuracy (the estimate)<b>85.00%</b>" in page
    assert "widen the range" not in page  # 0.5 lies inside 0.1 ... 1.0
    assert page.count("data:image/png;base64,") == 2  # validation accuracy by setting, curves
    assert "src=\"http" not in page


def test_a_choice_at_the_edge_of_the_swept_range_says_so(tmp_path: Path) -> None:
    runs = [_run(tmp_path, f"learning_rate~{lr}", {"learning_rate": lr}, [v], test=0.9)
            for lr, v in ((0.1, 0.7), (0.5, 0.8), (1.0, 0.9))]
    _compare(tmp_path, runs)
    assert "The chosen learning_rate, 1.0, is the largest in the table" in (
        tmp_path / "comparison.html").read_text()


def test_equal_validation_accuracies_go_to_the_earlier_row(tmp_path: Path) -> None:
    runs = [_run(tmp_path, f"learning_rate~{lr}", {"learning_rate": lr}, [0.9], test=t)
            for lr, t in ((0.5, 0.80), (0.1, 0.95))]
    assert _compare(tmp_path, runs).chosen.files.folder == "learning_rate~0.5"


@pytest.mark.parametrize(("patience", "expected"), [(0, (0.8, 3)), (2, (0.9, 2))],
                         ids=["last-epoch", "best-epoch-kept"])
def test_a_runs_validation_accuracy_is_that_of_the_weights_its_model_keeps(
    patience: int, expected: tuple[float, int]
) -> None:
    history = {"epoch": np.array([1.0, 2, 3]), "val_accuracy": np.array([0.7, 0.9, 0.8])}
    assert model_validation(history, patience) == expected


def test_everything_from_outside_is_escaped_in_the_page(tmp_path: Path) -> None:
    run = _run(tmp_path, "optimizer~<b>x</b>", {"optimizer": "<script>"}, [0.9], test=0.9)
    _compare(tmp_path, [run], name="<i>name</i>", table="<t>.tsv", columns=("optimizer",))
    page = (tmp_path / "comparison.html").read_text()
    assert "<script>" not in page and "<b>x</b>" not in page and "<i>name" not in page
    assert "&lt;script&gt;" in page


def test_a_log_without_validation_is_refused_naming_it(tmp_path: Path) -> None:
    run = _run(tmp_path, "learning_rate~0.1", {"learning_rate": 0.1}, [0.9], test=0.9)
    Path(run.history).write_text("epoch,loss,train_accuracy\n1,0.5,0.9\n")
    with pytest.raises(DataError, match=r"training_log\.csv: no val_accuracy column"):
        load_run(run)


# --- runs whose training failed ------------------------------------------------------------------

DIVERGED = ("the loss became nan at epoch 2/2, step 2 with learning_rate=1e+30: training diverged; "
            "try a smaller learning_rate")


def test_a_failed_run_is_listed_with_its_reason_and_the_best_is_chosen_among_the_others(
    tmp_path: Path,
) -> None:
    runs = [
        _failed_run(tmp_path, "learning_rate~1e+30", {"learning_rate": 1e30}, DIVERGED, line=2),
        _run(tmp_path, "learning_rate~0.1", {"learning_rate": 0.1}, [0.5, 0.80], test=0.95, line=3),
        _run(tmp_path, "learning_rate~0.5", {"learning_rate": 0.5}, [0.6, 0.90], test=0.85, line=4),
    ]
    result = _compare(tmp_path, runs)
    assert result.chosen.files.folder == "learning_rate~0.5"
    assert [f.files.folder for f in result.failed] == ["learning_rate~1e+30"]
    rows = list(csv.DictReader((tmp_path / "comparison.csv").read_text().splitlines()))
    assert [(r["run"], r["rank"], r["status"], r["selected"]) for r in rows] == [
        ("learning_rate~0.5", "1", "trained", "true"), ("learning_rate~0.1", "2", "trained", "false"),
        ("learning_rate~1e+30", "", "failed", "false")]
    failed = rows[-1]
    assert failed["failure"] == DIVERGED and failed["learning_rate"] == "1e+30"
    assert failed["val_accuracy"] == failed["test_accuracy"] == failed["epochs_run"] == ""
    assert failed["train_seconds"] == "0.5"  # what its train job took is measured all the same
    assert yaml.safe_load((tmp_path / "best.yaml").read_text())["learning_rate"] == 0.5
    page = (tmp_path / "comparison.html").read_text()
    assert f'<td colspan="7" class="failure">failed: {DIVERGED}</td>' in page
    assert 'href="learning_rate~1e%2B30/report.html"' in page  # its report says it failed
    assert "Baseline: the first row that trained, learning_rate~0.1." in page
    assert "The training of 1 of them failed: it is listed last" in page
    assert "The run whose training failed takes no part in the choice." in page
    # a failed row beyond the chosen value: the range is wide enough already
    assert "widen the range" not in page
    assert page.count("data:image/png;base64,") == 2  # validation by setting, curves: trained runs


def test_when_every_run_failed_none_is_chosen_and_best_yaml_holds_no_settings(tmp_path: Path) -> None:
    runs = [_failed_run(tmp_path, f"learning_rate~{lr!r}", {"learning_rate": lr}, DIVERGED, line=i)
            for i, lr in enumerate((1e30, 1e35), start=2)]
    result = _compare(tmp_path, runs)
    assert result.runs == () and len(result.failed) == 2
    rows = list(csv.DictReader((tmp_path / "comparison.csv").read_text().splitlines()))
    assert [(r["status"], r["selected"], r["failure"]) for r in rows] == [("failed", "false", DIVERGED)] * 2
    best = (tmp_path / "best.yaml").read_text()
    assert yaml.safe_load(best) is None  # comments only: no settings to train
    assert "every run failed, so there is no best" in best
    page = (tmp_path / "comparison.html").read_text()
    assert "The training of every one failed: none is chosen." in page
    assert "chosen run<b>none</b>" in page and "data:image/png" not in page


def test_a_diverging_training_is_recorded_without_weights_and_never_read_as_a_model(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((60, 784), dtype=np.float32)
    Y = np.eye(10, dtype=np.float32)[np.arange(60) % 10]
    hp = Hyperparams(hidden=8, epochs=2, learning_rate=1e30, validation_fraction=0.1)
    trained = train_or_failure(X, Y, hp)
    assert trained.params is None and trained.history == []
    assert trained.failure is not None and "training diverged" in trained.failure
    assert "\n" not in trained.failure
    model, history = tmp_path / "model.npz", tmp_path / "training_log.csv"
    save_trained(model, history, trained, hp)
    with pytest.raises(DataError, match=r"model\.npz: no weights: its training failed \(the loss"):
        load_model(model)
    failed = read_failure(model)
    assert failed is not None and failed["failure"] == trained.failure
    assert failed["hyperparams"]["learning_rate"] == 1e30
    with pytest.raises(DataError, match="the training log has no rows"):
        read_history(history)
    # what evaluate and report then write: they say failed, and hold no number of a model
    metrics = tmp_path / "metrics.json"
    write_json(metrics, failed_metrics(trained.failure, config={}, model=failed,
                                       files={"model": model}, seconds={}))
    with pytest.raises(DataError, match=r"no test metrics: the run's training failed \(the loss"):
        read_metrics(metrics)
    record = read_outcome(metrics)
    figures = {name: tmp_path / f"{name}.png" for name in ("loss", "confusion")}
    render_failed(record, figures, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert f"failed: {trained.failure}" in page and "accuracy" not in page
    assert all(p.stat().st_size > 0 for p in figures.values())
    # a recipe that trains is saved as before
    good = train_or_failure(X, Y, Hyperparams(hidden=8, epochs=2, validation_fraction=0.1))
    save_trained(model, history, good, hp)
    assert load_model(model)[0]["W1"].shape == (784, 8) and len(read_history(history)["epoch"]) == 2


# --- the workflow: dry runs -----------------------------------------------------------------------


def _sweep(wf: Workflow, name: str, text: str) -> str:
    """Write config/sweeps/<name>.tsv in the copy; returns the comparison's target."""
    (wf / "config" / "sweeps" / f"{name}.tsv").write_text(text.replace("|", "\t"))
    return f"results/sweeps/{name}/comparison.html"


def test_runs_of_training_settings_share_one_fetch_and_one_prepare(workflow_copy: Workflow) -> None:
    target = _sweep(workflow_copy, "six", "learning_rate|hidden\n" + "".join(
        f"{lr}|{h}\n" for lr in (0.1, 0.5, 1.0) for h in (32, 64)))
    # the runs' split is the single run's (the same data settings): its rule, prepare, makes it
    assert workflow_copy.planned_jobs(target) == {
        "fetch_mnist": 1, "prepare": 1, "sweep_train": 6, "sweep_evaluate": 6, "sweep_report": 6,
        "sweep_compare": 1}
    # one prepare per distinct set of data settings: the single run's, and one of the sweep's own
    target = _sweep(workflow_copy, "data", "test_size|learning_rate\n0.2|0.1\n0.2|0.5\n0.25|0.1\n")
    planned = workflow_copy.planned_jobs(target)
    assert (planned["prepare"], planned["sweep_prepare"]) == (1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("source\nidx\n", r"config/sweeps/bad.tsv, line 1, column 'source': not a setting of prepare "
      r".*use one of: split, test_size, random_state, stratify, dtype, preset, hidden, epochs"),
     ("learning_rate\n0.1\n0\n", r"config/sweeps/bad.tsv, line 3, column learning_rate: got 0.0")],
    ids=["fetch-setting", "out-of-range"],
)
def test_a_bad_table_stops_snakemake_before_any_job(
    workflow_copy: Workflow, text: str, expected: str
) -> None:
    target = _sweep(workflow_copy, "bad", text)
    result = workflow_copy.snakemake(target, check=False)
    assert result.returncode != 0
    assert re.search(expected, result.stdout), result.stdout[-3000:]
    assert "rule fetch_mnist" not in result.stdout and not workflow_copy.parquet.exists()


def test_a_missing_table_names_the_sweeps_there_are(workflow_copy: Workflow) -> None:
    result = workflow_copy.snakemake("results/sweeps/nope/comparison.html", "-n", check=False)
    assert "config/sweeps/nope.tsv: no such sweep table" in result.stdout
    assert "learning_rate" in result.stdout


def test_the_single_run_never_reads_the_sweep_tables(workflow_copy: Workflow) -> None:
    _sweep(workflow_copy, "broken", "no_such_setting\n1\n")
    assert workflow_copy.planned_jobs() == {
        "fetch_mnist": 1, "prepare": 1, "train": 1, "evaluate": 1, "report": 1, "draw_page": 1}


# --- end to end on the sample ---------------------------------------------------------------------

TINY = "learning_rate\n0.5\n0.1\n1.0\n"  # three runs of the exercise recipe, a few epochs each


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """A copy of the workflow (3 epochs) in which the three-run sweep `tiny` has finished."""
    wf = copy_workflow(tmp_path_factory.mktemp("sweep") / "wf")
    wf.set_config(epochs=3)
    wf.snakemake("--cores", "2", _sweep(wf, "tiny", TINY))
    return wf


@pytest.mark.slow
def test_a_sweep_writes_every_runs_files_in_a_folder_named_after_its_row(tiny_sweep: Workflow) -> None:
    root = tiny_sweep / "results/sweeps/tiny"
    assert sorted(p.name for p in root.iterdir()) == [
        "best.yaml", "comparison.csv", "comparison.html",
        "learning_rate~0.1", "learning_rate~0.5", "learning_rate~1.0"]
    for run in ("learning_rate~0.1", "learning_rate~0.5", "learning_rate~1.0"):
        for name in ("model.npz", "training_log.csv", "metrics.json", "predictions.npz", "report.html"):
            assert (root / run / name).stat().st_size > 0, (run, name)
    # one split for the three runs, the single run's (same data settings); no results of it
    assert list((tiny_sweep / "data/processed").rglob("split.npz")) == [tiny_sweep.split]
    assert not (tiny_sweep / "results/metrics.json").exists()
    metrics = json.loads((root / "learning_rate~1.0" / "metrics.json").read_text())
    assert metrics["config"]["learning_rate"] == 1.0 and metrics["config"]["validation_fraction"] == 0.1
    assert "openml_name" not in metrics["config"]  # the settings that made its files only
    assert metrics["model"]["hyperparams"]["epochs"] == 3


@pytest.mark.slow
def test_the_comparison_gives_the_runs_own_numbers_and_chooses_by_validation(tiny_sweep: Workflow) -> None:
    root = tiny_sweep / "results/sweeps/tiny"
    rows = list(csv.DictReader((root / "comparison.csv").read_text().splitlines()))
    assert len(rows) == 3
    for row in rows:
        metrics = json.loads((root / row["run"] / "metrics.json").read_text())
        assert float(row["test_accuracy"]) == metrics["test"]["accuracy"]
        assert float(row["test_loss"]) == metrics["test"]["loss"]
        log = list(csv.DictReader((root / row["run"] / "training_log.csv").read_text().splitlines()))
        assert float(row["val_accuracy"]) == float(log[-1]["val_accuracy"])
        assert int(row["epochs_run"]) == len(log) == 3
        assert float(row["train_seconds"]) > 0 and float(row["peak_memory_mb"]) > 0
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    assert [r["selected"] for r in rows] == ["true", "false", "false"] and rows[0] == best
    chosen = yaml.safe_load((root / "best.yaml").read_text())
    assert chosen["learning_rate"] == float(best["learning_rate"])
    # how to train it as the single run: the workflow's command, from the stage script
    command = "snakemake --cores all --configfile results/sweeps/tiny/best.yaml"
    assert f"#   {command}\n" in (root / "best.yaml").read_text()
    page = (root / "comparison.html").read_text()
    assert f"<code>{command}</code> trains it as the single run" in page
    assert f'href="{best["run"]}/report.html"' in page


@pytest.mark.slow
def test_a_sweep_reruns_only_what_its_table_changed(tiny_sweep: Workflow, tmp_path: Path) -> None:
    wf = Workflow(tmp_path / "wf")
    shutil.copytree(tiny_sweep.path, wf.path, symlinks=True)
    target = "results/sweeps/tiny/comparison.html"
    assert wf.planned_jobs(target) == {}  # unchanged: nothing to do
    # Snakemake's report lists the sweep as a category, each run's curve labelled with its row
    wf.snakemake("--report", "sweep-report.html", target)
    page = (wf / "sweep-report.html").read_text()
    assert "Sweep tiny" in page and '"learning_rate": "0.5"' in page
    # its front page points at the sweep's comparison, not at the single run's report
    front = page[page.index('id="workflow-desc"'):].split("</script>", 1)[0]
    assert "results/sweeps/tiny/comparison.html" in front and "results/report.html" not in front
    # another source's setting reaches no run; only best.yaml, which lists every setting, is redone
    assert wf.planned_jobs(target, "--config", "openml_name=fashion_mnist") == {"sweep_compare": 1}
    # a setting of the config reaches every run, as it reaches the single run
    assert wf.planned_jobs(target, "--config", "epochs=4") == {
        "sweep_train": 3, "sweep_evaluate": 3, "sweep_report": 3, "sweep_compare": 1}
    # a data setting of the config: one new split, in the single run's place for those settings
    planned = wf.planned_jobs(target, "--config", "test_size=0.25")
    assert planned.get("prepare", 0) + planned.get("sweep_prepare", 0) == 1
    _sweep(wf, "tiny", TINY + "0.2\n")
    assert wf.planned_jobs(target) == {
        "sweep_train": 1, "sweep_evaluate": 1, "sweep_report": 1, "sweep_compare": 1}
    _sweep(wf, "tiny", "learning_rate\n0.5\n1.0\n")  # a row removed, the rest kept
    assert wf.planned_jobs(target) == {"sweep_compare": 1}
    # the chosen settings as a config file: the single run takes them
    best = str(wf / "results/sweeps/tiny/best.yaml")
    assert wf.planned_jobs("--configfile", best)["train"] == 1


@pytest.mark.slow
def test_the_chosen_run_run_again_as_the_single_run_gives_the_same_model(
    tiny_sweep: Workflow, tmp_path: Path
) -> None:
    # the sweep trained each run on one thread; the single run takes the threads its recipe can use
    wf = Workflow(tmp_path / "wf")
    shutil.copytree(tiny_sweep.path, wf.path, symlinks=True)
    root = wf / "results/sweeps/tiny"
    best = yaml.safe_load((root / "best.yaml").read_text())
    chosen = root / f"learning_rate~{folder_value(best['learning_rate'])}" / "model.npz"
    wf.snakemake("--cores", "3", "results/model.npz", "--configfile", str(root / "best.yaml"))
    assert "with 3 threads" not in (wf / "logs/train.log").read_text()  # capped: 2 blocks
    assert "with 2 threads" in (wf / "logs/train.log").read_text()
    assert (wf / "results/model.npz").read_bytes() == chosen.read_bytes()


# --- end to end: a sweep with a failed row --------------------------------------------------------

# two rows that train and one whose training diverges at epoch 2 of 2 (exercise recipe, the sample)
WITH_FAILURE = "learning_rate\n0.5\n1e30\n0.1\n"


def _failing_sweep(dest: Path, table: str, *args: str) -> Workflow:
    """A copy of the workflow (2 epochs) in which the sweep `failing` has run."""
    wf = copy_workflow(dest)
    wf.set_config(epochs=2)
    wf.snakemake("--cores", "2", *args, _sweep(wf, "failing", table))
    return wf


def _shows_the_failed_row(wf: Workflow) -> None:
    """The comparison lists learning_rate~1e+30 as failed with its reason, chooses another run, and
    every file of the failed run says it failed."""
    root = wf / "results/sweeps/failing"
    rows = {r["run"]: r for r in csv.DictReader((root / "comparison.csv").read_text().splitlines())}
    assert set(rows) == {"learning_rate~0.5", "learning_rate~1e+30", "learning_rate~0.1"}
    failed = rows["learning_rate~1e+30"]
    assert failed["status"] == "failed" and failed["selected"] == "false" and failed["rank"] == ""
    assert re.fullmatch(r"the loss became nan at epoch \d/2, .*learning_rate=1e\+30: training "
                        r"diverged; try a smaller learning_rate", failed["failure"]), failed
    assert [r["selected"] for r in rows.values()].count("true") == 1
    chosen = next(r for r in rows.values() if r["selected"] == "true")
    best = yaml.safe_load((root / "best.yaml").read_text())
    assert chosen["run"] != "learning_rate~1e+30" and best["learning_rate"] == float(chosen["learning_rate"])
    page = (root / "comparison.html").read_text()
    assert f"failed: {failed['failure']}" in page
    # the failed run's own files: no weights, no metrics, a report that says so
    run = root / "learning_rate~1e+30"
    with pytest.raises(DataError, match="no weights: its training failed"):
        load_model(run / "model.npz")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["failed"] == failed["failure"] and "test" not in metrics
    assert metrics["config"]["learning_rate"] == 1e30
    report = (run / "report.html").read_text()
    assert f"failed: {failed['failure']}" in report and "test accuracy" not in report
    assert "epoch 1/2" in (wf / "logs/sweeps/failing/learning_rate~1e+30/train.log").read_text()


@pytest.mark.slow
def test_a_sweep_with_a_diverging_row_compares_the_others_and_shows_it_failed(tmp_path: Path) -> None:
    wf = _failing_sweep(tmp_path / "wf", WITH_FAILURE)
    _shows_the_failed_row(wf)
    assert wf.planned_jobs("results/sweeps/failing/comparison.html") == {}  # done: nothing to redo


@pytest.mark.slow
def test_a_sweep_with_a_diverging_row_does_the_same_with_keep_going(tmp_path: Path) -> None:
    _shows_the_failed_row(_failing_sweep(tmp_path / "wf", WITH_FAILURE, "--keep-going"))


@pytest.mark.slow
def test_a_sweep_whose_every_row_fails_says_so_and_names_no_best(tmp_path: Path) -> None:
    wf = _failing_sweep(tmp_path / "wf", "learning_rate\n1e30\n1e35\n")
    root = wf / "results/sweeps/failing"
    rows = list(csv.DictReader((root / "comparison.csv").read_text().splitlines()))
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert "none is chosen" in (root / "comparison.html").read_text()
    assert yaml.safe_load((root / "best.yaml").read_text()) is None
    # as a config file it holds nothing to train: Snakemake refuses it before any job
    result = wf.snakemake("-n", "--configfile", str(root / "best.yaml"), check=False)
    assert result.returncode != 0 and "keys at top level" in result.stdout, result.stdout[-2000:]

"""End-to-end: the workflow on the embedded sample, its outputs, and what reruns when."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PARQUET, ROOT, SPLIT, Workflow, copy_workflow, first_fast
from mnistflow.settings.presets import TRAINING_KEYS
from mnistflow.training.distortion_examples import PER_DIGIT, load_examples

OUTPUTS = (
    PARQUET,
    SPLIT,
    "results/model.npz",
    "results/training_log.csv",
    "results/distortions.npz",
    "results/metrics.json",
    "results/predictions.npz",
    "results/report.html",
    "results/figures/loss_curve.png",
    "results/figures/confusion_matrix.png",
    "results/figures/misclassified.png",
    "results/figures/distortions.png",
    "results/draw.html",
)


def test_full_run_produces_every_file(finished_workflow: Workflow) -> None:
    for name in OUTPUTS:
        assert (finished_workflow / name).stat().st_size > 0, name
    metrics = json.loads((finished_workflow / "results/metrics.json").read_text())
    assert metrics["sizes"] == {"train": 4000, "test": 1000}
    assert metrics["config"]["epochs"] == 5
    # the settings that made the files evaluate read: the sample's fetch (it has no settings of its
    # own), prepare's, the preset and training keys as given, and portable_numerics (it reaches the
    # bytes of the model); no other source's, no `images`
    assert set(metrics["config"]) == {
        "source", "split", "test_size", "random_state", "stratify", "dtype", "preset", *TRAINING_KEYS,
        "portable_numerics"}
    # the resolved recipe the weights were trained with, from the model's metadata
    assert metrics["model"]["hyperparams"]["epochs"] == 5
    assert metrics["model"]["hyperparams"]["learning_rate"] == 0.5  # the exercise preset's value
    assert metrics["model"]["architecture"]["layers"] == [784, 256, 10]
    assert set(metrics["seconds"]) == {"fetch_mnist", "prepare", "train"}
    assert sum(map(sum, metrics["confusion_matrix"])) == 1000
    html = (finished_workflow / "results/report.html").read_text()
    assert html.count("data:image/png;base64,") == 3  # no distortions, no grid of them
    assert "src=\"http" not in html  # self-contained: nothing fetched when opened
    assert load_examples(finished_workflow / "results/distortions.npz").distorted.shape == (10, 0, 784)


def test_second_run_is_a_no_op(finished_workflow: Workflow) -> None:
    assert finished_workflow.planned_jobs() == {}


@pytest.mark.parametrize(
    ("config", "expected"),
    first_fast([
        ("epochs=6", {"train", "evaluate", "report", "draw_page"}),
        ("test_size=0.25", {"prepare", "train", "evaluate", "report", "draw_page"}),
        ("learning_rate=0.3", {"train", "evaluate", "report", "draw_page"}),
        ("dtype=float64", {"prepare", "train", "evaluate", "report", "draw_page"}),
        ("rotation=5", {"train", "evaluate", "report", "draw_page"}),
    ], ["epochs", "test_size", "learning_rate", "dtype", "rotation"], fast=2),
)
def test_setting_change_reruns_exactly_its_stages(
    finished_workflow: Workflow, config: str, expected: set[str]
) -> None:
    assert set(finished_workflow.planned_jobs("--config", config)) == expected


@pytest.mark.slow  # a whole second run of train, evaluate and report: about 6 s
def test_a_run_with_distortions_shows_a_few_distorted_digits_in_its_report(
    finished_copy: Workflow,
) -> None:
    finished_copy.snakemake("--config", "preset=frontier", "epochs=2", "hidden=32")
    log = (finished_copy / "logs/train.log").read_text()
    assert "distortions: elastic (alpha 34, sigma 4), rotation +-10 deg" in log and "epoch 2/2" in log
    metrics = json.loads((finished_copy / "results/metrics.json").read_text())
    assert metrics["model"]["hyperparams"]["elastic_alpha"] == 34.0
    examples = load_examples(finished_copy / "results/distortions.npz")
    assert examples.distorted.shape == (10, PER_DIGIT, 784)
    html = (finished_copy / "results/report.html").read_text()
    assert "<h2>Distorted training digits</h2>" in html
    assert html.count("data:image/png;base64,") == 4


@pytest.mark.parametrize(
    "config",
    first_fast(["openml_name=fashion_mnist", "idx_path=/elsewhere", "images=no/such/folder"],
               ["openml_name", "idx_path", "images"], fast=1),
)
def test_a_setting_that_made_none_of_the_files_reruns_nothing(
    finished_workflow: Workflow, config: str
) -> None:
    # the source is the sample: another source's settings reach neither fetch_mnist nor what
    # evaluate records, and an image folder (empty here) only predict's outputs
    assert finished_workflow.planned_jobs("--config", config) == {}


def test_forced_train_reruns_train_and_what_follows(finished_workflow: Workflow) -> None:
    assert set(finished_workflow.planned_jobs("-R", "train")) == {"train", "evaluate", "report", "draw_page"}


def test_one_target_file_runs_only_its_stages(workflow_copy: Workflow) -> None:
    planned = workflow_copy.planned_jobs(SPLIT)
    assert planned == {"fetch_mnist": 1, "prepare": 1}


def test_touching_sources_and_data_reruns_nothing(finished_workflow: Workflow, tmp_path: Path) -> None:
    # the package is touched in a copy of it (the checkout is left alone), put first on the path
    package = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "mnistflow", package / "mnistflow", copy_function=shutil.copy)
    env = {"PYTHONPATH": str(package)}
    found = subprocess.run([sys.executable, "-c", "import mnistflow; print(mnistflow.__file__)"],
                           env={**os.environ, **env}, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == str(package / "mnistflow" / "__init__.py")
    later = time.time() + 60
    for path in [*(package / "mnistflow").glob("*.py"), *(finished_workflow / "scripts").glob("*.py"),
                 *(finished_workflow / "data").rglob("*.*"), *(finished_workflow / "results").rglob("*.*")]:
        os.utime(path, (later, later))
    assert finished_workflow.planned_jobs(env=env) == {}


@pytest.mark.slow
def test_editing_a_stage_script_reruns_it_and_what_follows(tmp_path: Path) -> None:
    wf = copy_workflow(tmp_path / "wf")
    wf.set_config(epochs=2)
    wf.snakemake()
    script = wf / "scripts/train.py"
    script.write_text(script.read_text() + "\n# an edit\n")
    assert set(wf.planned_jobs()) == {"train", "evaluate", "report", "draw_page"}


def test_a_rebuilt_parquet_with_the_same_content_reruns_nothing_after_it(finished_copy: Workflow) -> None:
    # prepare compares the parquet by checksum; the benchmark files used to be inputs of evaluate,
    # so fetch_mnist's, rewritten by any fetch, reran evaluate and report
    parquet = finished_copy.parquet
    before = parquet.read_bytes()
    finished_copy.snakemake(PARQUET, "-R", "fetch_mnist")  # the fetch alone
    assert parquet.read_bytes() == before
    assert parquet.stat().st_mtime > finished_copy.split.stat().st_mtime
    assert finished_copy.planned_jobs() == {}


def test_report_front_page_names_the_resolved_network_and_recipe(
    finished_workflow: Workflow, tmp_path: Path
) -> None:
    # the config's training keys are null ("the preset's value") but for epochs=5 (FAST)
    report = tmp_path / "snakemake-report.html"
    finished_workflow.snakemake("--report", str(report))
    text = report.read_text()
    front = text[text.index('id="workflow-desc"'):].split("</script>", 1)[0].replace("\\n", " ")
    assert "784-256-10" in front
    assert "5 epochs of sgd (full batch), learning rate 0.5" in front
    assert "None" not in front


@pytest.mark.slow  # end to end; `make test-slow` runs it
def test_results_whose_snakemake_records_are_gone_are_not_called_up_to_date(
    finished_copy: Workflow,
) -> None:
    shutil.rmtree(finished_copy / ".snakemake")
    # the same settings: the old results are the current ones, nothing to do
    assert finished_copy.planned_jobs() == {}
    # other settings: without its records Snakemake would call them up to date; the run stops instead
    result = finished_copy.snakemake("-n", "--config", "epochs=7", "preset=best", check=False)
    assert result.returncode != 0
    assert "results/metrics.json was made with other settings or code than the current ones (preset: " \
           "'exercise' -> 'best'; epochs: 5 -> 7)" in " ".join(result.stdout.split())
    assert "run this command again with `-R train` added" in " ".join(result.stdout.split())
    planned = finished_copy.planned_jobs("--config", "epochs=7", "preset=best", "-R", "train")
    assert planned == {"train": 1, "evaluate": 1, "report": 1, "draw_page": 1}
    result = finished_copy.snakemake("-n", "--config", "test_size=0.3", check=False)
    assert "`-R prepare` added" in " ".join(result.stdout.split())
    # other code (the package first on PYTHONPATH, edited): the stage whose code changed
    src = finished_copy / "src-copy"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    with (src / "mnistflow/training/network.py").open("a") as fh:
        fh.write("\n_EDITED = True\n")
    result = finished_copy.snakemake("-n", env={"PYTHONPATH": str(src)}, check=False)
    said = " ".join(result.stdout.split())
    assert result.returncode != 0 and "code of train: '" in said and "`-R train` added" in said, said[-2000:]

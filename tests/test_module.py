"""The workflow from a folder of one's own: as a Snakemake module of a clone, and by the clone's
Snakefile; its own files are found from the clone, the data and results go to the folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import PARQUET, SPLIT, Workflow, copy_workflow, parse_job_stats
from mnistflow.plumbing.files import sha256_file

# A user's Snakefile: the clone's workflow as a module, with the user's config
MODULE_SNAKEFILE = """\
configfile: "config/config.yaml"


module mnistflow:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from mnistflow
"""
RECIPE = ("--config", "epochs=2")  # a small recipe, as a user would give it
SINGLE_RUN = {"fetch_mnist": 1, "prepare": 1, "train": 1, "evaluate": 1, "report": 1,
              "draw_page": 1}
SAME_BYTES = (PARQUET, SPLIT, "results/model.npz",
              "results/predictions.npz")


def own_folder(path: Path, clone: Workflow, snakefile: str | None = None) -> Workflow:
    """A folder holding config/config.yaml (a copy of the clone's) and, given its text, a Snakefile
    (``{snakefile}`` in it is the clone's workflow/Snakefile)."""
    (path / "config").mkdir(parents=True)
    shutil.copy(clone / "config/config.yaml", path / "config/config.yaml")
    if snakefile is not None:
        (path / "Snakefile").write_text(snakefile.format(snakefile=clone / "workflow/Snakefile"))
    return Workflow(path)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """A copy of the workflow (standing in for a clone), in which nothing has run yet."""
    return copy_workflow(tmp_path_factory.mktemp("clone") / "mnistflow")


def test_a_module_plans_the_single_run_into_the_users_folder(clone: Workflow, tmp_path: Path) -> None:
    # the schema, scripts and environment are found in the clone, whatever the working directory
    mine = own_folder(tmp_path / "mine", clone, MODULE_SNAKEFILE)
    out = mine.snakemake("-n", *RECIPE).stdout
    assert parse_job_stats(out) == SINGLE_RUN
    assert "Using workflow specific profile" not in out  # profiles/default stays in the clone


def test_the_clones_snakefile_runs_from_another_folder_with_its_profile(
    workflow_copy: Workflow, tmp_path: Path
) -> None:
    elsewhere = own_folder(tmp_path / "elsewhere", workflow_copy)
    out = elsewhere.snakemake("-n", "-s", str(workflow_copy / "Snakefile")).stdout
    assert parse_job_stats(out) == SINGLE_RUN
    # found beside the Snakefile: its rerun rules hold for the folder's results too
    assert f"Using workflow specific profile {workflow_copy / 'profiles/default'}" in out
    assert not (workflow_copy / ".snakemake").exists()  # the clone is only read


@pytest.fixture(scope="module")
def module_runs(clone: Workflow, tmp_path_factory: pytest.TempPathFactory) -> tuple[Workflow, Workflow]:
    """(a folder that ran the workflow as a module, the clone that ran it itself): the same recipe,
    each with `snakemake --cores 2` (train's thread count, which the weights depend on, is then 2 in
    both)."""
    mine = own_folder(tmp_path_factory.mktemp("own") / "mine", clone, MODULE_SNAKEFILE)
    mine.snakemake("--cores", "2", *RECIPE)
    clone.snakemake("--cores", "2", *RECIPE)
    return mine, clone


@pytest.mark.slow  # two runs of the whole workflow: about 30 s
def test_a_module_run_gives_the_same_files_as_a_run_in_the_clone(
    module_runs: tuple[Workflow, Workflow],
) -> None:
    mine, clone = module_runs
    for name in SAME_BYTES:
        assert sha256_file(mine / name) == sha256_file(clone / name), name
    metrics = json.loads((mine / "results/metrics.json").read_text())
    assert metrics["test"]["accuracy"] == json.loads(
        (clone / "results/metrics.json").read_text())["test"]["accuracy"]
    assert metrics["config"]["epochs"] == 2 and metrics["model"]["hyperparams"]["epochs"] == 2
    assert (mine / "results/report.html").stat().st_size > 0
    assert (mine / "logs/train.log").is_file() and (mine / "logs/benchmarks/train.tsv").is_file()
    assert mine.planned_jobs(*RECIPE) == {}  # a second run is a no-op


@pytest.mark.slow
def test_a_modules_snakemake_report_has_the_workflows_front_page(
    module_runs: tuple[Workflow, Workflow],
) -> None:
    mine, _ = module_runs
    mine.snakemake("--report", "report.html", *RECIPE)
    text = (mine / "report.html").read_text()
    front = text[text.index('id="workflow-desc"'):].split("</script>", 1)[0].replace("\\n", " ")
    assert "784-256-10" in front and "2 epochs of sgd (full batch)" in front

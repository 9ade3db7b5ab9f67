"""Reproducibility: identical reruns, reruns exactly when code changes, provenance in metrics.json."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from conftest import FAST, PARQUET, ROOT, SPLIT, Workflow, copy_workflow, metrics_without_timings
from mnistflow.plumbing.files import sha256_file
from mnistflow.plumbing.versions import git_commit, git_dirty

# Files that must come out byte-for-byte the same from the same inputs and settings.
IDENTICAL = (
    PARQUET,
    SPLIT,
    "results/model.npz",
    "results/predictions.npz",
)


@pytest.mark.slow
def test_two_runs_from_scratch_give_identical_results(_finished_once: Workflow, tmp_path: Path) -> None:
    second = copy_workflow(tmp_path / "wf")
    second.set_config(**FAST)
    second.snakemake()
    for name in IDENTICAL:
        assert (second / name).read_bytes() == (_finished_once / name).read_bytes(), name
    assert metrics_without_timings(second) == metrics_without_timings(_finished_once)

    def history(wf: Workflow) -> list[list[str]]:  # epoch, loss, accuracy; not the seconds column
        lines = (wf / "results/training_log.csv").read_text().splitlines()
        return [line.split(",")[:3] for line in lines]

    assert history(second) == history(_finished_once)


def test_metrics_record_provenance(_finished_once: Workflow) -> None:
    metrics = json.loads((_finished_once / "results/metrics.json").read_text())
    assert metrics["sha256"] == {
        "parquet": sha256_file(_finished_once.parquet),
        "split": sha256_file(_finished_once.split),
        "model": sha256_file(_finished_once / "results/model.npz"),
    }
    config = yaml.safe_load((_finished_once / "config/config.yaml").read_text())
    # the settings that made the model and its data: not `images`, which only predict reads, nor
    # the settings of the sources not chosen (changing them must not rerun evaluate)
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())["properties"]
    del config["images"]
    recorded = {key: value for key, value in config.items()
                if schema[key].get("for_source", config["source"]) == config["source"]}
    assert metrics["config"] == recorded
    assert metrics["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    for lib in ("numpy", "scikit-learn", "snakemake", "pyarrow"):
        assert metrics["versions"][lib] == metadata.version(lib)
    assert metrics["git_commit"] is None  # the test's copy is not a git checkout
    assert metrics["git_dirty"] is None


def test_git_commit_is_recorded_in_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run([*git, "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "c"], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    monkeypatch.chdir(tmp_path)
    assert git_commit() == head
    assert git_dirty() is False
    (tmp_path / "f").write_text("edited")
    assert git_dirty() is True


# --- reruns follow the content of the code, not file times ---------------------------------------


def _edit_function(path: Path, function: str) -> None:
    """Add a statement to ``function`` in ``path`` (a real edit of its body, not a comment); for
    ``__doc__``, a statement at the end of the module."""
    source = path.read_text()
    if function == "__doc__":
        path.write_text(source + "\n_EDITED = True\n")
        return
    tree = ast.parse(source)
    node = next(n for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef) and n.name == function)
    last = node.body[-1]
    lines = source.splitlines(keepends=True)
    lines.insert(last.lineno - 1, " " * last.col_offset + "pass  # an edit\n")
    path.write_text("".join(lines))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "function", "expected"),
    [
        ("training/network", "forward", {"train", "evaluate", "report", "draw_page"}),
        ("evaluation/report", "render_html", {"report"}),
        # a part's front door: every stage that imports a module of the part runs it first
        ("training/__init__", "__doc__", {"train", "evaluate", "report", "draw_page"}),
    ],
    ids=["network.forward", "report.render_html", "training-front-door"],
)
def test_editing_a_package_function_reruns_the_stages_that_use_it(
    finished_copy: Workflow, tmp_path: Path, module: str, function: str, expected: set[str]
) -> None:
    # a copy of the package first on PYTHONPATH: the real source is never edited
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {"PYTHONPATH": str(src)}
    # same content at another place, with new file times: nothing to do
    assert finished_copy.planned_jobs(env=env) == {}
    _edit_function(src / "mnistflow" / f"{module}.py", function)
    assert set(finished_copy.planned_jobs(env=env)) == expected
    # the dry run's reason names the module that changed
    name = "mnistflow." + module.removesuffix("/__init__").replace("/", ".")
    reasons = [line for line in finished_copy.snakemake("-n", env=env).stdout.splitlines()
               if "reason: Params have changed" in line]
    assert reasons and all(re.search(rf"before: '{re.escape(name)} \w+' now: '{re.escape(name)} \w+'", r)
                           for r in reasons), reasons

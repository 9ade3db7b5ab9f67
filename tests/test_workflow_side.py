"""scripts/_workflow.py, what the stage scripts know of Snakemake: its benchmark files, the command
that rebuilds an input, and that the package itself knows none of it."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from _workflow import Benchmark, read_benchmark, rebuild_hints, stage_seconds
from conftest import ROOT
from mnistflow.plumbing.code_digest import stage_modules
from mnistflow.plumbing.errors import DataError

BENCHMARK = "s\th:m:s\tmax_rss\tmax_vms\n1.2505\t0:00:01\t80.5\t300\n"


def test_a_benchmark_gives_the_seconds_and_peak_memory_of_the_jobs_last_run(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text(BENCHMARK)
    assert read_benchmark(tmp_path / "train.tsv") == Benchmark(seconds=1.2505, max_rss=80.5)
    # without psutil's numbers Snakemake writes NA: unknown, not a number made up
    (tmp_path / "na.tsv").write_text("s\th:m:s\tmax_rss\n2\t0:00:02\tNA\n")
    assert read_benchmark(tmp_path / "na.tsv") == Benchmark(seconds=2.0, max_rss=None)


@pytest.mark.parametrize("content", [None, "", "s\n", "x\ty\n1\t2\n", "s\tmax_rss\n"],
                         ids=["missing", "empty", "no-row", "no-s-column", "header-only"])
def test_a_file_that_is_not_a_benchmark_is_a_data_error_naming_it(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "train.tsv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=r"train.tsv: not a Snakemake benchmark file"):
        read_benchmark(path)


def test_stage_seconds_reads_the_s_column(tmp_path: Path) -> None:
    (tmp_path / "fetch.tsv").write_text(BENCHMARK)
    (tmp_path / "train.tsv").write_text(BENCHMARK.replace("1.2505", "7"))
    seconds = stage_seconds({"fetch_mnist": tmp_path / "fetch.tsv", "train": tmp_path / "train.tsv"})
    assert seconds == {"fetch_mnist": 1.25, "train": 7.0}


@pytest.mark.parametrize("content", [None, "", "s\n", "x\ty\n1\t2\n", "s\tmax_rss\nslow\t1\n"],
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
    assert f"{path}: " in caplog.text and "the seconds of prepare are left out" in caplog.text


def test_the_rebuild_hint_names_the_rule_that_makes_the_file() -> None:
    assert rebuild_hints({"data/processed/split.npz": "prepare"}) == {
        "data/processed/split.npz": "rebuild it with `snakemake --cores 1 -R prepare`"}


def test_every_stage_scripts_code_digest_covers_the_helper() -> None:
    # editing the helper (how seconds are read, say) reruns the stages whose scripts use it
    for script in sorted((ROOT / "scripts").glob("[!_]*.py")):
        assert stage_modules(script)["_workflow"] == ROOT / "scripts" / "_workflow.py", script.name


def _snakemake_words(source: str) -> list[str]:
    """The string constants and imported names of a module's code that name Snakemake (its
    docstrings and comments may explain what the workflow does with the module)."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found += [node.value] if "snakemake" in node.value.lower() else []
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            found += [n for n in names if "snakemake" in n.lower()]
    return found


PACKAGE = ROOT / "src" / "mnistflow"
MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))
# the modules that may name Snakemake, and how often
NAMES_SNAKEMAKE = {
    # config/README.md and config/config.yaml, which it writes, say `snakemake --config key=value`
    "settings/settings_docs.py": 2,
    "plumbing/versions.py": 1,  # the installed Snakemake's version, recorded with the others
}


@pytest.mark.parametrize("module", MODULES)
def test_the_package_names_no_snakemake_command_rule_or_file(module: str) -> None:
    # rebuild hints, rule names, benchmark files and commands belong to scripts/ and workflow/
    words = _snakemake_words((PACKAGE / module).read_text())
    assert len(words) <= NAMES_SNAKEMAKE.get(module, 0), words


def test_the_modules_allowed_to_name_snakemake_exist() -> None:
    # a module moved away would leave its allowance to nothing, and its words untested
    assert set(NAMES_SNAKEMAKE) <= set(MODULES)

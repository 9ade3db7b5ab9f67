"""Packaging and deployment: environment.yml (conda) and pyproject.toml (pip) list the same runtime
dependencies, and the workflow loads in a Snakemake that has neither this package nor the libraries
only its jobs need."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml

from conftest import ROOT, WORKFLOW_FILES, copy_workflow, parse_job_stats


def _name_and_spec(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(map(_name_and_spec, project["dependencies"]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_deps = dict(
        _name_and_spec(dep) for dep in env["dependencies"] if isinstance(dep, str)
    )
    python = conda_deps.pop("python")
    conda_deps.pop("pip", None)
    assert conda_deps == pip_deps
    assert python == project["requires-python"]
    assert "conda-forge" in env["channels"]


def _closure(names: set[str]) -> set[str]:
    """The distributions ``names`` need, themselves included (extras left out), as installed here."""
    todo, found = set(names), set()
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo |= {_name_and_spec(r.split(";")[0])[0] for r in requires if "extra ==" not in r}
    return found


def _only_the_jobs_need() -> set[str]:
    """Top-level modules of the libraries this project needs that Snakemake (with its installed
    plugins) does not: they are missing where Snakemake runs without the project."""
    snakemake_side = _closure({"snakemake"} | {
        d.metadata["Name"].lower() for d in metadata.distributions()
        if d.metadata["Name"].lower().startswith("snakemake-")
    })
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = _closure({_name_and_spec(r)[0] for r in project["dependencies"]}) - snakemake_side
    modules = metadata.packages_distributions()
    return {m for m, dists in modules.items() if {d.lower() for d in dists} <= ours}


# Run Snakemake as it is without this project: the installed mnistflow (the editable install's src/
# on sys.path) and the libraries only the jobs need are hidden.
_SNAKEMAKE_ALONE = """
import importlib.abc, sys
HIDDEN = set(sys.argv[1].split(","))
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None
sys.meta_path.insert(0, Hide())
sys.path = [p for p in sys.path if not p.endswith("/src")]
import importlib.util
assert importlib.util.find_spec("mnistflow") is None, "mnistflow is still importable"
from snakemake.cli import main
sys.argv = ["snakemake", *sys.argv[2:]]
main()
"""


def test_the_workflow_loads_in_a_snakemake_without_this_package(tmp_path: Path) -> None:
    hidden = _only_the_jobs_need()
    assert {"sklearn", "pyarrow", "matplotlib", "mlxtend", "PIL"} <= hidden
    wf = copy_workflow(tmp_path / "wf", (*WORKFLOW_FILES, "src"))
    result = subprocess.run(
        [sys.executable, "-c", _SNAKEMAKE_ALONE, ",".join(hidden), "-n", "--cores", "1"],
        cwd=wf.path, capture_output=True, text=True, timeout=300, check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert parse_job_stats(out) == {"fetch_mnist": 1, "prepare": 1, "train": 1, "evaluate": 1,
                                    "report": 1}

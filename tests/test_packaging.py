"""Packaging and deployment: environment.yml (conda) and pyproject.toml (pip) list the same runtime
dependencies, the conda environment gets the project itself (environment.post-deploy.sh), and the
workflow loads in a Snakemake that has neither this package nor the libraries only its jobs need.

No conda here: these tests check the files and the script, not an environment made by conda."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conftest import ROOT, WORKFLOW_FILES, copy_workflow, parse_job_stats


def _name_and_spec(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    pip_deps = dict(map(_name_and_spec, project["dependencies"]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert all(isinstance(dep, str) for dep in env["dependencies"])  # no `pip:` section
    conda_deps = dict(_name_and_spec(dep) for dep in env["dependencies"])
    assert conda_deps.pop("python") == project["requires-python"]
    # what environment.post-deploy.sh needs to install the project: pip, and the build backend
    assert conda_deps.pop("pip") == ""
    (backend,) = pyproject["build-system"]["requires"]
    name, spec = _name_and_spec(backend)
    lowest = Version(conda_deps.pop(name).removeprefix(">="))  # 70.1: editable without `wheel`
    assert lowest in SpecifierSet(spec) and lowest >= Version("70.1")
    assert conda_deps == pip_deps  # every runtime dependency, with the same versions
    assert "conda-forge" in env["channels"]


def _post_deploy(
    args: list[str], cwd: Path, project: str | None
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run environment.post-deploy.sh as Snakemake does (bash, in an activated environment), with a
    stand-in `python` first on PATH that records its arguments; (result, the arguments)."""
    bin_dir = cwd / "env-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python").write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/called"\n')
    (bin_dir / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("MNISTFLOW_PROJECT", None)
    if project is not None:
        env["MNISTFLOW_PROJECT"] = project
    result = subprocess.run(["bash", *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    called = bin_dir / "called"
    arguments = called.read_text().strip() if called.exists() else ""
    called.unlink(missing_ok=True)
    return result, arguments


def test_the_conda_environment_gets_the_project_itself(tmp_path: Path) -> None:
    # every rule's environment is environment.yml, and Snakemake runs `<it without .yml>.post-deploy.sh`
    # in the new environment, from a copy in .snakemake/conda/, with its own environment variables,
    # where common.smk set MNISTFLOW_PROJECT
    rules = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    assert set(re.findall(r"conda:\n\s+(.+)\n", rules)) == {'"../../environment.yml"'}
    script = ROOT / "environment.post-deploy.sh"
    copy = tmp_path / ".snakemake" / "conda" / "0123abcd.post-deploy.sh"
    copy.parent.mkdir(parents=True)
    shutil.copy(script, copy)
    result, called = _post_deploy([str(copy)], tmp_path, project=str(ROOT))
    assert result.returncode == 0, result.stderr
    install = f"-m pip install --no-deps --no-build-isolation --editable {ROOT}"
    assert called == install
    # by hand, in an activated environment: the clone the script sits in, from any folder
    result, called = _post_deploy([str(script)], tmp_path, project=None)
    assert result.returncode == 0 and called == install, result.stderr
    # a copy that does not know the clone says so, and installs nothing
    result, called = _post_deploy([str(copy)], tmp_path, project=None)
    assert result.returncode == 1 and called == ""
    assert "is not a clone of mnistflow" in result.stderr and "MNISTFLOW_PROJECT" in result.stderr


def test_the_workflow_tells_the_post_deploy_script_which_clone_to_install(tmp_path: Path) -> None:
    wf = copy_workflow(tmp_path / "wf")
    (wf / "show.smk").write_text(
        'include: "Snakefile"\n\nimport os\n\nprint("project:", os.environ["MNISTFLOW_PROJECT"])\n')
    out = wf.snakemake("-n", "-s", "show.smk", env={"MNISTFLOW_PROJECT": "elsewhere"}).stdout
    assert f"project: {wf.path}\n" in out


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
                                    "report": 1, "draw_page": 1}

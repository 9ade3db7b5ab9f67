"""environment.yml (conda) and pyproject.toml (pip) must list the same runtime dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


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

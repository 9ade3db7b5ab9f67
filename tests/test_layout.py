"""The package's layout holds what src/mnistflow/__init__.py promises: parts with front doors, private
modules kept inside their part, no circle of imports, modules of one job and a readable size, and
the modules the workflow imports while Snakemake parses it free of NumPy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "mnistflow"
PARTS = ("data", "evaluation", "own_digits", "plumbing", "settings", "sweeps", "training")
MAX_LINES = 260  # "about 250": a module a reader takes in at one sitting


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """The mnistflow modules a file imports (``from a.b import c`` gives a.b.c when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name in MODULES and name != "mnistflow"}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def test_every_module_lives_in_a_part() -> None:
    loose = [name for name in MODULES if name.count(".") == 1 and name.split(".")[1] not in PARTS
             and name not in ("mnistflow.__main__",)]
    assert loose == []
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == list(PARTS)


@pytest.mark.parametrize("part", PARTS)
def test_each_part_has_a_front_door_naming_its_public_modules(part: str) -> None:
    door = PACKAGE / part / "__init__.py"
    tree = ast.parse(door.read_text())
    assert ast.get_docstring(tree), f"{part}/__init__.py says nothing about the part"
    public = sorted(p.stem if p.suffix == ".py" else p.name for p in (PACKAGE / part).iterdir()
                    if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").is_file()))
    exported = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                    and getattr(n.targets[0], "id", "") == "__all__")
    assert sorted(exported) == public


def test_no_private_module_is_imported_from_outside_its_package() -> None:
    wrong = []
    for importer, imported in GRAPH.items():
        for name in imported:
            package, _, leaf = name.rpartition(".")
            if leaf.startswith("_") and not leaf.startswith("__") and not importer.startswith(package):
                wrong.append(f"{importer} imports {name}")
    # the stage scripts and the benchmarks go through the front doors too
    for path in [*(ROOT / "scripts").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]:
        wrong += [f"{path.name} imports {name}" for name in _imports(path)
                  if any(p.startswith("_") and not p.startswith("__") for p in name.split(".")[1:])]
    assert wrong == []


def test_the_engine_uses_the_maths_and_the_recipe_never_the_loop() -> None:
    engine = {name: deps for name, deps in GRAPH.items() if name.startswith("mnistflow.training.engine")}
    outside = {dep for deps in engine.values() for dep in deps
               if not dep.startswith("mnistflow.training.engine")}
    assert outside <= {"mnistflow.training.network", "mnistflow.training.optimizers",
                       "mnistflow.training.shifts", "mnistflow.training.blocks", "mnistflow.settings.presets",
                       "mnistflow.training"}


def test_no_module_imports_itself_back_through_others() -> None:
    # depth-first search for a cycle in the module graph (a package counts for its __init__ only)
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for dep in sorted(GRAPH.get(name, ())):
            if state.get(dep) == 1:
                return [*path, name, dep]
            if dep not in state and (cycle := visit(dep, [*path, name])):
                return cycle
        state[name] = 2
        return None

    for name in MODULES:
        if name not in state:
            assert visit(name, []) is None


@pytest.mark.parametrize("name", sorted(MODULES), ids=lambda n: n.removeprefix("mnistflow."))
def test_no_module_is_longer_than_a_sitting(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines"


def _parse_time_modules() -> list[str]:
    """The mnistflow modules the workflow's .smk files import while Snakemake parses them."""
    found = set()
    workflow = ROOT / "workflow"
    smk = [ROOT / "Snakefile", *workflow.glob("Snakefile"), *sorted(workflow.rglob("*.smk"))]
    for path in smk:
        found |= set(re.findall(r"^\s*from (mnistflow[\w.]*) import", path.read_text(), re.M))
        found |= set(re.findall(r"^\s*import (mnistflow[\w.]*)", path.read_text(), re.M))
    return sorted(found)


def test_the_modules_the_workflow_imports_at_parse_time_load_no_numpy() -> None:
    modules = _parse_time_modules()
    assert "mnistflow.settings.schema" in modules  # found them
    heavy = ("numpy", "pandas", "sklearn", "matplotlib", "pyarrow")
    code = f"import sys; import {', '.join(modules)}; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

"""Code digests: which code made a result, as a param that reruns a stage when it changes.

``code_digest`` is how the workflow reruns a stage when, and only when, its code changes: the rule
passes the digest of its script, and of every module it imports from ``mnistflow`` or from the
script's own folder (followed transitively), as a param. Snakemake reruns a job whose params
changed, so editing a function reruns the stages that use it, while touching a file (or a fresh
checkout of the same content) does not.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

__all__ = ["code_digest", "files_digest", "module_digests", "stage_modules"]

PACKAGE = "mnistflow"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/mnistflow


@functools.lru_cache(maxsize=256)
def _imported_modules(source: str, module: str | None) -> frozenset[str]:
    """Names a piece of source imports (absolute and relative imports; ``from m import f`` gives
    ``m`` and ``m.f``, as ``f`` may be a module).

    Cached by content: the five stages share most modules, and parsing is most of the time the
    workflow takes to compute the code digests (which it does on every run, a no-op included).
    """
    if "import" not in source:
        return frozenset()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and module:  # relative import inside the package
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            # `from mnistflow import network` imports a module; `from m import f` a name in m
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(names)
    return frozenset(found)


def _module_file(name: str, folder: Path) -> Path | None:
    """The file of module ``name`` if it is a mnistflow module or a module in ``folder`` (the
    script's); None for any other module, and for a function or class in a module."""
    parts = name.split(".")
    candidates: tuple[Path, ...]
    if parts[0] == PACKAGE:
        base = _PACKAGE_DIR.joinpath(*parts[1:])
        candidates = (base.with_suffix(".py"), base / "__init__.py")
    else:
        candidates = (folder.joinpath(*parts).with_suffix(".py"),)
    return next((c for c in candidates if c.is_file()), None)


def stage_modules(script: str | Path) -> dict[str, Path]:
    """The script and every module it depends on (transitively) from mnistflow or from the
    script's own folder, as {name: file}."""
    files = {"script": Path(script)}
    folder = Path(script).parent
    todo = set(_imported_modules(Path(script).read_text(), None))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.partition(".")[0] == PACKAGE:  # importing a.b.c runs a/__init__ and a/b/__init__ first
            parts = name.split(".")
            todo |= {".".join(parts[:i]) for i in range(1, len(parts))} - seen
        path = _module_file(name, folder)
        if path is not None:
            files[name] = path
            todo |= _imported_modules(path.read_text(), name if name.partition(".")[0] == PACKAGE else None)
    return files


def code_digest(script: str | Path) -> str:
    """sha256 over the content of a stage's script and of the modules it uses (see stage_modules)."""
    digest = hashlib.sha256()
    for name, path in sorted(stage_modules(script).items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def module_digests(script: str | Path) -> dict[str, str]:
    """{module: sha256 of its file} for a stage's script (``"script"``) and each module it uses (see
    stage_modules), 16 hex digits each: a digest per module, so that a change names the module."""
    return {name: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            for name, path in sorted(stage_modules(script).items())}


def files_digest(paths: list[str] | list[Path]) -> str:
    """sha256 over the names and contents of files from outside the workflow (IDX files, images).

    A rule passes it as a param so that a changed file reruns the job whatever its modification time:
    Snakemake compares an input's checksum only when the input is *newer* than the output, so a file
    replaced by an older one (``cp -p``, ``tar x``, ``rsync -a``, a git checkout) would go unnoticed.
    Adding, removing or renaming a file changes the digest too; moving the folder does not (only the
    file names count, not the folders they are in).
    """
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:16]



"""The README's examples run as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, Workflow


def _python_block(heading: str) -> str:
    """The first ```python block under a README heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def test_the_use_it_from_python_example_runs(
    _finished_once: Workflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the workflow's split, in a folder of its own: the example writes my_model.npz where it runs
    split = tmp_path / _finished_once.split.relative_to(_finished_once.path)  # the default settings' folder
    split.parent.mkdir(parents=True)
    shutil.copy(_finished_once.split, split)
    monkeypatch.chdir(tmp_path)
    exec(compile(_python_block("## Use it from Python"), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert re.search(r"^epoch 3: loss \d\.\d{3}$", out, re.M), out
    accuracy = float(re.search(r"^test accuracy (\d\.\d{3})$", out, re.M).group(1))  # type: ignore[union-attr]
    assert accuracy > 0.8
    assert (tmp_path / "my_model.npz").is_file()


def _docs_python_block(page: str, heading: str) -> str:
    """The first ```python block under a heading of a docs page."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block under {heading!r} in docs/{page}"
    return match.group(1)


def test_the_own_digits_python_example_runs(
    _finished_once: Workflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PIL import Image

    (tmp_path / "results").mkdir()
    shutil.copy(_finished_once / "results/model.npz", tmp_path / "results/model.npz")
    example = sorted((ROOT / "examples/images").iterdir())[0]
    Image.open(example).convert("RGB").save(tmp_path / "my-digit.jpg")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(_docs_python_block("own-digits.md", "## From Python"), "docs/own-digits.md", "exec"), scope)
    proba = scope["proba"]
    assert getattr(proba, "shape", None) == (1, 10)

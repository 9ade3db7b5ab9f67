"""The README is a short front door and the docs pages say what the code does: links resolve,
commands run as written, and every preset named is one the package has."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from mnistflow.settings.presets import PRESETS

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
PAGE_IDS = [str(page.relative_to(ROOT)) for page in PAGES]

# [text](target) in Markdown, not images' sources
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SHELL = {"bash", "sh", "shell", "console", ""}  # fenced blocks of commands (or of no language)
CORES = re.compile(r"(?:^|\s)(?:--cores|-c)(?:[\s=]|\d|$)")

# the ways a page names a preset: `preset=best`, `preset: best`, preset `best`, the `best` preset or
# recipe, PRESETS["best"], "epochs of/for `best`", and `best` beside another preset ("`a` / `b`",
# "`a` or `b`"; not commas, which also list a preset beside settings)
NAMED_PRESET = [
    re.compile(r"\bpreset\s*[=:]\s*`?([A-Za-z_]\w*)"),
    re.compile(r"\bpresets?\s+`([A-Za-z_]\w*)`"),
    re.compile(r"`([A-Za-z_]\w*)`\s+(?:preset|recipe)\b"),
    re.compile(r"PRESETS\[[\"']([A-Za-z_]\w*)[\"']\]"),
    re.compile(r"\bepochs (?:of|for) `([A-Za-z_]\w*)`"),
]
LISTED = re.compile(r"`([A-Za-z_]\w*)`(?:\s*(?:/|\bor\b)\s*`([A-Za-z_]\w*)`)+")


def _commands(text: str) -> list[str]:
    """The lines of the page's shell blocks that run snakemake (without their comments)."""
    lines, language = [], None  # language: that of the open block, None outside blocks
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            language = stripped[3:].strip() if language is None else None
        elif language in SHELL:
            command = stripped.removeprefix("$ ")
            if command == "snakemake" or command.startswith("snakemake "):
                lines.append(command.split(" #")[0].strip())
    return lines


def _presets_named(text: str) -> set[str]:
    names = {m.group(1) for pattern in NAMED_PRESET for m in pattern.finditer(text)}
    for match in LISTED.finditer(text):
        listed = re.findall(r"`([A-Za-z_]\w*)`", match.group(0))
        if set(listed) & set(PRESETS):  # a list of presets: every name in it must be one
            names.update(listed)
    return names


def test_the_readme_is_a_front_door_of_at_most_200_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_every_relative_link_of_the_readme_points_to_a_file_that_exists() -> None:
    targets = LINK.findall(README.read_text(encoding="utf-8"))
    relative = [t for t in targets if not re.match(r"[a-z]+:|#", t)]
    assert relative, "the README links to no page"
    missing = [t for t in relative if not (ROOT / t.split("#")[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_the_readme_links_to_every_docs_page() -> None:
    linked = {t.split("#")[0] for t in LINK.findall(README.read_text(encoding="utf-8"))}
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert pages - linked == set()


def test_mkdocs_nav_lists_every_docs_page_once() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = [next(iter(entry.values())) for entry in config["nav"]]
    assert sorted(nav) == sorted(page.name for page in DOCS.glob("*.md"))
    assert len(set(nav)) == len(nav)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_snakemake_command_of_a_page_says_how_many_cores_or_uses_a_profile(page: Path) -> None:
    bad = [line for line in _commands(page.read_text(encoding="utf-8"))
           if not CORES.search(line) and "--profile" not in line]
    assert not bad, f"{page.name}: snakemake without --cores (or --profile): {bad}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_preset_a_page_names_is_one_of_the_packages(page: Path) -> None:
    unknown = _presets_named(page.read_text(encoding="utf-8")) - set(PRESETS)
    assert not unknown, f"{page.name} names presets the package does not have: {sorted(unknown)}"


@pytest.mark.parametrize(
    ("text", "commands_without_cores", "unknown_presets"),
    [
        ("```bash\nsnakemake --cores all -n\nsnakemake -c2\n```\n", [], set()),
        ("```\nsnakemake -R train\n```\n", ["snakemake -R train"], set()),
        ("```sh\nsnakemake --profile mycluster -n   # dry run\n```\n", [], set()),
        ("```python\nx = 1\n```\nsnakemake -n in prose\n```bash\nmake run\n```\n", [], set()),
        ("sample, `seed` / `best`: seconds; 1,000 epochs of `seed`", [], {"seed"}),
        ("`snakemake --cores all --config preset=fast`", [], {"fast"}),
        ("the `seed` preset; `hidden`, `epochs` and `seed` settings", [], {"seed"}),
        ("`frontier` with `shift`, `exercise` with `l2`; `exercise` or `fast`", [], {"fast"}),
    ],
    ids=["cores-given", "cores-missing", "profile", "prose-between-blocks", "old-preset-listed",
         "preset-setting", "preset-word", "presets-beside-settings"],
)
def test_the_checks_catch_what_they_are_for(
    text: str, commands_without_cores: list[str], unknown_presets: set[str],
) -> None:
    bad = [line for line in _commands(text) if not CORES.search(line) and "--profile" not in line]
    assert bad == commands_without_cores
    assert _presets_named(text) - set(PRESETS) == unknown_presets


def test_the_docs_site_builds_with_no_broken_link_or_anchor(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    # a copy, so that the build writes nothing into the checkout
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    config = load_config(str(tmp_path / "mkdocs.yml"), strict=True, site_dir=str(tmp_path / "site"))
    build(config)  # strict: a warning (broken link, missing anchor, page left out of nav) raises

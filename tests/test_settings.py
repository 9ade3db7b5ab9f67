"""The schema is the one declaration of every setting: everything else that lists settings either is
generated from it (config/README.md) or agrees with it (config/config.yaml, the README's tables,
mnistflow.presets), and a key left out of the config takes the schema's default."""

from __future__ import annotations

import inspect
import re
from dataclasses import asdict, fields
from typing import Any

import yaml

from conftest import ROOT, Workflow
from mnistflow.config import load_schema, settings_markdown
from mnistflow.presets import PRESETS, Hyperparams

SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
PROPERTIES: dict[str, Any] = SCHEMA["properties"]


def _value(cell: str) -> Any:
    """A README table cell ('`sgd`', '0.5', '`null`', '`""`') as the YAML value it stands for."""
    return yaml.safe_load(cell.strip().strip("`"))


def test_config_yaml_holds_every_key_in_the_schemas_order_at_its_default_with_a_comment() -> None:
    text = (ROOT / "config" / "config.yaml").read_text()
    config = yaml.safe_load(text)
    assert list(config) == list(PROPERTIES)
    assert {k: PROPERTIES[k]["default"] for k in config} == config
    lines = text.splitlines()
    for key in config:
        line = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        assert lines[line - 1].startswith("#"), f"{key} has no comment above it"


def test_every_setting_has_a_type_a_default_and_a_description() -> None:
    for key, spec in PROPERTIES.items():
        assert {"type", "default", "description"} <= set(spec), key


def test_the_packages_presets_are_the_schemas() -> None:
    in_schema = {key for key, spec in PROPERTIES.items() if "presets" in spec}
    assert in_schema == {f.name for f in fields(Hyperparams)} - {"seed", "dtype"}
    assert list(PRESETS) == PROPERTIES["preset"]["enum"]
    for name, hp in PRESETS.items():
        assert {k: v for k, v in asdict(hp).items() if k in in_schema} == {
            k: PROPERTIES[k]["presets"][name] for k in in_schema
        }, name
    # the keys both presets share take the config's value
    assert PRESETS["exercise"].seed == PROPERTIES["seed"]["default"]
    assert PRESETS["exercise"].dtype == PROPERTIES["dtype"]["default"]


def test_config_readme_is_generated_from_the_schema() -> None:
    assert (ROOT / "config" / "README.md").read_text() == settings_markdown(SCHEMA), (
        "config/README.md is out of date: run `make docs`"
    )


def _table(heading: str) -> list[list[str]]:
    """Rows (cells) of the README table whose header row is ``heading``."""
    text = (ROOT / "README.md").read_text()
    start = text.index(heading + "\n")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_the_readmes_settings_table_gives_the_schemas_defaults() -> None:
    rows = _table("| key | default | stage | meaning |")
    for keys, default, *_ in rows:
        for key in re.findall(r"`(\w+)`", keys):
            assert _value(default) == PROPERTIES[key]["default"], key


def test_the_readmes_presets_table_gives_the_schemas_values() -> None:
    names = list(PRESETS)
    rows = _table("| key | " + " | ".join(f"`{name}`" for name in names) + " | meaning |")
    keys = [re.fullmatch(r"`(\w+)`", row[0]).group(1) for row in rows]  # type: ignore[union-attr]
    assert keys == ["preset", *(f.name for f in fields(Hyperparams))]
    for key, *cells, _ in rows[1:]:
        spec = PROPERTIES[key.strip("`")]
        # seed and dtype: the config's value, whatever the preset
        values = spec.get("presets") or dict.fromkeys(names, spec["default"])
        assert [_value(cell) for cell in cells] == [values[name] for name in names], key


def test_a_config_with_only_some_keys_takes_the_schemas_defaults(workflow_copy: Workflow) -> None:
    (workflow_copy / "config" / "config.yaml").write_text("epochs: 5\ntest_size: 0.25\n")
    out = workflow_copy.snakemake("-n", "-p").stdout
    assert "Nothing to be done" not in out
    assert "Job stats" in out
    planned = workflow_copy.planned_jobs()
    assert planned == {"fetch_mnist": 1, "prepare": 1, "train": 1, "evaluate": 1, "report": 1}


def test_each_fetch_setting_names_its_source_and_is_a_keyword_of_the_loader() -> None:
    from mnistflow.sources import SOURCES, load

    keywords = set(inspect.signature(load).parameters) - {"source", "downloads"}
    by_source = {key: spec["for_source"] for key, spec in PROPERTIES.items() if "for_source" in spec}
    assert set(by_source) == keywords
    assert set(by_source.values()) <= set(SOURCES)
    assert all(key.startswith(source + "_") for key, source in by_source.items())

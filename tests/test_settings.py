"""The schema is the one declaration of every setting and the presets the one place of their values:
config/README.md, docs/settings.md and config/config.yaml are generated from both, and a key left
out of the config takes the schema's default."""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import Any

import pytest
import yaml

from conftest import ROOT, Workflow
from mnistflow.settings.presets import PRESETS, Hyperparams
from mnistflow.settings.schema import load_schema
from mnistflow.settings.settings_docs import config_yaml, settings_markdown

SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
PROPERTIES: dict[str, Any] = SCHEMA["properties"]


def test_config_yaml_is_generated_from_the_schema_and_the_presets() -> None:
    text = (ROOT / "config" / "config.yaml").read_text()
    assert text == config_yaml(SCHEMA), (
        "config/config.yaml differs from the defaults and words of the schema: "
        "python -m mnistflow.settings config > config/config.yaml (this resets it to the defaults)"
    )
    assert yaml.safe_load(text) == {key: spec["default"] for key, spec in PROPERTIES.items()}


def test_every_setting_has_a_type_a_default_and_a_description() -> None:
    for key, spec in PROPERTIES.items():
        assert {"type", "default", "description"} <= set(spec), key


def test_every_training_setting_is_a_nullable_key_of_the_schema_and_the_presets_are_its_enum() -> None:
    assert list(PRESETS) == PROPERTIES["preset"]["enum"]
    for f in fields(Hyperparams):
        spec = PROPERTIES[f.name]
        if f.name in ("seed", "dtype"):  # the config's value, whatever the preset
            assert spec["default"] == getattr(PRESETS["exercise"], f.name), f.name
        else:
            assert spec["default"] is None and "null" in spec["type"], f.name


@pytest.mark.parametrize(("path", "page"), [("config/README.md", "reference"), ("docs/settings.md", "docs")],
                         ids=["config-readme", "docs-site"])
def test_the_settings_reference_is_generated_from_the_schema(path: str, page: str) -> None:
    expected = settings_markdown(SCHEMA, None if page == "docs" else "config.yaml")
    assert (ROOT / path).read_text() == expected, f"{path} is out of date: run `make docs`"


def test_no_hand_written_page_repeats_a_setting_table() -> None:
    # the generated reference is the only table of settings: a page with a `| key |` table copies it
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        if page.name == "settings.md":
            continue
        assert "| key |" not in page.read_text(), f"{page.relative_to(ROOT)} holds a settings table"


def test_a_config_with_only_some_keys_takes_the_schemas_defaults(workflow_copy: Workflow) -> None:
    (workflow_copy / "config" / "config.yaml").write_text("epochs: 5\ntest_size: 0.25\n")
    out = workflow_copy.snakemake("-n", "-p").stdout
    assert "Nothing to be done" not in out
    assert "Job stats" in out
    planned = workflow_copy.planned_jobs()
    assert planned == {"fetch_mnist": 1, "prepare": 1, "train": 1, "evaluate": 1, "report": 1,
                       "draw_page": 1}


def test_each_fetch_setting_names_its_source_and_is_a_keyword_of_the_loader() -> None:
    from mnistflow.data.sources import SOURCES, load

    keywords = set(inspect.signature(load).parameters) - {"source", "downloads"}
    by_source = {key: spec["for_source"] for key, spec in PROPERTIES.items() if "for_source" in spec}
    assert set(by_source) == keywords
    assert set(by_source.values()) <= set(SOURCES)
    assert all(key.startswith(source + "_") for key, source in by_source.items())

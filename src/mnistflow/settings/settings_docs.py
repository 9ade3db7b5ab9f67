"""The settings reference (config/README.md, docs/settings.md) and the commented config/config.yaml,
generated from the schema and the presets, so that a setting's words and values are written once:
its type, range, default and description in ``workflow/schemas/config.schema.yaml``, a training key's
value in each preset in :data:`mnistflow.settings.presets.PRESETS`.

``python -m mnistflow.settings reference|config [ROOT]`` prints either file (``make docs``);
tests/test_settings.py fails when a committed copy differs from what this module makes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from mnistflow.settings.presets import PRESETS
from mnistflow.settings.schema import allowed, show_value

__all__ = ["SECTIONS", "config_yaml", "preset_values", "settings_markdown"]

# The config file's sections: the first key of each, and its heading (the stage that reads the keys).
SECTIONS = {
    "source": "fetch_mnist: where the digits come from",
    "split": "prepare: normalise, one-hot, split",
    "preset": "train: the 784-hidden-10 network",
    "images": "predict: classify your own digit images",
}
_WIDTH = 100


def preset_values(key: str) -> dict[str, Any] | None:
    """{preset: its value of ``key``} for a training key the presets set; None for other keys."""
    values = {name: asdict(hp).get(key) for name, hp in PRESETS.items()}
    return values if key in asdict(PRESETS["exercise"]) and key not in ("seed", "dtype") else None


def _yaml(value: Any) -> str:
    """A value as config/config.yaml writes it."""
    if isinstance(value, str):
        return value if value else '""'
    return "null" if value is None else show_value(value)


def _cell(value: Any) -> str:
    """A default or preset value as it is written in config/config.yaml, for a Markdown table."""
    return f"`{_yaml(value)}`"


def _describe(spec: Mapping[str, Any]) -> str:
    return " ".join(str(spec.get("description", "")).split())


def settings_markdown(schema: Mapping[str, Any], config_link: str | None = "config.yaml") -> str:
    """The settings reference: every setting of the schema with its default, its value in each
    preset, what it allows and its description, in the schema's order. ``config_link``: the link to
    config/config.yaml from where the page lives (None: no link, as in the docs site)."""
    config = f"[`config/config.yaml`]({config_link})" if config_link else "`config/config.yaml`"
    properties: Mapping[str, Any] = schema["properties"]
    head = ["key", "default", *(f"preset {name}" for name in PRESETS), "allowed", "meaning"]
    lines = [
        "# Settings",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` and the presets",
        "(`src/mnistflow/settings/presets.py`) by `make docs`; do not edit by hand. Set them in",
        f"{config} (a key left out takes its default) or for one run with",
        "`snakemake --cores all --config key=value`. A training key left `null` takes the value of the",
        "chosen `preset`.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for key, spec in properties.items():
        values = preset_values(key)
        cells = [f"`{key}`", _cell(spec.get("default"))]
        cells += [_cell(values[name]) if values else "" for name in PRESETS]
        cells += [allowed({k: v for k, v in spec.items() if k != "description"}).replace("|", "\\|"),
                  _describe(spec).replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH - 2, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False)


def config_yaml(schema: Mapping[str, Any]) -> str:
    """config/config.yaml: every key at its default, under a comment made of its description (and,
    for a training key, its value in each preset), grouped by the stage that reads it."""
    lines = [
        "# Settings of the MNIST workflow, each at its default. Change one for one run with",
        "#   snakemake --cores all --config epochs=5 learning_rate=0.1",
        "# Made by `python -m mnistflow.settings config` from workflow/schemas/config.schema.yaml, which",
        "# checks every value before any job runs; the full reference is config/README.md.",
    ]
    for key, spec in schema["properties"].items():
        if key in SECTIONS:
            lines += ["", f"# --- {SECTIONS[key]} ".ljust(_WIDTH, "-")]
        text = _describe(spec)
        values = preset_values(key)
        if values:
            text += " Presets: " + ", ".join(f"{name} {_yaml(v)}" for name, v in values.items()) + "."
        lines += _comment(text)
        lines.append(f"{key}: {_yaml(spec.get('default'))}")
    return "\n".join(lines) + "\n"

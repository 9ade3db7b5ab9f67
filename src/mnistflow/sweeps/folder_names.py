"""A sweep run's folder name from its settings (``hidden~64/learning_rate~0.001``), and back.

Values are written in one spelling each (:func:`folder_value`), so a folder never changes when other
rows of the table are added or removed, and a folder name read back (:func:`parse_folder`) is checked
against the schema like any setting. Plain Python: the workflow names folders while it builds its jobs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mnistflow.plumbing.errors import ConfigError
from mnistflow.settings.schema import config_problems

__all__ = ["MAX_VALUE_BYTES", "canonical", "folder_value", "parse_folder", "parse_value",
           "same_run_key"]

# The longest value a table cell or a folder name may hold, in UTF-8 bytes. A run's folder has one
# part per setting, ``<setting>~<value>``: this keeps each part well under the 255 bytes a file
# system allows for a name, and a digit string far below the 4300 digits int() converts. No value
# of a setting comes near it (the longest float is 24 characters, an integer at most 19 digits).
MAX_VALUE_BYTES = 100


def parse_value(text: str) -> Any:
    """A cell as YAML would read it in config/config.yaml: null, true/false, an int, a float, or a
    string. ``nan`` and ``inf`` become floats, for the schema check to refuse by name. Text longer
    than :data:`MAX_VALUE_BYTES` is a :class:`ConfigError` (before any int() of it)."""
    if len(text.encode()) > MAX_VALUE_BYTES:
        raise ConfigError(f"{len(text.encode())} bytes long ({text[:20]}...); a value is at most "
                          f"{MAX_VALUE_BYTES} (a run's folder is named after it)")
    lower = text.lower()
    if lower == "null":
        return None
    if lower in ("true", "false"):
        return lower == "true"
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text



def canonical(value: Any, spec: Mapping[str, Any]) -> Any:
    """A number for a setting of type number becomes a float (1 and 1.0 are one learning rate: one
    run, one folder, whatever the other rows hold)."""
    types = spec.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if "number" in types and "integer" not in types and whole:
        return float(value)
    return value



def same_run_key(value: Any) -> tuple[str, Any]:
    """What decides whether two values of a setting make the same run: numbers by value (-0.0 is
    0.0, 1 is 1.0: equal, with equal hashes), anything else by type and value (true is not 1)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number", value
    return type(value).__name__, value


def folder_value(value: Any) -> str:
    """How a value is written in a run's folder name (``learning_rate~0.05``); :func:`parse_value`
    reads it back. Floats in their shortest exact form, so a folder names one value only."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)



def parse_folder(folder: str, schema: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """The settings a folder name ``key~value/key~value/...`` encodes, checked against the schema;
    ``keys`` are the settings it must name, in that order. Raises :class:`ConfigError`."""
    properties: Mapping[str, Any] = schema["properties"]
    values: dict[str, Any] = {}
    shown = folder if len(folder) <= 200 else folder[:200] + "..."
    for part in folder.split("/"):
        key, sep, text = part.partition("~")
        if not sep or key not in properties:
            raise ConfigError(f"{shown}: {part[:60]!r} is not a setting~value folder")
        try:
            values[key] = canonical(parse_value(text), properties[key])
        except ConfigError as exc:
            raise ConfigError(f"{shown}: {key}: {exc}") from None
    if list(values) != list(keys):
        raise ConfigError(f"{shown}: names the settings {', '.join(values)}, expected {', '.join(keys)}")
    problems = [line for line in config_problems(values, schema)
                if line.split(":")[0] in values]
    if problems or any(folder_value(v) != part.partition("~")[2]
                       for v, part in zip(values.values(), folder.split("/"), strict=True)):
        why = "; ".join(problems) or "not written as folder_value writes it"
        raise ConfigError(f"{shown}: not a folder of valid settings ({why})")
    return values

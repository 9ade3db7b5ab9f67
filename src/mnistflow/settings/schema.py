"""Check the settings against the workflow's JSON schema and say, one line per key, what is wrong.

Snakemake's ``validate`` reports a bad setting as jsonschema does: several lines of schema dump, with
the key's name only inside ``schema['properties'][...]`` and, for an unknown key, the whole config
printed. :func:`config_error` runs first (from ``workflow/rules/common.smk``, which raises what it returns):
one :class:`~mnistflow.plumbing.errors.ConfigError` with one line per problem, e.g.::

    epochs: got 0, allowed: an integer >= 1 and <= 1000000
    epoch: unknown setting (did you mean epochs?); known settings: dtype, epochs, ...

so Snakemake stops before any job runs and the user sees which key to fix and how. The schema stays
the only place where types and ranges are written down: the "allowed" text is read from it.

A config file is read as YAML 1.1, which takes ``1e-3`` (no dot), ``1E-3`` or ``5e+2`` for strings;
:func:`numbers_as_written` turns those back into the numbers they spell, for the keys of type
number, as ``--config`` reads them; ``workflow/rules/common.smk`` calls it before the check.

Three rules hold for every key, so the schema need not repeat them: a ``number`` is finite (nan and
inf pass every JSON-schema bound, since ``nan > 0`` and ``nan < 1`` are both false), an ``integer`` is
written as one (jsonschema also takes ``2.0`` or ``1e300``, which would reach scikit-learn as floats),
and an integer is at most :data:`MAX_INTEGER` where its key sets no maximum (:func:`bounded`).
:func:`~mnistflow.settings.config_files.duplicate_keys` reads the config files themselves: YAML
keeps the last of two equal keys, silently, so a key set twice is refused too, naming both lines.
jsonschema and PyYAML come with Snakemake.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from mnistflow.plumbing.errors import ConfigError
from mnistflow.settings.config_files import duplicate_keys

__all__ = ["MAX_INTEGER", "allowed", "bounded", "config_error", "config_problems",
           "load_schema", "numbers_as_written", "show_value"]

_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a finite number",
    "string": "a string",
    "boolean": "true or false",
    "null": "empty (null)",
    "array": "a list",
    "object": "a mapping",
}
_BOUNDS = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))


def load_schema(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON schema of the config, from its YAML file."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        schema: dict[str, Any] = yaml.safe_load(fh)
    return schema


# A number as a person writes it, and as --config reads it (int(), then float()): what YAML 1.1
# leaves a string is a float with an exponent but no dot (1e-3, 5E+2) or a dot and an unsigned
# exponent (1.0e3).
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def numbers_as_written(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with each string that spells a number made that number, for the keys whose schema
    type is number (``"1e-3"`` -> 0.001) or integer (``"12"`` -> 12; ``"5e2"`` stays a string, as
    ``--config`` refuses 5e2 for an integer too: an integer is written as one). Other values, and
    strings of more than 100 characters, are left as they are, for :func:`config_problems` to judge.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    numbers = dict(config)
    for key, value in config.items():
        if not isinstance(value, str) or len(value) > 100:
            continue
        types, text = _types(properties.get(key, {})), value.strip()
        if "integer" in types and _INTEGER.fullmatch(text):
            numbers[key] = int(text)
        elif "number" in types and _FLOAT.fullmatch(text):
            numbers[key] = int(text) if _INTEGER.fullmatch(text) else float(text)
    return numbers


def show_value(value: Any) -> str:
    """A value as the user wrote it in YAML; strings quoted so that '5' and 5 look different. A long
    integer or string is shortened (Python refuses to write an integer of more than 4300 digits)."""
    if value is None:
        return "nothing (empty)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and value.bit_length() > 100:  # beyond 30 digits: how many
        digits = len(str(abs(value))) if value.bit_length() < 14000 else "over 4200"
        return f"an integer of {digits} digits"
    if isinstance(value, str) and len(value) > 80:
        return f"{value[:60]!r}... ({len(value)} characters)"
    return repr(value)


# Every integer setting fits in 64 bits: what NumPy's int64 and JSON readers hold, and at most 19
# digits where a sweep names a run's folder after it (a key's own maximum may be lower).
MAX_INTEGER = 2**63 - 1


def bounded(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """A key's schema with the maximum every integer has (:data:`MAX_INTEGER`) when it sets none."""
    if "integer" in _types(spec) and not {"maximum", "exclusiveMaximum"} & set(spec):
        return {**spec, "maximum": MAX_INTEGER}
    return spec


def _types(spec: Mapping[str, Any]) -> list[str]:
    types = spec.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def allowed(spec: Mapping[str, Any]) -> str:
    """What one key's schema allows, in words: 'an integer >= 1 and <= 100', 'one of: a, b'."""
    spec = bounded(spec)
    if "enum" in spec:
        return "one of: " + ", ".join("null" if v is None else show_value(v) for v in spec["enum"])
    if "const" in spec:
        return f"only {show_value(spec['const'])}"
    types = _types(spec)
    text = " or ".join(_TYPE_WORDS.get(t, t) for t in types if t != "null") or "a value"
    bounds = [f"{op} {'2^63 - 1' if spec[key] == MAX_INTEGER else spec[key]}"
              for key, op in _BOUNDS if key in spec]
    if bounds:
        text += " " + " and ".join(bounds)
    if spec.get("minLength") == 1:
        text = "a non-empty string"
    if "pattern" in spec:  # a regular expression says little by itself: the description explains it
        text += f" matching {spec['pattern']}"
        if "description" in spec:
            text += f" ({' '.join(str(spec['description']).split())})"
    if "null" in types:  # a key that may be left empty, e.g. to take a preset's value
        text += ", or null"
    return text


def _unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{key}: unknown setting{hint}; known settings: {', '.join(sorted(known))}"


def _is_number(checker: object, instance: object) -> bool:
    """A JSON-schema ``number`` here: an int or a finite float (bools are not numbers); an int beyond
    the largest float (10**400 from --config) is as infinite as inf once training makes it a float."""
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return False
    return math.isfinite(instance) if isinstance(instance, float) else abs(instance) <= sys.float_info.max


def _is_integer(checker: object, instance: object) -> bool:
    """A JSON-schema ``integer`` here: an int, not a float with a whole value such as 2.0 or 1e300."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def _validator(schema: Mapping[str, Any]) -> Any:
    """jsonschema's Draft 2020-12 validator with this module's ``number`` and ``integer``."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": _is_number, "integer": _is_integer})
    return validators.extend(Draft202012Validator, type_checker=checker)(schema)


def config_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """One line per invalid or unknown setting (empty when the config is valid)."""
    properties: Mapping[str, Any] = {k: bounded(v) for k, v in schema.get("properties", {}).items()}
    known = list(properties)
    problems: dict[str, str] = {}  # key -> line, so a key with two failures gets one line
    for error in _validator({**schema, "properties": properties}).iter_errors(dict(config)):
        path = list(error.absolute_path)
        if not path:  # a problem with the config as a whole: unknown keys (a missing one takes its default)
            if error.validator == "additionalProperties" and schema.get("additionalProperties") is False:
                for key in config:
                    if key not in properties:
                        problems[str(key)] = _unknown(str(key), known)
            else:
                problems[f"~{len(problems)}"] = f"settings: {error.message}"
            continue
        key = str(path[0])
        name = ".".join(str(p) for p in path)
        spec = properties.get(key, {})
        if len(path) == 1 and error.validator in {"type", "enum", "const", "pattern", "minLength",
                                                  *dict(_BOUNDS)}:
            line = f"{name}: got {show_value(error.instance)}, allowed: {allowed(spec)}"
            if "boolean" in str(spec.get("type")) and str(error.instance).lower() in {"true", "false"}:
                line += " (with --config write True or False)"
        else:  # rarer schema features (patterns, nested keys): jsonschema's own sentence
            line = f"{name}: {error.message}"
        problems.setdefault(key, line)
    for key, value in config.items():
        url = urlsplit(value) if isinstance(value, str) else None
        if url and url.scheme in ("http", "https") and "@" in url.netloc:
            problems.setdefault(str(key), f"{key}: a user name or password in the URL would be kept in "
                                "the records of every run and in metrics.json; put them in ~/.netrc instead "
                                "(a line: machine HOST login USER password PASSWORD)")
    return [problems[k] for k in sorted(problems)]


def config_error(
    config: Mapping[str, Any], schema_path: str | os.PathLike[str],
    configfiles: Iterable[str | os.PathLike[str]] = (),
) -> ConfigError | None:
    """A :class:`ConfigError` listing every bad setting, one line each; None if the config is valid.

    ``configfiles`` are the files the config was read from, checked for keys set twice
    (:func:`duplicate_keys`). Returned rather than raised so that common.smk raises it: Snakemake
    then shows the message with common.smk as the only place in its short traceback.
    """
    problems = [line for path in configfiles for line in duplicate_keys(path)]
    problems += config_problems(config, load_schema(schema_path))
    if not problems:
        return None
    s = "s" if len(problems) > 1 else ""
    return ConfigError(f"invalid setting{s} in config/config.yaml or --config:\n  " + "\n  ".join(problems))

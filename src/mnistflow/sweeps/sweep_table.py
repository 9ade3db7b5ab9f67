"""Sweep tables: ``config/sweeps/<name>.tsv``, one column per setting, one row per run.

A sweep trains the network once per row: the row's settings on top of the workflow's config
(``config/config.yaml`` and ``--config``). :func:`read_sweep` reads a table and checks it as a whole
before any job runs, with one line per problem naming the file, the line and the column:

    config/sweeps/lr.tsv, line 3, column learning_rate: got -0.1, allowed: a finite number > 0, or null

Each run's settings are checked with the same code as the config
(:func:`mnistflow.settings.schema.config_problems` against the schema, then
:func:`mnistflow.settings.presets.resolve` for rules between two settings), so a value a sweep accepts is
exactly a value ``--config`` accepts. Only settings of prepare and train may be columns (the caller says
which, :class:`SweepKeys`): every run of a sweep reads the same fetched data.

A sweep chooses its best run by validation accuracy, so every run holds out validation rows: a
setting with a ``sweep_default`` in the schema (``validation_fraction``) takes that value in a sweep
when the config leaves it null, and a run that holds out no rows is refused.

Plain Python (the standard library and jsonschema, no NumPy): the workflow reads tables while it
builds its jobs. Cells are separated by tabs; blank lines and lines starting with ``#`` (comments)
are skipped, and line numbers in messages count every line of the file.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mnistflow.plumbing.errors import ConfigError
from mnistflow.settings.presets import resolve
from mnistflow.settings.schema import config_problems
from mnistflow.sweeps.folder_names import canonical, folder_value, parse_value, same_run_key

__all__ = ["Run", "Sweep", "SweepKeys", "read_sweep"]

# the setting that selection needs: without validation rows a sweep could only choose by test accuracy
_SELECTION_KEY = "validation_fraction"


@dataclass(frozen=True)
class SweepKeys:
    """The settings a sweep's columns may set: those of prepare (``data``: runs with equal values
    share one split) and those of train. A setting may be both (``dtype``)."""

    data: tuple[str, ...]
    train: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """One row of a sweep table."""

    line: int  # line of the table file (the header is line 1)
    settings: dict[str, Any]  # the row: column -> value, in the table's column order
    config: dict[str, Any]  # every setting of the run: the config, the sweep's defaults, the row

    def data(self, keys: SweepKeys) -> dict[str, Any]:
        """The run's settings of prepare: runs with equal ones share one split."""
        return {key: self.config[key] for key in keys.data}


@dataclass(frozen=True)
class Sweep:
    """A checked sweep table: its columns and runs, in the file's order (the first run is the
    baseline of the comparison)."""

    path: str
    columns: tuple[str, ...]
    runs: tuple[Run, ...]


def _read_lines(path: str | os.PathLike[str]) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every line that is not blank or a ``#`` comment."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such sweep table") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it as a UTF-8 text file ({exc})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = next(csv.reader(io.StringIO(line), delimiter="\t", quoting=csv.QUOTE_NONE))
        rows.append((number, [cell.strip() for cell in cells]))
    return rows


def _column_problems(
    where: str, columns: list[str], properties: Mapping[str, Any], keys: SweepKeys,
) -> list[str]:
    """One line per column that a sweep cannot have."""
    allowed = [*keys.data, *(k for k in keys.train if k not in keys.data)]
    problems = []
    for number, name in enumerate(columns, start=1):
        at = f"{where}, column {name!r}" if name else f"{where}, column {number}"
        if not name:
            problems.append(f"{at}: no name; the header names one setting per column")
        elif columns.index(name) != number - 1:
            problems.append(f"{at}: named twice in the header")
        elif name not in properties:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{at}: unknown setting{hint}; a sweep's columns are settings of prepare "
                            f"or train: {', '.join(allowed)}")
        elif name not in allowed:
            problems.append(f"{at}: not a setting of prepare or train (a sweep's runs all read the "
                            f"same fetched data); set {name} in config/config.yaml or with --config, "
                            f"or use one of: {', '.join(allowed)}")
    return problems


def _run_problems(
    where: str, settings: Mapping[str, Any], run_config: Mapping[str, Any],
    schema: Mapping[str, Any],
) -> list[str]:
    """One line per setting of the row that the schema refuses, naming its column."""
    problems = []
    for line in config_problems(run_config, schema):
        key, _, text = line.partition(": ")
        if key in settings:
            problems.append(f"{where}, column {key}: {text}")
        else:  # the config itself was checked when the workflow started; kept for completeness
            problems.append(f"{where}: {line}")
    return problems


def _selection_problem(
    where: str, settings: Mapping[str, Any], run_config: Mapping[str, Any], default: Any,
) -> str | None:
    """A run without validation rows cannot take part in a choice made without the test set."""
    if run_config.get(_SELECTION_KEY):
        return None
    if _SELECTION_KEY in settings:
        origin = f"{where}, column {_SELECTION_KEY}"
    else:
        origin = f"{where}: {_SELECTION_KEY} (from config/config.yaml or --config)"
    return (f"{origin}: {run_config.get(_SELECTION_KEY)!r} holds out no validation rows, but a sweep "
            f"chooses its best run by validation accuracy, never by test accuracy; set "
            f"{_SELECTION_KEY} > 0 (e.g. {default}), or leave it null in the config (a sweep then "
            f"holds out {default})")


def read_sweep(
    path: str | os.PathLike[str], config: Mapping[str, Any], schema: Mapping[str, Any],
    keys: SweepKeys,
) -> Sweep:
    """Read and check a sweep table; raise one :class:`ConfigError` listing every problem.

    ``config`` is the workflow's (checked) config, ``schema`` the config schema. Refused, each with
    the file, line and column: an empty table, a column without a name, named twice, unknown, or not
    a setting of prepare or train; a line with more or fewer cells than the header, an empty cell, a
    value the schema refuses or too long to name a folder; settings that contradict each other
    (:func:`resolve`); a run without validation rows; two lines that give the same run (values
    compared as numbers: 0.0 and -0.0, 1 and 1.0 are one).
    """
    properties: Mapping[str, Any] = schema["properties"]
    name = os.fspath(path)
    lines = _read_lines(path)
    if len(lines) < 2:
        raise ConfigError(f"{name}: no runs; a sweep table is a header line naming the settings "
                          f"(tab-separated) and one line per run")
    header_line, columns = lines[0]
    problems = _column_problems(f"{name}, line {header_line}", columns, properties, keys)
    if problems:
        raise ConfigError("invalid sweep table:\n  " + "\n  ".join(problems))
    defaults = {key: spec["sweep_default"] for key, spec in properties.items() if "sweep_default" in spec}
    runs: list[Run] = []
    resolved: dict[tuple[Any, ...], int] = {}  # every setting that decides a run, by value -> its run
    for number, cells in lines[1:]:
        where = f"{name}, line {number}"
        if len(cells) != len(columns):
            cell_s = "cell" if len(cells) == 1 else "cells"
            problems.append(f"{where}: {len(cells)} {cell_s}, but the header names {len(columns)} "
                            f"columns (cells are separated by tabs)")
            continue
        empty = [c for c, cell in zip(columns, cells, strict=True) if not cell]
        if empty:
            problems += [f"{where}, column {c}: empty; write a value (null takes the preset's)"
                         for c in empty]
            continue
        settings, too_long = {}, []
        for c, cell in zip(columns, cells, strict=True):
            try:
                settings[c] = canonical(parse_value(cell), properties[c])
            except ConfigError as exc:  # a cell too long to name a folder (or to convert)
                too_long.append(f"{where}, column {c}: {exc}")
        if too_long:
            problems += too_long
            continue
        run_config = dict(config)
        run_config.update({k: v for k, v in defaults.items() if run_config.get(k) is None})
        run_config.update(settings)
        found = _run_problems(where, settings, run_config, schema)
        if found:
            problems += found
            continue
        try:
            hyperparams = asdict(resolve(run_config))
        except ConfigError as exc:  # "momentum: 0.9 applies to optimizer sgd only; ..."
            key, _, text = str(exc).partition(": ")
            at = f"{where}, column {key}: {text}" if key in settings else f"{where}: {exc}"
            shown = ", ".join(f"{k}={folder_value(v)}" for k, v in settings.items())
            problems.append(f"{at} (the row sets {shown})")
            continue
        selection = _selection_problem(where, settings, run_config, defaults.get(_SELECTION_KEY, 0.1))
        if selection:
            problems.append(selection)
            continue
        run = Run(number, settings, run_config)
        decides = {**run.data(keys), **hyperparams}
        identity = tuple(sorted((k, same_run_key(v)) for k, v in decides.items()))
        if identity in resolved:
            same = "the same values" if runs[resolved[identity]].settings == settings else \
                "the same settings once the preset's values are filled in"
            first = runs[resolved[identity]].line
            problems.append(f"{name}, lines {first} and {number}: {same}, so the same run twice; "
                            f"remove one of them")
            continue
        resolved[identity] = len(runs)
        runs.append(run)
    if problems:
        raise ConfigError("invalid sweep table:\n  " + "\n  ".join(problems))
    return Sweep(name, tuple(columns), tuple(runs))

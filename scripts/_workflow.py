"""What the stage scripts know of Snakemake, so that the mnistflow package need not.

- A job runs as long as the ``snakemake`` process that started it (:data:`SUPERVISOR`).
- Which rule makes each input of a job, and so how to make a damaged input again:
  ``snakemake --cores 1 -R <rule>`` (:func:`run_stage`, around :func:`mnistflow.plumbing.stage.run`).
- Snakemake's benchmark files (a rule's ``benchmark:``): the seconds and peak memory of a job's last
  run (:func:`read_benchmark`, :func:`stage_seconds`).
- The command that runs the workflow with a config file (:func:`config_command`).

Snakemake's ``script:`` preamble appends the folder of the script it runs to ``sys.path``
(snakemake/script/__init__.py, 9.27: ``searchpaths.append(path.get_basedir())`` for a local script),
so every script here imports this module as ``_workflow``. The code digests of a stage
(:mod:`mnistflow.plumbing.code_digest`) cover it, as they cover the package modules a script uses.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from collections.abc import Callable, Mapping
from typing import NamedTuple

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.stage import run

__all__ = ["SUPERVISOR", "Benchmark", "config_command", "read_benchmark", "rebuild_hints",
           "run_stage", "stage_seconds"]

log = logging.getLogger(__name__)

SUPERVISOR = "snakemake"  # the program whose process a job lives as long as (mnistflow.plumbing.supervisor)


def rebuild_hints(makers: Mapping[str, str]) -> dict[str, str]:
    """{input file: the rule that makes it} -> {input file: how to make it again}."""
    return {path: f"rebuild it with `snakemake --cores 1 -R {rule}`" for path, rule in makers.items()}


def run_stage(stage: str, main: Callable[[], None], log_path: str,
              makers: Mapping[str, str] | None = None) -> None:
    """:func:`mnistflow.plumbing.stage.run` as a Snakemake job: supervised by its ``snakemake``, and a
    message about a damaged input (``makers``: input file -> the rule that makes it) ends with the
    command that makes it again."""
    run(stage, main, log_path, rebuild_hints(makers or {}), supervisor=SUPERVISOR)


class Benchmark(NamedTuple):
    """One row of a Snakemake benchmark file: a job's last run."""

    seconds: float | None  # wall-clock seconds (column s)
    max_rss: float | None  # peak resident memory, MB (column max_rss); None where Snakemake wrote NA


def read_benchmark(path: str | os.PathLike[str]) -> Benchmark:
    """The seconds and peak memory in a benchmark file; a :class:`DataError` naming it if it is
    missing or not a benchmark file. A value Snakemake could not measure ('NA') is None."""
    try:
        with open(path, newline="") as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        values = [row["s"], row["max_rss"]]
    except (OSError, StopIteration, KeyError, csv.Error):
        raise DataError(path, "not a Snakemake benchmark file with columns s and max_rss") from None
    numbers: list[float | None] = []
    for text in values:
        try:
            number = float(text)
        except (TypeError, ValueError):
            number = math.nan
        numbers.append(number if math.isfinite(number) else None)
    return Benchmark(*numbers)


def stage_seconds(benchmarks: Mapping[str, str | os.PathLike[str]]) -> dict[str, float]:
    """{stage: its benchmark file} -> {stage: wall-clock seconds of its last run}, for metrics.json.

    The files are the stages' last runs when evaluate runs (the workflow passes their names as
    params, not the files as inputs). A stage whose file is missing or unreadable (say, ``logs/``
    was deleted) is left out, with a warning: its seconds are unknown, and that is no reason to
    stop evaluating.
    """
    seconds = {}
    for stage, path in benchmarks.items():
        try:
            found = read_benchmark(path).seconds
        except DataError as exc:
            log.warning("%s; the seconds of %s are left out of metrics.json", exc, stage)
            continue
        if found is None:
            log.warning("%s: no seconds measured; the seconds of %s are left out of metrics.json",
                        path, stage)
            continue
        seconds[stage] = round(found, 3)
    return seconds


def config_command(configfile: str | os.PathLike[str]) -> str:
    """The command that runs the workflow with the settings in ``configfile``."""
    return f"snakemake --cores all --configfile {os.fspath(configfile)}"

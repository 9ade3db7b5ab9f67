"""The few lines a run of the workflow ends with, so that the last thing on the screen says where the
results are and what came out: the report, metrics and other pages the run's targets made, the test
accuracy, the recipe (preset, network, epochs) and the data (source, split, rows); for a sweep, its
comparison page and the run it chose; for a run that failed, the failed stages, their logs and the
command that resumes the run.

Plain values in, lines out: the workflow says which files its targets made, which stages failed and
how to resume (all of which only it knows), and prints the lines. Nothing here may stop a run that
succeeded: a file that is missing or cannot be read gives a line saying so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

__all__ = ["MAX_LINES", "SweepPage", "failure_lines", "success_lines"]

MAX_LINES = 8  # a summary, not a second log: what does not fit is counted, not listed
_SHOWN_FAILURES = 4  # failed stages listed by name; more are counted


class SweepPage(NamedTuple):
    """A sweep's comparison page and ``best.yaml`` beside it (the chosen run's settings), and the
    sweep's columns: the settings that tell its runs apart, so name the chosen one."""

    page: str
    best: str
    columns: tuple[str, ...]


def _line(label: str, text: str) -> str:
    return f"  {label:<12}{text}"


def _field(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, or None where a level is missing or not a mapping (metrics.json's schema
    leaves the model's and the config's contents open)."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _network(model: Any) -> str:
    """784-256-10 from the recorded layer sizes (or the hidden units alone)."""
    layers = _field(model, "architecture", "layers")
    if isinstance(layers, list) and layers and all(isinstance(n, int) for n in layers):
        return "-".join(map(str, layers))
    hidden = _field(model, "hyperparams", "hidden")
    return f"{hidden} hidden units" if hidden is not None else "network not recorded"


def _metrics_lines(path: str | os.PathLike[str]) -> list[str]:
    """The accuracy, recipe and data lines of a run's metrics.json; one line saying what is wrong
    with the file when it is missing, damaged or holds no test metrics."""
    # deferred: reading metrics.json loads NumPy, and the workflow imports this module while
    # Snakemake parses it, which should stay quick
    from mnistflow.evaluation.metrics_file import read_metrics
    from mnistflow.plumbing.errors import DataError

    try:
        metrics = read_metrics(path)
    except DataError as error:
        return [_line("accuracy", f"unknown: {error}")]
    test, sizes, config, model = (metrics[k] for k in ("test", "sizes", "config", "model"))
    epochs = _field(model, "hyperparams", "epochs")
    recipe = [_network(model), str(config.get("preset", "preset not recorded")),
              f"{epochs} epochs" if epochs is not None else "epochs not recorded"]
    split = config.get("split")
    data = [str(config.get("source", "source not recorded")),
            f"{split} split" if split is not None else "split not recorded",
            f"{sizes['train'] + sizes['test']} rows ({sizes['train']} train, {sizes['test']} test)"]
    return [
        _line("accuracy", f"{test['accuracy']:.2%} on {sizes['test']} test digits "
                          f"({test['n_errors']} wrong)"),
        _line("recipe", ", ".join(recipe)),
        _line("data", ", ".join(data)),
    ]


def _chosen_run(sweep: SweepPage) -> str:
    """The run a sweep chose, as its swept settings (``learning_rate=0.2``), from best.yaml."""
    import yaml

    try:
        with open(sweep.best, encoding="utf-8") as fh:
            settings = yaml.safe_load(fh)
    except (OSError, ValueError, yaml.YAMLError) as error:  # UnicodeDecodeError is a ValueError
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        return f"unknown: {sweep.best} cannot be read ({reason})"
    if settings is None:  # every run failed: best.yaml is comments only
        return "none: every run failed (the reasons are on the page)"
    if not isinstance(settings, Mapping):
        return f"unknown: {sweep.best} holds no settings"
    swept = ", ".join(f"{key}={settings.get(key)}" for key in sweep.columns)
    return f"{swept or 'the only run'} (its settings: {sweep.best})"


def _at_most(lines: list[str], limit: int = MAX_LINES) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[: limit - 1], f"  ... and {len(lines) - limit + 1} more lines"]


def success_lines(
    products: Sequence[tuple[str, str]], metrics: str | os.PathLike[str] | None = None,
    sweeps: Sequence[SweepPage] = (),
) -> list[str]:
    """The summary of a run that succeeded, at most :data:`MAX_LINES` lines.

    ``products``: (what, path) of the files to name, in order (``("report", "results/report.html")``);
    those that do not exist are left out. ``metrics``: the single run's metrics.json when this run's
    targets include it, for the accuracy, recipe and data. ``sweeps``: the comparison pages among the
    targets, each named with the run it chose.
    """
    lines = ["mnistflow finished"]
    lines += [_line(what, str(path)) for what, path in products if os.path.exists(path)]
    if metrics is not None:
        lines += _metrics_lines(metrics)
    for sweep in sweeps:
        if os.path.exists(sweep.page):
            lines += [_line("sweep", sweep.page), _line("chosen run", _chosen_run(sweep))]
        else:
            lines.append(_line("sweep", f"{sweep.page} is missing"))
    return _at_most(lines)


def failure_lines(
    failed: Sequence[tuple[str, str | None]], resume: str, run_log: str | None = None,
) -> list[str]:
    """The summary of a run that stopped, at most :data:`MAX_LINES` lines.

    ``failed``: (stage, its log file or None) of each job that failed, in order; ``resume``: the
    command that runs what is left once the cause is fixed; ``run_log``: the log of the whole run,
    named when no stage failed (say the run was interrupted) or too many did to list.
    """
    if not failed:
        lines = ["mnistflow stopped before it finished (its log names no failed stage)"]
        lines += [_line("log", run_log)] if run_log else []
        return [*lines, _line("resume", resume)]
    stages = sorted({stage for stage, _ in failed})
    lines = [f"mnistflow stopped: {', '.join(stages)} failed (the log says why; fix that, then resume)"]
    for stage, log in failed[:_SHOWN_FAILURES]:
        lines.append(_line("failed", f"{stage}, log: {log}" if log else f"{stage} (no log)"))
    if len(failed) > _SHOWN_FAILURES:
        more = f"  ... and {len(failed) - _SHOWN_FAILURES} more failed jobs"
        lines.append(f"{more}: see {run_log}" if run_log else more)
    return [*lines, _line("resume", resume)]

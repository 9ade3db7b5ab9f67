"""The runs of a sweep side by side, and the run chosen without looking at the test set.

Reads what each run's stages wrote (``metrics.json``, ``training_log.csv``) and what its train job
took (seconds and peak memory, as the workflow measured them) into a :class:`Comparison`, and writes
``comparison.csv`` and ``best.yaml`` (the page, ``comparison.html``, is
:mod:`mnistflow.sweeps.compare_page`'s).

Selection. A run's *validation accuracy* is the accuracy, on the training rows that train held out
(``validation_fraction``), of the weights that its ``model.npz`` holds: with early stopping
(``patience`` > 0) train keeps the weights of the first epoch with the highest validation accuracy,
so it is that maximum; otherwise the weights are the last epoch's, so it is the last epoch's value.
The chosen run is the one with the highest validation accuracy; of equal ones, the earliest row of
the table. Test accuracy plays no part in the choice: the chosen run's test accuracy is then an
honest estimate of how it does on new digits (the best test accuracy of many runs would not be).
Runs with the same ``seed`` and data settings hold out the same validation rows.

A run whose training failed (:mod:`mnistflow.sweeps.failed_training`) is listed as failed, with its
settings and the reason, and takes no part in the choice; when every run failed, none is chosen and
``best.yaml`` says so and holds no settings (as a config file it is refused: it is not a mapping).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnistflow.evaluation.metrics_file import read_outcome
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import write_text
from mnistflow.training.training_log import read_history

__all__ = ["Comparison", "FailedRun", "RunFiles", "RunResult", "best_yaml", "csv_rows", "is_number",
           "load", "load_run", "model_validation", "outcome", "signed", "text", "write_csv"]


@dataclass(frozen=True)
class RunFiles:
    """One run of a sweep: its row, the files its stages wrote, and what its train job took."""

    folder: str  # under the sweep's folder, named after the row: "learning_rate~0.5"
    line: int  # line of the sweep table
    settings: Mapping[str, Any]  # the row: column -> value
    config: Mapping[str, Any]  # every setting of the run, in config format
    metrics: str  # metrics.json
    history: str  # training_log.csv
    report: str  # the run's report.html
    train_seconds: float | None = None  # wall-clock seconds of the train job; None: not measured
    peak_memory_mb: float | None = None  # its peak resident memory (MB); None: not measured


@dataclass(frozen=True)
class RunResult:
    """What the comparison shows of one run."""

    files: RunFiles
    val_accuracy: float  # of the weights in model.npz (see the module's docstring)
    val_epoch: int  # the epoch those weights are from
    val_rows: int  # rows held out for validation
    test_accuracy: float
    test_loss: float
    epochs_run: int  # rows of the training log (fewer than epochs after an early stop)
    train_seconds: float | None  # wall-clock seconds of the train job
    peak_memory_mb: float | None  # its peak resident memory (MB)
    history: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class FailedRun:
    """A run whose training failed: its row, and why (one line, from its metrics.json)."""

    files: RunFiles
    reason: str


@dataclass(frozen=True)
class Comparison:
    """A sweep's runs in the table's order and their ranking: those that trained (the first is the
    baseline), and those whose training failed."""

    name: str
    table: str  # the sweep table's path
    columns: tuple[str, ...]  # the swept settings
    runs: tuple[RunResult, ...]  # the runs that trained
    failed: tuple[FailedRun, ...] = ()

    @property
    def ranking(self) -> list[int]:
        """Run indices by validation accuracy, best first; equal ones in the table's order."""
        return sorted(range(len(self.runs)), key=lambda i: (-self.runs[i].val_accuracy, i))

    @property
    def varied(self) -> list[str]:
        """The swept settings that take more than one value (a column may hold one for clarity)."""
        return [c for c in self.columns if len({text(r.files.settings[c]) for r in self.runs}) > 1]

    @property
    def chosen(self) -> RunResult:
        """The best run; an error when every run failed (check ``runs`` first)."""
        if not self.runs:
            raise ValueError(f"sweep {self.name}: every run failed, so none is chosen")
        return self.runs[self.ranking[0]]


def model_validation(history: Mapping[str, np.ndarray], patience: int) -> tuple[float, int]:
    """(validation accuracy, epoch) of the weights train kept: the first best epoch's with early
    stopping, the last epoch's without (mnistflow.training.train keeps weights the same way)."""
    val = history["val_accuracy"]  # (epochs,)
    i = int(np.argmax(val)) if patience else len(val) - 1  # argmax: the first of equal maxima
    return float(val[i]), int(history["epoch"][i])


def load_run(files: RunFiles) -> RunResult | FailedRun:
    """Read one run's metrics and training log (each checked, naming the file); a run whose
    training failed is the reason its metrics.json gives."""
    metrics = read_outcome(files.metrics)
    if "failed" in metrics:
        return FailedRun(files, metrics["failed"])
    history = read_history(files.history)
    if "val_accuracy" not in history:
        raise DataError(files.history, "no val_accuracy column, so the run held out no validation "
                                       "rows to choose by")
    hyperparams = metrics["model"].get("hyperparams", {})
    val_accuracy, val_epoch = model_validation(history, int(hyperparams.get("patience", 0)))
    return RunResult(
        files=files, val_accuracy=val_accuracy, val_epoch=val_epoch,
        val_rows=round(metrics["sizes"]["train"] * float(hyperparams.get("validation_fraction", 0))),
        test_accuracy=float(metrics["test"]["accuracy"]), test_loss=float(metrics["test"]["loss"]),
        epochs_run=len(history["epoch"]), train_seconds=files.train_seconds,
        peak_memory_mb=files.peak_memory_mb,
        history=history,
    )


def text(value: Any) -> str:
    """A setting as a table cell: as in a YAML file (null, true, 0.05)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def is_number(value: Any) -> bool:
    """A numeric setting's value (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def signed(value: float, digits: int = 4) -> str:
    """A difference as a table cell (HTML): +0.0123, -0.0040, &plusmn;0."""
    return "&plusmn;0" if value == 0 else f"{value:+.{digits}f}"


def _measured(value: float | None) -> str:
    return "" if value is None else repr(value)


def csv_rows(comparison: Comparison) -> list[dict[str, str]]:
    """comparison.csv: one row per run, best first, then the failed ones (no rank, no numbers but
    what the train job took, the reason in ``failure``); numbers as the runs' own files give them."""
    rows = []
    for rank, i in enumerate(comparison.ranking, start=1):
        run = comparison.runs[i]
        rows.append({
            "rank": str(rank), "run": run.files.folder,
            **{c: text(run.files.settings[c]) for c in comparison.columns},
            "val_accuracy": repr(run.val_accuracy), "test_accuracy": repr(run.test_accuracy),
            "test_loss": repr(run.test_loss), "epochs_run": str(run.epochs_run),
            "train_seconds": _measured(run.train_seconds),
            "peak_memory_mb": _measured(run.peak_memory_mb),
            "selected": "true" if rank == 1 else "false", "status": "trained", "failure": "",
        })
    for failed in comparison.failed:
        files = failed.files
        rows.append({
            "rank": "", "run": files.folder, **{c: text(files.settings[c]) for c in comparison.columns},
            "val_accuracy": "", "test_accuracy": "", "test_loss": "", "epochs_run": "",
            "train_seconds": _measured(files.train_seconds),
            "peak_memory_mb": _measured(files.peak_memory_mb),
            "selected": "false", "status": "failed", "failure": failed.reason,
        })
    return rows


def write_csv(path: str | os.PathLike[str], comparison: Comparison) -> None:
    rows = csv_rows(comparison)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def best_yaml(comparison: Comparison, html_path: str, command: str) -> str:
    """best.yaml: every setting of the chosen run in config format, the swept ones first, so that
    ``command`` (the workflow's, with best.yaml as its config file) trains it as the single run."""
    import yaml

    if not comparison.runs:
        return (
            f"# Sweep {comparison.name} ({comparison.table}): every run failed, so there is no best\n"
            f"# run and nothing to train here (this file holds no settings); the reasons are on\n"
            f"# {html_path}.\n"
        )
    run = comparison.chosen
    config = dict(run.files.config)

    def block(keys: Sequence[str]) -> str:
        return "".join(yaml.safe_dump({k: config[k]}, default_flow_style=False, sort_keys=False)
                       for k in keys)

    rest = [k for k in config if k not in comparison.columns]
    return (
        f"# Sweep {comparison.name} ({comparison.table}): the run chosen by validation accuracy,\n"
        f"# {run.files.folder} (validation accuracy {run.val_accuracy:.4f}, test accuracy "
        f"{run.test_accuracy:.4f}); see {html_path}.\n"
        f"# Every setting of that run, for:\n"
        f"#   {command}\n"
        f"# (the sweep trained it with one thread: with more, the weights differ in the last bits).\n"
        f"\n# chosen by the sweep (line {run.files.line} of {comparison.table})\n"
        f"{block(list(comparison.columns))}"
        f"\n# the rest: the config when the sweep ran (config/config.yaml, --config, and the sweep's\n"
        f"# validation_fraction when the config left it null)\n"
        f"{block(rest)}"
    )


def load(name: str, table: str, columns: Sequence[str], runs: Sequence[RunFiles]) -> Comparison:
    """Read every run of a sweep (in the table's order; the first that trained is the baseline)."""
    loaded = [load_run(r) for r in runs]
    return Comparison(name, table, tuple(columns),
                      tuple(r for r in loaded if isinstance(r, RunResult)),
                      tuple(r for r in loaded if isinstance(r, FailedRun)))


def outcome(comparison: Comparison) -> str:
    """The comparison in one line, for the log."""
    failed = f"; {len(comparison.failed)} failed" if comparison.failed else ""
    if not comparison.runs:
        return f"every one of the {len(comparison.failed)} runs failed: no run chosen"
    chosen = comparison.chosen
    return (f"chose {chosen.files.folder} of {len(comparison.runs)} trained runs{failed}: validation "
            f"accuracy {chosen.val_accuracy:.4f}, test accuracy {chosen.test_accuracy:.4f}")

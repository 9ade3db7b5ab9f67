"""Stage prepare: data/raw/<source key>/mnist.parquet -> data/processed/<source key>/<split>/split.npz
(normalised, one-hot, split; <split>: the folder named after the split settings)."""

from _workflow import run_stage
from mnistflow.data.parquet_file import read_parquet
from mnistflow.data.prepare import split
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.plumbing.stage import log


def main() -> None:
    p = snakemake.params
    digits = read_parquet(snakemake.input.parquet)
    arrays = split(digits, p.split, p.test_size, p.random_state, p.stratify, p.dtype)
    save_npz(snakemake.output.split, arrays)
    log.info("%d train / %d test rows (%s split, %s) -> %s", len(arrays["y_train"]),
             len(arrays["y_test"]), p.split, p.dtype, snakemake.output.split)


run_stage("prepare", main, snakemake.log[0], {snakemake.input.parquet: "fetch_mnist"})

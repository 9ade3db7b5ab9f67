"""Stage fetch_mnist: source -> data/raw/<source key>/mnist.parquet (uint8 pixels, labels, origin, index)."""

from _workflow import run_stage
from mnistflow.data import sources
from mnistflow.data.parquet_file import write_parquet
from mnistflow.plumbing.stage import log


def main() -> None:
    digits = sources.load(**snakemake.params.fetch, downloads=snakemake.params.downloads)
    write_parquet(snakemake.output.parquet, digits)
    log.info("wrote %d rows from %s to %s", len(digits), digits.metadata["source"],
             snakemake.output.parquet)


run_stage("fetch_mnist", main, snakemake.log[0])

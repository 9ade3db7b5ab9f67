"""Stage fetch_mnist: source -> data/raw/mnist.parquet (uint8 pixels, labels, origin, index)."""

from mnistflow import sources
from mnistflow._stage import log, run
from mnistflow.data import write_parquet


def main() -> None:
    digits = sources.load(**snakemake.params.fetch, downloads=snakemake.params.downloads)
    write_parquet(snakemake.output.parquet, digits)
    log.info("wrote %d rows from %s to %s", len(digits), digits.metadata["source"],
             snakemake.output.parquet)


run("fetch_mnist", main, snakemake.log[0])

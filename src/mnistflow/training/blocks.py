"""How the engine cuts a batch into blocks, and so how many threads a training job can use.

The engine (:mod:`mnistflow.training.engine`) computes each block's gradient on whichever worker
thread is free and adds the blocks' gradients up in block order. The cut depends on the batch's size
alone, never on the number of threads: the weights are the same bytes at any thread count. A thread
beyond the number of blocks has no block to compute, so that number is also how many threads a
training job asks for (workflow/rules/resources.smk). No NumPy here: the workflow imports this
while Snakemake parses it.
"""

from __future__ import annotations

__all__ = ["BLOCK_ROWS", "MAX_TRAIN_THREADS", "MIN_ROWS_PER_WORKER", "block_rows", "blocks_of"]

# rows a worker handles at once: its (rows, H) buffers stay in cache (4 MB in float32 for 256
# hidden units)
BLOCK_ROWS = 4096
# below this many rows per thread, splitting a batch over threads costs more than it saves
MIN_ROWS_PER_WORKER = 32
# the most threads a training job asks for: a full batch of full MNIST's 56,000 training rows is 14
# blocks, but a cluster job asking for more CPUs than its nodes have would wait for ever, and 8 is
# what most nodes and laptops have
MAX_TRAIN_THREADS = 8


def block_rows(batch: int, block: int = BLOCK_ROWS) -> int:
    """Rows per block of a batch of ``batch`` rows: at most ``block``, in equal blocks.

    A batch of at least two workers' worth of rows (``2 * MIN_ROWS_PER_WORKER``) is cut into an even
    number of blocks, so that two workers, the most common count, finish together on a quiet machine
    (56,000 rows: 14 blocks of 4,000, not 13 of 4,096 and one of 2,752; a mini-batch of 256: two of
    128). It is the cut two workers always made, so two-thread weights are what they were.
    """
    count = -(-batch // block)  # blocks
    if batch >= 2 * MIN_ROWS_PER_WORKER:
        count += count % 2
    return -(-batch // count)


def blocks_of(batch: int, block: int = BLOCK_ROWS) -> int:
    """The number of blocks a batch of ``batch`` rows is cut into."""
    return -(-batch // block_rows(batch, block))

"""Training time at each thread count, and the weights' sha256, which must not change with it.

    python benchmarks/bench_threads.py DIR [--preset NAME] [--epochs N] [--threads 1 2 ...]

DIR holds the four MNIST IDX files (as for ``bench_train.py``); the data is the seed split (56,000 rows
to train on). For each thread count the preset trains in its own process, with that many BLAS threads
(``OPENBLAS_NUM_THREADS``, as Snakemake sets them from a rule's ``threads:``), and the table gives the
seconds of training, the CPU use and the sha256 of the weights: one sha256 for every row, since a
batch is cut into blocks by its size alone (:mod:`mnistflow.training.blocks`). The run's numerics
(BLAS kernel, NumPy SIMD) head the table. For a before/after comparison of two commits, time this
script of each with ``farm-bench --vs``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench_train import load, write_split

from mnistflow.plumbing.numerics import describe, numerics
from mnistflow.settings.presets import PRESETS
from mnistflow.training.blocks import blocks_of


def worker(split: Path, preset: str, epochs: int) -> None:
    """Train ``preset`` on the split, print seconds, CPU seconds and the weights' sha256 as JSON."""
    X, Y = load(split, "X_train", "Y_train")
    hp = PRESETS[preset]
    hp = replace(hp, epochs=epochs, warmup_epochs=min(hp.warmup_epochs, epochs - 1))
    from mnistflow.training.train import train

    cpu, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    params, _ = train(X, Y, hp)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    digest = hashlib.sha256(b"".join(params[k].tobytes() for k in sorted(params))).hexdigest()
    cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu_s, "sha256": digest}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mnist", type=Path, help="directory holding the four MNIST IDX files")
    parser.add_argument("--preset", default="best", choices=list(PRESETS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.preset, args.epochs)
        return
    batch = PRESETS[args.preset].batch_size or 56000
    print(f"{args.preset}, {args.epochs} epochs on the seed split; a batch of {batch} rows is "
          f"{blocks_of(batch)} blocks; {describe(numerics())}")
    print(f"{'threads':>7}  {'seconds':>7}  {'cores':>5}  sha256 of the weights")
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split.npz"
        write_split(args.mnist, split)
        for threads in args.threads:
            env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
            out = subprocess.run([sys.executable, __file__, str(args.mnist), "--preset", args.preset,
                                  "--epochs", str(args.epochs), "--worker", str(split)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            run = json.loads(out.splitlines()[-1])
            cores = run["cpu"] / run["seconds"]
            print(f"{threads:>7}  {run['seconds']:>7.2f}  {cores:>5.2f}  {run['sha256']}")


if __name__ == "__main__":
    main()

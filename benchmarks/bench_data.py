"""Benchmark of the data stages on a full IDX dataset (e.g. MNIST's four files in a local directory).

Measures, in this process and without Snakemake's start-up:

- ``idx_to_parquet``: read the four IDX files (decompress, check, md5) and write the parquet file,
  i.e. the work of ``fetch_mnist`` with ``source: idx``;
- ``parquet_to_npz``: read and validate the parquet file, normalise, one-hot, split (random, the
  seed's 80/20, and original) and write ``split.npz``, i.e. the work of ``prepare``;
- the size of the parquet file against the total size of the gzip'd IDX files.

Targets (2-core machine): each step under 3 s; the parquet at most 1.2x the gzip'd IDX files.
Prints a table and writes the figures as JSON to ``benchmarks/results/bench_data-<time>.json``.

    python benchmarks/bench_data.py DIR [--repeat 3] [--md5 mnist|none]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mnistflow.data import prepare, sources
from mnistflow.data.parquet_file import read_parquet, write_parquet
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.plumbing.versions import versions

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 3.0
TARGET_RATIO = 1.2


def _timed(step: Callable[[], Any], repeat: int) -> dict[str, Any]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return {"min_s": round(min(seconds), 3), "median_s": round(statistics.median(seconds), 3),
            "runs_s": [round(s, 3) for s in seconds]}


def run(idx_dir: Path, repeat: int, md5: str) -> dict[str, Any]:
    load_before = os.getloadavg()[0]  # other work on the machine slows every step down
    with tempfile.TemporaryDirectory(prefix="bench_data.") as tmp:
        parquet, npz = Path(tmp) / "mnist.parquet", Path(tmp) / "split.npz"

        def idx_to_parquet() -> None:
            write_parquet(parquet, sources.load_idx(str(idx_dir), md5))

        def parquet_to_npz(how: str) -> Callable[[], None]:
            def step() -> None:
                save_npz(npz, prepare.split(read_parquet(parquet), how))
            return step

        results: dict[str, Any] = {"idx_to_parquet": _timed(idx_to_parquet, repeat)}
        rows = len(read_parquet(parquet))
        results["parquet_to_npz_random"] = _timed(parquet_to_npz("random"), repeat)
        results["parquet_to_npz_original"] = _timed(parquet_to_npz("original"), repeat)
        gz_bytes = sum(p.stat().st_size for p in idx_dir.iterdir() if p.name.endswith("-ubyte.gz"))
        sizes = {"parquet_bytes": parquet.stat().st_size, "idx_gz_bytes": gz_bytes,
                 "split_npz_bytes": npz.stat().st_size}
    sizes["parquet_over_idx_gz"] = round(sizes["parquet_bytes"] / gz_bytes, 3) if gz_bytes else None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.machine(),
                    "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
        "versions": versions(),
        "idx_dir": str(idx_dir),
        "rows": rows,
        "repeat": repeat,
        "steps": results,
        "sizes": sizes,
        "targets": {"seconds": TARGET_SECONDS, "parquet_over_idx_gz": TARGET_RATIO},
    }


def _report(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [f"{result['rows']} rows from {result['idx_dir']}, {machine['cpus']} CPUs (load average "
             f"{machine['load_average_1min'][0]} before, {machine['load_average_1min'][1]} after), "
             f"{result['date']}"]
    for step, t in result["steps"].items():
        verdict = "ok" if t["min_s"] < TARGET_SECONDS else "SLOW"
        lines.append(f"  {step:26s} min {t['min_s']:6.2f} s  median {t['median_s']:6.2f} s  "
                     f"(target < {TARGET_SECONDS:.0f} s: {verdict})")
    s = result["sizes"]
    ratio = s["parquet_over_idx_gz"]
    verdict = "ok" if ratio is not None and ratio <= TARGET_RATIO else "TOO BIG"
    lines.append(f"  parquet {s['parquet_bytes'] / 1e6:.2f} MB vs gzip'd IDX {s['idx_gz_bytes'] / 1e6:.2f} "
                 f"MB: {ratio}x (target <= {TARGET_RATIO}x: {verdict})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("idx_dir", type=Path, help="a directory holding the four IDX files")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--md5", default="mnist",
                        help="idx_md5 setting: mnist (default), none, or four md5 values")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: under results/)")
    args = parser.parse_args(argv)
    result = run(args.idx_dir, args.repeat, args.md5)
    print(_report(result))
    out = args.out or RESULTS / f"bench_data-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

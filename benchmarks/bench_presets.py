"""CPU use and time of every training preset, and PyTorch CPU on the same recipe in the same run.

    python benchmarks/bench_presets.py DIR [--epochs N] [--presets NAME ...] [--set KEY=VALUE ...]
                                           [--repeat N] [--no-torch] [--torch-threads N]

DIR is a directory holding the four MNIST IDX files, as for ``bench_train.py``; the data is its
seed split (all 70,000 rows, ``train_test_split(test_size=0.2, random_state=42)``: 56,000 rows to
train on, 14,000 to test). Every preset of :data:`mnistflow.settings.presets.PRESETS` is trained as the train
stage would (float32, BLAS threads from the environment, else all cores), each in its own process,
and for each the table gives the seconds of training, the CPU use (user + system CPU seconds of the
process during training / wall seconds: 2.0 is both cores of a 2-core machine busy all the time),
the test accuracy, the peak resident memory and the load average before and after the run (on a
machine shared with other jobs, the CPU use of a run is only what the others left it).

For every mini-batch preset (``best``, and ``frontier`` when it exists), ``torch-<preset>`` runs the
same recipe with PyTorch doing the training compute: it is this project's own
:func:`mnistflow.training.train.train` with the gradient engine and the optimizer's step swapped for
PyTorch's (forward and backward pass, ``torch.optim.Adam`` or ``SGD``), on tensors that share
memory with the NumPy parameters. So both get the same initial weights, the same shuffled,
augmented NumPy batches (gathered and moved by the same code, from the same seed), the same
learning-rate schedule with warm-up, and are timed the same way: the comparison is of the training
compute. (With dropout PyTorch draws its own masks, so after the first step the shifts differ too;
no preset uses dropout now.) PyTorch uses as many threads as it chooses (``--torch-threads`` to
set them; it records them). Skipped when torch is not installed (``pip install -e '.[bench]'``).

``--epochs N`` shortens every preset to N epochs (warm-up at most N - 1); ``--set key=value ...``
changes training settings of every preset as ``--config`` would (``--set hidden=800``: the ``best``
recipe on 784-800-10); ``--repeat N`` runs every contender N times, in turns, to see the spread.
The table is printed and written to ``benchmarks/results/bench_presets-<time>.json``, with the BLAS
kernel and NumPy SIMD the presets trained with (:mod:`mnistflow.plumbing.numerics`). To time the
pinned numerics of ``portable_numerics: true``, set its variables for the whole run:
``OPENBLAS_CORETYPE=Nehalem NPY_ENABLE_CPU_FEATURES=X86_V2 python benchmarks/bench_presets.py DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from bench_train import load, peak_rss_mb, torch_available, write_split

from mnistflow.plumbing.numerics import describe, numerics
from mnistflow.training.shifts import ShiftFrame, image_side

RESULTS = Path(__file__).resolve().parent / "results"


def recipe(preset: str, epochs: int | None, settings: dict[str, str]) -> Any:
    """The preset's hyperparameters with ``settings`` on top (as ``--config key=value`` would),
    shortened to ``epochs`` when given."""
    from mnistflow.settings.presets import PRESETS, resolve

    if epochs:
        warmup = settings.get("warmup_epochs", PRESETS[preset].warmup_epochs)
        settings = {**settings, "epochs": str(epochs), "warmup_epochs": str(min(int(warmup), epochs - 1))}
    return resolve({"preset": preset, **{key: yaml_value(value) for key, value in settings.items()}})


def yaml_value(text: str) -> Any:
    """``800`` -> 800, ``0.1`` -> 0.1, ``adam`` -> "adam": a value as Snakemake's --config reads it."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


# --- PyTorch in place of the gradient engine and the optimizer's step --------------------------------

class TorchGradients:
    """Stands in for :class:`mnistflow.training.engine.Gradients` inside ``train``: a batch's forward and
    backward pass in PyTorch, on tensors that share memory with the NumPy parameters."""

    def __init__(self, params: dict[str, np.ndarray], batch: int, workers: Any) -> None:
        import torch

        self.tensors = {name: torch.from_numpy(value).requires_grad_() for name, value in params.items()}
        self.workers = workers
        self.gathered: np.ndarray | None = None  # a batch's rows, gathered (and moved) here
        self.frame: ShiftFrame | None = None

    def __enter__(self) -> TorchGradients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.workers.close()  # mnistflow's workers, unused here

    def gather(self, X: Any) -> np.ndarray:
        """A batch's inputs: the rows of a mini-batch's :class:`mnistflow.training.shifts.Gather`, gathered
        (and moved) on this thread, as mnistflow's own workers do for their blocks."""
        if isinstance(X, np.ndarray):
            return X
        if self.gathered is None or len(self.gathered) < len(X):
            self.gathered = np.empty((len(X), X.source.shape[1]), X.source.dtype)
        if X.shift and self.frame is None:
            self.frame = ShiftFrame(len(self.gathered), image_side(X.source.shape[1]), X.shift,
                                    X.source.dtype)
        return X.into(self.gathered, self.frame)  # type: ignore[no-any-return]

    def restrict(self, *args: object) -> list[int]:
        raise NotImplementedError("PyTorch runs the mini-batch presets only")

    def __call__(self, params: object, batch: Any, hp: Any, rng: object) -> tuple[float, int]:
        import torch
        from torch.nn import functional

        t = self.tensors
        X, labels = torch.from_numpy(self.gather(batch.X)), torch.from_numpy(batch.labels)
        for tensor in t.values():
            tensor.grad = None
        A1 = torch.relu(X @ t["W1"] + t["b1"])  # (m, H)
        if hp.dropout:
            A1 = functional.dropout(A1, hp.dropout)
        Z2 = A1 @ t["W2"] + t["b2"]  # (m, K)
        ce = functional.cross_entropy(Z2, labels)
        loss = ce + hp.l2 / 2 * (t["W1"].square().sum() + t["W2"].square().sum()) if hp.l2 else ce
        loss.backward()
        return float(ce.detach()), int((Z2.argmax(dim=1) == labels).sum())


class TorchOptimizer:
    """Stands in for :class:`mnistflow.training.engine.ParallelOptimizer`: ``torch.optim.Adam`` (or
    SGD) over the tensors of the :class:`TorchGradients` it is given, at the step's learning rate."""

    def __init__(self, name: str, buffer: object, layout: object, workers: object,
                 momentum: float = 0.0) -> None:
        self.name, self.momentum = name, momentum
        self.optimizer: Any = None

    def step(self, gradients: TorchGradients, lr: float) -> None:
        import torch

        if self.optimizer is None:
            tensors = list(gradients.tensors.values())
            self.optimizer = (torch.optim.Adam(tensors, lr=lr) if self.name == "adam"
                              else torch.optim.SGD(tensors, lr=lr, momentum=self.momentum))
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()

    def wait(self) -> None:
        """PyTorch's step is done when it returns."""


# --- one contender, in a worker process --------------------------------------------------------------

def run(name: str, split: Path, epochs: int | None, settings: dict[str, str],
        torch_threads: int | None) -> dict[str, Any]:
    """Train preset ``name`` (``torch-<preset>``: with PyTorch's compute) and measure it."""
    from mnistflow.plumbing.npz_files import load_npz
    from mnistflow.training import network, train

    use_torch = name.startswith("torch-")
    preset = name.removeprefix("torch-")
    hp = recipe(preset, epochs, settings)
    extra: dict[str, Any] = {}
    if use_torch:
        import torch

        if torch_threads:
            torch.set_num_threads(torch_threads)
        train.Gradients = TorchGradients  # type: ignore[assignment,misc]
        train.ParallelOptimizer = TorchOptimizer  # type: ignore[assignment,misc]
        extra = {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    data = load_npz(split, {"X_train": "", "Y_train": ""})  # as scripts/train.py
    X, Y = data.pop("X_train"), data.pop("Y_train")
    del data
    load_before = os.getloadavg()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    params, history = train.train(X, Y, hp)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    load_after = os.getloadavg()
    user, system = after.ru_utime - usage.ru_utime, after.ru_stime - usage.ru_stime
    del X, Y
    X_test, y_test = load(split, "X_test", "y_test")
    epoch_seconds = np.diff([0.0] + [e.seconds for e in history])
    return {
        "preset": preset, "compute": "torch" if use_torch else "mnistflow", **extra,
        "hyperparams": asdict(hp), "seconds": seconds, "user_seconds": user, "system_seconds": system,
        "cores": (user + system) / seconds, "epochs": len(history),
        "epoch_seconds_median": float(np.median(epoch_seconds)),
        "accuracy": float(np.mean(network.predict(params, X_test) == y_test)),
        "loss_last": history[-1].loss, "load_before": load_before, "load_after": load_after,
    }


def worker(name: str, split: Path, epochs: int | None, settings: dict[str, str],
           torch_threads: int | None) -> None:
    result = run(name, split, epochs, settings, torch_threads)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


# --- the driver ----------------------------------------------------------------------------------

def spawn(name: str, split: Path, epochs: int | None, settings: dict[str, str],
          torch_threads: int | None) -> dict[str, Any]:
    print(f"... {name} (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    cmd = [sys.executable, __file__, "--worker", name, "--split", str(split)]
    cmd += ["--epochs", str(epochs)] if epochs else []
    cmd += ["--set", *(f"{key}={value}" for key, value in settings.items())] if settings else []
    cmd += ["--torch-threads", str(torch_threads)] if torch_threads else []
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    result = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"    {result['seconds']:.1f} s, {result['cores']:.2f} cores, accuracy {result['accuracy']:.4f} "
          f"(load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)  # kept if the run is cut short
    return result


def table(results: list[tuple[str, dict[str, Any]]]) -> str:
    head = (f"{'':16s} {'epochs':>6s} {'seconds':>8s} {'s/epoch':>8s} {'CPU s':>7s} {'cores':>6s} "
            f"{'accuracy':>9s} {'peak MB':>8s}  load before/after")
    lines = [head]
    for name, r in results:
        if "error" in r:
            lines.append(f"{name:16s} {r['error']}")
            continue
        cpu = r["user_seconds"] + r["system_seconds"]
        lines.append(f"{name:16s} {r['epochs']:6d} {r['seconds']:8.1f} {r['epoch_seconds_median']:8.2f} "
                     f"{cpu:7.1f} {r['cores']:6.2f} {r['accuracy']:9.4f} {r['peak_rss_mb']:8.0f}  "
                     f"{r['load_before'][0]:.2f} / {r['load_after'][0]:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from mnistflow.settings.presets import PRESETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mnist", nargs="?", type=Path, help="directory holding the four MNIST IDX files")
    parser.add_argument("--epochs", type=int, help="train every preset for this many epochs")
    parser.add_argument("--presets", nargs="*", default=list(PRESETS), choices=list(PRESETS),
                        help=f"presets to run (default: all, {' '.join(PRESETS)})")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="training settings on top of every preset's, e.g. hidden=800")
    parser.add_argument("--repeat", type=int, default=1, help="run every contender this many times")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--torch-threads", type=int, help="PyTorch's threads (default: its own choice)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--split", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.set)
    if args.worker:
        worker(args.worker, args.split, args.epochs, settings, args.torch_threads)
        return 0
    if args.mnist is None:
        parser.error("the MNIST folder is required")

    with_torch = not args.no_torch and torch_available()
    names = []
    for preset in args.presets:
        names.append(preset)
        if with_torch and PRESETS[preset].batch_size:
            names.append(f"torch-{preset}")
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "machine": platform.machine(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        or "all cores", "epochs": args.epochs or "each preset's", "settings": settings,
        "load_start": os.getloadavg(),
        "numerics": numerics(),  # the kernel and SIMD the presets train with (environment, as here)
    }
    results: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split.npz"
        write_split(args.mnist, split)
        for preset in args.presets:  # a preset's contenders in turns, one after the other
            contenders = [name for name in names if name.removeprefix("torch-") == preset]
            for _ in range(args.repeat):
                results += [(name, spawn(name, split, args.epochs, settings, args.torch_threads))
                            for name in contenders]
    info["load_end"] = os.getloadavg()

    changed = "".join(f", {key}={value}" for key, value in settings.items())
    print(f"\nPresets on the full MNIST seed split ({info['date']}, {info['cpus']} CPUs, BLAS threads: "
          f"{info['blas_threads']}, load average {info['load_start'][0]:.2f} at the start, "
          f"{info['load_end'][0]:.2f} at the end{changed}; {describe(info['numerics'])})")
    print(table(results))
    for preset in args.presets:
        ours = [r["seconds"] for n, r in results if n == preset and "seconds" in r]
        theirs = [r["seconds"] for n, r in results if n == f"torch-{preset}" and "seconds" in r]
        if ours and theirs:
            print(f"{preset}: PyTorch / mnistflow time {np.median(theirs) / np.median(ours):.2f} "
                  f"(medians {np.median(theirs):.1f} s / {np.median(ours):.1f} s)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_presets-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    runs = [{"name": name, **result} for name, result in results]
    out.write_text(json.dumps({"info": info, "runs": runs}, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

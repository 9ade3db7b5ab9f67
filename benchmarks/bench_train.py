"""Training speed, accuracy and memory: this project against scikit-learn, PyTorch and the seed's code.

    python benchmarks/bench_train.py DIR [--epochs 100] [--skip NAME ...]

DIR is a directory holding the four MNIST IDX files (``train-images-idx3-ubyte.gz`` ..., gzip'd or
not), read with the project's own reader (:func:`mnistflow.data.sources.load_idx`, MNIST checksums).

Part 1, the seed recipe (784-256-10, randn * 0.01 weights, zero biases, full-batch gradient descent,
learning rate 0.5, 100 epochs) on the full MNIST seed split (all 70,000 rows, train then t10k order,
``train_test_split(test_size=0.2, random_state=42)``: 56,000 rows to train on, 14,000 to test), run
one after the other by:

- ``mnistflow``: this project (``preset: exercise``, float32), loading its data like the train stage does;
- ``sklearn``: MLPClassifier(256, solver sgd, batch_size = all rows, lr 0.5, momentum 0, alpha 0),
  float32 input, other settings at their defaults, except that it never stops early;
- ``torch``: the same network in PyTorch on the CPU, float32 (skipped when torch is not installed);
- ``seed-code``: the seed notebook's own float64 NumPy code, copied below as it was written.

Part 2, ``preset: best`` against MLPClassifier(256) with its defaults (adam, batch 200, lr 0.001,
early stop on the training loss), both float32.

The GEMM floor is what the two big products of an epoch (X W1 and X^T dZ1, 2 x 2 x 56,000 x 784 x 256
FLOPs) cost on this machine, measured in this run with the same shapes: 100 epochs of dense products
can't be faster. mnistflow can, because its products leave out the pixel columns that are 0 in all
rows of a block (exact: they add nothing); the other contenders multiply all 784 columns.

Each contender runs in its own subprocess, so its peak resident memory (ru_maxrss) is its own. The
table (seconds of training, ratio to mnistflow, test accuracy, peak memory) is printed and written to
``benchmarks/results/bench_train-<time>.json``. BLAS threads: whatever the environment gives every
contender alike (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, else all cores).
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
import warnings
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SEED_RECIPE = ("mnistflow", "sklearn", "torch", "seed-code")
BEST = ("mnistflow-best", "sklearn-adam")
TARGETS = {"sklearn": 0.67, "torch": 0.6, "seed-code": 0.37}  # mnistflow time / their time, at most


# --- data ------------------------------------------------------------------------------------------

def write_split(mnist: Path, path: Path) -> None:
    """The seed split of all 70,000 rows, made by the project's own fetch and prepare code
    (train_test_split(test_size=0.2, random_state=42), float32), as the workflow would."""
    from mnistflow.data.prepare import split
    from mnistflow.data.sources import load_idx
    from mnistflow.plumbing.npz_files import save_npz

    with tempfile.TemporaryDirectory() as downloads:  # a local directory downloads nothing
        digits = load_idx(str(mnist), md5="mnist", downloads=downloads)
    save_npz(path, split(digits, "random", test_size=0.2, random_state=42))


def load(split: Path, *names: str) -> list[np.ndarray]:
    with np.load(split) as npz:
        return [npz[name] for name in names]


# --- the contenders (each runs in a worker process) --------------------------------------------------

def run_mnistflow(split: Path, epochs: int, preset: str = "exercise") -> dict[str, Any]:
    from mnistflow.plumbing.npz_files import load_npz
    from mnistflow.settings.presets import resolve
    from mnistflow.training import network
    from mnistflow.training.train import train

    hp = resolve({"preset": preset, "epochs": epochs if preset == "exercise" else None})
    data = load_npz(split, {"X_train": "", "Y_train": ""})  # as scripts/train.py
    X, Y = data.pop("X_train"), data.pop("Y_train")
    del data
    start = time.perf_counter()
    params, history = train(X, Y, hp)
    seconds = time.perf_counter() - start
    del X, Y
    X_test, y_test = load(split, "X_test", "y_test")
    accuracy = float(np.mean(network.predict(params, X_test) == y_test))
    epoch_seconds = np.diff([0.0] + [e.seconds for e in history])
    return {"seconds": seconds, "accuracy": accuracy, "epochs": len(history),
            "loss_first": history[0].loss, "loss_last": history[-1].loss,
            "epoch_seconds_median": float(np.median(epoch_seconds))}


def run_mnistflow_best(split: Path, epochs: int) -> dict[str, Any]:
    return run_mnistflow(split, epochs, preset="best")


def run_sklearn(split: Path, epochs: int, adam: bool = False) -> dict[str, Any]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y, X_test, y_test = load(split, "X_train", "y_train", "X_test", "y_test")
    if adam:  # all defaults: adam, batch 200, lr 0.001, up to 200 epochs with early stop on the loss
        model = MLPClassifier(hidden_layer_sizes=(256,), random_state=0)
    else:
        model = MLPClassifier(
            hidden_layer_sizes=(256,), solver="sgd", batch_size=len(X), learning_rate_init=0.5,
            momentum=0.0, alpha=0.0, max_iter=epochs, n_iter_no_change=epochs + 1, random_state=0,
        )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "accuracy": float(model.score(X_test, y_test)),
            "epochs": int(model.n_iter_), "loss_last": float(model.loss_)}


def run_sklearn_adam(split: Path, epochs: int) -> dict[str, Any]:
    return run_sklearn(split, epochs, adam=True)


def run_torch(split: Path, epochs: int) -> dict[str, Any]:
    import torch

    X_np, y_np, X_test_np, y_test_np = load(split, "X_train", "y_train", "X_test", "y_test")
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np.astype(np.int64))
    torch.manual_seed(0)
    W1 = (torch.randn(784, 256) * 0.01).requires_grad_()
    b1 = torch.zeros(256, requires_grad=True)
    W2 = (torch.randn(256, 10) * 0.01).requires_grad_()
    b2 = torch.zeros(10, requires_grad=True)
    opt = torch.optim.SGD([W1, b1, W2, b2], lr=0.5)
    start = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.relu(X @ W1 + b1) @ W2 + b2, y)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = (torch.relu(torch.from_numpy(X_test_np) @ W1 + b1) @ W2 + b2).argmax(dim=1).numpy()
    return {"seconds": seconds, "accuracy": float(np.mean(pred == y_test_np)), "epochs": epochs,
            "loss_last": float(loss), "threads": torch.get_num_threads()}


def run_seed_code(split: Path, epochs: int) -> dict[str, Any]:
    """The seed notebook's code, as written: float64 (its data came from fetch_openml / 255.0),
    fresh arrays for every intermediate, global np.random seeding."""
    X_train, Y_train, X_test, y_test = load(split, "X_train", "Y_train", "X_test", "y_test")
    X_train, Y_train = X_train.astype(np.float64), Y_train.astype(np.float64)
    X_test = X_test.astype(np.float64)

    def relu(Z):  # type: ignore[no-untyped-def]
        return np.maximum(0, Z)

    def relu_derivative(Z):  # type: ignore[no-untyped-def]
        return Z > 0

    def softmax(Z):  # type: ignore[no-untyped-def]
        expZ = np.exp(Z - np.max(Z, axis=1, keepdims=True))
        return expZ / np.sum(expZ, axis=1, keepdims=True)

    def initialize_parameters(input_size, hidden_size, output_size):  # type: ignore[no-untyped-def]
        np.random.seed(42)
        W1 = np.random.randn(input_size, hidden_size) * 0.01
        b1 = np.zeros((1, hidden_size))
        W2 = np.random.randn(hidden_size, output_size) * 0.01
        b2 = np.zeros((1, output_size))
        return W1, b1, W2, b2

    def forward_propagation(X, W1, b1, W2, b2):  # type: ignore[no-untyped-def]
        Z1 = np.dot(X, W1) + b1
        A1 = relu(Z1)
        Z2 = np.dot(A1, W2) + b2
        A2 = softmax(Z2)
        return Z1, A1, Z2, A2

    def compute_loss(Y, A2):  # type: ignore[no-untyped-def]
        m = Y.shape[0]
        return -np.sum(Y * np.log(A2 + 1e-8)) / m

    def backward_propagation(X, Y, Z1, A1, A2, W2):  # type: ignore[no-untyped-def]
        m = X.shape[0]
        dZ2 = A2 - Y
        dW2 = np.dot(A1.T, dZ2) / m
        db2 = np.sum(dZ2, axis=0, keepdims=True) / m
        dA1 = np.dot(dZ2, W2.T)
        dZ1 = dA1 * relu_derivative(Z1)
        dW1 = np.dot(X.T, dZ1) / m
        db1 = np.sum(dZ1, axis=0, keepdims=True) / m
        return dW1, db1, dW2, db2

    start = time.perf_counter()
    W1, b1, W2, b2 = initialize_parameters(784, 256, 10)
    learning_rate = 0.5
    for _epoch in range(epochs):
        Z1, A1, Z2, A2 = forward_propagation(X_train, W1, b1, W2, b2)  # noqa: RUF059 (as written)
        loss = compute_loss(Y_train, A2)
        dW1, db1, dW2, db2 = backward_propagation(X_train, Y_train, Z1, A1, A2, W2)
        W1 = W1 - learning_rate * dW1
        b1 = b1 - learning_rate * db1
        W2 = W2 - learning_rate * dW2
        b2 = b2 - learning_rate * db2
    seconds = time.perf_counter() - start
    pred = np.argmax(forward_propagation(X_test, W1, b1, W2, b2)[3], axis=1)
    return {"seconds": seconds, "accuracy": float(np.mean(pred == y_test)), "epochs": epochs,
            "loss_last": float(loss)}


def run_gemm_floor(split: Path, epochs: int, repeats: int = 10) -> dict[str, Any]:
    """Seconds of X W1 (56000x784 by 784x256) plus X^T dZ1 (784x56000 by 56000x256) in float32, the
    median of ``repeats`` after a warm-up, times the number of epochs."""
    (X,) = load(split, "X_train")
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((X.shape[1], 256), dtype=np.float32)
    A = np.empty((X.shape[0], 256), np.float32)
    G = np.empty_like(W1)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        np.matmul(X, W1, out=A)
        np.matmul(X.T, A, out=G)
        times.append(time.perf_counter() - start)
    per_epoch = float(np.median(times[1:]))
    flops = 2 * 2 * X.shape[0] * X.shape[1] * 256
    return {"seconds": per_epoch * epochs, "epoch_seconds": per_epoch,
            "sgemm_gflops": flops / per_epoch / 1e9}


WORKERS = {
    "mnistflow": run_mnistflow, "sklearn": run_sklearn, "torch": run_torch,
    "seed-code": run_seed_code, "gemm-floor": run_gemm_floor,
    "mnistflow-best": run_mnistflow_best, "sklearn-adam": run_sklearn_adam,
}


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss would also count the parent's
    peak, which Linux carries over a fork and exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(name: str, split: Path, epochs: int) -> None:
    """Run one contender and print its result, with this process's peak memory, as JSON."""
    result = WORKERS[name](split, epochs)
    result["peak_rss_mb"] = peak_rss_mb()
    if name != "gemm-floor":  # how fast the (shared) machine was just then, for the normalised ratio
        result["floor_epoch_seconds"] = run_gemm_floor(split, epochs, repeats=4)["epoch_seconds"]
    print(json.dumps(result))


# --- the driver ------------------------------------------------------------------------------------

def spawn(name: str, split: Path, epochs: int) -> dict[str, Any]:
    print(f"... {name}", file=sys.stderr, flush=True)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--split", str(split), "--epochs", str(epochs)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def torch_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    return probe.returncode == 0


def table(results: dict[str, dict[str, Any]], reference: str) -> str:
    """Seconds, ratio (reference's seconds / these), test accuracy, peak memory; ``norm. ratio`` is the
    ratio of seconds in units of the GEMM floor each process measured right after its run, which
    takes out most of the drift of a machine shared with other jobs."""
    ref = results[reference]
    lines = [f"{'':16s} {'seconds':>8s} {'ratio':>7s} {'norm. ratio':>11s} {'accuracy':>9s} {'peak MB':>8s}"]
    for name, r in results.items():
        if "error" in r or "skipped" in r:
            lines.append(f"{name:16s} {r.get('error') or r.get('skipped')}")
            continue
        ratio = ref["seconds"] / r["seconds"] if "seconds" in ref else float("nan")
        norm = float("nan")
        if "floor_epoch_seconds" in ref:
            norm = (ref["seconds"] / ref["floor_epoch_seconds"]) / (r["seconds"] / r["floor_epoch_seconds"])
        r["ratio_mnistflow_to_this"] = round(ratio, 3)
        r["normalised_ratio_mnistflow_to_this"] = round(norm, 3)
        acc = f"{r['accuracy']:.4f}" if "accuracy" in r else ""
        lines.append(f"{name:16s} {r['seconds']:8.1f} {ratio:7.2f} {norm:11.2f} {acc:>9s} "
                     f"{r['peak_rss_mb']:8.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mnist", nargs="?", type=Path, help="directory holding the four MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the seed recipe (100)")
    parser.add_argument("--skip", nargs="*", default=[], choices=[*SEED_RECIPE, *BEST],
                        help="contenders to leave out")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--split", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.split, args.epochs)
        return 0
    if args.mnist is None:
        parser.error("the MNIST folder is required")

    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "machine": platform.machine(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        or "all cores", "epochs": args.epochs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split.npz"
        write_split(args.mnist, split)
        seed: dict[str, dict[str, Any]] = {}
        floor = spawn("gemm-floor", split, args.epochs)
        for name in SEED_RECIPE:
            if name in args.skip:
                seed[name] = {"skipped": "skipped (--skip)"}
            elif name == "torch" and not torch_available():
                seed[name] = {"skipped": "skipped: torch is not installed"}
            else:
                seed[name] = spawn(name, split, args.epochs)
        floor_after = spawn("gemm-floor", split, args.epochs)
        best = {name: ({"skipped": "skipped (--skip)"} if name in args.skip else spawn(name, split, 0))
                for name in BEST}

    print(f"\nSeed recipe, {args.epochs} full-batch epochs, full MNIST seed split ({info['date']}, "
          f"{info['cpus']} CPUs, BLAS threads: {info['blas_threads']})")
    print(table(seed, "mnistflow"))
    ours = seed["mnistflow"]
    if "seconds" in floor and "seconds" in ours:
        print(f"GEMM floor       {floor['seconds']:8.1f} s (sgemm {floor['sgemm_gflops']:.0f} GFLOP/s; "
              f"after the runs: {floor_after.get('seconds', float('nan')):.1f} s)")
        ratio = ours["epoch_seconds_median"] / floor["epoch_seconds"]
        own = ours["epoch_seconds_median"] / ours["floor_epoch_seconds"]
        print(f"mnistflow per epoch: {ours['epoch_seconds_median'] * 1000:.0f} ms = {ratio:.2f} x the "
              f"GEMM floor above, {own:.2f} x the floor measured right after it (target <= 1.25)")
        ours["epoch_to_floor"], ours["epoch_to_own_floor"] = round(ratio, 3), round(own, 3)
    for name, target in TARGETS.items():
        if "ratio_mnistflow_to_this" in seed[name]:
            raw = seed[name]["ratio_mnistflow_to_this"]
            norm = seed[name]["normalised_ratio_mnistflow_to_this"]
            print(f"target mnistflow <= {target} x {name}: {raw:.2f} "
                  f"({'ok' if raw <= target else 'MISSED'}), normalised {norm:.2f} "
                  f"({'ok' if norm <= target else 'MISSED'})")
    print("\npreset best against MLPClassifier(256) with adam defaults, float32")
    print(table(best, "mnistflow-best"))

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_train-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps({"info": info, "gemm_floor": floor, "gemm_floor_after": floor_after,
                               "seed_recipe": seed, "best": best}, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

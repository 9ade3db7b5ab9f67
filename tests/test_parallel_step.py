"""The optimizer's step on every worker makes the bytes of the one-thread step."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from mnistflow.settings.presets import PRESETS
from mnistflow.training import network
from mnistflow.training.engine._flat import Layout, Part
from mnistflow.training.engine._parallel_step import ParallelOptimizer
from mnistflow.training.engine._workers import Workers
from mnistflow.training.optimizers import make_optimizer
from mnistflow.training.train import train


class _Given:
    """A gradient already added up, handed out a part of the rows at a time."""

    def __init__(self, grads: network.Grads, layout: Layout) -> None:
        self.flat, views = layout.zeros(np.float32, "d")
        for key, value in grads.items():
            views[key][...] = value
        self.layout = layout
        self.parts: list[Part] = []

    def add_up(self, part: Part) -> np.ndarray:
        self.parts.append(part)
        return self.flat[self.layout.span(part)]


@pytest.mark.parametrize("workers", [1, 2, 3, 11], ids=["one", "two", "three", "eleven"])
@pytest.mark.parametrize(("optimizer", "momentum"), [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)],
                         ids=["sgd", "momentum", "adam"])
def test_parallel_step_gives_the_bytes_of_the_one_thread_step(
    optimizer: str, momentum: float, workers: int
) -> None:
    rng = np.random.default_rng(0)
    # float32 as in training; b2 has fewer rows than eleven workers
    params = network.init_params(37, 13, 5, rng, "float32", init="he")
    params["b1"] += rng.standard_normal(13).astype(np.float32)
    alone = {k: v.copy() for k, v in params.items()}
    one_thread = make_optimizer(optimizer, alone, momentum)
    layout = Layout.of(params)
    buffer, params = layout.place(params)
    with Workers(workers) as team:
        parallel = ParallelOptimizer(optimizer, buffer, layout, team, momentum)
        for step in range(5):
            grads = {f"d{k}": rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()}
            given = _Given(grads, layout)
            parallel.step(given, 0.01 * (step + 1))
            one_thread.step(grads, 0.01 * (step + 1))
            parallel.wait()
            for name, value in params.items():
                assert value.tobytes() == alone[name].tobytes(), (name, step)
    assert len(given.parts) == workers  # one part per worker, each asked for once
    # the elements between the arrays stay 0
    outside = np.ones(layout.size, bool)
    for name, start in layout.starts.items():
        outside[start : start + params[name].size] = False
    assert outside.any() and not buffer[outside].any()


def test_training_on_two_workers_is_bit_identical_run_to_run(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = rng.random((300, 9, 9)) * 0.3
    for c in range(3):  # each class lights its own band of rows (a shift by one keeps its middle)
        X[y == c, 3 * c : 3 * c + 3, :] += 0.7
    X = X.reshape(300, 81).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[y]
    # batches of 100 rows: two workers, two blocks, the adding-up and Adam's step on both
    hp = replace(PRESETS["best"], hidden=24, epochs=5, batch_size=100, shift=1, l2=1e-4,
                 learning_rate=0.03)
    with threadpool_limits(2, user_api="blas"), caplog.at_level("INFO", "mnistflow.training.train"):
        runs = [train(X, Y, hp) for _ in range(3)]
    assert "2 thread(s), 2 worker(s)" in caplog.text
    for params, history in runs[1:]:
        assert [e.loss for e in history] == [e.loss for e in runs[0][1]]
        for name, value in params.items():
            assert value.tobytes() == runs[0][0][name].tobytes(), name
    assert runs[0][1][-1].train_accuracy > 0.9

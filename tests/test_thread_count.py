"""The same weights at any thread count: a batch is cut into blocks by its size alone, and the blocks'
gradients are added up in block order, whichever worker computed them (training.engine)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from mnistflow.data.prepare import split
from mnistflow.data.sources import load_sample
from mnistflow.settings.presets import PRESETS, Hyperparams
from mnistflow.training.blocks import block_rows
from mnistflow.training.train import train

# the presets' recipes on 1,200 real digits, for an epoch or two: each run takes about a second
RECIPES = {
    "exercise": replace(PRESETS["exercise"], epochs=5),
    "best": replace(PRESETS["best"], epochs=2, batch_size=200),  # the last batch is shorter
    "dropout": replace(PRESETS["best"], epochs=2, dropout=0.2, l2=1e-4, validation_fraction=0.1),
    "frontier": replace(PRESETS["frontier"], epochs=2, hidden=200),
    # a full batch on distorted digits: blocks of a batch that moves every epoch
    "full-batch-distorted": replace(PRESETS["frontier"], epochs=2, hidden=64, batch_size=0,
                                    optimizer="sgd", learning_rate=0.1),
}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    data = split(load_sample())
    return data["X_train"][:1200], data["Y_train"][:1200]


@pytest.mark.parametrize("hp", RECIPES.values(), ids=RECIPES.keys())
def test_one_two_and_three_threads_give_the_same_weights(
    hp: Hyperparams, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    models, logs = [], []
    for threads in (1, 2, 3):  # three on two cores too: the cut must not follow the workers
        with threadpool_limits(threads, user_api="blas"):
            params, history = train(*digits, hp)
        models.append(params)
        logs.append([(e.loss, e.train_accuracy, e.val_accuracy) for e in history])
    for params in models[1:]:
        for name, value in params.items():
            assert value.tobytes() == models[0][name].tobytes(), name
    assert logs[0] == logs[1] == logs[2]


@pytest.mark.parametrize(
    ("batch", "rows"),
    [(1, 1), (32, 32), (63, 63), (64, 32), (256, 128), (1200, 600), (8192, 4096), (8193, 2049),
     (56000, 4000), (60000, 3750)],
)
def test_blocks_are_at_most_block_rows_in_an_even_number_when_two_workers_have_rows(
    batch: int, rows: int
) -> None:
    assert block_rows(batch) == rows
    count = -(-batch // rows)
    assert rows <= 4096
    assert count == 1 or count % 2 == 0

"""The gradient engine: its threaded, blocked, column-restricted gradients are network.backward's,
whether added up at once or a part of the rows at a time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mnistflow.settings.presets import PRESETS
from mnistflow.training import network
from mnistflow.training.engine._columns import live_columns, restrict_columns
from mnistflow.training.engine._flat import Layout
from mnistflow.training.engine._gradients import Batch, Gradients
from mnistflow.training.engine._workers import Workers

HP = replace(PRESETS["exercise"], hidden=16, dtype="float64")


def _blobs(n: int, dead: bool = False) -> Batch:
    """Three classes of 9x9 images, each lighting its own band of rows; with ``dead``, the first
    and last image columns and the middle pixel are 0 in every row, the second column in the
    first 100 rows."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    X = rng.random((n, 9, 9)) * 0.3
    for c in range(3):
        X[y == c, 3 * c : 3 * c + 3, :] += 0.7
    if dead:
        X[:, :, 0] = X[:, :, -1] = X[:, 4, 4] = X[:100, :, 1] = 0
    return Batch(X.reshape(n, -1), np.eye(3)[y], y)


DEAD = sorted({9 * r for r in range(9)} | {9 * r + 8 for r in range(9)} | {40})  # in every row


def _textbook(params: network.Params, batch: Batch, l2: float, dropout: float) -> tuple[
    float, int, network.Grads
]:
    """Mean cross-entropy, rows right and gradients of a batch by network.backward, with the
    dropout mask drawn as the engine draws it (the whole batch's, from a generator seeded 0)."""
    A1 = network.hidden(params, batch.X)
    if dropout:
        kept = network.dropout_mask(A1.shape, dropout, np.random.default_rng(0))
        network.inplace_dropout(A1, dropout, kept)
    P = network.output(params, A1)
    ce, correct = network.loss(P, batch.Y), int(np.sum(P.argmax(axis=1) == batch.labels))
    return ce, correct, network.backward(params, batch.X, batch.Y, A1, P, l2=l2, dropout=dropout)


def _assert_same(got: tuple[float, int], grads: network.Grads,
                 want: tuple[float, int, network.Grads]) -> None:
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    assert got[1] == want[1]
    assert sorted(grads) == sorted(want[2])
    for key, value in want[2].items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("workers", "block", "dropout", "rows"),
    [(1, 50, 0.0, 300), (2, 64, 0.0, 300), (3, 1000, 0.0, 300), (2, 40, 0.3, 300), (3, 8, 0.0, 2),
     (2, 64, 0.0, 100)],
    ids=["blocks", "2-threads", "3-threads", "2-threads-dropout", "more-threads-than-rows",
         "a-short-batch"],
)
def test_gradients_split_over_threads_and_blocks_are_the_textbook_ones(
    workers: int, block: int, dropout: float, rows: int
) -> None:
    everything = _blobs(300)
    batch = Batch(*(a[:rows] for a in everything))
    hp = replace(HP, l2=0.01, dropout=dropout)
    params = network.init_params(81, 16, 3, np.random.default_rng(0), "float64", init="he")
    want = _textbook(params, batch, 0.01, dropout)
    with Gradients(params, 300, Workers(workers), block) as gradients:
        # a full batch first, so that stale sums would show in a shorter batch after it
        gradients(params, everything, hp, np.random.default_rng(1))
        got = gradients(params, batch, hp, np.random.default_rng(0))
        _assert_same(got, gradients.grads, want)


def test_live_columns_and_their_copy() -> None:
    X = _blobs(240, dead=True).X
    live = live_columns(X)
    assert list(live) == [j for j in range(81) if j not in DEAD]
    second = [9 * r + 1 for r in range(9)]
    assert not set(second) & set(live_columns(X, np.arange(100)))
    X[7, 40] = 0.5  # one row lights a dead column: it is live for all rows, but not for the others
    assert 40 in live_columns(X)
    assert 40 not in live_columns(X, np.array([0, 1, 2, 8]))
    rows = np.array([3, 7, 200])
    restricted = restrict_columns(X, live, rows)
    np.testing.assert_array_equal(restricted, np.hstack([X[rows][:, live], np.ones((3, 1))]))


@pytest.mark.parametrize(("workers", "block"), [(1, 1000), (1, 64), (2, 64)],
                         ids=["one-block", "blocks", "2-threads"])
@pytest.mark.parametrize("l2", [0.0, 0.01], ids=["no-l2", "l2"])
@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["no-dropout", "dropout"])
@pytest.mark.parametrize("validation", [False, True], ids=["all-rows", "some-rows"])
def test_gradients_without_zero_columns_are_the_textbook_ones(
    workers: int, block: int, l2: float, dropout: float, validation: bool
) -> None:
    everything = _blobs(300, dead=True)
    rows = np.arange(20, 300, 2) if validation else None  # the rows to fit on
    batch = everything if rows is None else Batch(*(a[rows] for a in everything))
    params = network.init_params(81, 16, 3, np.random.default_rng(0), "float64", init="he")
    params["b1"] += 0.1  # a non-zero bias, so that folding it into the product is checked
    want = _textbook(params, batch, l2, dropout)
    hp = replace(HP, l2=l2, dropout=dropout)
    with Gradients(params, len(batch.Y), Workers(workers), block) as gradients:
        live = gradients.restrict(everything, rows)
        assert len(live) == -(-len(batch.Y) // gradients.block)
        assert max(live) <= 81 - len(DEAD)
        for _ in range(2):  # twice: nothing of the first call may stay in the sums
            got = gradients.restricted(params, hp, np.random.default_rng(0))
        summed = gradients.grads
        _assert_same(got, summed, want)
    # the rows of dW1 of columns 0 in every row are exactly the L2 term
    np.testing.assert_array_equal(summed["dW1"][DEAD], l2 * params["W1"][DEAD])


@pytest.mark.parametrize("restricted", [False, True], ids=["all-columns", "zero-columns-left-out"])
@pytest.mark.parametrize("parts", [1, 2, 5], ids=["one-part", "two-parts", "five-parts"])
def test_rows_added_up_a_part_at_a_time_are_the_sum(restricted: bool, parts: int) -> None:
    everything = _blobs(300, dead=True)
    params = network.init_params(81, 16, 3, np.random.default_rng(0), "float64", init="he")
    hp = replace(HP, l2=0.01)
    with Gradients(params, 300, Workers(2), 64) as gradients:
        if restricted:
            gradients.restrict(everything)
            gradients.restricted(params, hp, np.random.default_rng(0))
        else:
            gradients(params, everything, hp, np.random.default_rng(0))
        layout = Layout.of(params)
        whole, views = layout.zeros(np.float64, "d")  # the whole sum, in the flat layout
        for key, value in gradients.grads.items():
            views[key][...] = value
        for part in reversed(layout.parts(parts)):  # any order
            span = layout.span(part)
            assert gradients.add_up(part).tobytes() == whole[span].tobytes()

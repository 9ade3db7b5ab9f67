"""The parameters' flat layout: views of one buffer, cut into parts of whole rows."""

from __future__ import annotations

import numpy as np
import pytest

from mnistflow.training.engine._flat import ALIGN, Layout

ARRAYS = {"W1": np.zeros((784, 5)), "b1": np.zeros(5), "W2": np.zeros((5, 10)), "b2": np.zeros(10)}


def test_arrays_are_views_of_one_buffer_each_at_an_aligned_start() -> None:
    rng = np.random.default_rng(0)
    arrays = {name: rng.standard_normal(value.shape) for name, value in ARRAYS.items()}
    layout = Layout.of(arrays)
    buffer, views = layout.place(arrays)
    assert list(views) == list(arrays)
    for name, value in arrays.items():
        assert np.shares_memory(views[name], buffer) and views[name].flags.c_contiguous
        np.testing.assert_array_equal(views[name], value)
        assert layout.starts[name] % ALIGN == 0
    assert layout.size == sum(-(-a.size // ALIGN) * ALIGN for a in arrays.values())
    views["b1"][2] = 7.0  # a write through a view is in the buffer
    assert buffer[layout.starts["b1"] + 2] == 7.0
    grads = layout.views(buffer, "d")
    assert list(grads) == ["dW1", "db1", "dW2", "db2"] and grads["db1"][2] == 7.0


@pytest.mark.parametrize("count", [1, 2, 3, 7], ids=["one", "two", "three", "seven"])
def test_parts_are_whole_rows_in_order_of_near_equal_size_each_one_range(count: int) -> None:
    layout = Layout.of(ARRAYS)
    parts = layout.parts(count)
    assert len(parts) == count
    covered = np.zeros(layout.size, int)  # how many parts hold each element
    for part in parts:
        span = layout.span(part)
        covered[span] += 1
        for name, rows in part.items():  # the part's rows of each array lie in its range
            start = layout.starts[name] + rows.start * (ARRAYS[name].size // len(ARRAYS[name]))
            assert span.start <= start and rows.stop <= len(ARRAYS[name])
    for name, value in ARRAYS.items():  # every row of every array in exactly one part, in order
        ranges = [part[name] for part in parts if name in part]
        assert [r.start for r in ranges] == [0] + [r.stop for r in ranges[:-1]]
        assert ranges[-1].stop == len(value)
        start = layout.starts[name]
        assert (covered[start : start + value.size] == 1).all()
    sizes = [layout.span(part).stop - layout.span(part).start for part in parts]
    assert max(sizes) - min(sizes) <= 2 * 5 + 5 + 50 + 10 + 3 * ALIGN  # a row of W1, and the rest


def test_more_parts_than_rows_leaves_some_empty() -> None:
    arrays = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    layout = Layout.of(arrays)
    parts = layout.parts(9)
    assert len(parts) == 9
    assert sum(bool(part) for part in parts) <= 5
    assert layout.span({}) == slice(0, 0)
    covered = np.zeros(layout.size, int)
    for part in parts:
        covered[layout.span(part)] += 1
    assert (covered[:6] == 1).all() and (covered[16:19] == 1).all()

"""The worker threads: tasks in parallel, results in order, errors raised, threads stopped; row parts."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mnistflow.training.engine._workers import Workers


def test_tasks_of_a_phase_run_at_the_same_time_on_every_worker() -> None:
    meet = threading.Barrier(3, timeout=10)  # passes only when three tasks wait at once

    def task(i: int) -> int:
        meet.wait()
        return threading.get_ident()

    with Workers(3) as workers:
        for _ in range(3):  # the same helpers, phase after phase
            assert len(set(workers.map(task, 3))) == 3


def test_results_come_in_task_order_whichever_worker_ran_them() -> None:
    with Workers(2) as workers:
        assert workers.map(lambda i: i * i, 50) == [i * i for i in range(50)]
        assert workers.map(lambda i: i, 1) == [0]
        assert workers.map(lambda i: i, 0) == []


def test_a_started_phase_ends_before_the_next_one_begins() -> None:
    done: list[str] = []

    def slow(i: int) -> None:
        time.sleep(0.05)
        done.append(f"started {i}")

    for count in (1, 2, 3):
        done.clear()
        with Workers(count) as workers:
            workers.start(slow, 4)  # with helpers, returns before the tasks are done
            workers.map(lambda i: done.append(f"mapped {i}"), 2)
            assert sorted(done[:4]) == [f"started {i}" for i in range(4)], count
            workers.start(slow, 2)
            workers.wait()
            assert sorted(done[6:]) == ["started 0", "started 1"], count


def test_a_started_phase_raises_its_error_at_the_wait() -> None:
    def fail(i: int) -> None:
        raise ValueError(f"task {i}")

    with Workers(2) as workers:
        workers.start(fail, 1)
        with pytest.raises(ValueError, match="task 0"):
            workers.wait()
        workers.wait()  # nothing left to wait for


def test_a_single_worker_runs_the_tasks_in_the_calling_thread() -> None:
    before = threading.active_count()
    with Workers(1) as workers:
        assert workers.map(lambda i: threading.get_ident(), 3) == [threading.get_ident()] * 3
        assert threading.active_count() == before


def test_helpers_stop_at_the_end_of_the_block_and_the_caller_runs_later_tasks() -> None:
    before = threading.active_count()
    with Workers(3) as workers:
        workers.map(lambda i: i, 4)
        assert threading.active_count() == before + 2
    assert threading.active_count() == before
    assert workers.map(lambda i: threading.get_ident(), 3) == [threading.get_ident()] * 3
    assert threading.active_count() == before


def test_a_failing_task_raises_after_the_others_ran_and_the_workers_go_on() -> None:
    ran = []

    def task(i: int) -> int:
        if i == 1:
            raise ValueError("task 1")
        ran.append(i)
        return i

    with Workers(2) as workers:
        with pytest.raises(ValueError, match="task 1"):
            workers.map(task, 6)
        assert sorted(ran) == [0, 2, 3, 4, 5]
        assert workers.map(lambda i: -i, 2) == [0, -1]


def test_overflow_in_a_task_is_left_to_the_loss_check() -> None:
    # pytest turns warnings into errors: an overflow warning in a helper would fail the map
    big = np.full(4, 3e38, dtype=np.float32)
    with Workers(2) as workers:
        results = workers.map(lambda i: big * np.float32(10 + i), 2)
    assert all(np.isinf(r).all() for r in results)

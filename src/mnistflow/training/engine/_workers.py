"""The worker threads of training, and the parts of the work each one takes.

One worker thread per BLAS thread (Snakemake sets those from the rule's ``threads:``), each with
single-threaded BLAS (the caller limits it, see :func:`blas_threads`): NumPy's elementwise work runs on
one core per call, OpenBLAS splits products of 10-column matrices poorly, and its threads spin badly
on small products when another process shares the cores (a mini-batch epoch took 9x longer than
single-threaded). Every phase of a step runs on the same workers (:class:`Workers`): the blocks of a
batch (:mod:`mnistflow.training.engine._gradients`), then the adding-up of their gradients and the optimizer's
update (:mod:`mnistflow.training.engine._parallel_step`), each worker on its own part of the parameters
(:mod:`mnistflow.training.engine._flat`). NumPy releases the GIL inside its loops over big arrays, so the
workers really run at once.

An elementwise update gives the same bytes however its arrays are cut, so the result does not
depend on the number of parts or on which thread did which.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import TypeVar

import numpy as np
from threadpoolctl import threadpool_info

from mnistflow.training.blocks import MIN_ROWS_PER_WORKER

__all__ = ["Workers", "blas_threads", "workers_for"]

T = TypeVar("T")


def blas_threads() -> int:
    """Threads OpenBLAS (or another BLAS) would use: Snakemake sets them from the rule's ``threads:``."""
    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(1, min(counts, default=1))


def workers_for(batch: int, threads: int) -> int:
    """Worker threads for batches of ``batch`` rows: one per BLAS thread, none with too few rows."""
    return max(1, min(threads, batch // MIN_ROWS_PER_WORKER))


class Workers:
    """``count`` workers that run the tasks of one phase at a time: the calling thread and
    ``count - 1`` helper threads, each taking the next task as soon as it is free. A helper that
    another process keeps off its core just takes fewer tasks, or none: the phase ends when its
    tasks are done, not when every helper has looked in. The helpers start at the first phase and
    stop at :meth:`close` (or at the end of a ``with`` block); after that the calling thread runs
    every task itself.

    :meth:`map` runs a phase and returns its results. :meth:`start` hands a phase to the helpers and
    returns at once, so that the calling thread can go on with work of its own; the next
    :meth:`map` (or :meth:`wait`) first does the tasks of that phase no helper took yet and waits
    for the others, so phases never overlap."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._inboxes: list[SimpleQueue[_Phase | None]] = []  # one per helper: phases to help with
        self._helpers: list[threading.Thread] = []
        self._closed = False
        self._pending: _Phase | None = None  # the phase start() began

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish the phase at hand, and stop the helper threads."""
        self.wait()
        self._closed = True
        for inbox in self._inboxes:
            inbox.put(None)
        for helper in self._helpers:
            helper.join()
        self._inboxes, self._helpers = [], []

    def map(self, task: Callable[[int], T], n: int) -> list[T]:
        """[task(0), ..., task(n - 1)], run by whichever worker is free, and returned when all ran;
        the first exception raised by a task is raised here, after the others ran."""
        self.wait()
        phase = _Phase(task, n)
        if n > 1:
            self._hand_out(phase)
        phase.work()
        return phase.results_when_done()  # type: ignore[return-value]  # T, as task returned

    def start(self, task: Callable[[int], object], n: int) -> None:
        """Begin task(0), ..., task(n - 1) on the helpers and return at once (with no helper, run
        them first); the next :meth:`map` or :meth:`wait` does what they did not take yet."""
        self.wait()
        phase = _Phase(task, n)
        if self._hand_out(phase):
            self._pending = phase
        else:
            phase.work()
            phase.results_when_done()

    def wait(self) -> None:
        """Help with the phase :meth:`start` began, and return when it is done (raising the first
        exception of its tasks)."""
        phase, self._pending = self._pending, None
        if phase is not None:
            phase.work()
            phase.results_when_done()

    def _hand_out(self, phase: _Phase) -> bool:
        """Give ``phase`` to the helpers (started on the first call); False if there are none."""
        if self.count == 1 or self._closed:
            return False
        if not self._helpers:
            for _ in range(self.count - 1):
                inbox: SimpleQueue[_Phase | None] = SimpleQueue()
                self._helpers.append(threading.Thread(target=_help, args=(inbox,), daemon=True))
                self._helpers[-1].start()
                self._inboxes.append(inbox)
        for inbox in self._inboxes:
            inbox.put(phase)
        return True


def _help(inbox: SimpleQueue[_Phase | None]) -> None:
    """A helper thread: the tasks left of each phase it is given (none, if it comes late)."""
    while (phase := inbox.get()) is not None:
        phase.work()


class _Phase:
    """The tasks of one :meth:`Workers.map`, handed out in order to whichever worker asks;
    ``finished`` is released when the last one is done."""

    def __init__(self, task: Callable[[int], object], n: int) -> None:
        self.task, self.n = task, n
        self.results: list[object] = [None] * n
        self.errors: list[BaseException] = []
        self.finished = threading.Lock()
        self.finished.acquire()
        self._next, self._left = 0, n  # the next task to hand out; tasks not done yet
        self._lock = threading.Lock()
        if not n:
            self.finished.release()

    def work(self) -> None:
        """Run tasks until none is left. NumPy's error state is per thread: a diverging run
        overflows on its way to a non-finite loss, and the loss check reports that, so no warnings."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while True:
                with self._lock:
                    i, self._next = self._next, self._next + 1
                if i >= self.n:
                    return
                try:
                    self.results[i] = self.task(i)
                except BaseException as error:  # raised by map(), once every task ran
                    self.errors.append(error)
                with self._lock:
                    self._left -= 1
                    last = not self._left
                if last:
                    self.finished.release()

    def results_when_done(self) -> list[object]:
        """The tasks' results, once the last is done; or the first exception one raised."""
        self.finished.acquire()  # at once, unless a helper still runs a task
        if self.errors:
            raise self.errors[0]
        return self.results

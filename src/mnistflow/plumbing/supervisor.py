"""A stage job lives only as long as the process that supervises it: the workflow manager that
started it.

If the workflow manager (for this workflow, Snakemake) dies without stopping its job (``kill -9``,
the OOM killer, a closed terminal, a crashed login node), the job goes on with no one to record what
it makes. Worse, after an unlock and a rerun with other settings, the orphan would rename its
outputs into place minutes later, on top of the newer results, which would then pass as up to date.
So every stage job:

1. finds its *supervisor* when it starts: the nearest ancestor process running the program the
   caller names (for the workflow's scripts ``snakemake``: locally the command, on a cluster node the
   ``snakemake`` that runs the job there), or else its parent process;
2. checks twice a second, in a daemon thread, that the supervisor is still the same process (PID and
   start time, so a reused PID does not count), and stops itself with SIGTERM when it is gone: the
   stage then ends as on any SIGTERM, removing its temporary files;
3. checks once more right before an output is renamed into place (:func:`ensure_supervised`, called by
   :func:`mnistflow.plumbing.files.atomic_path`), so that not even a job stopped mid-rename publishes a file.

Identity comes from ``/proc`` on Linux; elsewhere the parent PID is watched (a process whose parent
died is adopted by another, so its parent PID changes).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Orphaned", "descendants", "ensure_supervised", "orphaned", "supervise"]

_PROC = Path("/proc")
_POLL_SECONDS = 0.5


class Orphaned(BaseException):
    """The supervising process is gone: nothing this job makes may be published.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it.
    """


@dataclass(frozen=True)
class _Process:
    pid: int
    start: str  # start time in clock ticks since boot (field 22 of /proc/<pid>/stat), "" if unknown
    name: str  # how it is described in messages


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent PID, start time) of a live process from /proc, or None when it does not exist or has
    ended (a zombie, that its parent has not yet reaped, counts as ended)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: split after the last ')'
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), fields[19]


def _runs(pid: int, program: str) -> bool:
    """Whether process ``pid`` runs ``program``: as its command (``snakemake ...``), or as what its
    interpreter runs (``python /venv/bin/snakemake ...``, ``python -m snakemake ...``)."""
    try:
        argv = (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(Path(os.fsdecode(arg)).name == program for arg in argv[:3])


def _find_supervisor(program: str | None) -> _Process:
    """The nearest ancestor running ``program``, else the parent process (see the module docstring)."""
    parent = os.getppid()
    if program is not None:
        pid = parent
        while pid > 1 and (stat := _stat(pid)) is not None:  # no /proc: no stat
            if _runs(pid, program):
                return _Process(pid, stat[1], f"{program} (PID {pid})")
            pid = stat[0]
    stat = _stat(parent)
    return _Process(parent, stat[1] if stat else "", f"parent process {parent}")


def _alive(process: _Process) -> bool:
    if not process.start:  # no /proc: the parent is gone when this process was adopted
        return os.getppid() == process.pid
    stat = _stat(process.pid)
    return stat is not None and stat[1] == process.start


_supervisor: _Process | None = None


def ensure_supervised() -> None:
    """Raise :class:`Orphaned` if this job's supervisor is gone (no-op outside a stage job)."""
    if _supervisor is not None and not _alive(_supervisor):
        raise Orphaned(f"{_supervisor.name} is gone")


def supervise(program: str | None = None, on_orphaned: signal.Signals = signal.SIGTERM) -> str:
    """Watch this process's supervisor from now on (the nearest ancestor running ``program``, else
    the parent process); signal this process when it is gone.

    Returns the supervisor's description, for the log. Call once, from the main thread of a job.
    """
    global _supervisor
    _supervisor = process = _find_supervisor(program)

    def watch() -> None:
        while _alive(process):
            time.sleep(_POLL_SECONDS)
        os.kill(os.getpid(), on_orphaned)

    threading.Thread(target=watch, name="mnistflow-supervisor", daemon=True).start()
    return process.name


def orphaned() -> bool:
    """Whether the supervisor is gone (after :func:`supervise`)."""
    return _supervisor is not None and not _alive(_supervisor)


def descendants(pid: int) -> list[int]:
    """PIDs of every process below ``pid`` (children first), from /proc; [] where there is none."""
    if not _PROC.is_dir():
        return []
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo += children.get(child, [])
    return found

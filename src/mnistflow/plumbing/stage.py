"""What every stage script does around its one package call: logging, and errors told plainly.

Progress and messages go both to the stage's log file and to the terminal. A
:class:`~mnistflow.plumbing.errors.MnistflowError` ends the job with its one-line message and no traceback;
Ctrl-C, SIGTERM and running out of memory get one line each too; anything else is a bug and keeps
its traceback (in the log file too). The caller, which knows how the job's input files are made,
can give for each of them what to do when it is damaged (``hints``): a
:class:`~mnistflow.plumbing.errors.DataError` about that file then ends with it.

Outputs are written atomically (:mod:`mnistflow.plumbing.files`), so a stage that stops for any reason leaves
no file under an output's final name; on Ctrl-C and SIGTERM (what a workflow manager, a batch system or
``kill`` send) the temporaries are removed too. A job whose supervising process is gone stops within
a second and publishes nothing (:mod:`mnistflow.plumbing.supervisor`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping

from mnistflow.plumbing.errors import DataError, MnistflowError
from mnistflow.plumbing.supervisor import Orphaned, orphaned, supervise

__all__ = ["run"]

log = logging.getLogger("mnistflow")


def _setup_logging(log_path: str | os.PathLike[str], stage: str) -> None:
    formatter = logging.Formatter(f"%(asctime)s [{stage}] %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [
        logging.FileHandler(log_path, mode="w", encoding="utf-8"),
        logging.StreamHandler(sys.stderr),
    ]
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    logging.captureWarnings(True)


class _Terminated(BaseException):
    """Raised by the SIGTERM handler, so that ``finally`` blocks (temporary files) still run."""


def _stop(signum: int, frame: object) -> None:
    """SIGINT -> KeyboardInterrupt, SIGTERM -> _Terminated; later signals are ignored, so that a
    second one (Ctrl-C reaches the job, and the workflow manager forwards the signal too) cannot
    break the cleanup.
    (A handler that does nothing, not SIG_IGN: Python reports a signal that arrived before the
    switch to SIG_IGN as an error.)"""
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGTERM, _ignore)
    raise KeyboardInterrupt if signum == signal.SIGINT else _Terminated


def _ignore(signum: int, frame: object) -> None:
    """A later SIGINT or SIGTERM while the job already stops."""


# Stages whose arrays are of the configured dtype: for them float32 halves the memory.
_DTYPE_STAGES = ("prepare", "train", "evaluate")


def _message(exc: MnistflowError, hints: Mapping[str, str]) -> str:
    """The error's message, followed by the hint for its file when ``hints`` (input file -> what to
    do when it is damaged) names the file, however its path is spelt."""
    path = exc.path if isinstance(exc, DataError) else None
    by_path = {os.path.normpath(p): hint for p, hint in hints.items()}
    hint = None if path is None else by_path.get(os.path.normpath(path))
    return str(exc) if hint is None else f"{exc}; {hint}"


def run(
    stage: str, main: Callable[[], None], log_path: str | os.PathLike[str],
    hints: Mapping[str, str] | None = None, *, supervisor: str | None = None,
) -> None:
    """Run ``main`` with logging to ``log_path``; exit with status 1 and a clear message on error.

    ``hints`` maps the job's input files to what to do when one is damaged, added to the message of
    a :class:`~mnistflow.plumbing.errors.DataError` about it. ``supervisor``: the program (e.g. the workflow
    manager) whose nearest process above this one the job lives as long as; None: the parent
    process. When it is gone the job stops itself, and then never moves an output into place
    (:mod:`mnistflow.plumbing.supervisor`).
    """
    _setup_logging(log_path, stage)
    start = time.perf_counter()
    for signum in (signal.SIGINT, signal.SIGTERM):  # by default SIGTERM ends Python without cleanup
        signal.signal(signum, _stop)
    watched = supervise(supervisor)
    try:
        main()
    except (_Terminated, Orphaned):
        if orphaned():
            log.error("%s stopped after %.1fs: %s that started it is gone, so this job writes "
                      "nothing", stage, time.perf_counter() - start, watched)
        else:
            log.error("%s terminated (SIGTERM) after %.1fs", stage, time.perf_counter() - start)
        sys.exit(128 + signal.SIGTERM)
    except MnistflowError as exc:
        log.error("ERROR in %s: %s", stage, _message(exc, hints or {}))
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C: it reaches the workflow manager too, which stops
        log.error("%s interrupted after %.1fs", stage, time.perf_counter() - start)
        sys.exit(130)
    except MemoryError:
        hint = "; dtype=float32 halves the arrays" if stage in _DTYPE_STAGES else ""
        log.error("ERROR in %s: out of memory; free memory or use a machine with more%s", stage, hint)
        sys.exit(1)
    except Exception:
        log.exception("unexpected error in %s (a bug: please report it with this log)", stage)
        sys.exit(1)
    log.info("%s done in %.1fs", stage, time.perf_counter() - start)

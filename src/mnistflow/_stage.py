"""What every stage script does around its one package call: logging, and errors told plainly.

Progress and messages go both to the rule's ``log:`` file and to the terminal. A
:class:`~mnistflow.errors.MnistflowError` ends the job with its one-line message and no traceback;
Ctrl-C, SIGTERM and running out of memory get one line each too; anything else is a bug and keeps
its traceback (in the log file too). Outputs are written atomically (:mod:`mnistflow._io`), so a
stage that stops for any reason leaves no file under an output's final name; on Ctrl-C and SIGTERM
(what Snakemake, a batch system or ``kill`` send) the temporaries are removed too.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable

from mnistflow.errors import MnistflowError

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


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def run(stage: str, main: Callable[[], None], log_path: str | os.PathLike[str]) -> None:
    """Run ``main`` with logging to ``log_path``; exit with status 1 and a clear message on error."""
    _setup_logging(log_path, stage)
    start = time.perf_counter()
    signal.signal(signal.SIGTERM, _terminate)  # by default SIGTERM ends Python without cleanup
    try:
        main()
    except _Terminated:
        log.error("%s terminated (SIGTERM) after %.1fs", stage, time.perf_counter() - start)
        sys.exit(128 + signal.SIGTERM)
    except MnistflowError as exc:
        log.error("ERROR in %s: %s", stage, exc)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C: Snakemake stops too and marks the outputs incomplete
        log.error("%s interrupted after %.1fs", stage, time.perf_counter() - start)
        sys.exit(130)
    except MemoryError:
        log.error("ERROR in %s: out of memory; try dtype=float32, or a machine with more memory",
                  stage)
        sys.exit(1)
    except Exception:
        log.exception("unexpected error in %s (a bug: please report it with this log)", stage)
        sys.exit(1)
    log.info("%s done in %.1fs", stage, time.perf_counter() - start)

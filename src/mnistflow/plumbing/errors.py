"""The project's own errors: each carries one message meant for the user, printed without a traceback."""

from __future__ import annotations

import os

__all__ = ["ConfigError", "DataError", "MnistflowError", "TrainingError"]


class MnistflowError(Exception):
    """Base class: a problem the user can fix, described in the message."""


class DataError(MnistflowError):
    """An input file is missing, corrupt or not what the stage expects.

    ``path`` is the file (or URL, or folder) at fault, None for data given in memory; the message
    is ``"<path>: <problem>"``. Whoever knows how the file is made (the workflow's stage scripts)
    can add how to make it again (see :func:`mnistflow.plumbing.stage.run`).
    """

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{self.path}: {problem}")


class ConfigError(MnistflowError):
    """A setting is invalid or settings contradict each other."""


class TrainingError(MnistflowError):
    """Training cannot go on (e.g. the loss became non-finite)."""

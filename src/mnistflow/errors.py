"""The project's own errors: each carries one message meant for the user, printed without a traceback."""

__all__ = ["ConfigError", "DataError", "MnistflowError", "TrainingError"]


class MnistflowError(Exception):
    """Base class: a problem the user can fix, described in the message."""


class DataError(MnistflowError):
    """An input file is missing, corrupt or not what the stage expects."""


class ConfigError(MnistflowError):
    """A setting is invalid or settings contradict each other."""


class TrainingError(MnistflowError):
    """Training cannot go on (e.g. the loss became non-finite)."""

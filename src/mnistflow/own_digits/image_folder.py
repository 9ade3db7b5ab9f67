"""The files of a folder of digit images: which of them are to be classified, and the one message
when there are none.

Standard library only: the workflow lists the folder when it is parsed (the inputs of the predict
rule, and whether the default target includes it), which needs neither NumPy nor Pillow.
"""

from __future__ import annotations

import os
from pathlib import Path

from mnistflow.plumbing.errors import ConfigError, DataError

__all__ = ["image_files"]


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Every file directly in ``folder`` except hidden ones (``.gitkeep``), sorted by name.

    Any file counts, whatever its name: one that is not an image gets its own line saying so,
    rather than being skipped in silence. A folder that is not set, does not exist or holds no file
    is a :class:`DataError` (or :class:`ConfigError` when unset) with one line saying which.
    """
    if not str(folder):
        raise ConfigError("images: no folder of images set; name one in config/config.yaml or with "
                          "--config images=FOLDER")
    path = Path(folder)
    if not path.exists():
        raise DataError(folder, "no such folder; put your digit images in it, or name another")
    if not path.is_dir():
        raise DataError(folder, "not a folder; name the folder that holds your digit images")
    files = sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.is_file())
    if not files:
        raise DataError(folder, "the folder holds no files; put your digit images (PNG, JPEG, "
                        "...) in it")
    return files

"""The files of a folder of digit images: which of them are to be classified, the one message when
there are none, and how a file's name is shown on one line.

Standard library only: the workflow lists the folder when it is parsed (the inputs of the predict
rule, and whether the default target includes it), which needs neither NumPy nor Pillow.
"""

from __future__ import annotations

import os
from pathlib import Path

from mnistflow.plumbing.errors import ConfigError, DataError

__all__ = ["image_files", "printable_name"]


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Every regular file directly in ``folder`` except hidden ones (``.gitkeep``), sorted by name.

    Any file counts, whatever its name: one that is not an image gets its own line saying so,
    rather than being skipped in silence. Subfolders and special files (FIFOs, devices, sockets)
    are left out without being opened: reading a FIFO would wait forever. A folder that is not set,
    does not exist or holds no file is a :class:`DataError` (or :class:`ConfigError` when unset)
    with one line saying which.
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


def printable_name(path: str | os.PathLike[str]) -> str:
    """``path`` as text for one line of output: as it is when every character is printable, else
    as a Python string literal, quotes included (``'two\\nlines.png'``).

    A newline or another control character in a file name would split or garble the line that
    names it, a name that is not valid UTF-8 (its bytes kept as surrogates) could not be written at
    all, and a bidirectional override would show the name reversed.
    """
    name = os.fspath(path)
    return name if name.isprintable() else repr(name)

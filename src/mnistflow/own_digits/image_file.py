"""Reading a user's image file: a regular file only (a FIFO or a device is refused unopened),
decoded by Pillow (its first frame, turned upright as its EXIF orientation says), or one line naming
the file and why it cannot be used. What becomes of the pixels is :mod:`mnistflow.own_digits.images`'s job.
"""

from __future__ import annotations

import os
import stat
import warnings
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from mnistflow.plumbing.errors import DataError

__all__ = ["read_image"]


# what a path that is not a regular file is, for the message refusing it
_SPECIAL = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
            (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISSOCK, "a socket"))



def read_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open and decode an image file (its first frame), or raise :class:`DataError` naming it.

    Refused, each with its reason: a missing or unreadable file, anything but a regular file (a
    folder, FIFO, device, socket: unopened, see :func:`_open_file`), a file Pillow cannot identify
    as an image, a truncated or damaged one, and one over Pillow's decompression-bomb limit
    (``PIL.Image.MAX_IMAGE_PIXELS`` pixels: a small file can decode to gigabytes).
    """
    try:
        with warnings.catch_warnings():
            # above the limit Pillow only warns; above twice the limit it raises: refuse both
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open_file(path) as fh, Image.open(fh) as opened:
                opened.seek(0)  # the first frame of a GIF or an animated PNG
                opened.load()  # decode now: a truncated file fails here, not later
                return _upright(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(
            path, f"image too large (over Pillow's decompression-bomb limit of "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels); scale it down first"
        ) from None
    except UnidentifiedImageError:
        raise DataError(path, "not an image (Pillow cannot read this file format)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # what damaged files raise
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(path, f"truncated or damaged image ({reason})") from None



def _open_file(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading when it is a regular file (or a symlink to one), else a DataError.

    Anything else is refused from ``os.stat`` alone, unopened: opening a FIFO waits for a writer
    forever, a device may never end. The open does not wait either (``O_NONBLOCK``) and what it
    opened is checked again, in case a FIFO replaced the file since the stat.
    """
    try:
        kind = _special(os.stat(path).st_mode)
        if kind is None:
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
            fd = os.open(path, flags)
            kind = _special(os.fstat(fd).st_mode)
            if kind is None:
                return os.fdopen(fd, "rb")
            os.close(fd)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as exc:  # no permission, a name too long, ...
        raise DataError(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    raise DataError(path, f"{kind}, not an image file")



def _special(mode: int) -> str | None:
    """What a file of this ``st_mode`` is ("a socket"), or None for a regular file."""
    kinds = (kind for is_kind, kind in _SPECIAL if is_kind(mode))
    return None if stat.S_ISREG(mode) else next(kinds, "not a regular file")



def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (a phone photo taken sideways), as a copy."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block (Pillow raises many kinds): keep the pixels as stored
        return image.copy()

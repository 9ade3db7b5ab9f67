"""Deterministic ``.npz`` files: the same arrays always give the same bytes, written whole or not at all.

Every array file of the workflow (split, model, predictions, distortion examples) goes through here.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping

import numpy as np

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import atomic_path, short_message

__all__ = ["load_npz", "save_npz"]


# A fixed timestamp for every member of an .npz, so the same arrays always give the same bytes
# (np.savez stamps the current time into the zip headers).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)



def save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Save arrays as an uncompressed ``.npz``, atomically and byte-for-byte deterministically."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)



def load_npz(path: str | os.PathLike[str], required: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Load the ``required`` arrays of an ``.npz`` (and only them: other members are not read).

    ``required`` maps array names to a short description, for the message when the file is
    missing, unreadable or lacks one (a :class:`DataError` naming ``path``).
    """
    try:
        # opened here, not by np.load: NumPy leaks its own handle when the zip directory is damaged
        with open(path, "rb") as fh:
            loaded = np.load(fh, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # a lone .npy under an .npz name
                raise ValueError("a single .npy array, not an .npz archive")
            with loaded as npz:
                missing = [f"{name} ({what})" for name, what in required.items()
                           if name not in npz.files]
                if missing:
                    raise DataError(path, f"missing arrays {', '.join(missing)}")
                arrays = {name: npz[name] for name in required}
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    # what damaged zip members or .npy headers raise: unsupported compression is
    # NotImplementedError, an "encrypted" flag RuntimeError, a bad header ValueError or SyntaxError
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError,
            SyntaxError, MemoryError) as exc:
        raise DataError(path, f"not a readable .npz file ({short_message(exc)})") from None
    return arrays

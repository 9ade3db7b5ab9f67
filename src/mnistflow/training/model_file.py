"""The model file, ``results/model.npz``: the weights together with the architecture and the
hyperparameters that made them, in a plain ``.npz`` (no pickle).

Arrays: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, K), ``b2`` (K,) in float32 or float64, and ``meta``,
a 0-d string array holding one JSON text: ``{"architecture": {...}, "hyperparams": {...},
"numerics": {...}}`` (the last: the BLAS kernel and SIMD that computed the weights, not their
thread count, which changes nothing).

A sweep records a training that failed (it diverged) as its run's outcome: that model file holds
``meta`` alone, ``{"failure": "<why, in one line>", "hyperparams": {...}}``, and no weights, so
:func:`load_model` refuses it (saying why) and nothing can take it for a trained model.

Any other file given as a model (metrics.json, an image, a text, an ``.npz`` of other arrays) is
refused in one line saying what it is: ``<path>: not a model file made by train (a JSON text, not an
.npz archive)``. Nothing in a model file is ever unpickled.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import parse_json
from mnistflow.plumbing.npz_files import load_npz, save_npz
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network

__all__ = ["load_model", "read_failure", "save_failure", "save_model"]

_WEIGHTS = ("W1", "b1", "W2", "b2")
_NOT_A_MODEL = "not a model file made by train"

# the first bytes of the files most often given as a model by mistake: what they are
_MAGIC = ((b"\x93NUMPY", "a single NumPy array (.npy)"), (b"\x89PNG", "a PNG image"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"BM", "a BMP image"),
          (b"II*\0", "a TIFF image"), (b"MM\0*", "a TIFF image"), (b"RIFF", "a RIFF file (WebP, WAV, ...)"),
          (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip file"), (b"PAR1", "a Parquet file"),
          (b"\x80\x04", "a Python pickle"), (b"\x80\x05", "a Python pickle"))


def save_model(path: str | os.PathLike[str], params: network.Params, hp: Hyperparams,
               numerics: Mapping[str, Any] | None = None) -> None:
    """Weights plus the hyperparameters (as JSON in a string array) in one deterministic .npz; with
    ``numerics``, what computed them too (:func:`mnistflow.plumbing.numerics.numerics`)."""
    meta = {"architecture": _architecture(params), "hyperparams": asdict(hp)}
    if numerics is not None:
        meta["numerics"] = dict(numerics)
    save_npz(path, {**params, "meta": np.array(json.dumps(meta, sort_keys=True))})


def save_failure(path: str | os.PathLike[str], hp: Hyperparams, reason: str) -> None:
    """A model file of a training that failed: the recipe and ``reason``, no weights."""
    meta = {"failure": reason, "hyperparams": asdict(hp)}
    save_npz(path, {"meta": np.array(json.dumps(meta, sort_keys=True))})


def _architecture(params: network.Params) -> dict[str, Any]:
    n_in, n_hidden = params["W1"].shape
    return {"layers": [int(n_in), int(n_hidden), int(params["W2"].shape[1])],
            "hidden_activation": "relu", "output": "softmax", "loss": "cross-entropy"}


def _load(path: str | os.PathLike[str], required: Mapping[str, str]) -> dict[str, np.ndarray]:
    """:func:`load_npz`, a file that is no model file refused as such (:func:`_what_it_is`)."""
    try:
        arrays = load_npz(path, required)
    except DataError as exc:
        kind = _what_it_is(path, exc.problem)
        if kind is None:  # a missing file, or a model file that is damaged: load_npz says how
            raise
        raise DataError(path, f"{_NOT_A_MODEL} ({kind})") from None
    # an .npz member that is no .npy file comes back as its bytes
    odd = sorted(name for name, array in arrays.items() if not isinstance(array, np.ndarray))
    if odd:
        what = "is not a NumPy array" if len(odd) == 1 else "are not NumPy arrays"
        raise DataError(path, f"{_NOT_A_MODEL} (its {', '.join(odd)} {what})")
    return arrays


def _what_it_is(path: str | os.PathLike[str], problem: str) -> str | None:
    """What a file that :func:`load_npz` could not read as a model is, in a few words ('a JSON
    text, not an .npz archive'); None when it is missing or unreadable, or an .npz archive holding
    a model's ``meta`` that is merely damaged (``problem``, load_npz's words, then says it best)."""
    if os.path.isdir(path):
        return "a folder"
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if not head:
        return "an empty file"
    if head.startswith(b"PK"):  # a zip archive, as every .npz is
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n.removesuffix(".npy") for n in zf.namelist()]
        except (OSError, zipfile.BadZipFile, ValueError):
            return None
        if "meta" not in names:
            shown = [n if n.isprintable() else repr(n) for n in names[:8]] + ["..."] * (len(names) > 8)
            held = f"of the arrays {', '.join(shown)}" if names else "of no arrays"
            return f"an .npz archive {held}; a model file holds meta, W1, b1, W2, b2"
        # NumPy's words for an array of Python objects advise loading it unsafely: never
        return "it holds Python objects (pickled), which are never loaded" if "pickle" in problem else None
    kind = next((what for magic, what in _MAGIC if head.startswith(magic)), None)
    if kind is None:
        try:
            text: str | None = head.decode("utf-8")
        except UnicodeDecodeError as exc:  # a character cut at the 512th byte is text still
            text = head[:exc.start].decode("utf-8") if exc.start >= len(head) - 3 else None
        if text is None or "\0" in text:
            kind = "binary data"
        else:
            kind = "a JSON text" if text.lstrip().startswith(("{", "[")) else "a text file"
    return f"{kind}, not an .npz archive"


def _read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of a model file (trained or failed), checked to hold the hyperparams."""
    meta_array = _load(path, {"meta": "the recipe"})["meta"]
    if meta_array.shape != () or meta_array.dtype.kind != "U":
        raise DataError(path, "its metadata is not one JSON text")
    meta = parse_json(str(meta_array), path, "its metadata: ")  # bounded: depth, number sizes
    if not (isinstance(meta, dict) and isinstance(meta.get("hyperparams"), dict)):
        raise DataError(path, "its metadata lacks the architecture and hyperparams")
    if "failure" in meta and not (isinstance(meta["failure"], str) and meta["failure"]):
        raise DataError(path, "its metadata gives no reason for the failure it records")
    return meta


def read_failure(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The metadata of a model file of :func:`save_failure` (``failure``: why, ``hyperparams``);
    None for a model file that holds weights (read those with :func:`load_model`)."""
    meta = _read_meta(path)
    return meta if "failure" in meta else None


def load_model(path: str | os.PathLike[str]) -> tuple[network.Params, dict[str, Any]]:
    """Weights and metadata from :func:`save_model`, with their shapes checked; a model file of a
    failed training (:func:`save_failure`) is refused, saying why it failed."""
    meta = _read_meta(path)
    if "failure" in meta:
        raise DataError(path, f"no weights: its training failed ({meta['failure']})")
    if not isinstance(meta.get("architecture"), dict):
        raise DataError(path, "its metadata lacks the architecture and hyperparams")
    arrays = _load(path, {"W1": "first-layer weights", "b1": "", "W2": "second-layer weights", "b2": ""})
    W1, b1, W2, b2 = (arrays[k] for k in _WEIGHTS)
    wrong = [f"{k} is {arrays[k].dtype}" for k in _WEIGHTS if arrays[k].dtype not in (np.float32, np.float64)]
    if wrong:
        raise DataError(path, f"weights must be float32 or float64, but {', '.join(wrong)}")
    if not (W1.ndim == 2 and W2.ndim == 2 and b1.shape == (W1.shape[1],)
            and W2.shape[0] == W1.shape[1] and b2.shape == (W2.shape[1],)):
        raise DataError(
            path, f"weight shapes do not fit together (W1 {W1.shape}, b1 {b1.shape}, "
                  f"W2 {W2.shape}, b2 {b2.shape})"
        )
    if not all(np.all(np.isfinite(arrays[k])) for k in _WEIGHTS):
        raise DataError(path, "weights contain NaN or infinity")
    return {k: arrays[k] for k in _WEIGHTS}, meta

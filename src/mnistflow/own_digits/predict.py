"""Classify a user's digit images with a trained model: one :class:`Prediction` per file, and the CSV.

Each file is read and made MNIST-like (:mod:`mnistflow.own_digits.images`), then all of them go through the
network in one forward pass (:func:`mnistflow.training.network.forward`). A file that cannot be used (not an
image, not a regular file, truncated, too large, no ink, NaN pixels) gets a :class:`Prediction`
carrying the reason instead of probabilities, and every other file is still classified, even when
reading one fails in a way nobody foresaw (a bug, named as one); a model that does not take 28x28
digits is refused before any file is read.

``results/predictions.csv`` has one row per image: ``file``, ``digit`` (the answer) and its
``probability``, the runners-up ``digit_2``, ``probability_2``, ``digit_3``, ``probability_3``, and
``error`` (empty when the image was classified, else why not; the digit columns are then empty).
File names are written as :func:`~mnistflow.own_digits.image_folder.printable_name` shows them,
here as in every line naming a file, so that no name can split a line.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mnistflow.own_digits.image_file import read_image
from mnistflow.own_digits.image_folder import printable_name
from mnistflow.own_digits.images import SIDE, to_mnist
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import write_text
from mnistflow.training import network

__all__ = [
    "CSV_COLUMNS",
    "THUMBNAIL",
    "Prediction",
    "check_model",
    "classify",
    "describe",
    "write_csv",
]

N_DIGITS = 10
THUMBNAIL = 128  # longer side, in pixels, of the copy of each image kept for the page
CSV_COLUMNS = ("file", "digit", "probability", "digit_2", "probability_2", "digit_3", "probability_3",
               "error")


@dataclass(frozen=True)
class Prediction:
    """What the network answered for one image file, or why it could not."""

    file: str
    proba: np.ndarray | None = None  # (10,) softmax output; None when the image could not be used
    pixels: np.ndarray | None = None  # (28, 28) in [0, 1]: what the network saw
    thumbnail: Image.Image | None = None  # the image, at most THUMBNAIL px (None if unreadable)
    error: str | None = None  # one line naming the file (printable_name) and the problem

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The k most probable digits with their probabilities, most probable first."""
        if self.proba is None:
            return []
        order = np.argsort(-self.proba, kind="stable")[:k]  # ties: the smaller digit first
        return [(int(d), float(self.proba[d])) for d in order]


def check_model(params: network.Params, model: str | os.PathLike[str],
                image: str | os.PathLike[str]) -> None:
    """Refuse a model that does not map 28x28 pixels to 10 digits, naming it and an image."""
    n_in, n_out = params["W1"].shape[0], params["W2"].shape[1]
    if (n_in, n_out) != (SIDE * SIDE, N_DIGITS):
        raise DataError(
            model, f"the model takes {n_in} inputs and gives {n_out} classes, but "
            f"{printable_name(image)} is classified as {SIDE}x{SIDE} = {SIDE * SIDE} pixels into "
            f"{N_DIGITS} digits; use a model trained on MNIST-sized digits"
        )


def _prepare(path: Path) -> Prediction:
    """Read one file and make it MNIST-like; a problem becomes the Prediction's error."""
    thumbnail = None
    try:
        image = read_image(path)
        thumbnail = image.copy()
        thumbnail.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
        return Prediction(str(path), pixels=to_mnist(image, path), thumbnail=thumbnail)
    except DataError as exc:
        return Prediction(str(path), thumbnail=thumbnail, error=f"{printable_name(path)}: {exc.problem}")
    except Exception as exc:  # a bug here or in Pillow: this image's line says so, the others go on
        # repr: on one line, whatever the exception's text holds
        return Prediction(str(path), thumbnail=thumbnail, error=f"{printable_name(path)}: could not "
                          f"be used, unexpectedly ({exc!r}); please report this with the image")


def classify(params: network.Params, model: str | os.PathLike[str],
             files: Sequence[str | os.PathLike[str]]) -> list[Prediction]:
    """One :class:`Prediction` per file, in order, from the weights ``params`` read from ``model``."""
    if files:
        check_model(params, model, files[0])
    prepared = [_prepare(Path(f)) for f in files]
    usable = [p for p in prepared if p.pixels is not None]
    if not usable:
        return prepared
    X = np.stack([p.pixels.reshape(-1) for p in usable if p.pixels is not None])  # (n, 784)
    _, proba = network.forward(params, X.astype(params["W1"].dtype, copy=False))  # (n, 10)
    answers = iter(proba)
    return [
        Prediction(p.file, next(answers).copy(), p.pixels, p.thumbnail) if p.pixels is not None else p
        for p in prepared
    ]


def describe(prediction: Prediction) -> str:
    """One line for a person: 'digits/a.png: 7 (98.1%); next 1 (1.2%), 9 (0.3%)', or the problem."""
    if prediction.error is not None:
        return prediction.error
    (digit, p), *others = prediction.top(3)
    runners_up = ", ".join(f"{d} ({q:.1%})" for d, q in others)
    return f"{printable_name(prediction.file)}: {digit} ({p:.1%}); next {runners_up}"


def write_csv(path: str | os.PathLike[str], predictions: Sequence[Prediction]) -> None:
    """``results/predictions.csv``: one row per image (columns: :data:`CSV_COLUMNS`), atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pred in predictions:
        cells = [cell for digit, p in pred.top(3) for cell in (str(digit), f"{p:.6f}")]
        writer.writerow([printable_name(pred.file), *(cells or [""] * 6), pred.error or ""])
    write_text(path, buffer.getvalue())

"""The report: figures (PNG) and one self-contained HTML page built from what evaluate wrote.

Nothing is recomputed here: the numbers come from ``metrics.json``, the curve from
``training_log.csv`` (:func:`mnistflow.training.training_log.read_history`), the misclassified digits from the
predictions and the test images, and the distorted digits from the examples train drew
(:mod:`mnistflow.training.distortion_examples`).
Images are embedded as base64 ``data:`` URIs, so the page opens offline, by itself.
A sweep run whose training failed gets a page and figures that say so (:func:`render_failed`), and
nothing that could pass for a trained model's.
"""

from __future__ import annotations

import base64
import html
import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt
import numpy as np

from mnistflow.plumbing.files import atomic_path, write_text
from mnistflow.plumbing.numerics import describe
from mnistflow.training.distortion_examples import Examples
from mnistflow.training.model_card import data_summary, evaluated_model
from mnistflow.training.shifts import image_side

__all__ = ["LOSS_DRAWN_UP_TO", "drawn_loss", "plot_confusion", "plot_distortions", "plot_loss",
           "plot_misclassified", "render_failed", "render_html"]

# matplotlib's axis arithmetic (the limits plus margins, in log space on a log axis) overflows near
# the largest float, 1.8e308: a loss beyond this (a diverging run's, or a hand-edited log's) is
# drawn at it, and the figure says so
LOSS_DRAWN_UP_TO = 1e100


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    # fixed metadata so the same figure gives the same bytes
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def drawn_loss(loss: np.ndarray) -> tuple[np.ndarray, str]:
    """The loss as a figure draws it, (epochs,): values above :data:`LOSS_DRAWN_UP_TO` at it, and
    positive ones below its inverse at that (for a log axis); a note saying so, or "" if none was."""
    floor = 1 / LOSS_DRAWN_UP_TO
    clipped = (loss > LOSS_DRAWN_UP_TO) | ((loss > 0) & (loss < floor))
    if not clipped.any():
        return loss, ""
    drawn = np.where(loss > 0, np.clip(loss, floor, LOSS_DRAWN_UP_TO), loss)
    return drawn, f" (losses outside {floor:g} to {LOSS_DRAWN_UP_TO:g} drawn at those bounds)"


def plot_loss(history: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Training loss (left axis) and training accuracy (right axis) per epoch."""
    loss, note = drawn_loss(history["loss"])
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(history["epoch"], loss, color="tab:blue", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)", color="tab:blue")
    ax.grid(alpha=0.3)
    acc = ax.twinx()
    acc.plot(history["epoch"], history["train_accuracy"], color="tab:orange", label="accuracy")
    acc.set_ylabel("training accuracy", color="tab:orange")
    ax.set_title("Training curve" + note)
    _save(fig, path)


def plot_confusion(matrix: list[list[int]], path: str | os.PathLike[str]) -> None:
    """The 10x10 confusion matrix (rows: true digit, columns: predicted), counts in each cell."""
    cm = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    # log-like colour scale so the off-diagonal errors are visible next to the large diagonal
    ax.imshow(np.log1p(cm), cmap="Blues")
    k = cm.shape[0]
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    threshold = np.log1p(cm).max() / 2
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                colour = "white" if np.log1p(cm[i, j]) > threshold else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7, color=colour)
    ax.set_title("Confusion matrix (test set)")
    _save(fig, path)


def plot_misclassified(
    images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, path: str | os.PathLike[str],
    limit: int = 40,
) -> None:
    """A grid of up to ``limit`` misclassified test digits titled 'true -> predicted'."""
    wrong = np.flatnonzero(y_true != y_pred)[:limit]
    cols = 10
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong, strict=False):
        ax.imshow(images[i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{y_true[i]} → {y_pred[i]}", fontsize=8, color="tab:red")
    if not len(wrong):
        axes[0, 0].text(0, 0.5, "no misclassified digits", fontsize=10)
    fig.suptitle("Misclassified test digits (true → predicted)", fontsize=10)
    _save(fig, path)


def plot_distortions(examples: Examples, path: str | os.PathLike[str]) -> None:
    """A grid of training digits (top row) and their distortions below them, one digit a column;
    without distortions, a note saying so."""
    k, j = examples.distorted.shape[:2]
    if not j:
        fig, ax = plt.subplots(figsize=(6.4, 0.8))
        ax.axis("off")
        ax.text(0, 0.5, "No distortions: this run trained on the digits as they are.", fontsize=10)
        _save(fig, path)
        return
    side = image_side(examples.digits.shape[1])
    fig, axes = plt.subplots(1 + j, k, figsize=(k * 0.8, (1 + j) * 0.8), squeeze=False)
    for col in range(k):
        for row, image in enumerate([examples.digits[col], *examples.distorted[col]]):
            ax = axes[row, col]
            ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, col].set_title(str(examples.labels[col]), fontsize=9)
    axes[0, 0].set_ylabel("digit", fontsize=8)
    axes[1, 0].set_ylabel("distorted", fontsize=8)
    fig.suptitle(f"Training digits and {j} distortions of each: {examples.settings}", fontsize=9)
    _save(fig, path)


def _img(path: str | os.PathLike[str], alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _tables(metrics: Mapping[str, Any]) -> tuple[str, str]:
    """The rows of the configuration table and of the provenance table, escaped."""
    # the settings as given, with the preset's values filled in where a training key was left null
    cfg = {**metrics["config"], **metrics.get("model", {}).get("hyperparams", {})}
    config_rows = "\n".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in sorted(cfg.items())
    )
    prov_rows = "\n".join(
        f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(str(v))}</code></td></tr>"
        for k, v in [*metrics["sha256"].items(), *metrics["versions"].items(),
                     ("git commit", metrics.get("git_commit")),
                     ("numerics of train", describe(metrics.get("model", {}).get("numerics"))),
                     ("numerics of evaluate", describe(metrics.get("numerics"))),
                     *((f"{s} seconds", f"{t:.2f}") for s, t in metrics["seconds"].items())]
    )
    return config_rows, prov_rows


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MNIST two-layer network: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; overflow-wrap: break-word; }}
.headline {{ display: flex; gap: 2rem; flex-wrap: wrap; }}
.headline div {{ background: #f3f6fa; border-radius: 6px; padding: .6rem 1rem; }}
.headline b {{ display: block; font-size: 1.6rem; }}
.scroll {{ overflow-x: auto; margin: .5rem 0 1.5rem; }} /* a wide table scrolls here, not the page */
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .2rem .7rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; height: auto; }}
code {{ font-size: .8rem; overflow-wrap: anywhere; }}
</style></head><body>
"""


def render_html(
    metrics: Mapping[str, Any], figures: Mapping[str, str | os.PathLike[str]],
    path: str | os.PathLike[str],
) -> None:
    """Write the self-contained report page: headline numbers, figures, per-class table, provenance.

    ``figures``: loss, confusion, misclassified, and distortions when the run used any."""
    test, sizes = metrics["test"], metrics["sizes"]
    per_class_rows = "\n".join(
        f"<tr><td>{html.escape(k)}</td><td>{v['precision']:.4f}</td><td>{v['recall']:.4f}</td>"
        f"<td>{v['f1-score']:.4f}</td><td>{int(v['support'])}</td></tr>"
        for k, v in metrics["per_class"].items()
    )
    config_rows, prov_rows = _tables(metrics)
    page = _HEAD.format(title="report") + f"""<h1>MNIST two-layer network</h1>
<p>Model: {html.escape(evaluated_model(metrics))}.<br>
Data: {html.escape(data_summary(metrics))}.<br>
Computed by: {html.escape(describe(metrics["model"].get("numerics")))}.</p>
<div class="headline">
<div>test accuracy<b>{test['accuracy']:.2%}</b></div>
<div>test loss<b>{test['loss']:.4f}</b></div>
<div>errors<b>{test['n_errors']} / {sizes['test']}</b></div>
<div>rows (train / test)<b>{sizes['train']:,} / {sizes['test']:,}</b></div>
</div>
<h2>Training curve</h2>
{_img(figures['loss'], 'training loss and accuracy per epoch')}
{_distortions_section(figures)}<h2>Confusion matrix</h2>
{_img(figures['confusion'], 'confusion matrix of the test set')}
<h2>Misclassified digits</h2>
{_img(figures['misclassified'], 'grid of misclassified test digits')}
<h2>Per class</h2>
<div class="scroll"><table><tr><th>digit</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{per_class_rows}
</table></div>
<h2>Configuration</h2>
<div class="scroll"><table>{config_rows}</table></div>
<h2>Provenance</h2>
<div class="scroll"><table>{prov_rows}</table></div>
</body></html>
"""
    write_text(path, page)


def render_failed(metrics: Mapping[str, Any], figures: Mapping[str, str | os.PathLike[str]],
                  path: str | os.PathLike[str]) -> None:
    """The report of a run whose training failed (``metrics["failed"]``: why): each of ``figures``
    (name -> PNG path) a note saying there is nothing to draw, and a page with the reason, the
    settings and the provenance, and no numbers of a model."""
    reason = metrics["failed"]
    for name, figure in figures.items():
        fig, ax = plt.subplots(figsize=(6.4, 1.2))
        ax.axis("off")
        ax.text(0, 0.5, textwrap.fill(f"No {name} figure: training failed: {reason}", 90),
                fontsize=9, va="center", color="tab:red")
        _save(fig, figure)
    config_rows, prov_rows = _tables(metrics)
    page = _HEAD.format(title="training failed") + f"""<h1>MNIST two-layer network: training failed</h1>
<p><b>failed: {html.escape(reason)}</b></p>
<p>This run has no trained model, so no test metrics and no figures: with the settings below its
training failed (the train job's log shows the epochs up to the failure).</p>
<h2>Configuration</h2>
<div class="scroll"><table>{config_rows}</table></div>
<h2>Provenance</h2>
<div class="scroll"><table>{prov_rows}</table></div>
</body></html>
"""
    write_text(path, page)


def _distortions_section(figures: Mapping[str, str | os.PathLike[str]]) -> str:
    if "distortions" not in figures:
        return ""
    return ("<h2>Distorted training digits</h2>\n<p>Each epoch the network saw every training digit "
            "distorted anew, like these (the top row as they are).</p>\n"
            + _img(figures["distortions"], "training digits and distortions of them") + "\n")

"""The comparison page of a sweep: one self-contained HTML file with its figures embedded.

Built from a :class:`~mnistflow.sweeps.compare.Comparison` (what the runs' own files say); nothing is
recomputed. Figures are base64 PNG ``data:`` URIs, so the page opens offline; every text from
outside (folder names, settings, paths) is HTML-escaped. Each run's name links to its own report.
Runs whose training failed are listed after the others with the reason, and drawn nowhere; the
section on the choice is :mod:`mnistflow.sweeps.choice_section`'s.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.figure import Figure

from mnistflow.evaluation.report import drawn_loss
from mnistflow.plumbing.files import write_text
from mnistflow.sweeps.choice_section import choice_html, run_link
from mnistflow.sweeps.compare import Comparison, RunResult, is_number, signed, text

__all__ = ["DPI", "FONT_PT", "curves_figure", "metric_figure", "plot_curves", "plot_metric_by_setting",
           "render_html", "write_page"]


# --- figures --------------------------------------------------------------------------------------

# Figures are saved at DPI and shown at their own size on a wide screen (the page's column, 72rem,
# is wider than the widest, the curves): a point of text is DPI / 72 px there. The legends are set
# in FONT_PT, matplotlib's size for ticks and axis labels: no text is under 10 * 100 / 72 = 14 px
DPI = 100
FONT_PT = 10


def _png(fig: Figure) -> str:
    """A figure as base64 PNG (fixed metadata: the same figure gives the same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


class _PlainLog(ticker.LogFormatterSciNotation):
    """A log axis's labels where matplotlib puts them, written 2.3 rather than 2.3 x 10^0."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def metric_figure(comparison: Comparison, column: str) -> Figure:
    """Validation accuracy against one swept setting, a line per combination of the other swept
    settings; the chosen run ringed; the legend beside the axes. Numbers on a numeric axis
    (logarithmic when they span a factor of 10 or more), anything else in the table's order."""
    runs = comparison.runs
    values = [r.files.settings[column] for r in runs]
    numeric = all(is_number(v) for v in values)
    categories = list(dict.fromkeys(text(v) for v in values))
    others = [c for c in comparison.varied if c != column]
    groups: dict[str, list[RunResult]] = {}
    for run in runs:
        label = ", ".join(f"{c}={text(run.files.settings[c])}" for c in others) or "runs"
        groups.setdefault(label, []).append(run)

    def x(run: RunResult) -> float:
        value = run.files.settings[column]
        return float(value) if numeric else float(categories.index(text(value)))

    fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
    for label, members in groups.items():
        members = sorted(members, key=x)
        ax.plot([x(r) for r in members], [r.val_accuracy for r in members], marker="o", label=label)
    chosen = comparison.chosen
    ax.plot([x(chosen)], [chosen.val_accuracy], marker="o", markersize=14, markerfacecolor="none",
            markeredgecolor="black", linestyle="none", label="chosen")
    if numeric:
        positive = [float(v) for v in values if float(v) > 0]
        if len(positive) == len(values) and max(positive) / min(positive) >= 10:
            ax.set_xscale("log")
            ax.minorticks_off()
        ticks = sorted({float(v) for v in values})
        if len(ticks) <= 12:  # the swept values themselves, written as in the table
            ax.set_xticks(ticks, [text(v) for v in sorted(dict.fromkeys(values), key=float)])
    else:
        ax.set_xticks(range(len(categories)), categories)
    ax.set_xlabel(column)
    ax.set_ylabel("validation accuracy")
    ax.grid(alpha=0.3)
    fig.legend(fontsize=FONT_PT, loc="outside right upper")  # beside: it hides no point
    ax.set_title(f"Validation accuracy by {column}")
    return fig


def plot_metric_by_setting(comparison: Comparison, column: str) -> str:
    """:func:`metric_figure` as base64 PNG."""
    return _png(metric_figure(comparison, column))


def curves_figure(comparison: Comparison) -> Figure:
    """Every run's training loss and validation accuracy per epoch, the chosen run bold; the
    legend below both, in as many columns as its labels leave room for."""
    chosen = comparison.ranking[0]
    # (loss, note) per run: huge losses clipped, as matplotlib overflows on them, and the label says so
    drawn = [drawn_loss(run.history["loss"]) for run in comparison.runs]
    labels = [run.files.folder + " (chosen)" * (i == chosen) + drawn[i][1]
              for i, run in enumerate(comparison.runs)]
    # a label takes about 0.6 em a character and 4 em for its line and the gap, in a 720 pt figure
    ncol = max(1, min(4, len(labels), int(720 / ((0.6 * max(map(len, labels)) + 4) * FONT_PT))))
    legend_rows = math.ceil(len(labels) / ncol)
    fig, (loss, val) = plt.subplots(1, 2, figsize=(10, 3.8 + 0.22 * legend_rows), layout="constrained")
    for i, run in enumerate(comparison.runs):
        style = {"linewidth": 2.6, "zorder": 3} if i == chosen else {"linewidth": 1.2, "alpha": 0.8}
        loss.plot(run.history["epoch"], drawn[i][0], label=labels[i], **style)
        val.plot(run.history["epoch"], run.history["val_accuracy"], **style)
    loss.set_yscale("log")
    loss.yaxis.set_major_formatter(_PlainLog())
    loss.yaxis.set_minor_formatter(_PlainLog(labelOnlyBase=False))
    loss.set_xlabel("epoch")
    loss.set_ylabel("training loss (cross-entropy)")
    val.set_xlabel("epoch")
    val.set_ylabel("validation accuracy")
    for ax in (loss, val):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # epochs: 1, 2, 3, not 1.25
    fig.legend(fontsize=FONT_PT, loc="outside lower center", ncol=ncol)
    which = "The runs that trained" if comparison.failed else "All runs"
    fig.suptitle(f"{which}: training loss and validation accuracy per epoch")
    return fig


def plot_curves(comparison: Comparison) -> str:
    """:func:`curves_figure` as base64 PNG."""
    return _png(curves_figure(comparison))


# --- the page -------------------------------------------------------------------------------------


def _rows(comparison: Comparison, page_path: str) -> list[str]:
    """The rows of the runs' table: the runs that trained, best first, then the failed ones."""
    runs, ranking = comparison.runs, comparison.ranking
    rows = []
    for rank, i in enumerate(ranking, start=1):
        run, base = runs[i], runs[0]
        cells = [
            str(rank), run_link(run.files, page_path),
            *(html.escape(text(run.files.settings[c])) for c in comparison.columns),
            f"{run.val_accuracy:.4f}", signed(run.val_accuracy - base.val_accuracy),
            f"{run.test_accuracy:.4f}", signed(run.test_accuracy - base.test_accuracy),
            f"{run.test_loss:.4f}", signed(run.test_loss - base.test_loss),
            f"{run.epochs_run}" + (f" (kept {run.val_epoch})" if run.val_epoch != run.epochs_run else ""),
            "" if run.train_seconds is None else f"{run.train_seconds:.1f}",
            "" if run.peak_memory_mb is None else f"{run.peak_memory_mb:.0f}",
        ]
        classes = " ".join(c for c, on in (("chosen", rank == 1), ("baseline", i == 0)) if on)
        rows.append(f'<tr class="{classes}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    for failed in comparison.failed:
        files = failed.files
        cells = ["", run_link(files, page_path),
                 *(html.escape(text(files.settings[c])) for c in comparison.columns)]
        measured = ["" if files.train_seconds is None else f"{files.train_seconds:.1f}",
                    "" if files.peak_memory_mb is None else f"{files.peak_memory_mb:.0f}"]
        rows.append('<tr class="failed">' + "".join(f"<td>{c}</td>" for c in cells)
                    + f'<td colspan="7" class="failure">failed: {html.escape(failed.reason)}</td>'
                    + "".join(f"<td>{c}</td>" for c in measured) + "</tr>")
    return rows


def _intro(comparison: Comparison) -> str:
    """Where the runs come from, which is the baseline, and how many failed."""
    n = len(comparison.runs) + len(comparison.failed)
    intro = (f"{n} runs from <code>{html.escape(comparison.table)}</code>, one per row; every other\n"
             f"setting from the config.")
    if not comparison.runs:
        return intro + " The training of every one failed: none is chosen."
    base = comparison.runs[0]
    if any(f.files.line < base.files.line for f in comparison.failed):
        intro += f" Baseline: the first row that trained, {html.escape(base.files.folder)}."
    else:
        intro += f" Baseline: the first row, {html.escape(base.files.folder)}."
    if len(comparison.failed) == 1:
        intro += " The training of 1 of them failed: it is listed last, with the reason."
    elif comparison.failed:
        intro += (f" The training of {len(comparison.failed)} of them failed: they are listed last, "
                  f"with the reasons.")
    return intro


def render_html(comparison: Comparison, figures: Mapping[str, str], path: str | os.PathLike[str],
                command: str) -> str:
    """The self-contained comparison page (figures: title -> base64 PNG); returns its text."""
    page_path = os.fspath(path)
    heads = ["#", "run", *comparison.columns, "validation accuracy", "&Delta; baseline",
             "test accuracy", "&Delta; baseline", "test loss", "&Delta; baseline",
             "epochs run", "train s", "peak MB"]
    images = "\n".join(f"<h3>{html.escape(title)}</h3>\n"
                       f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
                       for title, data in figures.items()) or "<p>None: no run trained.</p>"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sweep {html.escape(comparison.name)}: comparison</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; overflow-wrap: break-word; }}
.headline {{ display: flex; gap: 1rem 2rem; flex-wrap: wrap; }}
.headline div {{ background: #f3f6fa; border-radius: 6px; padding: .6rem 1rem; min-width: 0; }}
.headline b {{ display: block; font-size: 1.6rem; overflow-wrap: anywhere; }}
.scroll {{ overflow-x: auto; margin: .5rem 0 1.5rem; }} /* a wide table scrolls here, not the page */
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .2rem .45rem; text-align: right; }}
th {{ font-size: .85rem; vertical-align: bottom; }}
td {{ font-size: .9rem; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td:nth-child(2), th:nth-child(2) {{ text-align: left; white-space: normal; }}
tr.chosen {{ background: #fff3c4; font-weight: 600; }}
tr.baseline td:nth-child(2)::after {{ content: " (baseline)"; font-weight: normal; color: #666; }}
tr.failed td.failure {{ text-align: left; color: #b00020; white-space: normal; min-width: 14rem; }}
img {{ max-width: 100%; height: auto; }}
code {{ font-size: .85rem; overflow-wrap: anywhere; }}
</style></head><body>
<h1>Sweep {html.escape(comparison.name)}</h1>
<p>{_intro(comparison)}</p>
{choice_html(comparison, page_path, command)}
<h2>Runs</h2>
<div class="scroll"><table><tr>{"".join(f"<th>{h}</th>" for h in heads)}</tr>
{chr(10).join(_rows(comparison, page_path))}
</table></div>
<p>Sorted by validation accuracy; &Delta; is the difference from the baseline. Train seconds and peak
memory are those of each train job, as the workflow measured them. Each run's name links to its own
report.</p>
<h2>Figures</h2>
{images}
</body></html>
"""
    return page


def write_page(comparison: Comparison, path: str | os.PathLike[str], command: str) -> None:
    """Draw the figures and write ``comparison.html``; ``command`` trains the chosen run's settings
    (best.yaml, beside the page) as the single run."""
    figures = {f"Validation accuracy by {c}": plot_metric_by_setting(comparison, c)
               for c in comparison.varied}
    if comparison.runs:  # a failed run has no curves: it is drawn nowhere
        which = "the runs that trained" if comparison.failed else "all runs"
        figures[f"Training curves of {which}"] = plot_curves(comparison)
    write_text(path, render_html(comparison, figures, path, command))

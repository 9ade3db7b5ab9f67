"""The part of the comparison page (:mod:`mnistflow.sweeps.compare_page`) that tells the choice: the
chosen run, why it was chosen and by how much, how sure that is, whether its value is at the edge
of the swept range, and where its settings are; or, when every run failed, that none was chosen.

Every text from outside (folder names, settings, paths) is HTML-escaped here.
"""

from __future__ import annotations

import html
import math
import os
import urllib.parse
from pathlib import Path

from mnistflow.sweeps.compare import Comparison, RunFiles, is_number, signed, text

__all__ = ["choice_html", "run_link"]


def run_link(files: RunFiles, page_path: str) -> str:
    """The run's report, relative to the page, percent-encoded and escaped; a long name (one folder
    a column, "preset~best/hidden~64") may break after each "/" in a narrow table."""
    relative = os.path.relpath(files.report, Path(page_path).parent)
    href = urllib.parse.quote(Path(relative).as_posix(), safe="/~")
    return f'<a href="{html.escape(href)}">{html.escape(files.folder).replace("/", "/<wbr>")}</a>'


def _reason(comparison: Comparison) -> str:
    """Why the chosen run was chosen, in words (and by how many validation rows)."""
    ranking, runs = comparison.ranking, comparison.runs
    best = runs[ranking[0]]
    if len(runs) == 1:
        return "It is the sweep's only run that trained." if comparison.failed else (
            "It is the sweep's only run.")
    second = runs[ranking[1]]
    gap = best.val_accuracy - second.val_accuracy
    rows = round(gap * best.val_rows) if best.val_rows else None
    by_rows = f" ({rows} of {best.val_rows} validation rows)" if rows is not None else ""
    if gap == 0:
        return (f"It has the highest validation accuracy of the {len(runs)} runs, equal with "
                f"{html.escape(second.files.folder)}: of equal ones the earlier row of the table wins.")
    return (f"It has the highest validation accuracy of the {len(runs)} runs, "
            f"{gap:.4f} above the next, {html.escape(second.files.folder)}{by_rows}.")


def _edges(comparison: Comparison) -> str:
    """A warning for each numeric setting whose chosen value is the smallest or largest swept (of
    three or more, failed runs' included: a range that already failed beyond it is wide enough):
    the best may lie beyond the range."""
    chosen = comparison.chosen.files.settings
    every = [r.files for r in comparison.runs] + [f.files for f in comparison.failed]
    notes = []
    for column in comparison.varied:
        values = [files.settings[column] for files in every]
        if not all(is_number(v) for v in values) or len(set(values)) < 3:
            continue
        if chosen[column] in (min(values), max(values)):
            side = "largest" if chosen[column] == max(values) else "smallest"
            notes.append(f"The chosen {html.escape(column)}, {html.escape(text(chosen[column]))}, is "
                         f"the {side} in the table: a value beyond it may do better still; widen "
                         f"the range to see.")
    return " ".join(notes)


def choice_html(comparison: Comparison, page_path: str, command: str) -> str:
    """The headline numbers and the section "Which run, and why" (``command`` trains the chosen
    run's settings, best.yaml beside the page, as the single run)."""
    best_path = html.escape(f"{Path(page_path).parent.as_posix()}/best.yaml")
    if not comparison.runs:
        return (f'<div class="headline"><div>chosen run<b>none</b></div></div>\n'
                f"<h2>Which run, and why</h2>\n<p>None: every run's training failed (the reasons "
                f"are in the table below), so there is no run to choose. <code>{best_path}</code> "
                f"says so and holds no settings.</p>")
    chosen, base = comparison.chosen, comparison.runs[0]
    noise = (math.sqrt(chosen.val_accuracy * (1 - chosen.val_accuracy) / chosen.val_rows)
             if chosen.val_rows else math.nan)
    n_failed = len(comparison.failed)
    failed = ("" if not n_failed else "The run whose training failed takes no part in the choice."
              if n_failed == 1 else f"The {n_failed} runs whose training failed take no part in it.")
    why = " ".join(part for part in (_reason(comparison), _edges(comparison), failed) if part)
    return f"""<div class="headline">
<div>chosen run<b>{run_link(chosen.files, page_path)}</b></div>
<div>validation accuracy<b>{chosen.val_accuracy:.2%}</b></div>
<div>test accuracy (the estimate)<b>{chosen.test_accuracy:.2%}</b></div>
<div>vs baseline (test)<b>{signed(100 * (chosen.test_accuracy - base.test_accuracy), 2)} pt</b></div>
</div>
<h2>Which run, and why</h2>
<p>The run is chosen by <b>validation accuracy</b>: the accuracy, on {chosen.val_rows} training rows
held out from training (<code>validation_fraction</code>), of the weights its model keeps (with early
stopping the best epoch's, otherwise the last epoch's). {why}
The test rows played no part in the choice, so the chosen run's <b>test accuracy,
{chosen.test_accuracy:.4f}</b>, is an honest estimate of its accuracy on new digits; the highest test
accuracy in the table is not (picking the maximum of several noisy numbers flatters it). One
validation accuracy is uncertain by about &plusmn;{noise:.4f} (one standard error), so runs closer
than that are a toss-up.</p>
<p>Its settings, in config format: <code>{best_path}</code>
(<code>{html.escape(command)}</code> trains it as the single run).</p>"""

"""Stage sweep_compare: every run's metrics, training log and benchmark -> comparison.csv,
best.yaml (the run with the best validation accuracy) and comparison.html."""

from mnistflow._io import write_text
from mnistflow._stage import log, run
from mnistflow.compare import RunFiles, best_yaml, load, write_csv
from mnistflow.compare_page import write_page


def main() -> None:
    inp, out, sweep = snakemake.input, snakemake.output, snakemake.params.sweep
    runs = [
        RunFiles(folder=r["folder"], line=r["line"], settings=r["settings"], config=r["config"],
                 metrics=metrics, history=history, benchmark=bench, report=report)
        for r, metrics, history, bench, report in zip(
            sweep["runs"], inp.metrics, inp.history, inp.bench_train, inp.reports, strict=True)
    ]
    comparison = load(sweep["name"], sweep["table"], sweep["columns"], runs)
    write_csv(out.csv, comparison)
    write_text(out.best, best_yaml(comparison, out.html))
    write_page(comparison, out.html)
    chosen = comparison.chosen
    log.info("chose %s of %d runs: validation accuracy %.4f, test accuracy %.4f -> %s",
             chosen.files.folder, len(runs), chosen.val_accuracy, chosen.test_accuracy, out.html)


run("sweep_compare", main, snakemake.log[0])

"""Stage sweep_compare: every run's metrics, training log and benchmark -> comparison.csv,
comparison.html and best.yaml (the run with the best validation accuracy)."""

from mnistflow._stage import log, run
from mnistflow.compare import RunFiles, compare


def main() -> None:
    inp, out, sweep = snakemake.input, snakemake.output, snakemake.params.sweep
    runs = [
        RunFiles(folder=r["folder"], line=r["line"], settings=r["settings"], config=r["config"],
                 metrics=metrics, history=history, benchmark=bench, report=report)
        for r, metrics, history, bench, report in zip(
            sweep["runs"], inp.metrics, inp.history, inp.bench_train, inp.reports, strict=True)
    ]
    result = compare(sweep["name"], sweep["table"], sweep["columns"], runs,
                     {"csv": out.csv, "html": out.html, "best": out.best})
    chosen = result.chosen
    log.info("chose %s of %d runs: validation accuracy %.4f, test accuracy %.4f -> %s",
             chosen.files.folder, len(runs), chosen.val_accuracy, chosen.test_accuracy, out.html)


run("sweep_compare", main, snakemake.log[0])

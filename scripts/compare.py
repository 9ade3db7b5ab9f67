"""Stage sweep_compare: every run's metrics, training log and benchmark -> comparison.csv,
best.yaml (the run with the best validation accuracy) and comparison.html. Runs whose training
failed are listed as failed; when all did, best.yaml says there is no best run."""

from _workflow import config_command, read_benchmark, run_stage
from mnistflow.plumbing.files import write_text
from mnistflow.plumbing.stage import log
from mnistflow.sweeps.compare import RunFiles, best_yaml, load, outcome, write_csv
from mnistflow.sweeps.compare_page import write_page


def main() -> None:
    inp, out, sweep = snakemake.input, snakemake.output, snakemake.params.sweep
    trained = [read_benchmark(path) for path in inp.bench_train]  # each run's train job
    runs = [
        RunFiles(folder=r["folder"], line=r["line"], settings=r["settings"], config=r["config"],
                 metrics=metrics, history=history, report=report,
                 train_seconds=train.seconds, peak_memory_mb=train.max_rss)
        for r, metrics, history, report, train in zip(
            sweep["runs"], inp.metrics, inp.history, inp.reports, trained, strict=True)
    ]
    comparison = load(sweep["name"], sweep["table"], sweep["columns"], runs)
    write_csv(out.csv, comparison)
    write_text(out.best, best_yaml(comparison, out.html, config_command(out.best)))
    write_page(comparison, out.html, config_command(out.best))
    log.info("%s -> %s", outcome(comparison), out.html)


run_stage("sweep_compare", main, snakemake.log[0])

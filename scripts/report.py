"""Stage report: metrics.json + predictions + training log + distortion examples -> figures and
results/report.html. A sweep run whose training failed gets a page and figures that say so."""

from _workflow import run_stage
from mnistflow.data.split_file import load_split
from mnistflow.evaluation.metrics_file import load_predictions, read_outcome
from mnistflow.evaluation.report import (
    plot_confusion,
    plot_distortions,
    plot_loss,
    plot_misclassified,
    render_failed,
    render_html,
)
from mnistflow.plumbing.stage import log
from mnistflow.training.distortion_examples import load_examples
from mnistflow.training.training_log import read_history


def main() -> None:
    inp, out = snakemake.input, snakemake.output
    metrics = read_outcome(inp.metrics)
    if "failed" in metrics:  # no model: nothing of one to draw
        figures = {"loss": out.loss, "confusion": out.confusion,
                   "misclassified": out.misclassified, "distortions": out.distortions}
        render_failed(metrics, figures, out.html)
        log.warning("training failed (%s): the report says so -> %s", metrics["failed"], out.html)
        return
    images = load_split(inp.split, ["X_test"])["X_test"]
    pred = load_predictions(inp.predictions, len(images))
    plot_loss(read_history(inp.history), out.loss)
    plot_confusion(metrics["confusion_matrix"], out.confusion)
    plot_misclassified(images, pred["y_true"], pred["y_pred"], out.misclassified)
    examples = load_examples(inp.distortions)
    plot_distortions(examples, out.distortions)
    figures = {"loss": out.loss, "confusion": out.confusion, "misclassified": out.misclassified}
    if examples.distorted.shape[1]:  # the run used distortions
        figures["distortions"] = out.distortions
    render_html(metrics, figures, out.html)
    log.info("wrote %s", out.html)


inp = snakemake.input
# the rule that makes each input, for the message about a damaged one
makers = {inp.metrics: "evaluate", inp.predictions: "evaluate", inp.history: "train",
          inp.distortions: "train", inp.split: "prepare"}
run_stage("report", main, snakemake.log[0], makers)

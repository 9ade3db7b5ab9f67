"""Stage predict: model.npz + the images in the `images` folder -> results/predictions.csv + .html.

results/metrics.json is a param, not an input: predicting never waits for an evaluation. When it
belongs to the model (it records the model's sha256), the page shows the data the model was trained
on and its test accuracy; else it says metrics.json describes another model, or is missing."""

from _workflow import run_stage
from mnistflow.own_digits.image_folder import image_files
from mnistflow.own_digits.model_info import describe_model
from mnistflow.own_digits.predict import classify, write_csv
from mnistflow.own_digits.predict_page import render_predictions
from mnistflow.plumbing.numerics import check_portable
from mnistflow.plumbing.stage import log
from mnistflow.training.model_file import load_model


def main() -> None:
    inp, out = snakemake.input, snakemake.output
    check_portable(snakemake.params.portable_numerics)
    params, meta = load_model(inp.model)
    model = describe_model(inp.model, meta, snakemake.params.metrics)
    files = image_files(snakemake.params.folder)  # the rule's `images` inputs; one message if none
    predictions = classify(params, inp.model, files)
    write_csv(out.csv, predictions)
    render_predictions(predictions, model, out.html)
    for line in model.lines():
        log.info("%s", line)
    if model.unknown:
        log.warning("%s (the page says so)", model.unknown)
    problems = [p.error for p in predictions if p.error is not None]
    for problem in problems:
        log.warning("%s", problem)
    log.info("classified %d of %d images in %s -> %s", len(predictions) - len(problems),
             len(predictions), snakemake.params.folder, out.html)


run_stage("predict", main, snakemake.log[0], {snakemake.input.model: "train"})

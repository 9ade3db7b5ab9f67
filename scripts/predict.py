"""Stage predict: model.npz + the images in the `images` folder -> results/predictions.csv + .html."""

from _workflow import run_stage
from mnistflow.own_digits.image_folder import image_files
from mnistflow.own_digits.predict import classify, write_csv
from mnistflow.own_digits.predict_page import render_predictions
from mnistflow.plumbing.stage import log
from mnistflow.training.model_file import load_model


def main() -> None:
    inp, out = snakemake.input, snakemake.output
    params, _ = load_model(inp.model)
    files = image_files(snakemake.params.folder)  # the rule's `images` inputs; one message if none
    predictions = classify(params, inp.model, files)
    write_csv(out.csv, predictions)
    render_predictions(predictions, inp.model, out.html)
    problems = [p.error for p in predictions if p.error is not None]
    for problem in problems:
        log.warning("%s", problem)
    log.info("classified %d of %d images in %s -> %s", len(predictions) - len(problems),
             len(predictions), snakemake.params.folder, out.html)


run_stage("predict", main, snakemake.log[0], {snakemake.input.model: "train"})

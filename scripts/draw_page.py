"""Stage draw_page: model.npz + its metrics.json -> results/draw.html, a page to draw digits on.

The page runs the preprocessing of your own digits and the network's forward pass in the browser,
offline; it names the model, its recipe, the data it was trained on and its test accuracy (from
metrics.json)."""

from _workflow import run_stage
from mnistflow.own_digits.draw_page import write_draw_page
from mnistflow.own_digits.model_info import describe_model
from mnistflow.plumbing.stage import log
from mnistflow.training.model_file import load_model


def main() -> None:
    inp, out = snakemake.input, snakemake.output
    params, meta = load_model(inp.model)
    model = describe_model(inp.model, meta, inp.metrics)
    write_draw_page(out.html, params, model)
    for line in model.lines():
        log.info("%s", line)
    log.info("wrote %s: open it in a browser and draw a digit", out.html)


run_stage("draw_page", main, snakemake.log[0],
          {snakemake.input.model: "train", snakemake.input.metrics: "evaluate"})

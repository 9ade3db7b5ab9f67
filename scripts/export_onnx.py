"""Stage export_onnx: model.npz + its metrics.json -> results/model.onnx, the network as an ONNX graph.

Only when asked for (`snakemake --cores 1 results/model.onnx`); it needs the onnx extra
(pip install 'mnistflow[onnx]'). The graph's metadata name the model, its recipe, the data it was
trained on and its test accuracy (from metrics.json)."""

from _workflow import run_stage
from mnistflow.own_digits.model_info import describe_model
from mnistflow.own_digits.onnx_file import OPSET, write_onnx
from mnistflow.plumbing.stage import log
from mnistflow.training.model_file import load_model


def main() -> None:
    inp, out = snakemake.input, snakemake.output
    params, meta = load_model(inp.model)
    model = describe_model(inp.model, meta, inp.metrics)
    write_onnx(out.onnx, params, model)
    for line in model.lines():
        log.info("%s", line)
    log.info("wrote %s (ONNX opset %d)", out.onnx, OPSET)


run_stage("export_onnx", main, snakemake.log[0],
          {snakemake.input.model: "train", snakemake.input.metrics: "evaluate"})

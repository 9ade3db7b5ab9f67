"""Stage evaluate: model.npz + split.npz -> results/metrics.json + results/predictions.npz.

A sweep run whose training failed has a model file without weights: its metrics.json says why
(mnistflow.evaluation.metrics.failed_metrics) and its predictions.npz holds no predictions."""

import numpy as np

from _workflow import run_stage, stage_seconds
from mnistflow.data.split_file import load_split
from mnistflow.evaluation.metrics import check_compatible, failed_metrics, metrics
from mnistflow.plumbing.files import write_json
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.plumbing.numerics import check_portable
from mnistflow.plumbing.stage import log
from mnistflow.training import network
from mnistflow.training.model_file import load_model, read_failure


def main() -> None:
    inp = snakemake.input
    files = {"parquet": inp.parquet, "split": inp.split, "model": inp.model}
    seconds = stage_seconds(snakemake.params.benchmarks)
    numerics = check_portable(snakemake.params.portable_numerics)  # what computes the predictions
    if (failed := read_failure(inp.model)) is not None:  # nothing to evaluate; say why
        result = failed_metrics(failed["failure"], config=snakemake.params.config, model=failed,
                                files=files, seconds=seconds)
        result["code"] = snakemake.params.made_by
        result["numerics"] = numerics
        save_npz(snakemake.output.predictions, {"failed": np.array(failed["failure"])})
        write_json(snakemake.output.metrics, result)
        log.warning("no model to evaluate: training failed (%s) -> %s", failed["failure"],
                    snakemake.output.metrics)
        return
    params, meta = load_model(inp.model)
    data = load_split(inp.split, ["X_test", "y_test", "y_train"])
    X = data["X_test"].astype(params["W1"].dtype, copy=False)
    check_compatible(params, X, inp.model, inp.split)
    _, proba = network.forward(params, X)  # (n_test, 10)
    result = metrics(
        data["y_test"], proba,
        sizes={"train": len(data["y_train"]), "test": len(data["y_test"])},
        config=snakemake.params.config, model=meta, files=files, seconds=seconds,
    )
    result["code"] = snakemake.params.made_by  # the code of each stage that made it
    result["numerics"] = numerics  # the model's own are in result["model"]["numerics"]
    save_npz(snakemake.output.predictions,
             {"y_true": data["y_test"], "y_pred": proba.argmax(axis=1), "proba": proba})
    write_json(snakemake.output.metrics, result)
    log.info("test accuracy %.4f, loss %.4f -> %s", result["test"]["accuracy"],
             result["test"]["loss"], snakemake.output.metrics)


inp = snakemake.input
# the rule that makes each input, for the message about a damaged one
makers = {inp.model: "train", inp.split: "prepare", inp.parquet: "fetch_mnist"}
run_stage("evaluate", main, snakemake.log[0], makers)

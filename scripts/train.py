"""Stage train: split.npz -> results/model.npz + results/training_log.csv
+ results/distortions.npz.

A sweep's run (params.record_failure) records a training that diverges as its outcome (a model file
without weights that says why, mnistflow.sweeps.failed_training); the single run stops with the error."""

from _workflow import run_stage
from mnistflow.data.split_file import load_split
from mnistflow.plumbing.numerics import check_portable, describe
from mnistflow.plumbing.stage import log
from mnistflow.settings.presets import Hyperparams
from mnistflow.sweeps.failed_training import Trained, save_trained, train_or_failure
from mnistflow.training.distort import Distortions
from mnistflow.training.distortion_examples import make_examples, save_examples
from mnistflow.training.train import train


def main() -> None:
    hp = Hyperparams(**snakemake.params.hyperparams)
    numerics = check_portable(snakemake.params.portable_numerics)  # the model file records them
    data = load_split(snakemake.input.split, ["X_train", "Y_train"])
    # keep only what training needs: the test images are freed before the big buffers exist
    X = data.pop("X_train").astype(hp.dtype, copy=False)
    Y = data.pop("Y_train").astype(hp.dtype, copy=False)
    del data
    log.info("training %s on %d rows with %d threads; %s", hp, len(X), snakemake.threads,
             describe(numerics))
    if snakemake.params.get("record_failure", False):  # a sweep's run: divergence is a result
        trained = train_or_failure(X, Y, hp)
    else:
        trained = Trained(*train(X, Y, hp))
    save_trained(snakemake.output.model, snakemake.output.history, trained, hp, numerics)
    # a few digits and distortions of them, for the report
    save_examples(snakemake.output.distortions,
                  make_examples(X, Y.argmax(axis=1), Distortions.of(hp), hp.seed))


run_stage("train", main, snakemake.log[0], {snakemake.input.split: "prepare"})

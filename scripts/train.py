"""Stage train: data/processed/split.npz -> results/model.npz + results/training_log.csv
+ results/distortions.npz."""

from _workflow import run_stage
from mnistflow.data.split_file import load_split
from mnistflow.plumbing.stage import log
from mnistflow.settings.presets import Hyperparams
from mnistflow.training.distort import Distortions
from mnistflow.training.distortion_examples import make_examples, save_examples
from mnistflow.training.model_file import save_model
from mnistflow.training.train import train
from mnistflow.training.training_log import write_history


def main() -> None:
    hp = Hyperparams(**snakemake.params.hyperparams)
    data = load_split(snakemake.input.split, ["X_train", "Y_train"])
    # keep only what training needs: the test images are freed before the big buffers exist
    X = data.pop("X_train").astype(hp.dtype, copy=False)
    Y = data.pop("Y_train").astype(hp.dtype, copy=False)
    del data
    log.info("training %s on %d rows with %d threads", hp, len(X), snakemake.threads)
    params, history = train(X, Y, hp)
    save_model(snakemake.output.model, params, hp)
    write_history(snakemake.output.history, history)
    # a few digits and distortions of them, for the report
    save_examples(snakemake.output.distortions,
                  make_examples(X, Y.argmax(axis=1), Distortions.of(hp), hp.seed))


run_stage("train", main, snakemake.log[0], {snakemake.input.split: "prepare"})

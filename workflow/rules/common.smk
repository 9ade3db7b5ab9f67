# Config validation and every helper the rules use. No other rule file defines a function.
from pathlib import Path

from snakemake.utils import validate

# The stage scripts and the code digests below import the mnistflow package (src/), installed by
# `make setup` (pip install -e .).
from mnistflow._provenance import code_digest
from mnistflow.config import config_error

# One line per bad setting, naming the key and what it allows, before any job runs (Snakemake's own
# validate below would print jsonschema's multi-line report; it stays as the catalogue's usual check).
if error := config_error(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"):
    raise error
validate(config, "../schemas/config.schema.yaml")


def get_final_output():
    return ["results/metrics.json", "results/report.html"]


def code(stage):
    """Digest of a stage's script and the package modules it imports: a param, so that editing the
    code reruns the stage while touching it does not (see profiles/default/config.yaml)."""
    return code_digest(Path(workflow.basedir) / "scripts" / f"{stage}.py")


def get_hyperparams():
    """The settings that decide the trained weights, as train.Hyperparams fields."""
    return {
        "hidden": config["hidden"],
        "epochs": config["epochs"],
        "learning_rate": config["learning_rate"],
        "seed": config["seed"],
        "dtype": config["dtype"],
    }

# Config validation and every helper the rules use. No other rule file defines a function.
from dataclasses import asdict
from pathlib import Path

from snakemake.utils import validate

# The stage scripts and the code digests below import the mnistflow package (src/), installed by
# `make setup` (pip install -e .).
from mnistflow._provenance import code_digest
from mnistflow.presets import resolve as resolve_hyperparams

validate(config, "../schemas/config.schema.yaml")


def get_final_output():
    return ["results/metrics.json", "results/report.html"]


def code(stage):
    """Digest of a stage's script and the package modules it imports: a param, so that editing the
    code reruns the stage while touching it does not (see profiles/default/config.yaml)."""
    return code_digest(Path(workflow.basedir) / "scripts" / f"{stage}.py")


def get_hyperparams():
    """The settings that decide the trained weights, as train.Hyperparams fields: the preset's values
    with every non-null training key of the config on top (mnistflow.presets.resolve)."""
    return asdict(resolve_hyperparams(config))

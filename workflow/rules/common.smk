# Config validation and every helper the rules use. No other rule file defines a function.
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The stage scripts and the code digests below import the mnistflow package (src/), installed by
# `make setup` (pip install -e .).
from mnistflow._provenance import code_digest
from mnistflow.config import config_error
from mnistflow.presets import resolve as resolve_hyperparams

# One line per bad setting, naming the key and what it allows, before any job runs (Snakemake's own
# validate below would print jsonschema's multi-line report; it stays as the catalogue's usual check).
# The config files themselves are read again for keys set twice, which loading them hides.
if error := config_error(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
                         workflow.configfiles):
    raise error
validate(config, "../schemas/config.schema.yaml")

# Snakemake starts every `script:` job as `<python> <script>` in bash without quoting the interpreter
# (snakemake/script/__init__.py, 9.27), so a space in its path breaks each job: stop before the first.
if shlex.quote(sys.executable) != sys.executable:
    raise WorkflowError(
        f"the Python running Snakemake is at a path with a space or another character the shell "
        f"would need quoted ({sys.executable}): Snakemake runs each job's script with that path unquoted, "
        f"so every job would fail. Use a Python environment at a path without one, e.g. "
        f"`make run VENV=$HOME/venvs/mnistflow` (the workflow folder itself may have spaces)"
    )


def get_final_output():
    return ["results/metrics.json", "results/report.html"]


def code(stage):
    """Digest of a stage's script and the package modules it imports: a param, so that editing the
    code reruns the stage while touching it does not (see profiles/default/config.yaml)."""
    return code_digest(Path(workflow.basedir) / "scripts" / f"{stage}.py")


def get_fetch_params():
    """The settings of the chosen source only (sources.load keywords), so that changing, say,
    openml_name while source is idx does not rerun fetch_mnist."""
    source = config["source"]
    params = {"source": source}
    if source == "idx":
        params.update(idx_path=config["idx_path"], idx_md5=config["idx_md5"])
    elif source == "openml":
        params.update(
            openml_name=config["openml_name"],
            openml_version=config["openml_version"],
            openml_test_rows=config["openml_test_rows"],
        )
    return params


def get_fetch_input():
    """The IDX files of a local idx_path, so that replacing one reruns fetch_mnist (a URL or a
    missing file adds nothing: the fetch itself reports what is missing)."""
    path = config["idx_path"] if config["source"] == "idx" else ""
    if not path or path.startswith(("http://", "https://")) or not Path(path).is_dir():
        return []
    return sorted(
        str(p) for p in Path(path).iterdir() if "-ubyte" in p.name and p.is_file()
    )


def get_hyperparams():
    """The settings that decide the trained weights, as train.Hyperparams fields: the preset's values
    with every non-null training key of the config on top (mnistflow.presets.resolve)."""
    return asdict(resolve_hyperparams(config))

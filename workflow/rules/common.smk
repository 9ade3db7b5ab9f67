# Config validation and every helper the rules use. No other rule file defines a function.
import re
from dataclasses import asdict
from pathlib import Path

from snakemake.utils import validate

# The stage scripts and the code digests below import the mnistflow package (src/), installed by
# `make setup` (pip install -e .).
from mnistflow._provenance import code_digest, files_digest
from mnistflow.config import config_error
from mnistflow.errors import MnistflowError
from mnistflow.predict import image_files
from mnistflow.presets import resolve as resolve_hyperparams

# One line per bad setting, naming the key and what it allows, before any job runs (Snakemake's own
# validate below would print jsonschema's multi-line report; it stays as the catalogue's usual check).
if error := config_error(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"):
    raise error
validate(config, "../schemas/config.schema.yaml")


def get_final_output():
    outputs = ["results/metrics.json", "results/report.html"]
    if image_paths():  # predictions only when the `images` folder holds something to classify
        outputs += ["results/predictions.csv", "results/predictions.html"]
    return outputs


def image_paths():
    """Every file in the `images` folder (mnistflow.predict.image_files); none when the folder is
    unset, missing or empty, in which case the predict job itself says so, in one line."""
    try:
        return [str(p) for p in image_files(config["images"])]
    except MnistflowError:
        return []


# what Snakemake would read as a wildcard ({name}) or a path variable (<name>) in an input file name
SNAKEMAKE_PATTERN = re.compile(r"[{}]|<[a-z][a-z0-9_]*>")


def get_images(wildcards):
    """The images, as predict's inputs. A file whose name Snakemake would misread is left out of
    `input:`; predict still classifies it, and get_images_digest still covers it."""
    return [path for path in image_paths() if not SNAKEMAKE_PATTERN.search(path)]


def get_images_digest(wildcards):
    """Digest of the names and contents of all the images (mnistflow._provenance.files_digest), a
    param of predict: read only when the predict job is wanted."""
    return files_digest(image_paths())


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


def get_recorded_config():
    """The settings evaluate records in metrics.json: all but `images`, which only predict reads,
    so that naming a folder of images does not rerun evaluate and report."""
    return {key: value for key, value in config.items() if key != "images"}


def get_hyperparams():
    """The settings that decide the trained weights, as train.Hyperparams fields: the preset's values
    with every non-null training key of the config on top (mnistflow.presets.resolve)."""
    return asdict(resolve_hyperparams(config))

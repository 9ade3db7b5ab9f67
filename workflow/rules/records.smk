# Results whose Snakemake records are gone. Snakemake decides that a file is out of date from the
# records it keeps in .snakemake/metadata (the params, so the settings, that made each file); with
# them deleted (or results copied without them) it calls every existing file up to date, whatever
# the settings. metrics.json records the settings that made the results, so when its record is gone
# and the two differ, the run stops here and says which stages to make again, rather than report old
# results as the current settings' (results must never lie). The check is an input function of
# evaluate (check_records).
import base64
import os

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import read_json

RECORDED_RESULT = "results/metrics.json"


def snakemake_record(path):
    """Where Snakemake keeps the record of an output file (snakemake/persistence.py: the file's path,
    urlsafe-base64-encoded, under .snakemake/metadata)."""
    name = base64.urlsafe_b64encode(str(path).encode()).decode()
    return Path(".snakemake") / "metadata" / name


def stale_settings(path, current):
    """{setting: (recorded, current)} for each setting ``path`` (a metrics.json) records with
    another value than ``current``; {} when they agree or the file cannot be read (evaluate then
    remakes it, or a later stage says what is wrong with it)."""
    try:
        recorded = read_json(path).get("config", {})
    except (DataError, AttributeError):
        return {}
    return {
        key: (recorded.get(key), value)
        for key, value in current.items()
        if recorded.get(key) != value
    }


def first_stage(changed):
    """The earliest stage that reads one of the changed settings: rerunning it remakes the rest."""
    if set(changed) & set(fetch_settings(config)):
        return "fetch_mnist"
    return "prepare" if set(changed) & set(data_keys()) else "train"


def forced(stage):
    """Whether this run remakes ``stage`` anyway: -F, or -R naming it or a stage before it."""
    settings = workflow.dag_settings
    stages = ["fetch_mnist", "prepare", "train"]
    earlier = stages[: stages.index(stage) + 1]
    return settings.forceall or bool(set(settings.forcerun or ()) & set(earlier))


def check_records(wildcards):
    """An input function of evaluate (so it runs once Snakemake knows what this run forces, which
    it does not while parsing): stops the run when results/metrics.json's Snakemake record is gone
    and it records other settings than the current ones, unless this run remakes the first stage
    that reads one of them anyway. Adds no input. A sweep run (with wildcards) has its own folder.
    """
    if wildcards.keys() or not os.path.isfile(RECORDED_RESULT):
        return []
    if snakemake_record(RECORDED_RESULT).exists():
        return []
    changed = stale_settings(RECORDED_RESULT, get_recorded_config())
    if changed and not forced(first_stage(changed)):
        differences = "; ".join(
            f"{key}: {old!r} -> {new!r}" for key, (old, new) in changed.items()
        )
        raise WorkflowError(
            f"{RECORDED_RESULT} was made with other settings than the current ones ({differences}), "
            f"and Snakemake's records of what made the results (.snakemake/metadata) are gone, so it "
            f"would call the old results up to date. Make them again from the first stage that reads "
            f"a changed setting: run this command again with `-R {first_stage(changed)}` added"
        )
    return []

# Results whose Snakemake records are gone. Snakemake decides that a file is out of date from the
# records it keeps in .snakemake/metadata (the params, so the settings, that made each file); with
# them deleted (or results copied without them) it calls every existing file up to date, whatever
# the settings. metrics.json records the settings and the code of each stage that made the results,
# so when its record is gone and they differ from the current ones, the run stops here and says which stages to make again, rather than report old
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


STAGES = ["fetch_mnist", "prepare", "train", "evaluate"]


def recorded(path):
    """metrics.json's record of what made it: its settings and the code of each stage; {} for a
    file that cannot be read (evaluate then remakes it, or a later stage says what is wrong).
    """
    try:
        data = read_json(path)
    except DataError:
        return {}
    return data if isinstance(data, dict) else {}


def differences(record, settings, code):
    """{what: (recorded, current)} for each setting and each stage's code that ``record`` holds
    with another value than the current one (code that metrics.json does not record is not
    compared: a file made before it recorded its code)."""
    old_settings = record.get("config") or {}
    old_code = record.get("code") or {}
    changed = {
        key: (old_settings.get(key), value)
        for key, value in settings.items()
        if old_settings.get(key) != value
    }
    changed.update(
        {
            f"code of {stage}": (old_code[stage], digest)
            for stage, digest in code.items()
            if stage in old_code and old_code[stage] != digest
        }
    )
    return changed


def first_stage(changed):
    """The earliest stage that reads a changed setting or whose code changed: rerunning it remakes
    everything after it."""
    stages = {stage for stage in STAGES if f"code of {stage}" in changed}
    if set(changed) & set(fetch_settings(config)):
        stages.add("fetch_mnist")
    if set(changed) & set(data_keys()):
        stages.add("prepare")
    if set(changed) & {"preset", *TRAINING_KEYS}:
        stages.add("train")
    return min(stages or {"evaluate"}, key=STAGES.index)


def forced(stage):
    """Whether this run remakes ``stage`` anyway: -F, or -R naming it or a stage before it."""
    settings = workflow.dag_settings
    earlier = STAGES[: STAGES.index(stage) + 1]
    return settings.forceall or bool(set(settings.forcerun or ()) & set(earlier))


def check_records(wildcards):
    """An input function of evaluate (so it runs once Snakemake knows what this run forces, which
    it does not while parsing): stops the run when results/metrics.json's Snakemake record is gone
    and it records other settings or code than the current ones, unless this run remakes the first
    stage concerned anyway. Adds no input. A sweep run (with wildcards) has its own folder.
    """
    if wildcards.keys() or not os.path.isfile(RECORDED_RESULT):
        return []
    if snakemake_record(RECORDED_RESULT).exists():
        return []
    record = recorded(RECORDED_RESULT)
    changed = (
        differences(record, get_recorded_config(), get_code_of_stages())
        if record
        else {}
    )
    if changed and not forced(first_stage(changed)):
        listed = "; ".join(
            f"{what}: {old!r} -> {new!r}" for what, (old, new) in changed.items()
        )
        raise WorkflowError(
            f"{RECORDED_RESULT} was made with other settings or code than the current ones ({listed}), "
            f"and Snakemake's records of what made the results (.snakemake/metadata) are gone, so it "
            f"would call the old results up to date. Make them again from the first stage concerned: "
            f"run this command again with `-R {first_stage(changed)}` added"
        )
    return []

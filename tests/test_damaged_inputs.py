"""Every file a stage reads is checked (structure and types; the end-to-end cases are in
test_errors.py), every value shown in the report is escaped, a full disk is one line naming the
file, and only the arrays a stage needs are read."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import Workflow
from mnistflow.data.split_file import load_split
from mnistflow.evaluation.metrics_file import check_metrics, read_metrics
from mnistflow.evaluation.report import render_html
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import atomic_path
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.training.model_file import load_model
from mnistflow.training.training_log import read_history


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda m: m["test"].update(accuracy="high"), "test.accuracy: 'high' is not of type"),
        (lambda m: m["per_class"].update({"<b>x</b>": m["per_class"]["0"]}), "per_class"),
        (lambda m: m["confusion_matrix"].pop(), "confusion_matrix"),
        (lambda m: m["sizes"].update(test=-1), "sizes.test: -1 is less than the minimum of 0"),
    ],
    ids=["accuracy-text", "class-key-markup", "confusion-9-rows", "negative-size"],
)
def test_hand_edited_metrics_are_refused_at_the_field(
    _finished_once: Workflow, tmp_path: Path, change: Callable[[dict[str, object]], None],
    where: str,
) -> None:
    metrics = json.loads((_finished_once / "results/metrics.json").read_text())
    check_metrics(metrics, "metrics.json")  # as evaluate wrote it
    change(metrics)
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    with pytest.raises(DataError) as info:
        read_metrics(path)
    assert str(info.value).startswith(f"{path}: {where}")
    assert info.value.path == str(path)


def test_the_report_escapes_every_value_it_did_not_write(
    _finished_once: Workflow, tmp_path: Path
) -> None:
    wf = _finished_once
    metrics = read_metrics(wf / "results/metrics.json")
    attack = "<img src=x onerror=alert(1)>"
    metrics["config"]["idx_path"] = attack
    metrics["config"][attack] = 1
    metrics["versions"]["numpy"] = attack
    metrics["sha256"][attack] = attack
    metrics["seconds"] = {attack: 1.0}
    metrics["per_class"] = {attack: metrics["per_class"]["0"]}  # render_html alone: no check
    figures = {name: wf / f"results/figures/{file}.png" for name, file in
               [("loss", "loss_curve"), ("confusion", "confusion_matrix"),
                ("misclassified", "misclassified")]}
    render_html(metrics, figures, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "<img src=x" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 6


def test_a_model_without_its_metadata_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    save_npz(path, {"W1": np.zeros((784, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 10)),
                    "b2": np.zeros(10), "meta": np.array(json.dumps({"hyperparams": 3}))})
    with pytest.raises(DataError, match="its metadata lacks the architecture and hyperparams"):
        load_model(path)


def test_a_training_log_without_its_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "training_log.csv"
    path.write_text("epoch,seconds\n1,0.5\n")
    with pytest.raises(DataError, match=r"lacks the column\(s\) loss, train_accuracy"):
        read_history(path)


def test_an_extra_huge_member_of_the_split_is_not_read(_finished_once: Workflow, tmp_path: Path) -> None:
    path = tmp_path / "split.npz"
    path.write_bytes(_finished_once.split.read_bytes())
    # a member whose header announces 8 TB of float64 (and holds none of it)
    header = {"descr": "<f8", "fortran_order": False, "shape": (1_000_000, 1_000_000)}
    with zipfile.ZipFile(path, "a") as zf, zf.open("junk.npy", "w") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
    arrays = load_split(path, ["X_train", "Y_train"])
    assert sorted(arrays) == ["X_train", "Y_train"]


# --- a full disk --------------------------------------------------------------------------------

_WRITE_A_SPLIT = """
import resource, signal, sys
import numpy as np
from mnistflow.plumbing.files import atomic_path
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.plumbing.stage import run
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
def main():
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))  # after the log file is open
    save_npz(sys.argv[1], {"X_train": np.zeros((4000, 784), np.float32)})  # 12.5 MB
run("prepare", main, sys.argv[2])
"""


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "processed" / "split.npz"
    result = subprocess.run([sys.executable, "-c", _WRITE_A_SPLIT, str(out), str(tmp_path / "log")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    assert f"ERROR in prepare: {out}: cannot write it: file too large" in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.parent.iterdir()) == []  # no split.npz, no temporary


def test_a_real_full_file_system_is_one_line_too(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("mounting a 1 MB tmpfs needs root: " + made.stderr.decode().strip())
    try:
        out = mount / "split.npz"
        code = _WRITE_A_SPLIT.replace("resource.setrlimit", "(lambda *a: None)")
        result = subprocess.run([sys.executable, "-c", code, str(out), str(tmp_path / "log")],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 1, result.stderr
        assert f"ERROR in prepare: {out}: cannot write it: no space left on the device" in result.stderr
        assert "Traceback" not in result.stderr
        assert list(mount.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_other_errors_while_writing_pass_through_unchanged(tmp_path: Path) -> None:
    # a download retries on network errors, which are OSErrors too
    with pytest.raises(ConnectionResetError), atomic_path(tmp_path / "x") as tmp:
        tmp.write_bytes(b"part")
        raise ConnectionResetError(104, "Connection reset by peer")
    assert list(tmp_path.iterdir()) == []

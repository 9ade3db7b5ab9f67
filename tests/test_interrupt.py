"""Interruption and concurrency: a killed run never leaves a file that looks complete, the next run
says what is missing, the documented command recovers with the same results as an uninterrupted
run, and a second Snakemake in the same folder is refused while the first one finishes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import Workflow, children_take_sigint, metrics_without_timings
from mnistflow.plumbing.files import atomic_path, sha256_file
from mnistflow.plumbing.npz_files import save_npz
from test_reproducible import IDENTICAL

# Long enough to be interrupted mid-training (a few seconds), short enough to rerun in a test.
EPOCHS = 80
RUN = ("--config", f"epochs={EPOCHS}")


@pytest.fixture(scope="module")
def uninterrupted(_finished_once: Workflow, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """metrics.json (without timings) of the same run, never interrupted."""
    wf = Workflow(tmp_path_factory.mktemp("uninterrupted") / "wf")
    shutil.copytree(_finished_once.path, wf.path, symlinks=True)
    wf.snakemake(*RUN)
    return metrics_without_timings(wf)


def _start_and_wait_for_training(wf: Workflow, timeout: float = 120) -> subprocess.Popen[str]:
    """Start RUN in the background and return once the train job has logged its first epoch."""
    log = wf / "logs/train.log"
    log.unlink(missing_ok=True)  # the log of the earlier run would look like progress
    proc = wf.start(*RUN)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"snakemake ended before training started:\n{proc.communicate()[0][-3000:]}")
        if log.exists() and f"/{EPOCHS} " in log.read_text():
            return proc
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("training did not start in time")


def _no_model_and_no_temporaries(wf: Workflow) -> None:
    assert not (wf / "results/model.npz").exists()
    assert not (wf / "results/training_log.csv").exists()
    assert not list((wf / "results").glob(".*.tmp"))


@pytest.mark.slow
def test_ctrl_c_during_training(finished_copy: Workflow, uninterrupted: dict[str, Any]) -> None:
    proc = _start_and_wait_for_training(finished_copy)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to Snakemake and its job
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0, out[-4000:]
    assert "[train] train interrupted after" in out
    assert "Traceback" not in out
    _no_model_and_no_temporaries(finished_copy)
    # the next run says what is missing and why, then the documented command recovers
    dry = finished_copy.snakemake("-n", *RUN).stdout
    assert "Missing output files: results/" in dry and "model.npz" in dry
    finished_copy.snakemake("--rerun-incomplete", *RUN)
    assert metrics_without_timings(finished_copy) == uninterrupted


@pytest.mark.slow
def test_kill_during_training(finished_copy: Workflow, uninterrupted: dict[str, Any]) -> None:
    proc = _start_and_wait_for_training(finished_copy)
    os.killpg(proc.pid, signal.SIGKILL)  # like a power loss: nothing gets to clean up
    proc.communicate(timeout=60)
    _no_model_and_no_temporaries(finished_copy)
    # Snakemake's lock survived the kill: the next run is refused with the way out
    refused = finished_copy.snakemake(*RUN, check=False)
    assert refused.returncode != 0
    assert "Directory cannot be locked" in refused.stdout
    assert "--unlock" in refused.stdout
    finished_copy.snakemake("--unlock")
    dry = finished_copy.snakemake("-n", *RUN).stdout
    assert "Missing output files: results/" in dry and "model.npz" in dry
    finished_copy.snakemake("--rerun-incomplete", *RUN)
    assert metrics_without_timings(finished_copy) == uninterrupted


@pytest.mark.slow
def test_second_run_in_the_same_folder_is_refused(
    finished_copy: Workflow, uninterrupted: dict[str, Any]
) -> None:
    first = _start_and_wait_for_training(finished_copy)
    second = finished_copy.snakemake(*RUN, check=False)
    out = first.communicate(timeout=600)[0]
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stdout
    assert first.returncode == 0, out[-3000:]
    assert metrics_without_timings(finished_copy) == uninterrupted
    assert finished_copy.planned_jobs(*RUN) == {}


def _job_processes(wf: Workflow) -> list[int]:
    """PIDs of the stage scripts Snakemake started in this workflow copy (still running)."""
    scripts = os.fsencode(wf / ".snakemake" / "scripts")
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and scripts in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _wait_until_gone(pids: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    pytest.fail(f"the job processes {pids} were still running {timeout:.0f}s later")


@pytest.mark.slow
def test_a_job_whose_snakemake_was_killed_stops_and_publishes_nothing(
    finished_copy: Workflow, uninterrupted: dict[str, Any]
) -> None:
    proc = _start_and_wait_for_training(finished_copy)
    jobs = _job_processes(finished_copy)
    assert jobs, "no train process found"
    os.kill(proc.pid, signal.SIGKILL)  # Snakemake alone, as the OOM killer or a closed terminal would
    proc.communicate(timeout=60)
    _wait_until_gone(jobs)  # within seconds, not at the end of training
    assert "snakemake (PID" in (finished_copy / "logs/train.log").read_text()
    _no_model_and_no_temporaries(finished_copy)
    # the README's recovery, with other settings: only what this run makes is ever in place
    finished_copy.snakemake("--unlock")
    finished_copy.snakemake("--rerun-incomplete", "--config", "epochs=5")
    with np.load(finished_copy / "results/model.npz") as npz:
        assert json.loads(str(npz["meta"]))["hyperparams"]["epochs"] == 5
    assert finished_copy.planned_jobs("--config", "epochs=5") == {}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_snakemake_alone_stops_its_job(
    finished_copy: Workflow, uninterrupted: dict[str, Any], sig: int
) -> None:
    proc = _start_and_wait_for_training(finished_copy)
    jobs = _job_processes(finished_copy)
    os.kill(proc.pid, sig)  # `kill PID`, or a batch system stopping the job's shell: not the group
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0, out[-4000:]
    _wait_until_gone(jobs, timeout=1)  # Snakemake itself waits for its jobs, so they are gone
    word = "interrupted" if sig == signal.SIGINT else "terminated (SIGTERM)"
    assert f"[train] train {word} after" in out
    assert "Traceback" not in (finished_copy / "logs/train.log").read_text()
    _no_model_and_no_temporaries(finished_copy)
    finished_copy.snakemake("--rerun-incomplete", *RUN)
    assert metrics_without_timings(finished_copy) == uninterrupted


@pytest.mark.slow
def test_a_killed_forced_rerun_gets_every_output_back(
    finished_copy: Workflow, uninterrupted: dict[str, Any]
) -> None:
    finished_copy.snakemake(*RUN)
    before = {name: sha256_file(finished_copy / name) for name in IDENTICAL}
    log = finished_copy / "logs/train.log"
    log.unlink()
    proc = finished_copy.start("-R", "train", *RUN)
    deadline = time.monotonic() + 120
    while not (log.exists() and f"/{EPOCHS} " in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake removed the model before starting the job
    proc.communicate(timeout=60)
    finished_copy.snakemake("--unlock")
    finished_copy.snakemake("--rerun-incomplete", *RUN)
    assert {name: sha256_file(finished_copy / name) for name in IDENTICAL} == before
    assert metrics_without_timings(finished_copy) == uninterrupted
    assert finished_copy.planned_jobs(*RUN) == {}


# --- atomic writes, in-process and with a process killed in the middle of writing -------------------


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


def test_write_killed_midway_leaves_only_a_temporary_that_the_next_write_removes(
    tmp_path: Path,
) -> None:
    target = tmp_path / "model.npz"
    code = (
        "import os, signal, sys\n"
        "from mnistflow.plumbing.files import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half of a model')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(target)], check=False)
    assert result.returncode == -signal.SIGKILL
    assert not target.exists()
    (stale,) = tmp_path.glob(".model.npz.*.tmp")
    save_npz(target, {"W1": np.ones((2, 3))})
    assert not stale.exists()
    with np.load(target) as npz:
        np.testing.assert_array_equal(npz["W1"], np.ones((2, 3)))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stage_stopped_while_writing_says_so_and_leaves_nothing(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "model.npz"
    code = (
        "import sys, time\n"
        "from mnistflow.plumbing.files import atomic_path\n"
        "from mnistflow.plumbing.stage import run\n"
        "def main():\n"
        "    with atomic_path(sys.argv[1]) as tmp:\n"
        "        tmp.write_bytes(b'half of a model')\n"
        "        print('writing', flush=True)\n"
        "        time.sleep(60)\n"
        "run('train', main, sys.argv[2])\n"
    )
    with children_take_sigint():
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(target), str(tmp_path / "train.log")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    proc.send_signal(sig)
    stderr = proc.communicate(timeout=30)[1]
    assert proc.returncode == 128 + sig
    word = "interrupted" if sig == signal.SIGINT else "terminated (SIGTERM)"
    assert f"[train] train {word} after" in stderr
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.log"]


def test_a_live_writers_temporary_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    with atomic_path(target) as tmp:  # our own, still open: this process is alive
        tmp.write_bytes(b"in progress")
        with atomic_path(target) as inner:  # a second writer of the same file
            inner.write_bytes(b"x")
            assert tmp.exists()

"""Shared fixtures: a private copy of the workflow to run Snakemake in, and dry-run parsing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import numpy as np

    from mnistflow.training.network import Params

ROOT = Path(__file__).resolve().parent.parent
# The stage scripts' helper (scripts/_workflow.py: what they know of Snakemake), importable as
# `_workflow` as in a job, where Snakemake's script preamble appends the scripts' folder to sys.path.
sys.path.append(str(ROOT / "scripts"))
# What a user's checkout holds that the workflow needs (outputs, logs and .snakemake are not copied).
WORKFLOW_FILES = ("Snakefile", "workflow", "scripts", "config", "profiles", "environment.yml",
                  "environment.post-deploy.sh")


@contextlib.contextmanager
def children_take_sigint() -> Iterator[None]:
    """Let processes started in this block receive SIGINT (Ctrl-C) normally.

    A process started in the background by a non-interactive shell (a CI script, `cmd &`) ignores
    SIGINT and its children inherit that, so Ctrl-C could not be tested; a handler, unlike
    "ignore", is reset to the default in the child.
    """
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


# Where the default config (the sample, a random 80/20 split) keeps its fetched and prepared data:
# one folder per source and split settings (workflow/rules/params.smk, docs/workflow.md).
PARQUET = "data/raw/sample/mnist.parquet"
SPLIT_FOLDER = "split~random/test_size~0.2/random_state~42/stratify~false/dtype~float32"
SPLIT = f"data/processed/sample/{SPLIT_FOLDER}/split.npz"


class Workflow:
    """A copy of the workflow in a temporary folder, with helpers to run snakemake there."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def parquet(self) -> Path:
        """The default config's fetched data (:data:`PARQUET`) in this copy."""
        return self.path / PARQUET

    @property
    def split(self) -> Path:
        """The default config's split (:data:`SPLIT`) in this copy."""
        return self.path / SPLIT

    def snakemake(
        self, *args: str, check: bool = True, timeout: float = 600,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `snakemake --cores 1 <args>` in the copy; output (stdout+stderr) in `.stdout`.
        ``env`` adds to (or overrides) the environment variables of the snakemake process."""
        cmd = [sys.executable, "-m", "snakemake", "--cores", "1", *args]
        result = subprocess.run(
            cmd, cwd=self.path, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **env} if env else None,
        )
        result.stdout += result.stderr
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-5000:]}")
        return result

    def planned_jobs(self, *args: str, env: Mapping[str, str] | None = None) -> dict[str, int]:
        """{rule: count} of the jobs a dry run would execute (without the `all` target)."""
        out = self.snakemake("-n", *args, env=env).stdout
        return parse_job_stats(out)

    def set_config(self, **settings: object) -> None:
        """Change top-level keys in the copy's config/config.yaml (a key's line is replaced)."""
        path = self.path / "config" / "config.yaml"
        text = path.read_text()
        for key, value in settings.items():
            text, n = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", text)
            assert n == 1, f"no line for {key!r} in {path}"
        path.write_text(text)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start `snakemake --cores 1 <args>` in the background, in its own process group (so a
        test can signal it and its jobs together, as Ctrl-C in a terminal does)."""
        cmd = [sys.executable, "-m", "snakemake", "--cores", "1", *args]
        with children_take_sigint():
            return subprocess.Popen(cmd, cwd=self.path, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def __truediv__(self, other: str) -> Path:
        return self.path / other


def parse_job_stats(output: str) -> dict[str, int]:
    """Parse Snakemake's 'Job stats' table; {} when there is nothing to be done."""
    match = re.search(r"Job stats:\njob\s+count\n-+\s+-+\n(.*?)\ntotal", output, re.S)
    if not match:
        assert "Nothing to be done" in output, output[-3000:]
        return {}
    jobs = {}
    for line in match.group(1).splitlines():
        rule, count = line.split()
        if rule != "all":
            jobs[rule] = int(count)
    return jobs


def copy_workflow(dest: Path, files: Sequence[str] = WORKFLOW_FILES) -> Workflow:
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return Workflow(dest)


def first_fast(cases: Sequence[Any], ids: Sequence[str], fast: int) -> list[Any]:
    """Parametrized cases, the first ``fast`` in the fast suite (`make test`) and the others marked
    slow: each case runs Snakemake for a few seconds, and the first ones already show the behaviour
    on every `make test`; `make test-slow` (and CI) runs them all."""
    return [pytest.param(*(case if isinstance(case, tuple) else (case,)), id=name,
                         marks=() if i < fast else pytest.mark.slow)
            for i, (case, name) in enumerate(zip(cases, ids, strict=True))]


# Small settings that keep end-to-end runs to a few seconds on the embedded sample.
FAST = {"epochs": 5}


@pytest.fixture
def workflow_copy(tmp_path: Path) -> Workflow:
    """A fresh copy of the workflow (with FAST settings); nothing has run in it yet."""
    wf = copy_workflow(tmp_path / "wf")
    wf.set_config(**FAST)
    return wf


def _fast_run(dest: Path) -> Workflow:
    """A copy of the workflow at ``dest`` with FAST settings, after one complete run."""
    wf = copy_workflow(dest)
    wf.set_config(**FAST)
    wf.snakemake()
    return wf


@pytest.fixture(scope="session")
def _finished_once(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """One completed fast run for the whole session; tests get copies (see `finished_copy`)."""
    return _fast_run(tmp_path_factory.mktemp("finished") / "wf")


@pytest.fixture(scope="module")
def finished_workflow(_finished_once: Workflow, tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """A copy of the session's completed fast run, Snakemake's records included, shared within a
    module by tests that only plan (dry runs) and read."""
    dest = tmp_path_factory.mktemp("done") / "wf"
    shutil.copytree(_finished_once.path, dest, symlinks=True)
    return Workflow(dest)


@pytest.fixture
def finished_copy(_finished_once: Workflow, tmp_path: Path) -> Workflow:
    """A private copy of a completed fast run, Snakemake's records (.snakemake) included, so a test
    may damage files or rerun stages without running the whole workflow first."""
    dest = tmp_path / "wf"
    shutil.copytree(_finished_once.path, dest, symlinks=True)
    return Workflow(dest)


# Fields of metrics.json that are measurements of time, so differ between identical runs.
TIMING_FIELDS = ("seconds",)


def metrics_without_timings(wf: Workflow) -> dict[str, Any]:
    """results/metrics.json of a run, without the fields that are plainly timings."""
    metrics: dict[str, Any] = json.loads((wf / "results/metrics.json").read_text())
    for name in TIMING_FIELDS:
        metrics.pop(name)
    return metrics


# markers of tests that need something brought up first, and run only when -m names them
ON_REQUEST = ("cluster", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `cluster` need a SLURM cluster (tests/cluster/slurm.sh brings one up, as root),
    tests marked `browser` headless Chromium and its driver (`make test-browser` installs them): they
    run only when the -m expression names their marker (`pytest -m cluster`, `make test-cluster`,
    `pytest -m browser`), never in a plain `pytest` or `pytest -m "not slow"`."""
    named = config.getoption("markexpr") or ""
    wanted = [marker for marker in ON_REQUEST if marker not in named]
    deselected = [item for item in items if any(item.get_closest_marker(m) for m in wanted)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture(scope="session")
def sample_split() -> dict[str, np.ndarray]:
    """The embedded sample split as the default config splits it: 4,000 training rows, 1,000 held
    out (``X_train``, ``Y_train``, ``X_test``, ``Y_test``: pixels in [0, 1], one-hot labels)."""
    from mnistflow.data.prepare import split  # imported here: most tests need neither NumPy nor data
    from mnistflow.data.sources import load_sample

    return split(load_sample())


@pytest.fixture(scope="session")
def best_on_sample(sample_split: dict[str, np.ndarray]) -> Params:
    """The `best` preset, all its epochs, trained once a session on the sample's 4,000 training rows
    (a few seconds), for the tests that need a network reading digits well."""
    from mnistflow.settings.presets import PRESETS
    from mnistflow.training.train import train

    params, _ = train(sample_split["X_train"], sample_split["Y_train"], PRESETS["best"])
    return params

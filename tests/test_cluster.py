"""The workflow on a real SLURM cluster (one node, on this machine), through the shipped profile.

Every test here is marked `cluster` and runs only when asked for: `make test-cluster` brings the
cluster up with tests/cluster/slurm.sh (as root), runs `pytest -m cluster` against it and stops it;
`pytest -m cluster` alone starts and stops one itself (the `slurm` fixture). A plain `pytest` never
runs them (tests/conftest.py).

The runs use profiles/slurm as a user would: copied, with the partition and account set. What only
this test cluster needs goes on the command line, as docs/cluster.md shows: job states
from `squeue` (it has no accounting database) and a status check every second instead of every 20 s.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (
    FAST,
    PARQUET,
    ROOT,
    SPLIT,
    SPLIT_FOLDER,
    Workflow,
    children_take_sigint,
    copy_workflow,
    metrics_without_timings,
)

pytestmark = pytest.mark.cluster

SCRIPT = ROOT / "tests" / "cluster" / "slurm.sh"
PARTITION = "test"  # the test cluster's one partition; not a default one, so a job must name it
ACCOUNT = "mnistflow-test"  # any name: without accounting, SLURM records it and checks nothing
TEST_CLUSTER_ARGS = (
    "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
)
# train's thread count (the rule's), in the cluster runs and in the local run they are compared with
THREADS = 2
NON_LOCAL_RULES = {"prepare", "train", "evaluate"}
# the files that are byte-identical between identical runs (metrics.json is, apart from timings)
SAME_BYTES = (PARQUET, SPLIT, "results/model.npz",
              "results/predictions.npz")


@dataclass(frozen=True)
class SlurmJob:
    id: str
    rule: str  # from the comment the plugin gives each job: rule_<name>
    state: str
    cpus: int
    memory: str  # as squeue prints it, e.g. 800M
    time_limit: str  # e.g. 10:00


@dataclass(frozen=True)
class Cluster:
    """A running test cluster: the environment that points SLURM's commands at it."""

    path: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.path / "slurm.conf"),
                "PATH": f"{self.path / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    def command(self, *args: str) -> str:
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=True,
                              timeout=60).stdout

    def jobs(self, run_id: str | None = None) -> list[SlurmJob]:
        """The cluster's jobs (ended ones too, for MinJobAge), or those of one Snakemake run."""
        out = self.command("squeue", "--states=all", "--noheader", "--format=%i|%j|%k|%T|%C|%m|%l")
        jobs = []
        for line in out.splitlines():
            job_id, name, comment, state, cpus, memory, limit = line.split("|")
            if run_id is None or name == run_id:
                # the comment is rule_<name>, then _wildcards_<values> for a rule with wildcards
                rule = comment.removeprefix("rule_").split("_wildcards_")[0]
                jobs.append(SlurmJob(job_id, rule, state, int(cpus), memory, limit))
        return jobs


@pytest.fixture(scope="module")
def slurm() -> Iterator[Cluster]:
    """The cluster that `make test-cluster` started (MNISTFLOW_SLURM_DIR), or one started here and
    stopped (exactly the daemons the script started) after this module's tests, pass or fail."""
    given = os.environ.get("MNISTFLOW_SLURM_DIR")
    if given:
        yield Cluster(Path(given))
        return
    # not under pytest's tmp_path: munged, running as `munge`, must reach its socket's folder
    path = Path(tempfile.mkdtemp(prefix="mnistflow-slurm."))
    try:
        subprocess.run([str(SCRIPT), "start", str(path)], check=True, timeout=900)
        yield Cluster(path)
    finally:
        subprocess.run([str(SCRIPT), "stop", str(path)], timeout=300, check=False)
        shutil.rmtree(path, ignore_errors=True)


def user_profile(dest: Path, partition: str | None = PARTITION) -> Path:
    """profiles/slurm copied to ``dest`` with the placeholders set, as the README tells a user to
    (``partition=None``: its partition line left out)."""
    dest.mkdir(parents=True)
    text = (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    text, n = re.subn(r"(?m)^  - slurm_account=your_account$", f"  - slurm_account={ACCOUNT}", text)
    assert n == 1, "no slurm_account placeholder in profiles/slurm/config.yaml"
    line = f"  - slurm_partition={partition}\n" if partition else ""
    text, n = re.subn(r"(?m)^  - slurm_partition=your_partition\n", line, text)
    assert n == 1, "no slurm_partition placeholder in profiles/slurm/config.yaml"
    (dest / "config.yaml").write_text(text)
    return dest


def snakemake_command(profile: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--profile", str(profile), *TEST_CLUSTER_ARGS, *args]


def on_cluster(wf: Workflow, slurm: Cluster, profile: Path, *args: str,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """`snakemake --profile <profile> <args>` in the copy, with SLURM's commands pointed at the test
    cluster; output (stdout+stderr) in `.stdout`."""
    cmd = snakemake_command(profile, *args)
    result = subprocess.run(cmd, cwd=wf.path, env=slurm.env, capture_output=True, text=True,
                            timeout=900)
    result.stdout += result.stderr
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-6000:]}")
    return result


def run_id(output: str) -> str:
    """The plugin's ID of a Snakemake run: the name of all its SLURM jobs."""
    match = re.search(r"SLURM run ID: (\S+)", output)
    assert match, output[-3000:]
    return match.group(1)


def slurm_log(output: str, rule: str) -> Path:
    """The SLURM log of the (last) job of ``rule`` that Snakemake reported submitting."""
    logs = re.findall(rf"\(log: (\S+/rule_{rule}/\d+\.log)\)", output)
    assert logs, output[-3000:]
    return Path(logs[-1])


@dataclass(frozen=True)
class Run:
    wf: Workflow
    output: str
    run_id: str


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return user_profile(tmp_path_factory.mktemp("profile") / "mycluster")


@pytest.fixture(scope="module")
def cluster_run(slurm: Cluster, profile: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The workflow (FAST settings) run from scratch on the cluster, as a user would."""
    wf = copy_workflow(tmp_path_factory.mktemp("cluster") / "wf")
    wf.set_config(**FAST)
    result = on_cluster(wf, slurm, profile)
    return Run(wf, result.stdout, run_id(result.stdout))


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """The same workflow run locally with `--cores THREADS` (train's threads, so not capped)."""
    wf = copy_workflow(tmp_path_factory.mktemp("local") / "wf")
    wf.set_config(**FAST)
    wf.snakemake("--cores", str(THREADS))
    return wf


def copy_run(run: Run, dest: Path) -> Workflow:
    """A private copy of a finished run, Snakemake's records (.snakemake) included."""
    shutil.copytree(run.wf.path, dest, symlinks=True)
    return Workflow(dest)


def assert_same_bytes(wf: Workflow, reference: Workflow) -> None:
    for name in SAME_BYTES:
        assert (wf / name).read_bytes() == (reference / name).read_bytes(), name
    assert metrics_without_timings(wf) == metrics_without_timings(reference)


def test_every_non_local_rule_runs_as_a_slurm_job_sized_by_the_rule(
    cluster_run: Run, slurm: Cluster,
) -> None:
    jobs = {job.rule: job for job in slurm.jobs(cluster_run.run_id)}
    assert set(jobs) == NON_LOCAL_RULES
    assert {job.state for job in jobs.values()} == {"COMPLETED"}
    # fetch (no internet on compute nodes) and report run where Snakemake runs
    assert "localrule fetch_mnist:" in cluster_run.output
    assert "localrule report:" in cluster_run.output
    # each job asks for its rule's threads, mem_mb and runtime, not the whole node and no limit
    assert jobs["train"].cpus == THREADS
    assert jobs["prepare"].cpus == jobs["evaluate"].cpus == 1
    for job in jobs.values():
        assert re.fullmatch(r"\d+M", job.memory) and 500 <= int(job.memory[:-1]) <= 2000, job
        assert job.time_limit == "10:00", job


def test_a_cluster_run_gives_the_bytes_of_a_local_run(cluster_run: Run, local_run: Workflow) -> None:
    assert_same_bytes(cluster_run.wf, local_run)


def test_a_second_run_is_a_no_op_even_after_touching_every_file(
    cluster_run: Run, slurm: Cluster, profile: Path,
) -> None:
    # the workflow profile's rerun rules (content, not modification times) are in force alongside
    # the cluster profile
    for path in cluster_run.wf.path.rglob("*"):
        if path.is_file() and ".snakemake" not in path.parts:
            path.touch()
    result = on_cluster(cluster_run.wf, slurm, profile)
    assert "Nothing to be done" in result.stdout, result.stdout[-3000:]
    assert slurm.jobs(run_id(result.stdout)) == []


def test_a_cancelled_train_job_is_reported_and_resumed_by_the_next_run(
    cluster_run: Run, local_run: Workflow, slurm: Cluster, profile: Path, tmp_path: Path,
) -> None:
    wf = copy_run(cluster_run, tmp_path / "wf")
    shutil.rmtree(wf / "results")  # a run that gets as far as train
    before = {job.id for job in slurm.jobs()}
    log = tmp_path / "cancelled.log"
    with log.open("w") as out:
        # --retries 0: the profile would submit the cancelled job once more
        with children_take_sigint():
            proc = subprocess.Popen(
                snakemake_command(profile, "--retries", "0"),
                cwd=wf.path, env=slurm.env, stdout=out, stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 120
            while not (train := [job for job in slurm.jobs() if job.id not in before
                                 and job.rule == "train" and job.state == "RUNNING"]):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            slurm.command("scancel", train[0].id)
            assert proc.wait(timeout=300) != 0
        finally:
            if proc.poll() is None:  # as Ctrl-C does: Snakemake cancels its SLURM jobs and stops
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    output = log.read_text()
    assert "Error in rule train:" in output, output[-3000:]
    assert f"SLURM-job '{train[0].id}' failed, SLURM status is: 'CANCELLED'" in output
    assert re.search(r"log: logs/train\.log, \S+/rule_train/\d+\.log", output), output[-3000:]
    assert not (wf / "results/model.npz").exists()

    result = on_cluster(wf, slurm, profile)
    assert re.search(r"rule train:\n(    .*\n)*    reason: Missing output files: .*results/model\.npz",
                     result.stdout), result.stdout[-3000:]
    assert {job.rule for job in slurm.jobs(run_id(result.stdout))} == {"train", "evaluate"}
    assert_same_bytes(wf, local_run)


def test_a_profile_without_partition_fails_naming_the_rule_and_its_log(
    slurm: Cluster, tmp_path: Path,
) -> None:
    wf = copy_workflow(tmp_path / "wf")
    wf.set_config(**FAST)
    no_partition = user_profile(tmp_path / "no-partition", partition=None)
    result = on_cluster(wf, slurm, no_partition, "--retries", "0", check=False)
    assert result.returncode != 0
    assert "Error in rule prepare:" in result.stdout, result.stdout[-3000:]
    assert "No partition specified or system default partition" in result.stdout
    assert f"log: logs/data/sample/{SPLIT_FOLDER}/prepare.log" in result.stdout


@pytest.mark.parametrize(
    ("resources", "config", "state", "slurm_says"),
    [
        pytest.param("train:mem_mb=100", [], "FAILED", "Exceeded job memory limit", id="mem_mb"),
        # one minute is the shortest limit; SLURM notices within about 30 s more
        pytest.param("train:runtime=1", ["--config", "epochs=1000000"], "TIMEOUT",
                     "DUE TO TIME LIMIT", id="runtime"),
    ],
)
def test_a_job_over_its_resources_is_killed_by_slurm_and_named(
    cluster_run: Run, slurm: Cluster, profile: Path, tmp_path: Path,
    resources: str, config: list[str], state: str, slurm_says: str,
) -> None:
    wf = copy_run(cluster_run, tmp_path / "wf")
    result = on_cluster(wf, slurm, profile, "--forcerun", "train", "--retries", "0",
                        "--set-resources", resources, *config, check=False)
    assert result.returncode != 0
    assert "Error in rule train:" in result.stdout, result.stdout[-3000:]
    assert f"SLURM status is: '{state}'" in result.stdout, result.stdout[-3000:]
    log = slurm_log(result.stdout, "train")
    assert f"log: logs/train.log, {log}" in result.stdout
    assert slurm_says in log.read_text()


# --- (b) a sweep on the cluster ------------------------------------------------------------------

SWEEP = "learning_rate\n0.5\n0.3\n0.1\n"  # three runs of the FAST exercise recipe
SWEEP_TARGET = "results/sweeps/tiny/comparison.html"


def _sweep_copy(dest: Path) -> Workflow:
    wf = copy_workflow(dest)
    wf.set_config(**FAST)
    (wf / "config" / "sweeps" / "tiny.tsv").write_text(SWEEP)
    return wf


def _sweep_files(wf: Workflow) -> dict[str, bytes]:
    """What a sweep makes that is the same bytes in identical runs (each run's model, predictions
    and split; the comparison's table apart from its timings is checked through best.yaml)."""
    root = wf.path / "results" / "sweeps" / "tiny"
    files = {str(p.relative_to(wf.path)): p.read_bytes() for p in sorted(root.rglob("*.npz"))}
    files |= {str(p.relative_to(wf.path)): p.read_bytes()
              for p in sorted((wf.path / "data" / "processed").rglob("split.npz"))}
    files["best.yaml"] = (root / "best.yaml").read_bytes()
    return files


def test_a_sweep_runs_its_runs_as_slurm_jobs_with_the_bytes_of_a_local_sweep(
    slurm: Cluster, profile: Path, tmp_path: Path,
) -> None:
    wf = _sweep_copy(tmp_path / "cluster")
    result = on_cluster(wf, slurm, profile, SWEEP_TARGET)
    jobs = slurm.jobs(run_id(result.stdout))
    rules = sorted(job.rule for job in jobs)
    # the runs' split has the config's data settings: the single run's prepare makes it, in its place
    assert rules == ["prepare"] + ["sweep_evaluate"] * 3 + ["sweep_train"] * 3, rules
    assert {job.state for job in jobs} == {"COMPLETED"}
    assert all(job.cpus == 1 for job in jobs if job.rule == "sweep_train")  # runs side by side
    # the light rules run where Snakemake runs
    assert "localrule sweep_compare:" in result.stdout and "localrule sweep_report:" in result.stdout
    # the same sweep made locally (each run with the same one thread) gives the same bytes
    local = _sweep_copy(tmp_path / "local")
    local.snakemake("--cores", "2", SWEEP_TARGET)
    assert _sweep_files(wf) == _sweep_files(local)
    # and a second run on the cluster submits nothing
    again = on_cluster(wf, slurm, profile, SWEEP_TARGET)
    assert "Nothing to be done" in again.stdout, again.stdout[-3000:]
    assert slurm.jobs(run_id(again.stdout)) == []

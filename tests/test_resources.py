"""What each job asks a cluster for: threads, mem_mb and runtime from the rules (workflow/rules/
resources.smk, SIZING), and the cluster profile (profiles/slurm) on top, seen in a dry run (no
cluster needed; the runs on a real one are in test_cluster.py)."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest

from conftest import ROOT, Workflow, first_fast


class PlannedJob(NamedTuple):
    rule: str
    wildcards: str  # as Snakemake prints them, e.g. "sweep=lr, run=learning_rate~0.1"; "" for none
    output: list[str]
    resources: dict[str, str]


def planned_jobs(wf: Workflow, *args: str) -> list[PlannedJob]:
    """The jobs of a forced dry run with the cluster profile, with their resources."""
    out = wf.snakemake("--profile", str(ROOT / "profiles" / "slurm"), "-n", "-F", *args).stdout
    jobs = []
    for rule, body in re.findall(r"(?m)^(?:local)?rule (\w+):\n((?:    .*\n)+)", out):
        fields = dict(re.findall(r"(?m)^    (\w+): (.*)$", body))
        resources = dict(item.split("=", 1) for item in fields["resources"].split(", "))
        output = fields["output"].split(", ") if "output" in fields else []
        jobs.append(PlannedJob(rule, fields.get("wildcards", ""), output, resources))
    return jobs


def planned_resources(wf: Workflow, *args: str) -> dict[str, dict[str, str]]:
    """{rule: {resource: value}} of a forced dry run with the cluster profile (rules of one job)."""
    return {job.rule: job.resources for job in planned_jobs(wf, *args)}


def test_every_job_asks_for_memory_and_time_and_the_profile_adds_partition_and_account(
    finished_copy: Workflow,
) -> None:
    plan = planned_resources(finished_copy)
    assert set(plan) >= {"fetch_mnist", "prepare", "train", "evaluate", "report"}
    for rule, resources in plan.items():
        if rule == "all":
            continue
        assert int(resources["mem_mb"]) >= 300, (rule, resources)
        assert int(resources["runtime"]) >= 10, (rule, resources)
        assert resources["slurm_partition"] == "your_partition"
        assert resources["slurm_account"] == "your_account"


def test_training_asks_for_more_time_with_more_epochs(finished_copy: Workflow) -> None:
    short = planned_resources(finished_copy)["train"]
    long = planned_resources(finished_copy, "--config", "epochs=100000")["train"]
    assert int(long["runtime"]) > 10 * int(short["runtime"])
    assert long["mem_mb"] == short["mem_mb"]


@pytest.mark.slow
def test_a_sweep_run_asks_for_the_time_of_its_own_recipe(finished_copy: Workflow) -> None:
    # a row of many epochs of a wide network would be killed at the time limit of the config's recipe
    (finished_copy / "config/sweeps/long.tsv").write_text("epochs\thidden\n5\t256\n1000\t800\n")
    target = "results/sweeps/long/comparison.html"
    # the runs share the single run's split (the same data settings, made by the finished run),
    # whose size sizes their jobs
    train = {job.wildcards: job.resources for job in planned_jobs(finished_copy, target)
             if job.rule == "sweep_train"}
    long = train["sweep=long, run=epochs~1000/hidden~800"]
    default = train["sweep=long, run=epochs~5/hidden~256"]
    # the single run's formula for the same recipe on the same split (equal data settings)
    single = planned_resources(finished_copy, "--config", "epochs=1000", "hidden=800")["train"]
    assert long["runtime"] == single["runtime"]
    assert int(long["runtime"]) > int(default["runtime"])
    assert long["mem_mb"] == default["mem_mb"] == single["mem_mb"]  # memory follows the input's size


@pytest.mark.parametrize(
    ("settings", "threads"),
    first_fast([((), 2), (("source=openml",), 8), (("batch_size=32",), 1), (("preset=best",), 2),
                (("preset=best", "batch_size=20000"), 6)],
               ["sample-full-batch", "full-mnist-full-batch-capped", "small-batches", "best", "big-batches"],
               fast=1),
)
def test_training_asks_for_one_thread_per_block_of_its_batches(
    finished_copy: Workflow, settings: tuple[str, ...], threads: int
) -> None:
    # 4,000 rows: 2 blocks; 32: 1; 256: 2; 20,000 (the sample's 3,600 fit rows as a batch's size
    # bound only the job's threads): 6 blocks of 3,334; full MNIST's 56,000: 14, at most 8
    args = ("--config", *settings) if settings else ()
    # --cores 16: Snakemake caps a job's threads at --cores (a dry run counts as local)
    out = finished_copy.snakemake("--cores", "16", "-n", "-F", "results/model.npz", *args).stdout
    body = out[out.index("rule train:"):].split("\n\n", 1)[0]
    found = re.search(r"(?m)^    threads: (\d+)$", body)
    assert (int(found.group(1)) if found else 1) == threads, body

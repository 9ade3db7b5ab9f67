"""What each job asks a cluster for: threads, mem_mb and runtime from the rules (workflow/rules/
common.smk, SIZING), and the cluster profile (profiles/slurm) on top, seen in a dry run (no cluster
needed; the runs on a real one are in test_cluster.py)."""

from __future__ import annotations

import re

from conftest import ROOT, Workflow


def planned_resources(wf: Workflow, *args: str) -> dict[str, dict[str, str]]:
    """{rule: {resource: value}} of a forced dry run with the cluster profile."""
    out = wf.snakemake("--profile", str(ROOT / "profiles" / "slurm"), "-n", "-F", *args).stdout
    plan = {}
    for rule, resources in re.findall(r"(?m)^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$",
                                      out):
        plan[rule] = dict(item.split("=", 1) for item in resources.split(", "))
    return plan


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

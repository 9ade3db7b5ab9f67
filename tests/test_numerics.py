"""Which machine code made a result (mnistflow.plumbing.numerics), and portable_numerics, which pins it.

Two machines are played on this one by forcing OpenBLAS's kernel (OPENBLAS_CORETYPE) and NumPy's
SIMD (NPY_ENABLE_CPU_FEATURES) before Python starts: an AVX2 machine (Haswell kernel, X86_V3 loops)
and an older AVX one (SandyBridge kernel, baseline loops)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_workflow
from mnistflow.plumbing.errors import ConfigError
from mnistflow.plumbing.numerics import PORTABLE, check_portable, describe, numerics

_FLAGS = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
needs_avx2 = pytest.mark.skipif(
    "avx2" not in _FLAGS or "fma" not in _FLAGS, reason="plays an AVX2 machine: needs an x86-64 CPU with AVX2"
)

# two machines: {variable: value} each, on top of the environment without them
MACHINES = {
    "avx2": {"OPENBLAS_CORETYPE": "Haswell"},
    "avx": {"OPENBLAS_CORETYPE": "SandyBridge", "NPY_ENABLE_CPU_FEATURES": "X86_V2"},
}

# a short training of the best recipe on real digits, in a fresh Python: its weights' sha256 and
# the numerics it records
_TRAIN = """
import hashlib, json
from dataclasses import replace
from mnistflow.data.prepare import split
from mnistflow.data.sources import load_sample
from mnistflow.plumbing.numerics import numerics
from mnistflow.settings.presets import PRESETS
from mnistflow.training.train import train
data = split(load_sample())
params, _ = train(data["X_train"][:1000], data["Y_train"][:1000], replace(PRESETS["best"], epochs=2))
digest = hashlib.sha256(b"".join(params[k].tobytes() for k in sorted(params))).hexdigest()
print(json.dumps({"sha256": digest, "numerics": numerics()}))
"""


def _environment(machine: str, pinned: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE and k not in MACHINES["avx"]}
    env.update(MACHINES[machine])
    if pinned:  # what the workflow does with portable_numerics: true, over whatever the machine set
        env.update(PORTABLE)
    return env


def _train(machine: str, pinned: bool) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _TRAIN], env=_environment(machine, pinned), check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return json.loads(out.splitlines()[-1])


def test_numerics_name_the_blas_its_kernel_and_numpys_simd() -> None:
    found = numerics()
    assert found["blas"].startswith("openblas ")
    assert found["blas_kernel"]  # Haswell, SkylakeX, ... whatever this CPU gets
    assert found["numpy_simd"][0] == "X86_V2"  # NumPy 2.4's baseline
    assert "threads" not in json.dumps(found)  # they change no result
    line = describe(found)
    assert found["blas_kernel"] in line and "NumPy SIMD X86_V2" in line
    assert describe(None) == "unknown"


def test_a_pin_that_is_not_in_force_stops_the_job_saying_what_is_missing() -> None:
    if numerics()["portable"]:
        pytest.skip("this process runs pinned")
    assert check_portable(False) == numerics()
    with pytest.raises(ConfigError, match="portable_numerics: true, but this job cannot be pinned: "
                                          "the job's environment lacks OPENBLAS_CORETYPE='Nehalem'"):
        check_portable(True)


@pytest.mark.slow  # four trainings in fresh processes, about 8 s; `make test-slow` runs it
@needs_avx2
def test_two_machines_give_other_weights_unless_pinned_then_the_same_bytes() -> None:
    free = {machine: _train(machine, pinned=False) for machine in MACHINES}
    assert free["avx2"]["numerics"]["blas_kernel"] == "Haswell"
    assert free["avx"]["numerics"]["blas_kernel"] == "Sandybridge"
    assert free["avx2"]["numerics"]["numpy_simd"] == ["X86_V2", "X86_V3"]
    assert free["avx"]["sha256"] != free["avx2"]["sha256"]
    pinned = {machine: _train(machine, pinned=True) for machine in MACHINES}
    assert pinned["avx"] == pinned["avx2"]
    assert pinned["avx2"]["numerics"] == {"blas": free["avx2"]["numerics"]["blas"], "blas_kernel": "Nehalem",
                                          "numpy_simd": ["X86_V2"], "portable": True}


@pytest.mark.slow
@needs_avx2
def test_the_workflow_pins_every_job_with_portable_numerics(tmp_path: Path) -> None:
    models, metrics = {}, {}
    for machine in MACHINES:
        wf = copy_workflow(tmp_path / machine)
        wf.set_config(epochs=5, portable_numerics="true")
        wf.snakemake("--cores", "2", "results/metrics.json", env=MACHINES[machine])
        models[machine] = (wf / "results/model.npz").read_bytes()
        metrics[machine] = json.loads((wf / "results/metrics.json").read_text())
    assert models["avx"] == models["avx2"]
    for found in metrics.values():
        assert found["model"]["numerics"]["blas_kernel"] == found["numerics"]["blas_kernel"] == "Nehalem"
        assert found["config"]["portable_numerics"] is True

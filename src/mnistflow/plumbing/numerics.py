"""Which machine code computed a result: the BLAS library and the kernel it chose for this CPU, and
the SIMD features NumPy's own loops use; and how to pin both to what every x86-64 machine has.

The same settings give the same bytes at any thread count (:mod:`mnistflow.training.blocks`), but
not on every CPU: OpenBLAS picks a matrix-product kernel for the CPU it runs on (``Haswell`` on an
AVX2 machine, ``SkylakeX`` with AVX-512, ...), and NumPy dispatches its ``exp``, ``log`` and sums to
the widest SIMD the CPU has; each adds up in its own order, so the last bits of a product or an
``exp`` differ, and over an epoch the weights do. :func:`numerics` names what ran, for
``model.npz`` and ``metrics.json``.

:data:`PORTABLE` pins both (the setting ``portable_numerics``): OpenBLAS's ``Nehalem`` kernel
(``OPENBLAS_CORETYPE``, honoured by the runtime-dispatching builds NumPy's wheels ship) and NumPy's
loops limited to its baseline, x86-64-v2 (``NPY_ENABLE_CPU_FEATURES`` naming the baseline alone, in
the spelling of NumPy 2.4 and later; older versions name it otherwise and are not pinned). Both are
read when the libraries load, so they must be in the environment before Python starts: the workflow sets them
while Snakemake parses it (workflow/rules/common.smk), and every job inherits them.
:func:`check_portable` then makes sure they took: a BLAS other than OpenBLAS, or a CPU that is not
x86-64, cannot be pinned this way, and the job stops saying so rather than recording a pin that was
not there.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mnistflow.plumbing.errors import ConfigError

__all__ = ["PORTABLE", "PORTABLE_KERNEL", "check_portable", "describe", "numerics"]

PORTABLE_KERNEL = "Nehalem"  # SSE4.2: every x86-64 CPU since 2009 runs it (x86-64-v2)
PORTABLE = {"OPENBLAS_CORETYPE": PORTABLE_KERNEL, "NPY_ENABLE_CPU_FEATURES": "X86_V2"}


def _numpy_simd() -> list[str]:
    """NumPy's baseline SIMD features and the dispatched ones its loops use on this CPU."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")  # NumPy 2
    except ImportError:  # NumPy 1.26
        umath = importlib.import_module("numpy.core._multiarray_umath")
    used = [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]
    return [*umath.__cpu_baseline__, *used]


def numerics() -> dict[str, Any]:
    """What computes this process's results: ``blas`` (library and version), ``blas_kernel`` (the
    kernel it chose, as threadpoolctl reports it), ``numpy_simd`` (baseline and dispatched SIMD
    features in use) and ``portable`` (whether :data:`PORTABLE` is in force). Not the thread count:
    it changes no result."""
    import numpy  # noqa: F401  # loads the BLAS that threadpoolctl then finds
    from threadpoolctl import threadpool_info

    # NumPy's own (its wheels keep it in numpy.libs/ or numpy/.dylibs/): SciPy, under
    # scikit-learn, may have loaded an OpenBLAS of its own as well
    found = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    own = [lib for lib in found if any(p.startswith("numpy") for p in Path(lib["filepath"]).parts[-3:-1])]
    blas = (own or found or [None])[0]
    return {
        "blas": None if blas is None else f"{blas['internal_api']} {blas['version']}",
        "blas_kernel": None if blas is None else blas.get("architecture"),
        "numpy_simd": _numpy_simd(),
        "portable": all(os.environ.get(key) == value for key, value in PORTABLE.items()),
    }


def check_portable(wanted: bool) -> dict[str, Any]:
    """:func:`numerics`, after making sure that the pin is in force if ``wanted`` (the setting
    ``portable_numerics``): a :class:`ConfigError` saying what could not be pinned otherwise."""
    found = numerics()
    if not wanted:
        return found
    problems = []
    if not found["portable"]:
        problems.append("the job's environment lacks " + ", ".join(
            f"{key}={value!r}" for key, value in PORTABLE.items() if os.environ.get(key) != value))
    if found["blas_kernel"] != PORTABLE_KERNEL:
        problems.append(f"its BLAS ({found['blas']}) runs the kernel {found['blas_kernel']!r}, not "
                        f"{PORTABLE_KERNEL!r} (only OpenBLAS built for every x86-64 CPU, as in NumPy's "
                        "wheels, can be pinned; not a conda MKL build, nor an ARM machine)")
    if found["numpy_simd"] != ["X86_V2"]:
        problems.append(f"NumPy uses {', '.join(found['numpy_simd'])}, not X86_V2 alone (pinning it "
                        "needs NumPy 2.4 or later on x86-64)")
    if problems:
        raise ConfigError("portable_numerics: true, but this job cannot be pinned: " + "; ".join(problems))
    return found


def describe(found: Mapping[str, Any] | None) -> str:
    """:func:`numerics` in one line: ``openblas 0.3.31 (Haswell kernel), NumPy SIMD X86_V2 X86_V3``
    (``, pinned`` with portable_numerics); ``unknown`` for a result made before they were recorded."""
    if not found:
        return "unknown"
    kernel = f" ({found.get('blas_kernel')} kernel)" if found.get("blas_kernel") else ""
    pinned = ", pinned (portable_numerics)" if found.get("portable") else ""
    simd = " ".join(found.get("numpy_simd", []))
    return f"{found.get('blas') or 'no BLAS found'}{kernel}, NumPy SIMD {simd}{pinned}"

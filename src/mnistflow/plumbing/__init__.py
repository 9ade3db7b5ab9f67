"""What every stage stands on: errors, whole-or-nothing files, the stage runner, provenance.

- :mod:`~mnistflow.plumbing.errors`       the errors a user sees as one line (config, data, training)
- :mod:`~mnistflow.plumbing.files`        atomic writes, JSON, sha256 of a file
- :mod:`~mnistflow.plumbing.npz_files`    deterministic ``.npz`` files (save, load with checks)
- :mod:`~mnistflow.plumbing.stage`        runs a stage: logging, one-line errors, signals
- :mod:`~mnistflow.plumbing.supervisor`   a job ends when the process that started it is gone
- :mod:`~mnistflow.plumbing.code_digest`  digest of a stage's code, and of files from outside
- :mod:`~mnistflow.plumbing.versions`     library versions and the git commit of a result
- :mod:`~mnistflow.plumbing.numerics`     the BLAS kernel and SIMD that computed a result; pinning them

Importing this part loads no NumPy (only ``npz_files`` needs it), so the workflow can use it while
Snakemake parses the rules.
"""

__all__ = ["code_digest", "errors", "files", "npz_files", "numerics", "stage", "supervisor", "versions"]

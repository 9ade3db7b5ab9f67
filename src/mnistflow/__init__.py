"""mnistflow: a reproducible Snakemake pipeline around a two-layer NumPy network on MNIST.

The package is plain Python (no Snakemake needed; the workflow's scripts call it), one job a module:

- :mod:`mnistflow.data.parquet_file`     the parquet format of ``data/raw/mnist.parquet`` (write, read, validate)
- :mod:`mnistflow.data.sources`  where the digits come from (the embedded sample, IDX files, OpenML)
- :mod:`mnistflow.data.prepare`  normalise, one-hot encode and split into ``data/processed/split.npz``
- :mod:`mnistflow.training.network`  the 784-H-10 network: forward, loss, backward, predict (NumPy only)
- :mod:`mnistflow.training.train`    the training loop and early stopping (gradients: ``mnistflow.training.engine._gradients``)
- :mod:`mnistflow.training.distort`  elastic and affine distortions of the training digits, anew each epoch
- :mod:`mnistflow.training.model_file`    the model file ``results/model.npz`` (save, load)
- :mod:`mnistflow.training.training_log`  the training log ``results/training_log.csv`` (write, read)
- :mod:`mnistflow.evaluation.metrics` test metrics into ``results/metrics.json``
- :mod:`mnistflow.evaluation.report`   figures and the self-contained ``results/report.html``

This file imports none of them on purpose: the workflow hashes the modules each stage imports to
decide what to rerun (see ``mnistflow.plumbing.code_digest``), so a stage must not pull in all the others.
"""

__version__ = "0.1.0"

"""mnistflow: a reproducible Snakemake pipeline around a two-layer NumPy network on MNIST.

The package is plain Python (no Snakemake needed; the workflow's scripts call it), one job a module:

- :mod:`mnistflow.data`     the parquet format of ``data/raw/mnist.parquet`` (write, read, validate)
- :mod:`mnistflow.sources`  where the digits come from (the embedded sample, IDX files, OpenML)
- :mod:`mnistflow.prepare`  normalise, one-hot encode and split into ``data/processed/split.npz``
- :mod:`mnistflow.network`  the 784-H-10 network: forward, loss, backward, predict (NumPy only)
- :mod:`mnistflow.train`    the training loop and early stopping (gradients: ``mnistflow._engine``)
- :mod:`mnistflow.distort`  elastic and affine distortions of the training digits, anew each epoch
- :mod:`mnistflow.model`    the model file ``results/model.npz`` (save, load)
- :mod:`mnistflow.history`  the training log ``results/training_log.csv`` (write, read)
- :mod:`mnistflow.evaluate` test metrics into ``results/metrics.json``
- :mod:`mnistflow.report`   figures and the self-contained ``results/report.html``

This file imports none of them on purpose: the workflow hashes the modules each stage imports to
decide what to rerun (see ``mnistflow._provenance``), so a stage must not pull in all the others.
"""

__version__ = "0.1.0"

"""mnistflow: a reproducible Snakemake pipeline around a two-layer NumPy network on MNIST.

The workflow's stages map one-to-one onto modules, each importable on its own:

- :mod:`mnistflow.data`     the parquet format of ``data/raw/mnist.parquet`` (write, read, validate)
- :mod:`mnistflow.sources`  where the digits come from (the embedded sample, IDX files, OpenML)
- :mod:`mnistflow.prepare`  normalise, one-hot encode and split into ``data/processed/split.npz``
- :mod:`mnistflow.network`  the 784-H-10 network: forward, loss, backward, predict (NumPy only)
- :mod:`mnistflow.train`    gradient descent, progress, ``results/model.npz``
- :mod:`mnistflow.evaluate` test metrics into ``results/metrics.json``
- :mod:`mnistflow.report`   figures and the self-contained ``results/report.html``

This file imports none of them on purpose: the workflow hashes the modules each stage imports to
decide what to rerun (see ``mnistflow._provenance``), so a stage must not pull in all the others.
"""

__version__ = "0.1.0"

"""mnistflow: a reproducible Snakemake pipeline around a two-layer NumPy network on MNIST.

The package is plain Python (no Snakemake needed; the workflow's scripts call it), cut into parts,
each a folder whose ``__init__`` maps it:

- :mod:`mnistflow.data`        data in: sources (sample, IDX, OpenML) -> ``data/raw/<source>/mnist.parquet``
  -> normalised, one-hot split ``data/processed/<source>/<split settings>/split.npz``
- :mod:`mnistflow.training`    the 784-H-10 network (NumPy only), its optimizers, augmentation and
  distortions, the training loop, ``model.npz`` and ``training_log.csv``; the fast engine in
  :mod:`mnistflow.training.engine`
- :mod:`mnistflow.evaluation`  ``results/metrics.json`` and the self-contained ``results/report.html``
- :mod:`mnistflow.sweeps`      sweep tables, and the page that compares their runs
- :mod:`mnistflow.own_digits`  your own digit images, preprocessed like MNIST's and classified; the
  model as an ONNX graph
- :mod:`mnistflow.settings`    what a user can set (the schema's checks, the presets), NumPy-free
- :mod:`mnistflow.plumbing`    errors, whole-or-nothing files, the stage runner, provenance, NumPy-free

A part's public modules (no leading ``_``) are what other parts import; a private module is used only
inside its own part (tests/test_layout.py checks it). The ``__init__`` files import nothing, except the
engine's front door: the workflow digests the modules each stage imports to decide what to rerun
(:mod:`mnistflow.plumbing.code_digest`), so importing a whole part would rerun every stage that
touches it on any edit in it.
"""

__version__ = "0.1.0"

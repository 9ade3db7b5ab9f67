"""Data in: from a source to ``data/raw/<source>/mnist.parquet``, then to a ``split.npz`` under
``data/processed/<source>/`` (each in a folder named after the settings that made it).

- :mod:`~mnistflow.data.sources`       where the digits come from: the embedded sample, IDX files, OpenML
- :mod:`~mnistflow.data.idx`           IDX files from a folder or a URL (:mod:`~mnistflow.data.download`)
- :mod:`~mnistflow.data.idx_format`    the IDX file format, gzip included, read with every check
- :mod:`~mnistflow.data.download`      HTTP downloads with a deadline and retries
- :mod:`~mnistflow.data.parquet_file`  the parquet file of the digits (``Digits``; write, read, check)
- :mod:`~mnistflow.data.prepare`       normalise, one-hot encode and split (scikit-learn)
- :mod:`~mnistflow.data.split_file`    the reader of ``split.npz``, with its checks
"""

__all__ = ["download", "idx", "idx_format", "parquet_file", "prepare", "sources", "split_file"]

"""What a trained model is worth: ``results/metrics.json`` and ``results/report.html``; for a sweep
run whose training failed, the same files saying so.

- :mod:`~mnistflow.evaluation.metrics`       test metrics of a model (scikit-learn), with provenance
- :mod:`~mnistflow.evaluation.metrics_file`  reading ``metrics.json`` and ``predictions.npz`` back, checked
- :mod:`~mnistflow.evaluation.report`        figures and the self-contained report page
- :mod:`~mnistflow.evaluation.run_summary`   the lines a run ends with: what it made, where, how it did
"""

__all__ = ["metrics", "metrics_file", "report", "run_summary"]

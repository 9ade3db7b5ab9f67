"""Sweeps: a table of settings, one run per row, and the page that compares the runs.

- :mod:`~mnistflow.sweeps.sweep_table`      reading and checking ``config/sweeps/<name>.tsv``
  (NumPy-free: the workflow reads it at parse time)
- :mod:`~mnistflow.sweeps.folder_names`     a run's folder name from its settings, and back
- :mod:`~mnistflow.sweeps.failed_training`  a run whose training fails (diverges): recorded as its
  outcome, not a crash of the sweep
- :mod:`~mnistflow.sweeps.compare`          the runs' results side by side, and the chosen run
- :mod:`~mnistflow.sweeps.compare_page`     the comparison page with its curves
- :mod:`~mnistflow.sweeps.choice_section`   the page's account of the chosen run (or that none was)
"""

__all__ = ["choice_section", "compare", "compare_page", "failed_training", "folder_names",
           "sweep_table"]

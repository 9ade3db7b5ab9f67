"""What a user can set, and the checks on it. NumPy-free: the workflow imports it at parse time.

- :mod:`~mnistflow.settings.schema`         the config against ``workflow/schemas/config.schema.yaml``,
  one line per bad setting
- :mod:`~mnistflow.settings.config_files`   keys set twice in a config file, which YAML hides
- :mod:`~mnistflow.settings.presets`        the training recipes (``Hyperparams``, ``PRESETS``) and how
  a config resolves into one
- :mod:`~mnistflow.settings.settings_docs`  the settings reference and config file, generated from the
  schema (``python -m mnistflow.settings``)

The schema is where each setting is declared (type, range, default, description); everything here
reads it, and ``tests/test_settings.py`` checks that the presets agree with it.
"""

__all__ = ["config_files", "presets", "schema", "settings_docs"]

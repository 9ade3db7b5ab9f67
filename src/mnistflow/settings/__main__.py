"""``python -m mnistflow.settings reference|docs|config [ROOT]``: print the settings reference
(config/README.md), the same for the docs site (docs/settings.md) or the default
config/config.yaml, generated from ROOT's schema (default: .)."""

from __future__ import annotations

import sys
from pathlib import Path

from mnistflow.settings.schema import load_schema
from mnistflow.settings.settings_docs import config_yaml, settings_markdown


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("reference", "docs", "config"):
        print("usage: python -m mnistflow.settings reference|docs|config [ROOT]", file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) > 1 else Path(".")
    schema = load_schema(root / "workflow" / "schemas" / "config.schema.yaml")
    pages = {"reference": lambda: settings_markdown(schema), "docs": lambda: settings_markdown(schema, None),
             "config": lambda: config_yaml(schema)}
    sys.stdout.write(pages[argv[0]]())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

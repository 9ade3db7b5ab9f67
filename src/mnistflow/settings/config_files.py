"""What a config file says that its YAML loader hides: a key set twice, whose last value the loader
keeps without a word. The workflow checks every config file for it before the schema's check
(:func:`mnistflow.settings.schema.config_error`)."""

from __future__ import annotations

import os

__all__ = ["duplicate_keys"]


def duplicate_keys(path: str | os.PathLike[str]) -> list[str]:
    """One line per key that ``path`` (a YAML or JSON config file) sets more than once.

    YAML loaders keep the last value of a repeated key without a word, so an edit lower in the file
    would silently undo one above it. The file is only composed (parsed into nodes, no values built),
    so any file Snakemake reads can be checked; one that does not parse is left to Snakemake.
    """
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            root = yaml.compose(fh, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return []
    lines: dict[str, list[int]] = {}  # key -> the line numbers (1-based) that set it
    nodes = [root]
    while nodes:
        node = nodes.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], list[int]] = {}
            for key, value in node.value:
                seen.setdefault((key.tag, str(key.value)), []).append(key.start_mark.line + 1)
                nodes.append(value)
            for (_, name), at in seen.items():
                if len(at) > 1:
                    lines[name] = at
        elif isinstance(node, yaml.SequenceNode):
            nodes.extend(node.value)
    problems = []
    for name, at in sorted(lines.items()):
        times = "twice" if len(at) == 2 else f"{len(at)} times"
        where = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
        problems.append(f"{name}: set {times} in {os.fspath(path)}, on lines {where}; keep one "
                        f"(YAML would silently keep the last)")
    return problems

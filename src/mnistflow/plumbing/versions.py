"""What made a result besides the code: the versions of Python and of the libraries that shape it, and
the git commit of the checkout (with whether it had uncommitted changes)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata

__all__ = ["git_commit", "git_dirty", "versions"]


_LIBRARIES = ("numpy", "scikit-learn", "pyarrow", "snakemake", "matplotlib", "mlxtend")



def versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the results."""
    found = {"python": platform.python_version()}
    for lib in _LIBRARIES:
        try:
            found[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            found[lib] = "not installed"
    return found



def git_commit() -> str | None:
    """The commit of the working tree this runs in, or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None



def git_dirty() -> bool | None:
    """Whether tracked files differ from that commit (a result then comes from uncommitted code or
    settings); None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(result.stdout.strip())

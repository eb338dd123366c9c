"""A run's files: what the trial wrote in its own folder, without the source entries linked into it."""

from __future__ import annotations

import os
from pathlib import Path


def own_files(trial_dir: Path) -> list[str]:
    """The trial's files (relative POSIX paths, sorted), skipping linked source entries and sweepq's own state."""
    if not trial_dir.is_dir():
        return []
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(trial_dir):  # os.walk does not follow links into directories
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink() and d != ".sweepq")
        found += [(here / n).relative_to(trial_dir).as_posix() for n in filenames if not (here / n).is_symlink()]
    return sorted(found)

"""Owner-only places on disk: what participants said lives in these files.

The instance folder holds the SQLite database (and its WAL and shared-memory files, which
SQLite creates with the database file's own permissions), the embedded Redis's files, the
keys and the recordings: the folder is 0700 and each file 0600 from the moment it exists.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner may enter (made so if it is looser)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """`path` as a file only its owner may read: created empty and 0600 if missing,
    tightened if looser (never written then chmodded: that would leave a window)."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    return path

"""Where recordings' audio is kept: owner-only files with random names, written whole."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def is_wav(data: bytes) -> bool:
    return len(data) > 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def write_audio(directory: Path, data: bytes) -> Path:
    """Write audio under a random name, owner-only, atomically (no half files)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = uuid.uuid4().hex + ".wav"
    partial = directory / f".{name}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    final = directory / name
    os.replace(partial, final)
    return final.resolve()


def remove(path: str | Path) -> None:
    """Delete a stored recording (one already gone is fine)."""
    Path(path).unlink(missing_ok=True)

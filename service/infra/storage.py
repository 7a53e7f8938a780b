"""Where recordings' audio is kept: owner-only files with random names, written whole."""

from __future__ import annotations

import io
import math
import os
import uuid
import wave
from pathlib import Path


def is_wav(data: bytes) -> bool:
    return len(data) > 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def made_up_wav(seconds: int, rate: int = 8000) -> bytes:
    """A quiet WAV of `seconds` (8 kHz, 8-bit mono: 8 KB a second), a soft tone that
    swells and fades every two seconds: the stand-in for a test persona's recording."""
    frames = bytearray()
    for i in range(max(1, int(seconds)) * rate):
        swell = 0.5 - 0.5 * math.cos(2 * math.pi * i / (2 * rate))
        frames.append(128 + int(24 * swell * math.sin(2 * math.pi * 220 * i / rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(1)
        audio.setframerate(rate)
        audio.writeframes(bytes(frames))
    return out.getvalue()


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

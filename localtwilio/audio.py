"""A small real WAV, made on the fly so no binary lives in the repository."""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from functools import lru_cache

RATE = 8000  # Twilio records phone audio as 8 kHz, 16-bit, mono


@lru_cache(maxsize=8)
def tone_wav(seconds: float = 1.0, frequency: float = 440.0) -> bytes:
    """A sine tone as a complete RIFF/WAVE file (PCM, 8 kHz, 16-bit, mono)."""
    frames = int(RATE * seconds)
    step = 2 * math.pi * frequency / RATE
    samples = array("h", (int(8000 * math.sin(step * i)) for i in range(frames)))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV samples are little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()

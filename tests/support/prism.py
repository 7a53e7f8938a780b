"""Stoplight Prism serving Twilio's own OpenAPI description, as a validating peer.

`prism mock SPEC` answers 422 to a request that breaks Twilio's schema. Needs node and
`npm i @stoplight/prism-cli@5` (or PRISM_BIN, or .tools/prism on the PATH); every test
that asks for it is skipped without them. Registered as a plugin by tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.twilio import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0  # the spec is 1.8 MB; Prism usually listens within a few seconds


def spec_path() -> Path:
    default = REPO.parent / "shared" / "twilio-openapi" / "twilio_api_v2010.json"
    return Path(os.environ.get("TWILIO_OPENAPI_SPEC") or default)


def prism_binary() -> str | None:
    local = REPO / "node_modules" / ".bin" / "prism"
    for candidate in (os.environ.get("PRISM_BIN"), shutil.which("prism"), local):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def start_prism(args: list[str], log_path: Path) -> tuple[subprocess.Popen, str, float]:
    """Start Prism with `args`; return the process, its base URL and seconds to listen."""
    spec, prism = spec_path(), prism_binary()
    if not spec.is_file():
        pytest.skip(f"Twilio OpenAPI spec not found at {spec} (set TWILIO_OPENAPI_SPEC)")
    if prism is None or shutil.which("node") is None:
        pytest.skip(
            "Stoplight Prism not installed (needs node + npm i @stoplight/prism-cli): "
            "npm i -g @stoplight/prism-cli@5, or set PRISM_BIN"
        )
    port = free_port()
    command = [prism, *args[:1], str(spec), *args[1:], "-h", "127.0.0.1", "-p", str(port)]
    log = log_path.open("w")
    started = time.monotonic()
    # Own session: the teardown signals Prism's process group, and nothing else.
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    while True:
        if process.poll() is not None:
            pytest.fail(f"Prism exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() - started > STARTUP_TIMEOUT:
                stop_prism(process)
                pytest.fail(f"Prism not listening after {STARTUP_TIMEOUT:.0f} s")
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}", time.monotonic() - started


def stop_prism(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.fixture(scope="module")
def prism_mock(tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("prism") / "mock.log"
    process, url, seconds = start_prism(["mock", "-v", "warn"], log)
    print(f"prism mock listening after {seconds:.1f} s")
    yield url
    stop_prism(process)

"""Every benchmark in bench/ runs at smoke size and ends with a parseable BENCH line.

Only that it runs and reports: speed is never asserted here (`make bench` measures it).
Each runs as `make bench` runs it, in a subprocess, on a temporary SQLite database and an
embedded Redis (the BENCH_* variables that point at real servers are removed).
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_common():
    # By path, not via sys.path: bench/ is a folder of scripts, not a package.
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "bench" / "_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


parse_bench_line = _load_common().parse_bench_line

EXPECTED = {
    "webhook": {"ratio", "rps", "p50_ms", "p99_ms", "baseline_rps"},
    "dispatch": {"ratio", "rate", "raw_rate", "n", "concurrency"},
    "tick": {"ratio", "t10k_ms", "t1m_ms"},
    "admin": {
        "ratio",
        "max_ms",
        "today_admin_ms",
        "today_coach_ms",
        "today_cold_admin_ms",
        "list_admin_ms",
        "list_coach_ms",
        "list_last_admin_ms",
        "list_search_coach_ms",
        "sort_reply_admin_ms",
        "participant_coach_ms",
        "program_admin_ms",
        "programs_coach_ms",
        "export_coach_ms",
        "results_admin_ms",
        "results_coach_ms",
        "list_admin_1k_ms",
    },
    "api": {"ratio", "p50_ms", "p99_ms", "p50_1k_ms", "n"},
    "reply": {
        "p50_5_ms",
        "p99_5_ms",
        "p50_20_ms",
        "p99_20_ms",
        "p50_50_ms",
        "p99_50_ms",
        "p50_wave_ms",
        "p99_wave_ms",
        "wave_sent",
        "wave_due",
        "wave_last_s",
        "turns_per_s",
        "webhook_p99_ms",
        "worker_rss_mb",
        "web_rss_mb",
    },
}


def test_every_benchmark_is_covered():
    found = {p.stem for p in (ROOT / "bench").glob("*.py") if not p.stem.startswith("_")}
    assert found == set(EXPECTED)


def test_parse_bench_line():
    assert parse_bench_line("BENCH tick ratio=1.2 t10k_ms=3") == (
        "tick",
        {"ratio": "1.2", "t10k_ms": "3"},
    )
    for bad in ("tick ratio=1", "BENCH", "BENCH tick ratio", "BENCH tick =1"):
        with pytest.raises(ValueError):
            parse_bench_line(bad)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_smoke(name):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["BENCH_SMOKE"] = "1"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / f"{name}.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM: the benchmark stops its servers and removes its files
        stdout, stderr = proc.communicate(timeout=30)
        pytest.fail(f"bench/{name}.py took over 180 s:\n{stdout[-3000:]}{stderr[-3000:]}")
    assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
    lines = [line for line in stdout.splitlines() if line.startswith("BENCH ")]
    assert len(lines) == 1, stdout[-3000:]
    assert stdout.rstrip().splitlines()[-1] == lines[0], "the BENCH line must come last"
    bench, values = parse_bench_line(lines[0])
    assert bench == name
    assert EXPECTED[name] <= set(values), values
    for key in EXPECTED[name]:
        number = float(values[key])
        assert math.isfinite(number) and number > 0, (key, values[key])

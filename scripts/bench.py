"""`make bench [NAME=x]`: run bench/<name>.py scripts and collect their `BENCH <name> ...` lines.

Each benchmark is a plain script that ends by printing one line `BENCH <name> key=value ...`.
Output streams through as it runs; the BENCH lines are repeated together at the end.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem[0] != "_")
    if not names:
        print("no benchmarks in bench/")
        return 0
    results, failed = [], []
    for name in names:
        script = ROOT / "bench" / f"{name}.py"
        if not script.is_file():
            print(f"no benchmark {script.relative_to(ROOT)}")
            failed.append(name)
            continue
        print(f"== {name}", flush=True)
        proc = subprocess.Popen(
            [sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        found = None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith(f"BENCH {name} ") or line.strip() == f"BENCH {name}":
                found = line.rstrip("\n")
        if proc.wait() or found is None:
            reason = f"exit code {proc.returncode}" if proc.returncode else "no BENCH line"
            failed.append(f"{name} ({reason})")
        else:
            results.append(found)
    print("\n".join(["", "== results", *results]))
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

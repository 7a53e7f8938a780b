"""A tiny wall-clock sampling profiler for any thread of a Python program (no py-spy here).

    python bench/_sampler.py -m jobs.worker [args...]

Every few milliseconds it records the stack of every thread; at exit it prints, per thread
group (main, pool threads), the functions where samples landed (self) and the project
functions they were under (inclusive), as shares of that group's samples. Waiting counts
too (a thread blocked in a socket read is sampled there), which is what wall time is.
"""

from __future__ import annotations

import atexit
import os
import runpy
import signal
import sys
import threading
import time
from collections import Counter

INTERVAL = float(os.environ.get("SAMPLER_INTERVAL", "0.002"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = tuple(os.path.join(ROOT, d) + os.sep for d in ("service", "jobs", "webhooks"))

selfs: dict[str, Counter] = {}
inclusive: dict[str, Counter] = {}
totals: Counter = Counter()
_stop = threading.Event()


def _where(frame) -> str:
    code = frame.f_code
    path = code.co_filename
    short = path[len(ROOT) + 1 :] if path.startswith(ROOT) else path.rsplit("site-packages/", 1)[-1]
    return f"{short}:{code.co_name}"


def _group(name: str) -> str:
    return "pool" if name.startswith("ThreadPoolExecutor") else name


def _sample() -> None:
    me = threading.get_ident()
    while not _stop.wait(INTERVAL):
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            group = _group(names.get(ident, "?"))
            totals[group] += 1
            selfs.setdefault(group, Counter())[_where(frame)] += 1
            seen = set()
            f = frame
            while f is not None:
                if f.f_code.co_filename.startswith(PROJECT):
                    key = _where(f)
                    if key not in seen:
                        seen.add(key)
                        inclusive.setdefault(group, Counter())[key] += 1
                f = f.f_back


def report() -> None:
    _stop.set()
    out = sys.stderr
    print(f"\n=== sampler pid {os.getpid()}, every {INTERVAL * 1000:.0f} ms", file=out)
    for group, total in totals.most_common():
        if group != "pool" and group != "MainThread":
            continue
        print(f"--- {group}: {total} samples; where they landed (self):", file=out)
        for key, k in selfs[group].most_common(25):
            print(f"  {100 * k / total:5.1f}%  {key}", file=out)
        print(f"--- {group}: under these project functions (inclusive):", file=out)
        for key, k in inclusive.get(group, Counter()).most_common(25):
            print(f"  {100 * k / total:5.1f}%  {key}", file=out)
    out.flush()


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] != "-m":
        raise SystemExit(__doc__)
    module = sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    sys.path.insert(0, ROOT)
    atexit.register(report)
    # RQ turns SIGTERM into a warm shutdown; a second one would cut the report short.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=_sample, daemon=True, name="sampler").start()
    started = time.time()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        print(f"ran {time.time() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

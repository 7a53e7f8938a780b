"""One pool of threads per process for the Twilio requests a batch sends at once.

A batch of replies goes out every few tens of milliseconds while texts are being turned;
starting and stopping a dozen threads for each cost more than the requests' own work in
this process. Made on first use (nothing at import), and again in a process forked after
that (a fork keeps the pool object but none of its threads).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor


class ThreadPool:
    def __init__(self, name: str = "sends"):
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def map(self, fn: Callable, items: Iterable, *, width: int) -> list:
        """`fn` over `items`, up to `width` at a time (the first caller's width sizes the
        pool), the answers in the items' order."""
        return list(self._executor(width).map(fn, items))

    def _executor(self, width: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix=self.name)
                self._pid = os.getpid()
            return self._pool

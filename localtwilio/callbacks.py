"""Signed status callbacks, posted from background threads after a delay."""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from service.core.redact import mask_url

log = logging.getLogger("localtwilio.callbacks")

Job = Callable[[], None]


def is_local(url: str) -> bool:
    """True for loopback hosts: the only places this stand-in posts callbacks to."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CallbackSender:
    """Runs jobs `delay` seconds after they are scheduled, on a small worker pool.

    A job is one resource's whole callback sequence (sent, then delivered), so the steps of
    one message are posted in order while different messages go out in parallel.
    """

    def __init__(self, auth_token: str, delay: float = 0.0, workers: int = 4) -> None:
        self.validator = RequestValidator(auth_token)
        self.delay = delay
        self.log: deque[dict] = deque(maxlen=10_000)  # what was posted, and how it went
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="localtwilio-callback")
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._closed = False
        self._timer = threading.Thread(
            target=self._run_timer, name="localtwilio-timer", daemon=True
        )
        self._timer.start()

    def schedule(self, job: Job) -> None:
        if self.delay <= 0:
            self._submit(job)
            return
        with self._wakeup:
            heapq.heappush(self._heap, (time.monotonic() + self.delay, next(self._order), job))
            self._wakeup.notify()

    def post(self, url: str, params: dict[str, str]) -> None:
        """POST one form callback signed like Twilio; failures are logged, never raised."""
        entry: dict = {"url": url, "params": params, "status": None, "error": None}
        if not is_local(url):
            # A local stand-in never reaches off this machine (tests use example hosts).
            entry["error"] = "skipped: not a local address"
            self.log.append(entry)
            return
        try:
            signature = self.validator.compute_signature(url, params)
            response = self._session().post(
                url, data=params, headers={"X-Twilio-Signature": signature}, timeout=5
            )
            entry["status"] = response.status_code
        except Exception as exc:  # a broken receiver must not take the fake down
            entry["error"] = f"{type(exc).__name__}: {exc}"
            log.warning("callback to %s failed: %s", mask_url(url), type(exc).__name__)
        self.log.append(entry)

    def close(self) -> None:
        with self._wakeup:
            self._closed = True
            self._heap.clear()
            self._wakeup.notify()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for session in list(self._sessions):
            session.close()

    def _submit(self, job: Job) -> None:
        with contextlib.suppress(RuntimeError):  # closed while a request was in flight
            self._pool.submit(self._guard, job)

    @staticmethod
    def _guard(job: Job) -> None:
        try:
            job()
        except Exception:
            log.exception("callback job failed")

    def _run_timer(self) -> None:
        while True:
            with self._wakeup:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wakeup.wait(timeout)
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._heap)
            self._submit(job)

    def _session(self) -> requests.Session:
        # One keep-alive session per worker thread: Session is not documented thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # callbacks go to local receivers, never via a proxy
            self._sessions.append(session)
        return session

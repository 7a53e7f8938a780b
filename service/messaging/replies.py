"""Replies sent from a thread of their own while a job goes on turning texts.

Sending is mostly waiting on Twilio; turning is mostly work in this process. A job that
did both in turn would leave one idle while the other ran. Whatever replies are waiting
when the thread is free go out together, in one `deliver_many` (each at most once, as
ever); `close` sends the last and waits for them.
"""

from __future__ import annotations

import logging
import threading
import time

from service.infra.queue import Lane
from service.messaging import delivery

log = logging.getLogger(__name__)


GATHER_S = 0.05  # a reply waits at most this long for others to go with it
GATHER_N = 25  # or until this many are waiting


class Replies:
    def __init__(self, services, *, lane: Lane = Lane.TURNS):
        self.services = services
        self.lane = lane  # where texts past their number's cap wait for their slots
        self._waiting: list[int] = []
        self._closed = False
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="replies", daemon=True)
        self._thread.start()

    def add(self, message_ids: list[int]) -> None:
        if not message_ids:
            return
        with self._ready:
            self._waiting.extend(message_ids)
            self._ready.notify()

    def close(self) -> None:
        """Send what is still waiting, and wait until it has gone."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                # A batch costs a few statements however many it holds: gather some.
                deadline = time.monotonic() + GATHER_S
                while len(self._waiting) < GATHER_N and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._ready.wait(left)
                ids, self._waiting = self._waiting, []
            try:
                delivery.deliver_many(self.services, ids, lane=self.lane)
            except Exception:  # noqa: BLE001 - the rows wait in the outbox for the sweeper
                log.exception("%d replies left for the sweeper", len(ids))

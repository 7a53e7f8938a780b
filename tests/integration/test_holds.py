"""Holds: ids a queued job holds, so a sweep does not queue them again meanwhile."""

from __future__ import annotations

import redis

from service.infra.holds import Holds


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_held_until_freed_or_lapsed(redis_conn):
    clock = Clock(1_000.0)
    holds = Holds(redis_conn, "sends", 60, clock=clock)
    holds.hold([1, 2, 3])
    assert holds.held([1, 2, 3, 4]) == {1, 2, 3}

    holds.free([2])
    assert holds.held([1, 2, 3, 4]) == {1, 3}

    # Another process (another worker, the cron) sees the same holds.
    assert Holds(redis_conn, "sends", 60, clock=clock).held([1, 3]) == {1, 3}
    # Another name is another set.
    assert Holds(redis_conn, "tick", 60, clock=clock).held([1, 3]) == set()

    clock.now += 61  # the job was lost with its queue: its rows may be found again
    assert holds.held([1, 3]) == set()
    holds.hold([9])  # and lapsed holds are dropped as new ones come
    assert redis_conn.zcard(holds.key) == 1


def test_without_redis_nothing_is_held_and_nothing_raises():
    gone = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    holds = Holds(gone, "sends", 60)
    holds.hold([1])
    holds.free([1])
    assert holds.held([1]) == set()

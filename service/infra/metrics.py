"""What operators watch: metrics any process records into Redis, exposed for Prometheus.

The web app runs several gunicorn processes and the RQ workers run in others, so nothing
is kept in a process's memory. Every process records into Redis hashes (`Metrics`):
counters with HINCRBY, fixed-bucket histograms with one HINCRBY per bucket plus a count and
a HINCRBYFLOAT sum, each observation in one MULTI. At scrape time a prometheus_client
collector (`RealignCollector`) reads those hashes and adds gauges computed then: outbound
texts by status and the retry backlog (one GROUP BY), and the spool's depth (LLEN).

Metrics never break the product: every recording call swallows Redis errors (and skips
Redis for half a minute after one, so a Redis outage does not add a timeout to every send),
and a scrape reports what it could read, with `realign_metrics_source_up` saying which
source failed.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime

import redis as redis_lib
import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from service.core.enums import Direction, MessageStatus
from service.infra.spool import KEY as SPOOL_KEY

log = logging.getLogger(__name__)

PREFIX = "realign_"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the Prometheus text format, version 0.0.4

# What the recording API takes (exposed as realign_<name>, counters with _total).
SEND_SECONDS = "send_seconds"  # histogram: one Twilio message create, in seconds
TURN_SECONDS = "turn_seconds"  # histogram: a stored inbound text to its turn done
TICK_SECONDS = "tick_seconds"  # histogram: one scheduled tick (finding and queueing)
INBOUND_TURNS = "inbound_turns"  # counter: inbound texts taken through their turn
CHECKINS_CREATED = "checkins_created"  # counter: check-ins the ticks' pages created

# Fixed buckets (upper bounds, in seconds; +Inf is implied).
HISTOGRAMS: dict[str, tuple[tuple[float, ...], str]] = {
    SEND_SECONDS: (
        (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        "Seconds per Twilio message create (observed by the sender).",
    ),
    TURN_SECONDS: (
        (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
        "Seconds from an inbound text being stored to its turn being done.",
    ),
    TICK_SECONDS: (
        (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
        "Seconds one scheduled tick took (finding what is due and queueing it).",
    ),
}
COUNTERS: dict[str, str] = {
    INBOUND_TURNS: "Inbound texts taken through their turn.",
    CHECKINS_CREATED: "Check-ins created by the ticks.",
}

# Where they are kept.
COUNTERS_KEY = "realign:metrics:counters"
HISTOGRAM_KEY = "realign:metrics:histogram:{}"

# After a Redis error, recording is skipped for this long (per Redis client): a failing
# call can take seconds (the client retries), and a send must not pay that every time.
BACKOFF_S = 30.0
_down_until: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_down_lock = threading.Lock()

OUTBOUND_STATUSES = tuple(m.value for m in MessageStatus if m.rank is not None)
# The outbox's columns, named here: infra sits below the models and may not import them.
_MESSAGE = sa.table("message", sa.column("direction"), sa.column("status"), sa.column("attempts"))


# Recording -----------------------------------------------------------------------------


class Metrics:
    """Records observations from any process into Redis. Never raises for Redis."""

    def __init__(self, redis: redis_lib.Redis):
        self.redis = redis

    def count(self, name: str, n: int = 1) -> None:
        """Add `n` to a counter."""
        if name not in COUNTERS:
            log.warning("unknown counter %r not recorded", name)
            return
        if n:
            self._run([("hincrby", COUNTERS_KEY, name, int(n))])

    def observe(self, name: str, seconds: float) -> None:
        """One observation of a histogram (negative values count as 0)."""
        self.observe_many(name, [seconds])

    def observe_many(self, name: str, values: list[float]) -> None:
        """Many observations of one histogram in one round trip (a batch's sends)."""
        self._run(self._observations(name, values))

    def turn_done(self, stored_at: datetime | None, done_at: datetime | None) -> None:
        """An inbound text's turn is done (see `turns_done`)."""
        self.turns_done([(stored_at, done_at)])

    def turns_done(self, turns: list[tuple[datetime | None, datetime | None]]) -> None:
        """Inbound texts' turns are done, in one round trip: each counted, its latency
        observed when both instants (stored, done) are known."""
        if not turns:
            return
        ops = [("hincrby", COUNTERS_KEY, INBOUND_TURNS, len(turns))]
        seconds = [
            (_aware(done) - _aware(stored)).total_seconds()
            for stored, done in turns
            if stored is not None and done is not None
        ]
        ops += self._observations(TURN_SECONDS, seconds)
        self._run(ops)

    def tick_done(self, seconds: float, created: int) -> None:
        """A tick finished: its duration and how many check-ins it created."""
        ops = self._observations(TICK_SECONDS, [seconds])
        if created:
            ops.append(("hincrby", COUNTERS_KEY, CHECKINS_CREATED, int(created)))
        self._run(ops)

    # internals

    @staticmethod
    def _observations(name: str, values: list[float]) -> list[tuple]:
        if name not in HISTOGRAMS:
            log.warning("unknown histogram %r not recorded", name)
            return []
        if not values:
            return []
        values = [max(0.0, float(v)) for v in values]
        bounds, _ = HISTOGRAMS[name]
        buckets: dict[str, int] = {}
        for value in values:
            bucket = next((_le(b) for b in bounds if value <= b), "+Inf")
            buckets[bucket] = buckets.get(bucket, 0) + 1
        key = HISTOGRAM_KEY.format(name)
        return [
            *(("hincrby", key, bucket, n) for bucket, n in buckets.items()),
            ("hincrby", key, "count", len(values)),
            ("hincrbyfloat", key, "sum", sum(values)),
        ]

    def _run(self, ops: list[tuple]) -> None:
        if not ops or _is_down(self.redis):
            return
        try:
            pipe = self.redis.pipeline(transaction=True)
            for op, *args in ops:
                getattr(pipe, op)(*args)
            pipe.execute()
        except Exception as exc:  # metrics never break the product
            _mark_down(self.redis)
            log.warning(
                "metrics not recorded (%s); skipping for %.0fs", type(exc).__name__, BACKOFF_S
            )


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _le(bound: float) -> str:
    return floatToGoString(bound)


def _is_down(redis: redis_lib.Redis) -> bool:
    with _down_lock:
        until = _down_until.get(redis)
    return until is not None and time.monotonic() < until


def _mark_down(redis: redis_lib.Redis) -> None:
    try:
        with _down_lock:
            _down_until[redis] = time.monotonic() + BACKOFF_S
    except TypeError:  # a client that cannot be weakly referenced: no backoff, still safe
        pass


# Exposing ------------------------------------------------------------------------------


class RealignCollector(Collector):
    """Reads every process's recorded metrics from Redis and computes the gauges from the
    database, at scrape time."""

    def __init__(self, engine: sa.Engine, redis: redis_lib.Redis):
        self.engine = engine
        self.redis = redis

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            PREFIX + "metrics_source_up",
            "Whether this scrape could read the source (1) or not (0).",
            labels=["source"],
        )
        try:
            yield from self._from_redis()
            up.add_metric(["redis"], 1)
        except Exception as exc:
            log.warning("metrics: Redis not readable (%s)", type(exc).__name__)
            up.add_metric(["redis"], 0)
        try:
            yield from self._from_database()
            up.add_metric(["database"], 1)
        except Exception as exc:
            log.warning("metrics: database not readable (%s)", type(exc).__name__)
            up.add_metric(["database"], 0)
        yield up

    def _from_redis(self) -> list[Metric]:
        """One round trip: the counters, every histogram and the spool's length."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(COUNTERS_KEY)
        for name in HISTOGRAMS:
            pipe.hgetall(HISTOGRAM_KEY.format(name))
        pipe.llen(SPOOL_KEY)
        counters, *histograms, spool = pipe.execute()
        counters = _decoded(counters)

        families: list[Metric] = []
        for name, doc in COUNTERS.items():
            family = CounterMetricFamily(PREFIX + name, doc)
            family.add_metric([], float(counters.get(name, 0)))
            families.append(family)
        for (name, (bounds, doc)), stored in zip(HISTOGRAMS.items(), histograms, strict=True):
            stored = _decoded(stored)
            family = HistogramMetricFamily(PREFIX + name, doc)
            running, buckets = 0, []
            for le in [_le(b) for b in bounds] + ["+Inf"]:
                running += int(stored.get(le, 0))
                buckets.append((le, running))
            family.add_metric([], buckets, sum_value=float(stored.get("sum", 0)))
            families.append(family)
        families.append(
            GaugeMetricFamily(
                PREFIX + "spool_depth",
                "Inbound texts spooled in Redis, waiting for the database.",
                value=int(spool),
            )
        )
        return families

    def _from_database(self) -> list[Metric]:
        """One GROUP BY over the outbox: texts by status, and the retry backlog (pending
        rows already tried, waiting for their next attempt)."""
        query = (
            sa.select(_MESSAGE.c.status, _MESSAGE.c.attempts, sa.func.count())
            .where(_MESSAGE.c.direction == Direction.OUT.value)
            .group_by(_MESSAGE.c.status, _MESSAGE.c.attempts)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        by_status = dict.fromkeys(OUTBOUND_STATUSES, 0)
        backlog = 0
        for status, attempts, n in rows:
            by_status[status] = by_status.get(status, 0) + n
            if status == MessageStatus.PENDING and (attempts or 0) > 0:
                backlog += n
        texts = GaugeMetricFamily(
            PREFIX + "outbound_texts", "Outbound texts by status.", labels=["status"]
        )
        for status, n in sorted(by_status.items()):
            texts.add_metric([status], n)
        retry = GaugeMetricFamily(
            PREFIX + "send_retry_backlog",
            "Outbound texts waiting to be retried (pending, tried at least once).",
            value=backlog,
        )
        return [texts, retry]


def _decoded(stored: dict) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in (stored or {}).items()
    }


def make_registry(engine: sa.Engine, redis: redis_lib.Redis) -> CollectorRegistry:
    """A registry of its own (never prometheus_client's global one) with our collector.
    Nothing is read until a scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RealignCollector(engine, redis))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The exposition, in the Prometheus text format (CONTENT_TYPE)."""
    return generate_latest(registry)


def bearer_ok(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `Bearer <token>` (constant-time compare)."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())

"""What Twilio sends in (texts, delivery statuses, recording and call callbacks): stored
at once, or, while the database is away, spooled to Redis and stored in arrival order
when it is back. Nothing signed that Twilio delivered is lost.

A webhook calls `take_in` after checking the signature. The database is asked with a
short timeout (WEBHOOK_DB_TIMEOUT); when it fails, a breaker spares the next requests
the wait for a few seconds. While anything is spooled, new items join the spool behind
it, so order holds. When Redis is away too, `Unavailable` tells the webhook to answer 503
at once, so that Twilio's retries and fallback URL take over.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime

from redis.exceptions import RedisError

from service.infra.db import UNAVAILABLE
from service.infra.spool import Spool
from service.messaging import inbound
from service.messaging.inbound import InboundSms
from service.voice import calls, recordings

log = logging.getLogger(__name__)

DEAD = "realign:spool:dead"  # items that could never be stored, kept for an operator


class Unavailable(RuntimeError):
    """Neither the database nor Redis answered: nothing could be kept."""


def _sms(services, args: dict, at: datetime) -> None:
    sms = InboundSms(**{**args, "media_urls": tuple(args["media_urls"])})
    inbound.receive_sms(services, sms, at=at)


HANDLERS = {
    "sms": _sms,
    "sms_status": lambda services, args, at: inbound.receive_status(services, **args),
    "recording": lambda services, args, at: recordings.recording_status(services, **args),
    "transcription": lambda services, args, at: recordings.transcription(services, **args),
    "call_status": lambda services, args, at: calls.apply_status(services, **args),
}


def sms_args(sms: InboundSms) -> dict:
    return asdict(sms)


def take_in(services, kind: str, args: dict) -> str:
    """Store what came in, or spool it. Returns "stored" or "spooled"; raises
    Unavailable when it could be neither."""
    at = services.now()
    spool = Spool(services.redis)
    behind = services.spool_watch.busy_now(spool)
    if not behind and not services.db_breaker.open:
        try:
            HANDLERS[kind](services.for_webhooks(), args, at)
            return "stored"
        except UNAVAILABLE as exc:
            services.db_breaker.trip()
            log.warning("database unavailable (%s): spooling what comes in", type(exc).__name__)
    try:
        spool.push(kind, args, at)
    except RedisError as exc:
        raise Unavailable("neither the database nor Redis answered") from exc
    services.spool_watch.busy = True
    if behind and spool.nudge():
        # The database answered someone lately (or it is only the breaker): try a drain
        # now rather than at the next scheduled one.
        services.dispatcher.enqueue("drain_spool")
    return "spooled"


def drain(services, limit: int = 5000) -> int:
    """Store what was spooled, oldest first, until the spool is empty or the database
    fails again (then it waits for the next drain). One drainer at a time."""
    spool = Spool(services.redis)
    if not spool.lock():
        return 0
    stored = 0
    try:
        spool.recover()
        while stored < limit:
            item = spool.take()
            if item is None:
                break
            raw, data = item
            try:
                HANDLERS[data["kind"]](
                    services.for_webhooks(), data["args"], datetime.fromisoformat(data["at"])
                )
            except UNAVAILABLE:
                spool.give_back(raw)
                break
            except Exception:  # noqa: BLE001 - one bad item must not block the rest
                log.exception("a spooled %s could not be stored; kept aside", data.get("kind"))
                services.redis.rpush(DEAD, raw)
            spool.done(raw)
            stored += 1
    finally:
        spool.unlock()
    if stored:
        log.info("stored %d spooled item(s)", stored)
    return stored

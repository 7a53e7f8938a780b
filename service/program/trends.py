"""Each program's weekly check-in figures for the dashboard, kept in Redis for minutes.

Adding up twelve weeks of check-ins is the database's work (`scores.weekly_figures`), but at
a practice's size (3 million check-ins) it still takes seconds, too long for a page a coach
opens between sessions. So the cron job refreshes every program's figures every
`REFRESH_SECONDS` and the dashboard reads them (one round trip for all the programs it
shows); a program whose figures are missing (new, or Redis flushed) is added up at once
and kept. How many people each program has stays live (a cheap count). If Redis is away
the figures are added up on every view, as before: slower, never wrong.
"""

from __future__ import annotations

import json
from datetime import datetime

import redis as redis_lib
import sqlalchemy as sa

from service.core.enums import ProgramStatus
from service.models import Program
from service.program import scores

WEEKS = 12
REFRESH_SECONDS = 300  # the cron job's interval (jobs/schedule.py)
TTL_SECONDS = 2 * REFRESH_SECONDS + 60  # a missed refresh or two leaves them in place
PREFIX = "realign:trends:"


def key(program_id: int, now: datetime, weeks: int) -> str:
    """One program's figures for the weeks starting at the oldest Monday shown: a new
    week starts a new key (last week's figures are never shown as this week's)."""
    return f"{PREFIX}{program_id}:{scores.week_starts(now, weeks)[0].isoformat()}:{weeks}"


def _dump(weeks: list[scores.Week]) -> str:
    return json.dumps([[w.sent, w.answered, w.points, w.total] for w in weeks])


def _load(raw: bytes | str, now: datetime, weeks: int) -> list[scores.Week] | None:
    try:
        rows = json.loads(raw)
        starts = scores.week_starts(now, weeks)
        if len(rows) != len(starts):
            return None
        return [
            scores.Week(start, int(sent), int(answered), float(points), int(total))
            for start, (sent, answered, points, total) in zip(starts, rows, strict=True)
        ]
    except (ValueError, TypeError):
        return None


def program_trends(
    services, session, programs: list[Program], now: datetime, weeks: int = WEEKS, counts=None
) -> list[dict]:
    """Each program with its weeks (oldest first) and people: `scores.program_trends`,
    with the weekly figures read from Redis where the cron job (or a view) left them.
    `counts`: the programs' people, where the caller has added them up already."""
    if not programs:
        return []
    keys = [key(p.id, now, weeks) for p in programs]
    figures: dict[int, list[scores.Week]] = {}
    try:
        for program, raw in zip(programs, services.redis.mget(keys), strict=True):
            found = _load(raw, now, weeks) if raw is not None else None
            if found is not None:
                figures[program.id] = found
    except redis_lib.RedisError:
        return scores.program_trends(session, programs, now, weeks, counts)
    missing = [p.id for p in programs if p.id not in figures]
    if missing:
        fresh = scores.weekly_figures(session, missing, now, weeks)
        figures.update(fresh)
        _keep(services, fresh, now, weeks)
    return scores.with_counts(session, programs, figures, counts)


def _keep(services, figures: dict[int, list[scores.Week]], now: datetime, weeks: int) -> None:
    try:
        with services.redis.pipeline(transaction=False) as pipe:
            for program_id, found in figures.items():
                pipe.set(key(program_id, now, weeks), _dump(found), ex=TTL_SECONDS)
            pipe.execute()
    except redis_lib.RedisError:
        pass  # the next view adds them up again


def refresh(services, weeks: int = WEEKS) -> int:
    """The cron job: every open program's figures, added up in one pass and kept."""
    now = services.now()
    with services.sessions() as session:
        ids = list(
            session.scalars(sa.select(Program.id).where(Program.status != ProgramStatus.CLOSED))
        )
        figures = scores.weekly_figures(session, ids, now, weeks)
    _keep(services, figures, now, weeks)
    return len(figures)

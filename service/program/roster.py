"""What the participants list shows beside each person, read once for the page's ids:
whether they need the coach (open attention items), what we wait for from them, and the
14-day strip of their check-ins with its kept ratio (the one score, core/checkin_rules.py).

Two statements for a page whatever its length: the open attention items grouped by person
and kind, and the page's check-ins of the last two weeks with their answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from service.core import checkin_rules
from service.core.checkin_strip import STRIP_DAYS, Asked, Dot, strip, strip_start
from service.core.enums import AttentionKind, CheckInKind, CheckInStatus
from service.core.waiting_rules import WaitingOn, waiting_on
from service.models import AttentionItem, CheckIn, CheckInAnswer, Participant

SCORED = (CheckInStatus.ANSWERED, CheckInStatus.MISSED)


@dataclass
class RosterRow:
    needs: list[str] = field(default_factory=list)  # open attention kinds, most urgent first
    waiting: WaitingOn = WaitingOn.NOTHING
    strip: list[tuple[date, Dot]] = field(default_factory=list)
    kept: float | None = None  # kept over the strip's days: the one score


def roster(session, people: list[Participant], now: datetime) -> dict[int, RosterRow]:
    """{participant id: RosterRow} for one list page."""
    if not people:
        return {}
    ids = [p.id for p in people]
    needs: dict[int, list[str]] = defaultdict(list)
    for pid, kind in session.execute(
        sa.select(AttentionItem.participant_id, AttentionItem.kind)
        .where(
            AttentionItem.participant_id.in_(ids),
            AttentionItem.resolved_at.is_(None),
            sa.or_(AttentionItem.snoozed_until.is_(None), AttentionItem.snoozed_until <= now),
        )
        .group_by(AttentionItem.participant_id, AttentionItem.kind)
    ):
        needs[pid].append(kind)
    checkins: dict[int, dict] = {}
    for cid, pid, kind, due_at, status, sent_at, asked, result in session.execute(
        sa.select(
            CheckIn.id,
            CheckIn.participant_id,
            CheckIn.kind,
            CheckIn.due_at,
            CheckIn.status,
            CheckIn.sent_at,
            CheckIn.commitment_ids,
            CheckInAnswer.result,
        )
        .outerjoin(CheckInAnswer, CheckInAnswer.checkin_id == CheckIn.id)
        .where(CheckIn.participant_id.in_(ids), CheckIn.due_at >= strip_start(now))
        .order_by(CheckIn.id, CheckInAnswer.id)
    ):
        row = checkins.setdefault(
            cid,
            {"pid": pid, "kind": kind, "due_at": due_at, "status": status, "sent": sent_at,
             "asked": len(asked or []), "results": []},
        )  # fmt: skip
        if result is not None:
            row["results"].append(result)
    by_person: dict[int, list[dict]] = defaultdict(list)
    for row in checkins.values():
        by_person[row["pid"]].append(row)
    rank = {k.value: k.rank for k in AttentionKind}
    found = {}
    for p in people:
        mine = by_person.get(p.id, [])
        own = [c for c in mine if c["kind"] == CheckInKind.SELF]
        checkin_open = any(
            c["status"] == CheckInStatus.OPEN and c["sent"] is not None and c["due_at"] <= now
            for c in mine
        )
        window = now - timedelta(days=STRIP_DAYS)
        found[p.id] = RosterRow(
            needs=sorted(needs.get(p.id, []), key=lambda k: (rank.get(k) or 9, k)),
            waiting=waiting_on(p.status, p.step, p.prompt, checkin_open),
            strip=strip(
                (Asked(c["due_at"], c["status"], tuple(c["results"])) for c in own),
                p.timezone,
                now,
            ),
            kept=checkin_rules.kept_ratio(
                checkin_rules.Scored(c["status"], c["asked"], tuple(c["results"]))
                for c in own
                if c["due_at"] > window and c["status"] in SCORED
            ),
        )
    return found

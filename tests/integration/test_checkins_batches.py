"""The cron tick works through everything due at once, in batches, sending as it goes."""

from __future__ import annotations

from sqlmodel import select

from service.models import CheckIn, Message
from service.program import checkins
from tests.support.factories import due_population


def test_everything_due_now_is_handled_by_one_tick_in_batches(services):
    due_population(services, 7)
    handed = []
    totals = checkins.tick_until_done(services, handed.append, limit=3)
    # 3 + 3 + 1: every check-in now, not three a minute; each batch's texts handed on.
    assert totals == {"created": 7, "nudged": 0, "missed": 0, "batches": 3}
    assert [len(batch) for batch in handed] == [3, 3, 1]
    with services.sessions() as session:
        assert len(session.exec(select(CheckIn)).all()) == 7
        texts = session.exec(select(Message).where(Message.template == "checkin")).all()
        assert len(texts) == 7 and {m.id for batch in handed for m in batch} == {
            m.id for m in texts
        }
    # Nothing is left due: the next tick has nothing to do.
    assert checkins.tick_until_done(services, handed.append, limit=3)["created"] == 0


def test_a_tick_stops_at_its_time_budget_and_the_next_goes_on(services):
    due_population(services, 5)
    first = checkins.tick_until_done(services, lambda _: None, limit=2, budget_s=0)
    assert (first["created"], first["batches"]) == (2, 1)
    rest = checkins.tick_until_done(services, lambda _: None, limit=2)
    assert rest["created"] == 3

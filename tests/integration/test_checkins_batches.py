"""The cron tick works through everything due at once, in batches, queueing each batch's
texts as it commits."""

from __future__ import annotations

from rq import Queue
from sqlmodel import select

from service.infra.queue import Lane
from service.models import CheckIn, Message
from service.program import tick
from tests.support.factories import due_population


def queued_sends(services) -> list[list[int]]:
    """The send jobs on the bulk lane, in the order they were queued (a wave of
    check-ins never goes ahead of replies)."""
    jobs = Queue(Lane.BULK.value, connection=services.redis).jobs
    return [job.args[0] for job in jobs if job.func_name == "jobs.tasks.send_messages"]


def test_everything_due_now_is_handled_by_one_tick_in_batches(services):
    due_population(services, 7)
    totals = tick.tick_until_done(services, limit=3)
    handed = queued_sends(services)
    # 3 + 3 + 1: every check-in now, not three a minute; each batch's texts handed on.
    assert totals == {"created": 7, "nudged": 0, "missed": 0, "batches": 3}
    assert [len(batch) for batch in handed] == [3, 3, 1]
    with services.sessions() as session:
        assert len(session.exec(select(CheckIn)).all()) == 7
        texts = session.exec(select(Message).where(Message.template == "checkin")).all()
        assert len(texts) == 7 and {i for batch in handed for i in batch} == {m.id for m in texts}
    # Nothing is left due: the next tick has nothing to do.
    assert tick.tick_until_done(services, limit=3)["created"] == 0


def test_a_tick_stops_at_its_time_budget_and_the_next_goes_on(services):
    due_population(services, 5)
    first = tick.tick_until_done(services, limit=2, budget_s=0)
    assert (first["created"], first["batches"]) == (2, 1)
    rest = tick.tick_until_done(services, limit=2)
    assert rest["created"] == 3

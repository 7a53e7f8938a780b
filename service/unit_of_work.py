"""One unit of work: a database transaction whose texts and jobs are queued after it commits.

Every use case writes through one:

    with UnitOfWork(services) as uow:
        ...                      # load, ask the core, apply (uow.session)
        uow.send(message)        # an outbox row to hand to the queue once it is stored
        uow.later("place_call", call.id, at=when)
        uow.commit()             # commit, then queue what was collected

Nothing is queued for a transaction that rolls back, and a queue that is down loses
nothing: the rows are in the database for the sweeper. (cosmicpython's unit of work.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.infra.queue import Lane
from service.records import ON_ATTENTION
from service.services import Services

BATCH = 100  # outbox rows per send job: one job per text would cap throughput near 50/s
SEND_TASK = "send_messages"
# Deletes an erasure's copies at Twilio and on disk (service/program/leftovers.py).
PURGE_TASK = "purge_leftovers"


@dataclass(frozen=True)
class Job:
    task: str
    args: tuple
    at: datetime | None = None
    job_id: str | None = None
    lane: Lane | None = None  # None: the task's own


def send_jobs(messages, now: datetime, lane: Lane | None = None) -> list[Job]:
    """The jobs that send these outbox rows: due rows in batches, later ones each at its
    own time (under a job id, so closing a program can drop them)."""
    pending = [m for m in messages if m is not None and m.status == "pending"]
    due = [m.id for m in pending if m.send_after is None or m.send_after <= now]
    jobs = [Job(SEND_TASK, (due[i : i + BATCH],), lane=lane) for i in range(0, len(due), BATCH)]
    jobs += [
        Job(SEND_TASK, ([m.id],), at=m.send_after, job_id=f"send-{m.id}", lane=lane)
        for m in pending
        if m.id not in due
    ]
    return jobs


class UnitOfWork:
    """A transaction plus what to queue once it has committed. The transaction is an ORM
    session (`uow.session`), or for a path that is one Core statement and must be fast
    (an inbound text's INSERT) a bare connection (`uow.connection`); either is opened on
    first use. `lane`: where its texts' send jobs go (bulk work passes `Lane.BULK`, so a
    wave of check-ins never delays a reply). `sends_to`: a list that takes the ids of
    texts due now instead of a send job, for a caller that sends them itself (a batch of
    turns sends its replies without a second queue hop). `memo`: what was read once for
    several units of work in a row (a batch of turns reads the live webhook endpoints once,
    not once a text); by default its own."""

    def __init__(
        self,
        services: Services,
        *,
        lane: Lane | None = None,
        sends_to: list | None = None,
        memo: dict | None = None,
    ):
        self.services = services
        self.lane = lane
        self.sends_to = sends_to
        self._session = None
        self._connection = None
        self._texts: list = []
        self.queued: list = []  # every outbox row handed to the queue by this unit of work
        self._jobs: list[Job] = []
        self._dropped: list[str] = []
        # Per participant, the state whose events were last emitted (service/program/webhooks).
        self.told: dict[int, Any] = {}
        # What a use case read once for the whole transaction (the live webhook endpoints),
        # or for the caller's batch of them.
        self.memo: dict[str, Any] = memo if memo is not None else {}

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc_info) -> None:
        self.rollback()
        if self._session is not None:
            self._session.close()
        if self._connection is not None:
            self._connection.close()

    @property
    def session(self):
        if self._session is None:
            if self._connection is not None:
                raise RuntimeError("this unit of work already runs on a bare connection")
            self._session = self.services.sessions()
            self._session.info[ON_ATTENTION] = [
                functools.partial(hook, self) for hook in self.services.attention_hooks
            ]
        return self._session

    @property
    def connection(self):
        if self._connection is None:
            if self._session is not None:
                raise RuntimeError("this unit of work already runs on a session")
            self._connection = self.services.engine.connect()
        return self._connection

    @property
    def now(self) -> datetime:
        return self.services.now()

    def send(self, *messages) -> None:
        """Hand these outbox rows (None is skipped) to the queue after the commit."""
        rows = [m for m in messages if m is not None]
        self._texts.extend(rows)
        self.queued.extend(rows)

    def later(
        self, task: str, *args: Any, at: datetime | None = None, job_id=None, lane=None
    ) -> None:
        """Queue `task(*args)` after the commit (at `at`, when given; on `lane`, when given,
        else the task's own)."""
        self._jobs.append(Job(task, args, at, job_id, lane))

    def drop_jobs(self, job_ids: list[str]) -> None:
        """Cancel these scheduled jobs after the commit."""
        self._dropped.extend(job_ids)

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        if self._connection is not None:
            self._connection.commit()
        texts, jobs, dropped = self._texts, self._jobs, self._dropped
        self._texts, self._jobs, self._dropped = [], [], []
        dispatcher = self.services.dispatcher
        if dropped:
            dispatcher.cancel(dropped)
        sends = send_jobs(texts, self.services.now(), self.lane)
        if self.sends_to is not None:  # the caller sends what is due now itself
            self.sends_to.extend(i for job in sends if job.at is None for i in job.args[0])
            sends = [job for job in sends if job.at is not None]
        for job in sends + jobs:
            dispatcher.enqueue(job.task, *job.args, at=job.at, job_id=job.job_id, lane=job.lane)

    def rollback(self) -> None:
        """Undo what is not committed, and forget what it would have queued."""
        if self._session is not None:
            self._session.rollback()
        if self._connection is not None:
            self._connection.rollback()
        self._texts, self._jobs, self._dropped = [], [], []

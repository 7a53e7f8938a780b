"""The SMS conversation: stored inbound texts through the step machine, each exactly once.

A stored text raises the turns nudge (infra/nudge.py): one `turn_waiting` job then takes
every text waiting, a batch at a time (`received` → `turning`, oldest first, never a
number whose earlier text another job is still turning, so one person's texts keep their
order), and turns each in its own transaction (`handle_inbound`). Replies are sent by that
same job every few texts, not by a job of their own.

`handle_inbound` claims the message (`received`/`turning` → `processed`), so a duplicate
changes nothing; finds who sent it (core/matching.py), asks the step machine
(core/steps.py) and carries out its decision, every reply written into the outbox in the
same transaction as the state change. Replies to a text the participant just sent leave at
once (they are awake and asked); prompts and anything else we start ourselves wait for
their local waking hours.
"""

from __future__ import annotations

import functools
import logging
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import attention_rules, steps, texts
from service.core.enums import Direction, MessageStatus, ParticipantStatus
from service.core.keywords import KeywordKind, parse_keyword
from service.core.phones import is_e164
from service.infra.metrics import Metrics
from service.messaging import outbox
from service.messaging.inbound import nudge_turns, turns_nudge
from service.messaging.replies import Replies
from service.models import Message, Participant
from service.program import apply
from service.program.matching import defaults_of, find_enrolments, program_reached
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_INBOUND_ATTEMPTS = 5
INBOUND_STALE_AFTER = timedelta(minutes=1)

TURN_BATCH = 50  # texts one job claims at a time
TURN_BUDGET_S = 5.0  # then the job hands on to a fresh one (RQ's heartbeat, other lanes)

WAITING = (MessageStatus.RECEIVED, MessageStatus.TURNING)


def turn_waiting(services, *, limit: int = 2000, budget_s: float = TURN_BUDGET_S) -> dict:
    """Turn the stored texts waiting, oldest first, each in its own transaction, their
    replies sent (by a thread of their own) as soon as each commits; past `limit` texts or
    `budget_s` seconds a fresh job takes over. Returns how many texts ended which way.

    Each batch is turned in `turn_lanes` threads at once (one where the database takes
    one writer at a time): a turn waits on the database for part of its time, and a
    second lane turns a text meanwhile. A number's texts share a lane, in the order they
    came."""
    turns_nudge(services).lower()  # from here on, a new text queues the next job
    outcomes: dict[str, int] = {}
    done: list[tuple] = []
    stop_at = time.monotonic() + budget_s
    turned, more = 0, False
    lanes = turn_lanes(services)
    sender = Replies(services)
    pool = ThreadPoolExecutor(lanes - 1, thread_name_prefix="turns") if lanes > 1 else None
    try:
        while turned < limit and not more:
            batch = _claim(services, min(TURN_BATCH * lanes, limit - turned))
            if not batch:
                break
            # Read once for the batch (the live webhook endpoints): one registered meanwhile
            # is seen from the next batch, a few seconds later at most.
            memo: dict = {}
            first, *others = _by_lane(batch, lanes)
            runs = [pool.submit(_turn_lane, services, ids, sender, memo, stop_at) for ids in others]
            results = [_turn_lane(services, first, sender, memo, stop_at)]
            results += [run.result() for run in runs]
            for lane_outcomes, lane_done, lane_more in results:
                for outcome, n in lane_outcomes.items():
                    outcomes[outcome] = outcomes.get(outcome, 0) + n
                    turned += n
                done += lane_done
                more = more or lane_more
    finally:
        if pool is not None:
            pool.shutdown()
        sender.close()
        Metrics(services.redis).turns_done(done)
    if more or turned >= limit:
        nudge_turns(services)
    return outcomes


def turn_lanes(services) -> int:
    """How many texts a job turns at once: SQLite takes one writer at a time."""
    if services.engine.dialect.name == "sqlite":
        return 1
    return services.settings.turn_lanes


def _by_lane(batch: list[tuple[int, str]], lanes: int) -> list[list[int]]:
    """The batch's ids in `lanes` lists, each number's texts in one of them, in order."""
    split: list[list[int]] = [[] for _ in range(lanes)]
    for message_id, number in batch:
        split[zlib.crc32(number.encode()) % lanes].append(message_id)
    return split


def _turn_lane(services, ids: list[int], sender: Replies, memo: dict, stop_at: float):
    """Turn these texts in order; past `stop_at` the rest go back, for the next job.
    Returns (outcomes, done instants, whether some went back)."""
    outcomes: dict[str, int] = {}
    replies: list[int] = []
    done: list[tuple] = []
    for position, message_id in enumerate(ids):
        if time.monotonic() > stop_at:
            _give_back(services, ids[position:])
            return outcomes, done, True
        outcome = _turn_one(services, message_id, replies, done, memo)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        sender.add(replies)
        replies.clear()
    return outcomes, done, False


def claim_waiting(services, n: int) -> list[int]:
    """Take up to `n` waiting texts for this job, oldest first, in one UPDATE, and commit.
    A number with a text another job is turning is left for later, so one person's texts
    are turned in the order they came."""
    return [message_id for message_id, _ in _claim(services, n)]


def _claim(services, n: int) -> list[tuple[int, str]]:
    """`claim_waiting`, with each text's number: (id, from number), oldest first."""
    now = services.now()
    busy = sa.select(Message.from_number).where(
        Message.direction == Direction.IN, Message.status == MessageStatus.TURNING
    )
    waiting = (
        sa.select(Message.id)
        .where(
            Message.direction == Direction.IN,
            Message.status == MessageStatus.RECEIVED,
            Message.attempts < MAX_INBOUND_ATTEMPTS,
            Message.from_number.not_in(busy),
        )
        .order_by(Message.id)
        .limit(n)
        .with_for_update(skip_locked=True)  # PostgreSQL: two jobs take different texts
    )
    with services.engine.begin() as conn:
        rows = conn.execute(
            sa.update(Message)
            .where(Message.id.in_(waiting.scalar_subquery()))
            # Each text's attempt is counted in this commit, so one that keeps failing
            # stops being retried.
            .values(status=MessageStatus.TURNING, claimed_at=now, attempts=Message.attempts + 1)
            .returning(Message.id, Message.from_number)
        ).all()
    return sorted((message_id, number) for message_id, number in rows)


def _give_back(services, message_ids: list[int]) -> None:
    if not message_ids:
        return
    with services.engine.begin() as conn:
        conn.execute(
            sa.update(Message)
            .where(Message.id.in_(message_ids), Message.status == MessageStatus.TURNING)
            .values(status=MessageStatus.RECEIVED, claimed_at=None, attempts=Message.attempts - 1)
        )  # (not tried: their attempts do not count)


def _turn_one(services, message_id: int, replies: list, done: list, memo: dict) -> str:
    try:
        return handle_inbound(
            services, message_id, replies=replies, done=done, counted=True, memo=memo
        )
    except Exception:  # noqa: BLE001 - one text that fails must not hold up the others
        # Left claimed: the sweep gives it back after a minute (its attempt is counted), a
        # pause before the retry, and that person's later texts keep waiting behind it.
        log.exception("inbound message %s could not be turned; it is retried later", message_id)
        return "failed"


def handle_inbound(
    services,
    message_id: int,
    *,
    replies: list | None = None,
    done: list | None = None,
    counted: bool = False,
    memo: dict | None = None,
) -> str:
    """Process one stored inbound text exactly once. Returns what happened. `replies`
    takes the ids of replies due now (the caller sends them; otherwise a send job does);
    `done` takes (stored, turned) instants for the caller to record; `counted`: this
    attempt was counted already (by the batch's claim); `memo`: what the caller's batch
    read once for all its turns (see UnitOfWork)."""
    with UnitOfWork(services, sends_to=replies, memo=memo) as uow:
        session, now = uow.session, uow.now
        if not counted:
            # Counted in its own commit, so a text that keeps failing stops being retried.
            session.execute(
                sa.update(Message)
                .where(Message.id == message_id, Message.status.in_(WAITING))
                .values(attempts=Message.attempts + 1)
            )
            uow.commit()
        message = session.scalars(
            _claim_one(),
            {"message_id": message_id, "now": now},
            execution_options={"synchronize_session": False},
        ).first()
        if message is None:
            return "duplicate"
        defaults = defaults_of(services.settings)
        reached = find_enrolments(
            session,
            message.from_number,
            message.to_number,
            message.messaging_service_sid,
            defaults,
        )
        if not reached:
            outcome = unknown_sender(uow, message, defaults)
        else:
            outcome = turn(uow, reached[0], message, also=reached[1:])
        uow.commit()
    if done is None:
        Metrics(services.redis).turn_done(message.created_at, services.now())
    else:
        done.append((message.created_at, services.now()))
    return outcome


@functools.cache
def _claim_one():
    """The text, claimed for this turn (`received`/`turning` → `processed`), as stored;
    built once, so a turn does not compose it again."""
    return (
        sa.update(Message)
        .where(Message.id == sa.bindparam("message_id"), Message.status.in_(WAITING))
        .values(status=MessageStatus.PROCESSED, updated_at=sa.bindparam("now"))
        .returning(Message)
    )


def turn(uow: UnitOfWork, participant: Participant, message: Message, *, also=()) -> str:
    """One text from a known participant, and everything it causes. `also`: the phone's
    other enrolments on programs this number reaches; a STOP opts them out too (the person
    asked this number to stop, and Twilio blocks the whole number for them anyway)."""
    message.participant_id = participant.id
    message.program_id = participant.program_id
    quiet_until_now = attention_rules.could_end_a_spell(
        participant.last_inbound_at, participant.consent_at, uow.now
    )
    participant.last_inbound_at = uow.now
    loaded = apply.load(uow.session, participant, uow.now, asked_by=message.created_at)
    text = steps.Text(
        body=message.body, keyword=parse_keyword(message.body), media=bool(message.media_urls)
    )
    decision = steps.decide(loaded.state, text.event, now=uow.now, text=text)
    apply.carry_out(
        uow, loaded, decision, key=f"in:{message.id}", message=message, replied=quiet_until_now
    )
    if text.event == steps.Event.OPT_OUT:
        for other in also:
            if other.status not in (ParticipantStatus.CLOSED, ParticipantStatus.OPTED_OUT):
                _opt_out_too(uow, other, message, text)
    return decision.outcome


def _opt_out_too(uow: UnitOfWork, participant: Participant, message: Message, text) -> None:
    loaded = apply.load(uow.session, participant, uow.now)
    decision = steps.decide(loaded.state, steps.Event.OPT_OUT, now=uow.now, text=text)
    apply.carry_out(
        uow, loaded, decision, key=f"in:{message.id}:{participant.id}", body=message.body
    )


def unknown_sender(uow: UnitOfWork, message: Message, defaults) -> str:
    """Keep the text for facilitators; answer politely at most once a day per number."""
    session, now = uow.session, uow.now
    program = program_reached(session, message.to_number, message.messaging_service_sid, defaults)
    if program is not None:
        message.program_id = program.id
    session.add(message)
    keyword = parse_keyword(message.body)
    if keyword is not None and keyword.kind == KeywordKind.OPT_OUT:
        return "unknown_sender"  # Twilio confirms the opt-out itself
    if not is_e164(message.from_number):
        return "unknown_sender"  # nobody we could answer
    reply = Message(
        direction=Direction.OUT,
        program_id=message.program_id,
        idempotency_key=f"unknown:{message.from_number}:{now.date().isoformat()}",
        to_number=message.from_number,
        from_number=message.to_number,
        messaging_service_sid=message.messaging_service_sid,
        body=texts.render("unknown_sender", program.language if program else "en"),
        template="unknown_sender",
        created_at=now,
        updated_at=now,
    )
    uow.send(outbox.insert_once(session, reply))
    return "unknown_sender"


def sweep_inbound(services, limit: int = 200) -> int:
    """Texts stored but never turned (the queue was down, a job was lost): a claim held
    longer than a minute is given back, and one job is queued for all that wait."""
    now = services.now()
    with services.engine.begin() as conn:
        conn.execute(
            sa.update(Message)
            .where(
                Message.direction == Direction.IN,
                Message.status == MessageStatus.TURNING,
                Message.claimed_at < now - INBOUND_STALE_AFTER,
            )
            .values(status=MessageStatus.RECEIVED, claimed_at=None)
        )
    with services.sessions() as session:
        ids = _unprocessed(session, now, limit)
    if ids:
        services.dispatcher.enqueue("turn_inbound")
    return len(ids)


def _unprocessed(session: Session, now, limit: int) -> list[int]:
    return session.exec(
        select(Message.id)
        .where(
            Message.direction == Direction.IN,
            Message.status == MessageStatus.RECEIVED,
            Message.created_at < now - INBOUND_STALE_AFTER,
            Message.attempts < MAX_INBOUND_ATTEMPTS,
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()

"""The SMS conversation: consent, steps 1, 2 and 4, and the keywords carriers expect.

`handle_inbound` runs one stored inbound text through the participant's state and writes
every reply into the outbox in the same transaction as the state change. It claims the
message first (`received` → `processed`), so a duplicate job changes nothing.

Replies to a text the participant just sent leave at once (they are awake and asked);
prompts and anything else we start ourselves wait for their local waking hours.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core import schedule, texts
from service.core.keywords import Keyword, KeywordKind, parse_keyword
from service.core.options import quiet_hours
from service.core.phones import is_e164
from service.messaging import outbox
from service.models import Call, Message, Participant, Program, Statement
from service.program import checkins
from service.program import commitments as commits
from service.program.audit import record

log = logging.getLogger(__name__)

# The text prompts of steps 1 and 2, in order: (step, template, statement kind).
FLOW = (
    (1, "step1_what_happened", "what_happened"),
    (1, "step1_emotions", "emotions"),
    (1, "step1_pattern", "pattern"),
    (2, "step2_responsibility", "responsibility"),
)
PROMPT_KIND = {template: kind for _, template, kind in FLOW}
MAX_INBOUND_ATTEMPTS = 5
INBOUND_STALE_AFTER = timedelta(minutes=1)


def handle_inbound(services, message_id: int) -> str:
    """Process one stored inbound text exactly once. Returns what happened."""
    now = services.now()
    with services.sessions() as session:
        # Counted in its own commit, so a text that keeps failing stops being retried.
        session.execute(
            sa.update(Message)
            .where(Message.id == message_id, Message.status == "received")
            .values(attempts=Message.attempts + 1)
        )
        session.commit()
        claimed = session.execute(
            sa.update(Message)
            .where(Message.id == message_id, Message.status == "received")
            .values(status="processed", updated_at=now)
        )
        if claimed.rowcount != 1:
            session.rollback()
            return "duplicate"
        message = session.get(Message, message_id)
        participant = match_sender(session, message)
        if participant is None:
            outgoing = unknown_sender(session, message, now)
            outcome = "unknown_sender"
        else:
            turn = Turn(session, services, participant, message, now)
            outcome = turn.run()
            outgoing = turn.outgoing
        session.commit()
    outbox.enqueue_sends(services, outgoing)
    return outcome


def sweep_inbound(services, limit: int = 200) -> int:
    """Queue inbound texts that were stored but never processed (queue was down)."""
    now = services.now()
    with services.sessions() as session:
        ids = session.exec(
            select(Message.id)
            .where(
                Message.direction == "in",
                Message.status == "received",
                Message.created_at < now - INBOUND_STALE_AFTER,
                Message.attempts < MAX_INBOUND_ATTEMPTS,
            )
            .order_by(Message.id)
            .limit(limit)
        ).all()
    for message_id in ids:
        services.dispatcher.enqueue("handle_inbound", message_id)
    return len(ids)


def match_sender(session: Session, message: Message) -> Participant | None:
    """The participant texting from `From` to this program's number (or service)."""
    to_program = sa.or_(
        Program.sender_number == message.to_number,
        sa.and_(
            Program.messaging_service_sid.is_not(None),
            Program.messaging_service_sid == message.messaging_service_sid,
        ),
        sa.and_(Program.sender_number.is_(None), Program.messaging_service_sid.is_(None)),
    )
    query = (
        select(Participant)
        .join(Program, Program.id == Participant.program_id)
        .where(Participant.phone == message.from_number, to_program)
        # Someone in two programs on one number: the open, most recent enrolment wins.
        .order_by((Participant.status == "closed").asc(), Participant.id.desc())
        .limit(1)
        .with_for_update(of=Participant)
    )
    return session.exec(query).first()


def unknown_sender(session: Session, message: Message, now: datetime) -> list:
    """Keep the text for facilitators; answer politely at most once a day per number."""
    program = session.exec(
        select(Program).where(Program.sender_number == message.to_number)
    ).first()
    if program is not None:
        message.program_id = program.id
    session.add(message)
    keyword = parse_keyword(message.body)
    if keyword is not None and keyword.kind == KeywordKind.OPT_OUT:
        return []  # Twilio confirms the opt-out itself
    if not is_e164(message.from_number):
        return []  # nobody we could answer
    reply = Message(
        direction="out",
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
    return [outbox.insert_once(session, reply)]


class Turn:
    """One inbound text from a known participant, and everything it causes."""

    def __init__(self, session: Session, services, participant: Participant, message, now):
        self.session = session
        self.services = services
        self.p = participant
        self.message = message
        self.now = now
        self.program = session.get(Program, participant.program_id)
        self.outgoing: list[Message | None] = []
        message.participant_id = participant.id
        message.program_id = participant.program_id
        participant.last_inbound_at = now

    # Replies and prompts -------------------------------------------------------------

    def reply(self, template: str, **extra) -> None:
        self.outgoing.append(
            outbox.queue_text(
                self.session,
                self.p,
                template,
                key=f"in:{self.message.id}:{template}",
                now=self.now,
                program=self.program,
                reply=True,
                values=extra,
            )
        )

    def ask(self, template: str, paced: bool = True) -> None:
        """Open the next prompt, now or at their next local morning (program pacing)."""
        when = self.now
        if paced and self.program.pacing == "morning":
            when = schedule.next_local_morning(self.now, self.p.timezone, quiet_hours(self.program))
        message = outbox.queue_text(
            self.session,
            self.p,
            template,
            key=f"prompt:{self.p.id}:{template}",
            now=self.now,
            program=self.program,
            send_after=when,
        )
        self.p.prompt = template
        self.p.prompt_due_at = message.send_after if message is not None else when
        self.outgoing.append(message)

    def note(self, kind: str = "note", body: str | None = None) -> Statement:
        statement = Statement(
            participant_id=self.p.id,
            step=self.p.step,
            kind=kind,
            body=self.message.body if body is None else body,
            channel="sms",
            message_id=self.message.id,
            created_at=self.now,
        )
        self.session.add(statement)
        return statement

    # The turn ------------------------------------------------------------------------

    def run(self) -> str:
        keyword = parse_keyword(self.message.body)
        status = self.p.status
        if keyword and keyword.kind == KeywordKind.OPT_OUT:
            return self.opt_out(keyword)
        if status == "opted_out":
            if keyword and keyword.kind in (KeywordKind.OPT_IN, KeywordKind.YES):
                return self.opt_in(keyword)
            self.note()
            return "kept_while_opted_out"  # no text of any kind
        if status == "undeliverable":
            # They just texted us, so texts reach them after all.
            self.p.status = "active" if self.p.consent_at else "invited"
        if self.message.media_urls:
            self.reply("media_not_read")
            if not self.message.body.strip():
                self.note("media")
                return "media"
        if keyword is not None:
            handled = self.keyword(keyword)
            if handled:
                return handled
        if self.p.status == "invited":
            self.note()
            # Nothing but the consent request goes out before a YES (at most once a day).
            from service.program.enrollment import send_invitation

            self.outgoing.append(send_invitation(self.session, self.p, self.program, now=self.now))
            return "awaiting_consent"
        if self.p.status == "closed":
            self.note()
            outbox.flag(self.session, self.p, "after_closure", "texted after closure", self.now)
            return "after_closure"
        return self.answer()

    def keyword(self, keyword: Keyword) -> str | None:
        kind = keyword.kind
        if kind == KeywordKind.HELP:
            self.reply("help")
            return "help"
        if kind == KeywordKind.YES and self.p.status == "invited":
            return self.consent()
        if kind == KeywordKind.OPT_IN:
            self.reply("resumed")
            return "resumed"
        if self.p.status in ("invited", "closed"):
            return None
        if kind == KeywordKind.PAUSE:
            return self.pause()
        if kind == KeywordKind.RESUME:
            return self.resume()
        if kind == KeywordKind.STATUS:
            self.reply(
                "status",
                step_name=texts.step_name(self.p.step, self.p.language),
                commitments_count=len(commits.active_commitments(self.session, self.p)),
                streak=self.p.streak,
            )
            return "status"
        if kind == KeywordKind.HEADSUP:
            return self.headsup(keyword.argument or "")
        if kind == KeywordKind.SKIP:
            return self.skip()
        if kind == KeywordKind.CALL:
            return self.request_call()
        if kind == KeywordKind.COMMIT and keyword.argument:
            return self.commit(keyword.argument)
        if kind == KeywordKind.CHANGE:
            return self.change(keyword.argument or "")
        agreeing = kind == KeywordKind.AGREE or (
            kind == KeywordKind.YES and self.p.prompt == "agree"
        )
        if agreeing and commits.waiting_for(self.session, self.p):
            return self.agree()
        return None  # e.g. "yes" as the answer to a prompt: ordinary text

    # Consent and opting out ----------------------------------------------------------

    def consent(self) -> str:
        self.p.status = "active"
        self.p.consent_at = self.now
        record(self.session, f"participant:{self.p.id}", "consent", self.p, now=self.now)
        self.reply("consent_thanks")
        if self.p.step == 1 and self.p.prompt is None:
            self.ask(FLOW[0][1], paced=False)
        return "consent"

    def opt_out(self, keyword: Keyword) -> str:
        """Opted out at once. Twilio sends the carrier confirmation; we send nothing."""
        if self.p.status != "opted_out":
            self.p.status = "opted_out"
            self.p.opted_out_at = self.now
            record(self.session, f"participant:{self.p.id}", "opt_out", self.p, now=self.now)
            outbox.flag(self.session, self.p, "opted_out", f"texted {keyword.word}", self.now)
        outbox.cancel_pending(self.session, self.p, self.now)
        return "opted_out"

    def opt_in(self, keyword: Keyword) -> str:
        self.p.opted_out_at = None
        if self.p.consent_at is None and keyword.kind == KeywordKind.YES:
            self.p.status = "invited"
            record(self.session, f"participant:{self.p.id}", "opt_in", self.p, now=self.now)
            return self.consent()
        self.p.status = "active" if self.p.consent_at else "invited"
        record(self.session, f"participant:{self.p.id}", "opt_in", self.p, now=self.now)
        self.reply("resumed")
        return "resumed"

    def pause(self) -> str:
        if self.p.status != "paused":
            self.p.status = "paused"
            self.p.paused_at = self.now
            outbox.flag(self.session, self.p, "paused", "asked for a pause", self.now)
        self.reply("paused")
        return "paused"

    def resume(self) -> str:
        if self.p.status == "paused":
            self.p.status = "active"
            self.p.paused_at = None
            checkins.resume(self.session, self.p, self.now)
            outbox.flag(self.session, self.p, "resumed", "resumed after a pause", self.now)
        self.reply("unpaused")
        return "unpaused"

    # Steps ---------------------------------------------------------------------------

    def prompt_is_open(self) -> bool:
        due = self.p.prompt_due_at
        return self.p.prompt in PROMPT_KIND and (due is None or due <= self.message.created_at)

    def answer(self) -> str:
        if not self.message.body.strip():
            return "empty"
        if self.p.step == 5:
            result = checkins.answer(self.session, self.p, self.message, self.now)
            if result.handled:
                for template in result.replies:
                    self.reply(template)
                self.outgoing.extend(result.extra)
                return "checkin"
        if self.prompt_is_open():
            template = self.p.prompt
            self.note(PROMPT_KIND[template])
            self.advance_from(template, acknowledged=True)
            return "answer"
        self.note()
        self.reply("note_saved")
        return "note"

    def advance_from(self, template: str, acknowledged: bool) -> None:
        index = [t for _, t, _ in FLOW].index(template)
        if index + 1 < len(FLOW):
            step, following, _ = FLOW[index + 1]
            self.p.step = step
            if acknowledged:
                morning = self.program.pacing == "morning"
                self.reply("next_prompt_morning" if morning else "ack_statement")
            self.ask(following)
            return
        # Step 2 done: explain the call of step 3 and move there.
        self.p.step = 3
        self.p.prompt = None
        self.p.prompt_due_at = None
        if acknowledged:
            self.reply("ack_statement")
        self.outgoing.append(
            outbox.queue_text(
                self.session,
                self.p,
                "step3_intro",
                key=f"prompt:{self.p.id}:step3_intro",
                now=self.now,
                program=self.program,
            )
        )

    def skip(self) -> str:
        template = self.p.prompt
        if template in PROMPT_KIND and self.prompt_is_open():
            self.reply("skipped")
            self.advance_from(template, acknowledged=False)
            return "skipped"
        self.reply("note_saved")
        return "nothing_to_skip"

    def headsup(self, text: str) -> str:
        self.note("headsup", text or self.message.body)
        outbox.flag(self.session, self.p, "headsup", "a promise is at risk", self.now)
        self.reply("headsup_thanks")
        return "headsup"

    def request_call(self) -> str:
        """Text CALL: an outbound call is queued (placed inside waking hours)."""
        call = Call(
            participant_id=self.p.id,
            direction="out",
            purpose="reflection",
            status="pending",
            next_attempt_at=schedule.next_allowed(
                self.now, self.p.timezone, quiet_hours(self.program)
            ),
            created_at=self.now,
            updated_at=self.now,
        )
        self.session.add(call)
        self.session.flush()
        outbox.flag(self.session, self.p, "call_requested", "asked to be called", self.now)
        self.reply("call_requested")
        return "call_requested"

    def commit(self, text: str) -> str:
        commits.add_commitment(
            self.session,
            self.p,
            text,
            now=self.now,
            proposed_by="participant",
            actor=f"participant:{self.p.id}",
        )
        self.reply("commitment_added")
        self.outgoing.extend(
            commits.send_for_agreement(
                self.session, self.p, now=self.now, key=f"in:{self.message.id}", reply=True
            )
        )
        return "commitment_added"

    def change(self, text: str) -> str:
        waiting = [
            c
            for c in commits.open_commitments(self.session, self.p)
            if c.status in ("proposed", "agreed", "active")
        ]
        if not text or not waiting:
            self.note()
            self.reply("note_saved")
            return "note"
        # "CHANGE 2 new words" names the commitment; otherwise the first one waiting.
        number, _, rest = text.partition(" ")
        target = waiting[0]
        if number.rstrip(").:").isdigit() and rest.strip():
            position = int(number.rstrip(").:"))
            if 1 <= position <= len(waiting):
                target, text = waiting[position - 1], rest.strip()
        target.status = "change_requested"
        target.updated_at = self.now
        self.session.add(target)
        self.note("change_request", text)
        outbox.flag(
            self.session,
            self.p,
            "commitment_change",
            f"proposed new wording for #{target.id}",
            self.now,
        )
        self.reply("commitment_change_received")
        return "change_requested"

    def agree(self) -> str:
        result = commits.agree(self.session, self.p, now=self.now)
        self.p.prompt = None
        if commits.all_live(self.session, self.p):
            self.reply("commitments_agreed")
            enter_step5(self.session, self.p, self.now)
        elif result["waiting"]:
            self.reply("commitment_waiting_partner")
        else:
            self.reply("commitments_agreed")
        # A partner whose shared commitments just went live is told too.
        for commitment in result["live"]:
            if commitment.participant_id == self.p.id:
                continue
            partner = self.session.get(Participant, commitment.participant_id)
            if partner.step == 4 and commits.all_live(self.session, partner):
                self.outgoing.append(
                    outbox.queue_text(
                        self.session,
                        partner,
                        "commitments_agreed",
                        key=f"agreed:{partner.id}:{self.message.id}",
                        now=self.now,
                    )
                )
                enter_step5(self.session, partner, self.now)
        return "agreed"


def enter_step5(session: Session, participant: Participant, now: datetime) -> None:
    """All commitments live: check-ins begin."""
    if participant.step < 5:
        participant.step = 5
        participant.prompt = None
        session.add(participant)
        record(session, f"participant:{participant.id}", "enter_step5", participant, now=now)
        checkins.start(session, participant, now)


def advance_step(session: Session, participant: Participant, *, now: datetime, actor: str) -> list:
    """A facilitator moves someone on (e.g. after a session in person): the next step opens."""
    if participant.step >= 5:
        return []
    program = session.get(Program, participant.program_id)
    participant.step += 1
    participant.prompt = None
    participant.prompt_due_at = None
    record(session, actor, "advance_step", participant, now=now, detail={"step": participant.step})
    return open_step(session, participant, program, now=now)


def open_step(session: Session, participant: Participant, program: Program, *, now) -> list:
    """Send what the participant's current step starts with."""
    key = f"step:{participant.id}:{participant.step}:{now.isoformat()}"
    if participant.step in (1, 2):
        template = next(t for step, t, _ in FLOW if step == participant.step)
        message = outbox.queue_text(session, participant, template, key=key, now=now)
        participant.prompt = template
        participant.prompt_due_at = message.send_after if message is not None else now
        return [message]
    if participant.step == 3:
        return [outbox.queue_text(session, participant, "step3_intro", key=key, now=now)]
    if participant.step == 4:
        if commits.all_live(session, participant):
            enter_step5(session, participant, now)
            return []
        return commits.send_for_agreement(session, participant, now=now, key=key)
    enter_step5(session, participant, now)
    return []

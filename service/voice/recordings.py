"""Recordings: stored once per RecordingSid, copied to private storage, deleted at Twilio.

A `Reflection` row is one recording (a step-3 reflection, a spoken step 1/2 answer or a
message for the facilitator). Its life:

- `status`: `recorded` (the caller has not yet chosen) → `kept`, `discarded` (recorded
  again) or `empty` (nothing was heard). See service/voice_steps.py for the choice.
- `recording_status`: Twilio's own status from the recordingStatusCallback; the audio is
  fetched only once Twilio says `completed` (the <Record> action's URL may not be ready).
- `storage_path`: the audio on our disk, under a random name that reveals nothing.
- `deleted_at_twilio`: Twilio's copy is gone (kept audio: when the program says so, after
  the download; discarded audio: always).
- `settled_at`: nothing is left to do.

`settle` does whatever is still due and may run any number of times, concurrently too: the
stored path is claimed with a conditional UPDATE, and deleting twice at Twilio is harmless.
Network calls happen outside database transactions.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from service.core.enums import AttentionKind, RecordingStatus, TranscriptStatus
from service.core.erasure_rules import twilio_leftovers
from service.core.options import option
from service.core.personas import is_persona_number
from service.core.texts import normalise_language
from service.infra.db import insert_new, insert_or_get
from service.infra.gateway import ConsoleGateway, GatewayError
from service.infra.storage import is_wav, made_up_wav, write_audio
from service.models import (
    Call,
    Participant,
    PendingDeletion,
    Program,
    Reflection,
    Statement,
    utcnow,
)
from service.program.accounts import visible_program_ids
from service.records import audit, flag
from service.unit_of_work import PURGE_TASK, UnitOfWork

log = logging.getLogger(__name__)

PURPOSES = ("reflection", "what_happened", "emotions", "pattern", "responsibility", "note")
# Twilio transcribes <Record> audio of at most two minutes, in English only.
TRANSCRIBE_MAX_SECONDS = 120
# Twilio's copy waits this long for a transcription before it is deleted anyway.
TRANSCRIPT_WAIT = timedelta(minutes=30)
# No recording status callback yet (lost?): try the download after this long anyway.
NOT_READY_AFTER = timedelta(minutes=5)
# Failed downloads/deletes are retried by the sweeper after 1, 3, 7 … minutes (from the
# recording's creation), so a Twilio outage of a few hours loses nothing; then flagged.
MAX_ATTEMPTS = 8
DISCARDED = (RecordingStatus.DISCARDED, RecordingStatus.EMPTY)
AUDIO_MIMETYPE = "audio/wav"  # what a route serving `open_recording` should send


class RecordingNotFound(LookupError):
    """No such recording for this facilitator. Raised also when they may not hear it, so
    that a route built on `open_recording` reveals nothing about recordings it hides."""


def wants_transcript(max_seconds: int, language: str | None) -> bool:
    return max_seconds <= TRANSCRIBE_MAX_SECONDS and normalise_language(language) == "en"


def max_seconds(program: Program) -> int:
    """The program's recording limit, kept within what <Record> accepts."""
    try:
        seconds = int(option(program, "recording_max_seconds"))
    except (TypeError, ValueError):
        seconds = 180
    return max(10, min(seconds, 3600))


# Callbacks -----------------------------------------------------------------------------


def store(
    session: Session,
    *,
    recording_sid: str,
    participant_id: int,
    purpose: str,
    call_sid: str | None,
    now: datetime,
    transcribe: bool,
    duration: int | None = None,
    url: str | None = None,
    recording_status: str | None = None,
) -> Reflection:
    """The row for this RecordingSid, inserted by whichever callback comes first.

    The <Record> action and the recording status callback race each other (and Twilio
    retries both); the unique RecordingSid decides, never a look-up before the insert.
    """
    reflection = Reflection(
        participant_id=participant_id,
        purpose=purpose if purpose in PURPOSES else "note",
        call_sid=call_sid or None,
        recording_sid=recording_sid,
        transcript_status=TranscriptStatus.PENDING if transcribe else TranscriptStatus.NONE,
        status=RecordingStatus.RECORDED,
        created_at=now,
    )
    reflection = insert_or_get(
        session,
        reflection,
        lambda: session.exec(
            select(Reflection).where(Reflection.recording_sid == recording_sid)
        ).one(),
    )
    if duration is not None:
        reflection.duration_s = duration
    if url:
        reflection.recording_url = url
    if recording_status:
        reflection.recording_status = recording_status
    session.add(reflection)
    return reflection


def participant_of_call(session: Session, call_sid: str) -> Participant | None:
    call = session.exec(select(Call).where(Call.call_sid == call_sid)).first()
    if call is None or call.participant_id is None:
        return None
    return session.get(Participant, call.participant_id)


def recording_status(
    services,
    *,
    call_sid: str,
    recording_sid: str,
    status: str,
    duration: int | None,
    url: str | None,
    purpose: str,
    transcribe: bool,
) -> Reflection | None:
    """Twilio's recordingStatusCallback: the audio is ready (or there is none)."""
    now = services.now()
    status = (status or "").lower()[:16]
    with UnitOfWork(services) as uow:
        session = uow.session
        participant = participant_of_call(session, call_sid)
        if participant is None:
            # Only the calls we answer record to this callback: a call we no longer know
            # was erased (mid-call, say). Its audio has no one to go to, so Twilio's copy goes.
            log.warning("recording status for a call we don't know; Twilio's copy is deleted")
            _delete_unclaimed(uow, services, recording_sid, now)
            uow.commit()
            return None
        reflection = store(
            session,
            recording_sid=recording_sid,
            participant_id=participant.id,
            purpose=purpose,
            call_sid=call_sid,
            now=now,
            transcribe=transcribe,
            duration=duration,
            url=url,
            recording_status=status,
        )
        if status in ("absent", "failed") and reflection.status == RecordingStatus.RECORDED:
            reflection.status = RecordingStatus.EMPTY
        session.flush()
        uow.later("settle_recording", reflection.id)
        uow.commit()
    return reflection


def _delete_unclaimed(uow, services, recording_sid: str, now: datetime) -> None:
    if isinstance(services.gateway, ConsoleGateway):
        return  # no Twilio account: there is no copy anywhere
    copies = twilio_leftovers([], [(recording_sid, False)], [])
    rows = [dict(kind=str(c.kind), ref=c.ref, attempts=0, created_at=now) for c in copies]
    pending = insert_new(uow.session, PendingDeletion, rows, ("kind", "ref"))
    if pending:
        uow.later(PURGE_TASK, [row.id for row in pending])


def transcription(services, *, recording_sid: str, status: str, text: str | None) -> str:
    """Twilio's transcribeCallback: keep the text with the recording (and its statement)."""
    with UnitOfWork(services) as uow:
        session = uow.session
        reflection = session.exec(
            select(Reflection).where(Reflection.recording_sid == recording_sid)
        ).first()
        if reflection is None:
            return "unknown"
        if (status or "").lower() == "completed" and text is not None:
            reflection.transcript = text.replace("\x00", "")
            reflection.transcript_status = TranscriptStatus.COMPLETED
            # A spoken step 1/2 answer reads like a texted one once the words are known.
            session.execute(
                sa.update(Statement)
                .where(Statement.recording_id == reflection.id, Statement.body == "")
                .values(body=reflection.transcript)
            )
        elif reflection.transcript_status != TranscriptStatus.COMPLETED:
            reflection.transcript_status = TranscriptStatus.FAILED
        session.add(reflection)
        uow.later("settle_recording", reflection.id)  # Twilio's copy may go now
        uow.commit()
    return "stored"


# Download and delete -------------------------------------------------------------------


def settle(services, reflection_id: int) -> str:
    """Do what is due for one recording: download kept audio, delete Twilio's copy."""
    now = services.now()
    with services.sessions() as session:
        reflection = session.get(Reflection, reflection_id)
        if reflection is None or reflection.settled_at is not None:
            return "settled"
        if reflection.status == RecordingStatus.RECORDED:
            return "undecided"  # the caller is still choosing; the choice enqueues us
        participant = session.get(Participant, reflection.participant_id)
        program = session.get(Program, participant.program_id)
        delete_kept = bool(option(program, "delete_recordings_at_twilio"))
        session.commit()  # end the read: no transaction stays open across network calls
    if reflection.status in DISCARDED:
        return _discard(services, reflection, participant, now)
    if reflection.storage_path is None:
        outcome = _download(services, reflection, participant, now)
        if outcome != "downloaded":
            return outcome
    if delete_kept and reflection.deleted_at_twilio is None:
        waiting = reflection.transcript_status == TranscriptStatus.PENDING
        if waiting and now - reflection.created_at < TRANSCRIPT_WAIT:
            return "waiting_for_transcript"
        outcome = _delete_at_twilio(services, reflection, participant, now)
        if outcome != "deleted":
            return outcome
    _finish(services, reflection.id, now)
    return "settled"


def _discard(services, reflection, participant, now) -> str:
    if reflection.recording_sid and reflection.deleted_at_twilio is None:
        outcome = _delete_at_twilio(services, reflection, participant, now)
        if outcome != "deleted":
            return outcome
    if reflection.storage_path:
        Path(reflection.storage_path).unlink(missing_ok=True)
        with services.sessions() as session:
            session.execute(
                sa.update(Reflection)
                .where(Reflection.id == reflection.id)
                .values(storage_path=None)
            )
            session.commit()
    _finish(services, reflection.id, now)
    return "discarded"


def _download(services, reflection, participant, now) -> str:
    if reflection.recording_status in ("absent", "failed"):
        _give_up(services, reflection, participant, now, "Twilio has no audio for it")
        return "no_audio"
    if reflection.recording_status is None and now - reflection.created_at < NOT_READY_AFTER:
        return "not_ready"
    try:
        if is_persona_number(participant.phone):  # the simulator's: nothing at Twilio
            audio = made_up_wav(reflection.duration_s or 1)
        else:
            audio = services.gateway.fetch_recording(reflection.recording_sid)
        if not is_wav(audio):
            raise GatewayError(None, None, "transient", "the recording is not a WAV file")
    except GatewayError as exc:
        if exc.http_status == 404 and reflection.recording_status is None:
            # Not confirmed ready by Twilio yet: a 404 may just mean "not yet".
            exc.kind = "transient"
        return _failed(services, reflection, participant, now, exc)
    path = write_audio(services.settings.effective_recordings_dir, audio)
    with services.sessions() as session:
        claimed = session.execute(
            sa.update(Reflection)
            .where(Reflection.id == reflection.id, Reflection.storage_path.is_(None))
            .values(storage_path=str(path))
        )
        session.commit()
    if claimed.rowcount != 1:
        path.unlink(missing_ok=True)  # another worker stored it first
        return "duplicate"
    reflection.storage_path = str(path)
    log.info("stored recording %s (%d bytes)", reflection.id, len(audio))
    return "downloaded"


def _delete_at_twilio(services, reflection, participant, now) -> str:
    try:
        if not is_persona_number(participant.phone):  # a test persona's is not at Twilio
            services.gateway.delete_recording(reflection.recording_sid)
    except GatewayError as exc:
        return _failed(services, reflection, participant, now, exc)
    with services.sessions() as session:
        session.execute(
            sa.update(Reflection)
            .where(Reflection.id == reflection.id, Reflection.deleted_at_twilio.is_(None))
            .values(deleted_at_twilio=now)
        )
        session.commit()
    reflection.deleted_at_twilio = now
    return "deleted"


def _failed(services, reflection, participant, now, exc: GatewayError) -> str:
    with services.sessions() as session:
        session.execute(
            sa.update(Reflection)
            .where(Reflection.id == reflection.id)
            .values(attempts=Reflection.attempts + 1)
        )
        session.commit()
    attempts = reflection.attempts + 1
    log.warning(
        "recording %s: Twilio request failed (%s), try %d", reflection.id, exc.kind, attempts
    )
    if exc.kind != "transient" or attempts >= MAX_ATTEMPTS:
        _give_up(services, reflection, participant, now, f"Twilio answered: {exc.message}")
        return "failed"
    return "retry"  # the sweeper tries again


def _give_up(services, reflection, participant, now, why: str) -> None:
    with UnitOfWork(services) as uow:
        session = uow.session
        done = session.execute(
            sa.update(Reflection)
            .where(Reflection.id == reflection.id, Reflection.settled_at.is_(None))
            .values(settled_at=now)
        )
        if done.rowcount == 1:
            if reflection.status == RecordingStatus.KEPT and not reflection.storage_path:
                what = "a kept recording could not be saved"
            else:
                what = "a recording could not be deleted at Twilio"
            flag(session, participant, AttentionKind.RECORDING_PROBLEM, f"{what}: {why}", now)
        uow.commit()


def _finish(services, reflection_id: int, now) -> None:
    with services.sessions() as session:
        session.execute(
            sa.update(Reflection)
            .where(Reflection.id == reflection_id, Reflection.settled_at.is_(None))
            .values(settled_at=now)
        )
        session.commit()


def sweep(services, limit: int = 100) -> int:
    """Settle recordings a lost job or an outage left half done."""
    now = services.now()
    with services.sessions() as session:
        rows = session.exec(
            select(Reflection)
            .where(
                Reflection.settled_at.is_(None),
                Reflection.status != RecordingStatus.RECORDED,
                Reflection.attempts < MAX_ATTEMPTS,
                Reflection.recording_sid.is_not(None),
            )
            .order_by(Reflection.id)
            .limit(limit)
        ).all()
    due = [r for r in rows if now >= r.created_at + retry_delay(r.attempts)]
    for reflection in due:
        settle(services, reflection.id)
    return len(due)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=2**attempts - 1)


# Listening -----------------------------------------------------------------------------


def open_recording(session, facilitator, reflection_id: int, *, now: datetime | None = None):
    """The audio file of a recording, for a facilitator of that participant's program.

    Raises RecordingNotFound when there is none, it is not downloaded yet, or the
    facilitator may not hear it. Adds an audit event (the caller commits): who listened
    to what is worth knowing.
    """
    reflection = session.get(Reflection, reflection_id)
    if reflection is None or not reflection.storage_path or not facilitator.is_active:
        raise RecordingNotFound(reflection_id)
    participant = session.get(Participant, reflection.participant_id)
    visible = visible_program_ids(session, facilitator)
    if participant is None or (visible is not None and participant.program_id not in visible):
        raise RecordingNotFound(reflection_id)
    path = Path(reflection.storage_path)
    if not path.is_file():
        raise RecordingNotFound(reflection_id)
    audit(
        session, f"facilitator:{facilitator.id}", "open_recording", reflection, now=now or utcnow()
    )
    return path

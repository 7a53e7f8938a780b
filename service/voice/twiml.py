"""The call's words as TwiML: one answer to one Twilio request, in the caller's language,
and who the caller is (by our call row, else by the one matching rule of core/matching.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlmodel import Session, select
from twilio.twiml.voice_response import VoiceResponse

from service.core.enums import ParticipantStatus
from service.core.spoken import say, voice_for
from service.messaging import outbox
from service.models import Call, Participant, Program
from service.program.matching import defaults_of, find_participant

# Known callers who may not use the line, and what they are told.
NOT_HERE = {
    ParticipantStatus.INVITED: "not_started",
    ParticipantStatus.OPTED_OUT: "opted_out",
    ParticipantStatus.CLOSED: "closed",
}


@dataclass(frozen=True)
class VoiceRequest:
    """What Twilio tells us on every voice request."""

    call_sid: str
    from_number: str
    to_number: str
    direction: str = "inbound"
    digits: str = ""
    speech: str = ""

    @property
    def outbound(self) -> bool:
        return self.direction.startswith("outbound")

    @property
    def silent(self) -> bool:
        return not (self.digits or self.speech)


class Script:
    """One TwiML answer, spoken in the caller's language."""

    def __init__(self, base_url: str, lang: str | None, values: dict | None = None):
        self.base = f"{base_url}/twilio/voice"
        self.lang = lang
        self.voice, self.language = voice_for(lang)
        self.values = values or {}
        self.response = VoiceResponse()

    def url(self, path: str = "", **params) -> str:
        query = {k: v for k, v in params.items() if v is not None}
        return self.base + path + (f"?{urlencode(query)}" if query else "")

    def line(self, key: str, **extra) -> str:
        return say(key, self.lang, **{**self.values, **extra})

    def say(self, key: str, into=None, **extra) -> None:
        self.speak(self.line(key, **extra), into)

    def speak(self, text: str, into=None) -> None:
        (into or self.response).say(text, voice=self.voice, language=self.language)

    def gather(self, action: str, hints=()):
        return self.response.gather(
            input="dtmf speech",
            num_digits=1,
            action=action,
            method="POST",
            timeout=6,
            speech_timeout="auto",
            language=self.language,
            hints=", ".join(sorted(hints)) or None,
        )

    def redirect(self, url: str) -> None:
        self.response.redirect(url, method="POST")

    def hangup(self) -> None:
        self.response.hangup()

    def __str__(self) -> str:
        return str(self.response)


@dataclass
class Caller:
    participant: Participant
    program: Program
    script: Script


# Who is calling -------------------------------------------------------------------------


def find_caller(session: Session, req: VoiceRequest, defaults, call_id: int | None = None):
    """The participant on this call: by our call row, else by their number and ours."""
    if call_id is not None:
        call = session.get(Call, call_id)
        if call is not None and call.direction == "out" and call.participant_id is not None:
            return session.get(Participant, call.participant_id)
    if req.call_sid:
        call = session.exec(select(Call).where(Call.call_sid == req.call_sid)).first()
        if call is not None and call.participant_id is not None:
            return session.get(Participant, call.participant_id)
    person, ours = (
        (req.to_number, req.from_number) if req.outbound else (req.from_number, req.to_number)
    )
    return find_participant(session, person, ours, None, defaults)


def caller_of(services, session: Session, req: VoiceRequest, call_id: int | None = None):
    """Who is on the line (None: nobody we know), with their script."""
    participant = find_caller(session, req, defaults_of(services.settings), call_id)
    if participant is None:
        return None
    program = session.get(Program, participant.program_id)
    values = outbox.common_values(session, participant, program)
    script = Script(services.settings.public_base_url, participant.language, values)
    return Caller(participant, program, script)


def not_here(caller: Caller | None) -> str | None:
    """Why this caller may not use the line (their TwiML), or None when they may."""
    if caller is None:
        script = Script("", "en")
        script.say("goodbye")
        script.hangup()
        return str(script)
    key = NOT_HERE.get(ParticipantStatus(caller.participant.status))
    if key is None:
        return None
    caller.script.say(key)
    caller.script.hangup()
    return str(caller.script)

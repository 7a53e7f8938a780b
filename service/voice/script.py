"""What a caller hears: the call script for every caller state, as TwiML.

Decisions plus the database reads and writes they need; no Flask. Each function answers one
Twilio request with a complete TwiML document. What must survive between the requests of one
call (which recording, which check-in, answers so far, how many misses) travels in the query
strings of our own action URLs, which Twilio signs along with the rest of the request.

Every menu and question takes keys and speech (`<Gather input="dtmf speech">`). Silence or
an unknown answer is asked again; after `MAX_MISSES` the call ends kindly (a recording
waiting for keep-or-again is then kept).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlmodel import Session, select
from twilio.twiml.voice_response import VoiceResponse

from service.core.answers import parse_checkin_answer, parse_voice_digits
from service.core.redact import mask_phone
from service.core.spoken import limit_phrase, say, voice_for
from service.messaging import outbox
from service.models import Call, CheckIn, Participant, Program, Reflection
from service.program.commitments import open_commitments, waiting_for
from service.voice import calls, keeping, recordings

log = logging.getLogger(__name__)

MAX_MISSES = 2
NOT_HERE = {"invited": "not_started", "opted_out": "opted_out", "closed": "closed"}
QUESTION_OF = {
    "what_happened": "ask_what_happened",
    "emotions": "ask_emotions",
    "pattern": "ask_pattern",
    "responsibility": "ask_responsibility",
    "reflection": "ask_reflection",
    "note": "ask_message",
}
# Words (accents removed, lower case) that choose a menu option by speech.
MENU_WORDS = {
    "answer": {"answer", "question", "respond", "responder", "pregunta", "contestar"},
    "reflect": {"reflection", "reflect", "reflexion"},
    "commitments": {"commitments", "commitment", "promises", "compromisos", "compromiso"},
    "checkin": {"check", "checkin", "seguimiento"},
    "message": {"message", "facilitator", "note", "mensaje", "nota"},
}
NUMBER_WORDS = (
    {"1", "one", "first", "uno", "primero", "primera"},
    {"2", "two", "second", "dos", "segundo", "segunda"},
    {"3", "three", "third", "tres", "tercero", "tercera"},
    {"4", "four", "fourth", "cuatro", "cuarto"},
)
KEEP_WORDS = {"keep", "save", "yes", "guardar", "guardalo", "guarda", "si", "1", "one", "uno"}
AGAIN_WORDS = {"again", "redo", "rerecord", "repeat", "otra", "repetir", "nuevo", "2", "two", "dos"}
DIGIT_OF_RESULT = {"kept": "1", "missed": "2", "partly": "3"}
RESULT_OF_DIGIT = {digit: result for result, digit in DIGIT_OF_RESULT.items()}


@dataclass(frozen=True)
class VoiceRequest:
    """What Twilio tells us on every voice request."""

    call_sid: str
    from_number: str
    to_number: str
    direction: str = "inbound"
    digits: str = ""
    speech: str = ""

    @classmethod
    def from_form(cls, form) -> VoiceRequest:
        return cls(
            call_sid=(form.get("CallSid") or "")[:64],
            from_number=(form.get("From") or "")[:32],
            to_number=(form.get("To") or "")[:32],
            direction=(form.get("Direction") or "inbound")[:32],
            digits=(form.get("Digits") or "").strip()[:8],
            speech=(form.get("SpeechResult") or "").strip()[:500],
        )

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


def find_caller(session: Session, req: VoiceRequest, call_id: int | None = None):
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
    if not person:
        return None
    return session.exec(
        select(Participant)
        .join(Program, Program.id == Participant.program_id)
        .where(
            Participant.phone == person,
            (Program.sender_number == ours) | Program.sender_number.is_(None),
        )
        # Someone in two programs on one number: the open, most recent enrolment wins.
        .order_by((Participant.status == "closed").asc(), Participant.id.desc())
        .limit(1)
    ).first()


def _caller(services, session: Session, req: VoiceRequest, call_id: int | None = None):
    participant = find_caller(session, req, call_id)
    if participant is None:
        return None
    program = session.get(Program, participant.program_id)
    values = outbox.common_values(session, participant, program)
    script = Script(services.settings.public_base_url, participant.language, values)
    return Caller(participant, program, script)


def _not_here(caller: Caller | None) -> str | None:
    """Why this caller may not use the line (their TwiML), or None when they may."""
    if caller is None:
        script = Script("", "en")
        script.say("goodbye")
        script.hangup()
        return str(script)
    key = NOT_HERE.get(caller.participant.status)
    if key is None:
        return None
    caller.script.say(key)
    caller.script.hangup()
    return str(caller.script)


# The call -------------------------------------------------------------------------------


def answer(services, req: VoiceRequest, call_id: int | None = None) -> str:
    """The call is connected (a call in, or one of ours answered)."""
    now = services.now()
    with services.sessions() as session:
        caller = _caller(services, session, req, call_id)
        if caller is None:
            log.info("call from an unknown number %s", mask_phone(req.from_number))
            program = session.exec(
                select(Program).where(Program.sender_number == req.to_number)
            ).first()
            script = Script(
                services.settings.public_base_url, program.language if program else "en"
            )
            script.say("unknown_caller")
            script.hangup()
            return str(script)
        refused = _not_here(caller)
        if refused is not None:
            return refused
        calls.answered(
            session, call_id=call_id, call_sid=req.call_sid, participant=caller.participant, now=now
        )
        session.commit()
        caller.script.say("greeting_outbound" if call_id is not None else "greeting")
        _menu(session, caller, now, intro="menu_intro")
        return str(caller.script)


def menu_choice(services, req: VoiceRequest, misses: int = 0) -> str:
    """A key or words in answer to the menu (or silence, via the fallback redirect)."""
    now = services.now()
    with services.sessions() as session:
        caller = _caller(services, session, req)
        refused = _not_here(caller)
        if refused is not None:
            return refused
        actions = menu_actions(session, caller.participant, now)
        action = choose(actions, req.digits, req.speech)
        if action is None:
            misses += 1
            if misses > MAX_MISSES:
                caller.script.say("goodbye")
                caller.script.hangup()
                return str(caller.script)
            caller.script.say("no_input" if req.silent else "not_a_choice")
            _menu(session, caller, now, intro="menu_intro", misses=misses)
            return str(caller.script)
        return _do(session, caller, action, now)


def _do(session: Session, caller: Caller, action: str, now) -> str:
    participant = caller.participant
    if action == "answer":
        _record(caller, keeping.current_question(participant))
    elif action == "reflect":
        _record(caller, "reflection")
    elif action == "message":
        _record(caller, "note")
    elif action == "commitments":
        _read_commitments(session, caller)
        _menu(session, caller, now)
    elif action == "checkin":
        checkin = keeping.open_voice_checkin(session, participant, now)
        if checkin is None:
            caller.script.say("checkin_none")
            _menu(session, caller, now)
        else:
            caller.script.say("checkin_intro")
            _ask_checkin_item(session, caller, checkin, given="", misses=0)
    return str(caller.script)


def menu_actions(session: Session, participant: Participant, now) -> list[str]:
    """What this participant can do on the phone now, in the order offered."""
    actions = []
    if participant.step in (1, 2):
        actions.append("answer")
    elif participant.step == 3:
        actions.append("reflect")
    elif participant.step == 5 and keeping.open_voice_checkin(session, participant, now):
        actions.append("checkin")
    if participant.step >= 4:
        actions.append("commitments")
    actions.append("message")
    return actions


def _menu(session, caller: Caller, now, intro: str = "menu_again", misses: int = 0) -> None:
    script = caller.script
    actions = menu_actions(session, caller.participant, now)
    gather = script.gather(
        script.url("/menu", misses=misses or None),
        hints=set().union(*(MENU_WORDS[a] for a in actions)),
    )
    script.say(intro, gather)
    for digit, action in enumerate(actions, start=1):
        label = script.line(f"label_{action}")
        word = script.line(f"word_{action}")
        script.say("menu_option", gather, label=label, digit=digit, word=word)
    # No answer: the same URL without Digits counts as a miss.
    script.redirect(script.url("/menu", misses=misses or None))


def choose(actions: list[str], digits: str, speech: str) -> str | None:
    """The menu option chosen by a key or by words, or None."""
    if digits:
        key = digits[:1]
        if key.isdigit() and 1 <= int(key) <= len(actions):
            return actions[int(key) - 1]
        return None
    words = set(_words(speech))
    for action in actions:
        if words & MENU_WORDS[action]:
            return action
    for index, numbers in enumerate(NUMBER_WORDS[: len(actions)]):
        if words & numbers:
            return actions[index]
    return None


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text or "").casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch if ch.isalnum() else " " for ch in text).split()


# Recording ------------------------------------------------------------------------------


def _record(caller: Caller, purpose: str, ask: bool = True) -> None:
    """Ask the question, then <Record> with the program's limit and the status callback."""
    script, participant = caller.script, caller.participant
    limit = recordings.max_seconds(caller.program)
    transcribe = recordings.wants_transcript(limit, participant.language)
    if ask:
        other = script.values.get("partner") or script.line("other_side")
        script.say(QUESTION_OF[purpose], other=other)
    script.say("record_howto", limit=limit_phrase(limit, participant.language))
    params = {"purpose": purpose, "tx": int(transcribe)}
    options = {
        "action": script.url("/recorded", **params),
        "method": "POST",
        "max_length": limit,
        "finish_on_key": "#",
        "trim": "trim-silence",
        "play_beep": True,
        "timeout": 10,  # seconds of silence that end it: room to pause and think
        # The audio itself is fetched when this callback says it is complete.
        "recording_status_callback": script.url("/recording", **params),
        "recording_status_callback_method": "POST",
        "recording_status_callback_event": "completed absent",
    }
    if transcribe:
        options["transcribe"] = True
        options["transcribe_callback"] = script.url("/transcription")
    script.response.record(**options)
    # Twilio skips the action when nothing at all was recorded and goes on here.
    script.say("nothing_heard")
    script.redirect(script.url("/menu"))


def recorded(
    services,
    req: VoiceRequest,
    *,
    purpose: str,
    transcribe: bool,
    recording_sid: str,
    duration: int | None,
    url: str | None,
) -> str:
    """The <Record> action: store the recording once, then ask keep or record again."""
    now = services.now()
    purpose = purpose if purpose in QUESTION_OF else "note"
    with services.sessions() as session:
        caller = _caller(services, session, req)
        refused = _not_here(caller)
        if refused is not None:
            return refused
        script = caller.script
        if not recording_sid:
            script.say("nothing_heard")
            _menu(session, caller, now)
            return str(script)
        reflection = recordings.store(
            session,
            recording_sid=recording_sid,
            participant_id=caller.participant.id,
            purpose=purpose,
            call_sid=req.call_sid,
            now=now,
            transcribe=transcribe,
            duration=duration,
            url=url,
        )
        session.commit()
        if not duration:
            keeping.discard(session, reflection.id, status="empty")
            session.commit()
            recordings.enqueue_settle(services, reflection.id)
            script.say("nothing_heard")
            _menu(session, caller, now)
            return str(script)
        if req.digits == "hangup":
            # They hung up while recording: no one hears this answer, so it only keeps.
            _keep(services, session, caller, reflection.id, now)
            return str(VoiceResponse())
        _ask_keep(caller, reflection.id, misses=0)
        return str(script)


def _ask_keep(caller: Caller, reflection_id: int, misses: int) -> None:
    script = caller.script
    action = script.url("/keep", reflection=reflection_id, misses=misses or None)
    gather = script.gather(action, hints={"keep", "again", "guardar", "otra vez"})
    script.say("keep_or_again", gather)
    script.redirect(action)


def keep_choice(services, req: VoiceRequest, *, reflection_id: int, misses: int = 0) -> str:
    """1 / "keep" keeps the recording; 2 / "again" records it again."""
    now = services.now()
    with services.sessions() as session:
        caller = _caller(services, session, req)
        refused = _not_here(caller)
        if refused is not None:
            return refused
        reflection = session.get(Reflection, reflection_id)
        if reflection is None or reflection.participant_id != caller.participant.id:
            caller.script.say("goodbye")
            caller.script.hangup()
            return str(caller.script)
        words = set(_words(req.speech)) | ({req.digits[:1]} if req.digits else set())
        choice = "keep" if words & KEEP_WORDS else "again" if words & AGAIN_WORDS else None
        if choice is None:
            misses += 1
            if misses < MAX_MISSES:
                caller.script.say("no_input" if req.silent else "not_a_choice")
                _ask_keep(caller, reflection_id, misses)
                return str(caller.script)
            choice = "keep"  # still no answer: what they said is kept, as promised
        if choice == "again":
            keeping.discard(session, reflection_id)
            session.commit()
            recordings.enqueue_settle(services, reflection_id)
            caller.script.say("again")
            _record(caller, reflection.purpose, ask=False)
            return str(caller.script)
        outcome = _keep(services, session, caller, reflection_id, now)
        caller.script.say(
            {
                "reflection": "kept_reflection",
                "answer_next": "kept_next_question",
                "answer_last": "kept_step3_next",
                "message": "kept_message",
            }.get(outcome, "kept")
        )
        _menu(session, caller, now)
        return str(caller.script)


def _keep(services, session, caller: Caller, reflection_id: int, now) -> str:
    result = keeping.keep(session, reflection_id, now)
    session.commit()
    session.refresh(caller.participant)
    outbox.enqueue_sends(services, result.messages)
    recordings.enqueue_settle(services, reflection_id)
    return result.outcome


# Commitments and check-ins --------------------------------------------------------------


def _read_commitments(session: Session, caller: Caller) -> None:
    script, participant = caller.script, caller.participant
    commitments = open_commitments(session, participant)
    if not commitments:
        script.say("commitments_none")
        return
    script.say("commitments_intro")
    for number, commitment in enumerate(commitments, start=1):
        script.say("commitment_item", n=number, text=commitment.text.strip().rstrip("."))
        if commitment.sign.strip():
            script.say("commitment_sign", sign=commitment.sign.strip().rstrip("."))
    if participant.step == 4 and waiting_for(session, participant):
        script.say("commitments_agree_hint")


def _ask_checkin_item(session, caller: Caller, checkin: CheckIn, *, given: str, misses: int):
    script = caller.script
    commitments = keeping.checkin_commitments(session, checkin)
    commitment = commitments[len(given)]
    action = script.url("/checkin", checkin=checkin.id, given=given or None, misses=misses or None)
    gather = script.gather(action, hints={"yes", "no", "partly", "si", "en parte"})
    key = "checkin_item_partner" if checkin.kind == "partner" else "checkin_item"
    script.say(key, gather, n=len(given) + 1, text=commitment.text.strip().rstrip("."))
    script.say("checkin_keys", gather)
    script.redirect(action)


def checkin_choice(
    services, req: VoiceRequest, *, checkin_id: int, given: str = "", misses: int = 0
) -> str:
    """One keypad or spoken answer of a voice check-in; all are recorded after the last."""
    now = services.now()
    with services.sessions() as session:
        caller = _caller(services, session, req)
        refused = _not_here(caller)
        if refused is not None:
            return refused
        script = caller.script
        checkin = session.get(CheckIn, checkin_id)
        commitments = keeping.checkin_commitments(session, checkin) if checkin else []
        valid = all(d in RESULT_OF_DIGIT for d in given) and len(given) < len(commitments)
        if checkin is None or checkin.participant_id != caller.participant.id or not valid:
            _menu(session, caller, now)
            return str(script)
        result = _checkin_result(req)
        if result is None:
            misses += 1
            if misses > MAX_MISSES:
                script.say("checkin_unfinished")
                _menu(session, caller, now)
                return str(script)
            script.say("no_input" if req.silent else "not_a_choice")
            _ask_checkin_item(session, caller, checkin, given=given, misses=misses)
            return str(script)
        given += DIGIT_OF_RESULT[result]
        if len(given) < len(commitments):
            _ask_checkin_item(session, caller, checkin, given=given, misses=0)
            return str(script)
        results = [RESULT_OF_DIGIT[d] for d in given]
        recorded_, messages = keeping.submit_checkin(
            session, caller.participant, checkin.id, results, now
        )
        session.commit()
        outbox.enqueue_sends(services, messages)
        log.info("voice check-in %s: %s", checkin.id, "recorded" if recorded_ else "not open")
        script.say("checkin_thanks")
        _menu(session, caller, now)
        return str(script)


def _checkin_result(req: VoiceRequest) -> str | None:
    if req.digits:
        return parse_voice_digits(req.digits[:1])
    if not req.speech:
        return None
    parsed = parse_checkin_answer(req.speech, 1)
    return None if parsed.ambiguous else parsed.results[0]

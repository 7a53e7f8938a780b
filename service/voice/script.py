"""What a caller hears: the call script for every caller state, as TwiML.

Each function answers one Twilio request with a complete TwiML document (voice/twiml.py
renders it). What must survive between the requests of one call (which recording, which
check-in, answers so far, how many misses) travels in the query strings of our own action
URLs, which Twilio signs along with the rest of the request. What an answer means is the
step machine's (through voice/keeping.py), as for a text.

Every menu and question takes keys and speech (`<Gather input="dtmf speech">`). Silence or
an unknown answer is asked again; after `MAX_MISSES` the call ends kindly (a recording
waiting for keep-or-again is then kept).
"""

from __future__ import annotations

import logging

from sqlmodel import Session
from twilio.twiml.voice_response import VoiceResponse

from service.core import choices
from service.core.enums import RecordingStatus
from service.core.redact import mask_phone
from service.core.spoken import limit_phrase
from service.models import CheckIn, Participant, Reflection
from service.program import checkin_answers
from service.program.commitments import open_commitments, waiting_for
from service.program.matching import defaults_of, program_reached
from service.unit_of_work import UnitOfWork
from service.voice import calls, keeping, recordings
from service.voice.twiml import Caller, Script, VoiceRequest, caller_of, find_caller, not_here

log = logging.getLogger(__name__)

MAX_MISSES = 2
QUESTION_OF = {
    "what_happened": "ask_what_happened",
    "emotions": "ask_emotions",
    "pattern": "ask_pattern",
    "responsibility": "ask_responsibility",
    "reflection": "ask_reflection",
    "note": "ask_message",
}


# The call -------------------------------------------------------------------------------


def apology(services, req: VoiceRequest | None, call_id: int | None = None) -> str:
    """What a caller hears when something failed on our side: sorry, in their language when
    we can still tell who they are (else in English), then goodbye."""
    lang = "en"
    try:
        if req is None:
            raise LookupError("the call's form could not be read")
        with services.sessions() as session:
            participant = find_caller(session, req, defaults_of(services.settings), call_id)
            if participant is None:
                program = program_reached(
                    session, req.to_number, None, defaults_of(services.settings)
                )
                lang = program.language if program else lang
            else:
                lang = participant.language
    except Exception:  # the failure may be the database itself: English will do
        log.warning("could not tell the caller's language for the apology", exc_info=True)
    script = Script("", lang)
    script.say("sorry_error")
    script.hangup()
    return str(script)


def answer(services, req: VoiceRequest, call_id: int | None = None) -> str:
    """The call is connected (a call in, or one of ours answered)."""
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        caller = caller_of(services, session, req, call_id)
        if caller is None:
            log.info("call from an unknown number %s", mask_phone(req.from_number))
            program = program_reached(session, req.to_number, None, defaults_of(services.settings))
            script = Script(
                services.settings.public_base_url, program.language if program else "en"
            )
            script.say("unknown_caller")
            script.hangup()
            return str(script)
        refused = not_here(caller)
        if refused is not None:
            return refused
        calls.answered(
            session, call_id=call_id, call_sid=req.call_sid, participant=caller.participant, now=now
        )
        uow.commit()
        caller.script.say("greeting_outbound" if call_id is not None else "greeting")
        _menu(session, caller, now, intro="menu_intro")
        return str(caller.script)


def menu_choice(services, req: VoiceRequest, misses: int = 0) -> str:
    """A key or words in answer to the menu (or silence, via the fallback redirect)."""
    now = services.now()
    with UnitOfWork(services) as uow:
        session = uow.session
        caller = caller_of(services, session, req)
        refused = not_here(caller)
        if refused is not None:
            return refused
        actions = menu_actions(session, caller.participant, now)
        action = choices.choose(actions, req.digits, req.speech)
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
        _record(caller, keeping.current_question(session, participant, now))
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
        hints=set().union(*(choices.MENU_WORDS[a] for a in actions)),
    )
    script.say(intro, gather)
    for digit, action in enumerate(actions, start=1):
        label = script.line(f"label_{action}")
        word = script.line(f"word_{action}")
        script.say("menu_option", gather, label=label, digit=digit, word=word)
    # No answer: the same URL without Digits counts as a miss.
    script.redirect(script.url("/menu", misses=misses or None))


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
    with UnitOfWork(services) as uow:
        session = uow.session
        caller = caller_of(services, session, req)
        refused = not_here(caller)
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
        uow.commit()
        if not duration:
            keeping.discard(uow, reflection.id, status=RecordingStatus.EMPTY)
            uow.commit()
            script.say("nothing_heard")
            _menu(session, caller, now)
            return str(script)
        if req.digits == "hangup":
            # They hung up while recording: no one hears this answer, so it only keeps.
            _keep(uow, caller, reflection.id)
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
    with UnitOfWork(services) as uow:
        session = uow.session
        caller = caller_of(services, session, req)
        refused = not_here(caller)
        if refused is not None:
            return refused
        reflection = session.get(Reflection, reflection_id)
        if reflection is None or reflection.participant_id != caller.participant.id:
            caller.script.say("goodbye")
            caller.script.hangup()
            return str(caller.script)
        choice = choices.keep_or_again(req.digits, req.speech)
        if choice is None:
            misses += 1
            if misses < MAX_MISSES:
                caller.script.say("no_input" if req.silent else "not_a_choice")
                _ask_keep(caller, reflection_id, misses)
                return str(caller.script)
            choice = "keep"  # still no answer: what they said is kept, as promised
        if choice == "again":
            keeping.discard(uow, reflection_id)
            uow.commit()
            caller.script.say("again")
            _record(caller, reflection.purpose, ask=False)
            return str(caller.script)
        outcome = _keep(uow, caller, reflection_id)
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


def _keep(uow: UnitOfWork, caller: Caller, reflection_id: int) -> str:
    result = keeping.keep(uow, reflection_id)
    uow.commit()
    uow.session.refresh(caller.participant)
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
    commitments = checkin_answers.commitments_of(session, checkin)
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
    with UnitOfWork(services) as uow:
        session = uow.session
        caller = caller_of(services, session, req)
        refused = not_here(caller)
        if refused is not None:
            return refused
        script = caller.script
        checkin = session.get(CheckIn, checkin_id)
        commitments = checkin_answers.commitments_of(session, checkin) if checkin else []
        valid = all(d in choices.RESULT_OF_DIGIT for d in given) and len(given) < len(commitments)
        if checkin is None or checkin.participant_id != caller.participant.id or not valid:
            _menu(session, caller, now)
            return str(script)
        result = choices.checkin_result(req.digits, req.speech)
        if result is None:
            misses += 1
            if misses > MAX_MISSES:
                script.say("checkin_unfinished")
                _menu(session, caller, now)
                return str(script)
            script.say("no_input" if req.silent else "not_a_choice")
            _ask_checkin_item(session, caller, checkin, given=given, misses=misses)
            return str(script)
        given += choices.DIGIT_OF_RESULT[result]
        if len(given) < len(commitments):
            _ask_checkin_item(session, caller, checkin, given=given, misses=0)
            return str(script)
        results = [choices.RESULT_OF_DIGIT[d] for d in given]
        recorded_ = keeping.submit_checkin(uow, caller.participant, checkin.id, results)
        uow.commit()
        log.info("voice check-in %s: %s", checkin.id, "recorded" if recorded_ else "not open")
        script.say("checkin_thanks")
        _menu(session, caller, now)
        return str(script)

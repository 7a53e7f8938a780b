"""What each caller hears: the TwiML for every caller state, parsed as XML."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.models import (
    AttentionItem,
    Call,
    CheckIn,
    CheckInAnswer,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)
from tests.support.factories import get, make_participant, make_program, outbound
from tests.support.voice import (
    PhoneCall,
    at_step,
    live_commitments,
    open_checkin,
    options,
    query_of,
    said,
)

BASE = "https://realign.example.org/twilio/voice"


@pytest.fixture
def program(services):
    return make_program(services)


@pytest.fixture
def ana(services, program):
    return make_participant(services, program)


@pytest.fixture
def call(twilio_post):
    return PhoneCall(twilio_post)


def rows(services, model, *where):
    with services.sessions() as session:
        return list(session.exec(select(model).where(*where)).all())


# Who is calling ---------------------------------------------------------------------------


def test_unknown_caller_hears_a_polite_message_and_nothing_is_recorded(services, program, call):
    stranger = PhoneCall(call.post, from_="+12015559999")
    root = stranger.answer()
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert "can't find this number" in said(root)
    assert root.find("Record") is None and root.find("Gather") is None
    assert rows(services, Call) == [] and rows(services, Reflection) == []


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("invited", "reply YES"),
        ("opted_out", "nothing will be recorded"),
        ("closed", "program with Dana Coach is complete"),
    ],
)
def test_known_callers_who_may_not_record_are_told_why(services, ana, call, status, words):
    at_step(services, ana.id, 2, status=status)
    if status == "invited":
        with services.sessions() as session:
            p = session.get(Participant, ana.id)
            p.consent_at = None
            session.add(p)
            session.commit()
    root = call.answer()
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert words in said(root) and "Ana" in said(root)


def test_greeting_names_caller_and_says_who_keeps_the_recording(services, ana, call):
    at_step(services, ana.id, 1, prompt="step1_what_happened")
    root = call.answer()
    greeting = root.find("Say").text
    assert greeting.startswith("Hi Ana, this is Founders Reset")
    assert "kept for Dana Coach, your facilitator" in greeting
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("numDigits") == "1"
    assert gather.get("action") == f"{BASE}/menu" and gather.get("method") == "POST"
    assert gather.get("language") == "en-US" and "answer" in gather.get("hints")
    # Silence: the fallback posts the menu again (it counts as a miss there).
    assert root.find("Redirect").text == f"{BASE}/menu"
    [inbound] = rows(services, Call)
    assert (inbound.direction, inbound.call_sid, inbound.participant_id) == ("in", call.sid, ana.id)


# The menu for each step ---------------------------------------------------------------------


def test_step1_menu_records_the_open_question(services, ana, call):
    at_step(services, ana.id, 1, prompt="step1_emotions")
    root = call.answer()
    assert options(root) == [
        "To answer your next question, press 1, or say answer.",
        "To leave a message for Dana Coach, press 2, or say message.",
    ]
    root = call.press(root, "1")
    assert "What did you feel when it happened?" in said(root)
    record = root.find("Record")
    assert record.get("maxLength") == "180"  # the program default, 3 minutes
    assert record.get("finishOnKey") == "#"
    assert record.get("trim") == "trim-silence"
    assert record.get("playBeep") == "true"
    assert record.get("action") == f"{BASE}/recorded?purpose=emotions&tx=0"
    assert record.get("recordingStatusCallback") == f"{BASE}/recording?purpose=emotions&tx=0"
    assert record.get("recordingStatusCallbackEvent") == "completed absent"
    # Longer than Twilio transcribes (2 minutes): no transcription asked for.
    assert record.get("transcribe") is None and record.get("transcribeCallback") is None
    assert "up to 3 minutes" in said(root)


def test_step2_menu_records_the_responsibility_answer(services, ana, call):
    at_step(services, ana.id, 2, prompt="step2_responsibility")
    root = call.press(call.answer(), "1")
    assert "Only your own part" in said(root)
    assert query_of(root.find("Record").get("action"))["purpose"] == "responsibility"


def test_speech_chooses_too(services, ana, call):
    at_step(services, ana.id, 3)
    root = call.answer()
    root = call.follow(root.find("Gather").get("action"), SpeechResult="My reflection, please.")
    assert query_of(root.find("Record").get("action"))["purpose"] == "reflection"


def test_step3_menu_records_the_reflection_and_transcribes_short_ones(services, program, ana, call):
    with services.sessions() as session:
        p = session.get(Program, program.id)
        p.options = {**p.options, "recording_max_seconds": 120}
        session.add(p)
        session.commit()
    at_step(services, ana.id, 3)
    root = call.answer()
    assert options(root)[0] == "To record your reflection, press 1, or say reflection."
    root = call.press(root, "1")
    assert "what you heard from the other person" in said(root)
    record = root.find("Record")
    assert record.get("maxLength") == "120"
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == f"{BASE}/transcription"
    assert record.get("action") == f"{BASE}/recorded?purpose=reflection&tx=1"
    assert "up to 2 minutes" in said(root)
    # Nothing recorded at all: Twilio skips the action and plays what follows.
    assert [c.tag for c in root][-2:] == ["Say", "Redirect"]


def test_step4_reads_commitments_back_and_says_how_to_agree(services, ana, call):
    from service.program import commitments

    at_step(services, ana.id, 4)
    with services.sessions() as session:
        p = session.get(Participant, ana.id)
        commitments.add_commitment(
            session,
            p,
            "Send the weekly numbers by Friday noon",
            sign="The update is in the channel",
            now=services.now(),
        )
        session.commit()
    root = call.answer()
    assert options(root)[0] == "To hear your commitments, press 1, or say commitments."
    root = call.press(root, "1")
    text = said(root)
    assert "Number 1: Send the weekly numbers by Friday noon." in text
    assert "You'll know it's working when: The update is in the channel." in text
    assert "reply AGREE" in text
    assert root.find("Gather").get("action") == f"{BASE}/menu"  # back to the menu


def test_step5_voice_checkin_keys(services, ana, call):
    ids = live_commitments(services, ana.id, ["Call Ben before cancelling", "Share numbers Friday"])
    at_step(services, ana.id, 5)
    checkin_id = open_checkin(services, ana.id, ids)
    root = call.answer()
    assert options(root)[:2] == [
        "To do your check-in, press 1, or say check in.",
        "To hear your commitments, press 2, or say commitments.",
    ]
    root = call.press(root, "1")
    assert "press 1 if you kept it, 2 if you didn't, or 3 if you partly did" in said(root)
    assert "Number 1: Call Ben before cancelling. Did you keep it?" in said(root)
    gather = root.find("Gather")
    assert query_of(gather.get("action")) == {"checkin": str(checkin_id)}
    root = call.press(root, "1")
    assert "Number 2: Share numbers Friday. Did you keep it?" in said(root)
    assert query_of(root.find("Gather").get("action")) == {"checkin": str(checkin_id), "given": "1"}
    root = call.press(root, "3")
    assert "Thank you for checking in" in said(root)
    checkin = get(services, CheckIn, checkin_id)
    assert checkin.status == "answered" and checkin.answer_raw == "voice: Y P"
    answers = rows(services, CheckInAnswer, CheckInAnswer.checkin_id == checkin_id)
    assert sorted((a.commitment_id, a.result) for a in answers) == [
        (ids[0], "kept"),
        (ids[1], "partly"),
    ]
    # The check-in is done: the menu no longer offers it.
    assert "check-in" not in " ".join(options(root))


def test_checkin_asks_again_on_a_wrong_key_then_understands_words(services, ana, call):
    ids = live_commitments(services, ana.id, ["Call Ben before cancelling"])
    at_step(services, ana.id, 5)
    checkin_id = open_checkin(services, ana.id, ids)
    root = call.press(call.answer(), "1")
    root = call.press(root, "7")
    assert said(root).startswith("Sorry, that isn't one of the choices.")
    assert query_of(root.find("Gather").get("action"))["misses"] == "1"
    root = call.follow(root.find("Gather").get("action"), SpeechResult="No, not this time.")
    assert "Thank you for checking in" in said(root)
    [answer] = rows(services, CheckInAnswer, CheckInAnswer.checkin_id == checkin_id)
    assert answer.result == "missed"


def test_step5_without_an_open_checkin_offers_commitments(services, ana, call):
    live_commitments(services, ana.id, ["Call Ben before cancelling"])
    at_step(services, ana.id, 5)
    assert options(call.answer())[0] == "To hear your commitments, press 1, or say commitments."


def test_silence_and_wrong_keys_are_asked_again_then_the_call_ends_kindly(services, ana, call):
    at_step(services, ana.id, 3)
    root = call.answer()
    root = call.follow(root.find("Redirect").text)  # silence: no Digits
    assert said(root).startswith("Sorry, I didn't catch that.")
    root = call.press(root, "9")
    assert said(root).startswith("Sorry, that isn't one of the choices.")
    root = call.follow(root.find("Redirect").text)
    assert [c.tag for c in root] == ["Say", "Hangup"] and "Take care" in said(root)


def test_spanish_callers_hear_spanish(services, program, call):
    ana = make_participant(services, program, language="es")
    at_step(services, ana.id, 3)
    root = call.answer()
    say = root.find("Say")
    assert (say.get("language"), say.get("voice")) == ("es-US", "Polly.Lupe")
    assert say.text.startswith("Hola Ana")
    assert root.find("Gather").get("language") == "es-US"
    record = call.press(root, "1").find("Record")
    assert record.get("transcribe") is None  # Twilio transcribes English only


# Recording: keep or record again ------------------------------------------------------------


def test_re_record_discards_the_first_and_records_again(services, ana, call):
    at_step(services, ana.id, 3)
    root = call.press(call.answer(), "1")
    first, root = call.record(root)
    gather = root.find("Gather")
    assert "To keep it, press 1" in said(root) and "To record it again, press 2" in said(root)
    [reflection] = rows(services, Reflection)
    assert query_of(gather.get("action")) == {"reflection": str(reflection.id)}
    root = call.press(root, "2")
    assert said(root).startswith("Okay, let's record it again.")
    record = root.find("Record")
    assert query_of(record.get("action"))["purpose"] == "reflection"
    assert get(services, Reflection, reflection.id).status == "discarded"
    second, root = call.record(root)
    root = call.press(root, "1")
    assert "Your reflection is kept for Dana Coach" in said(root)
    statuses = {r.recording_sid: r.status for r in rows(services, Reflection)}
    assert statuses == {first: "discarded", second: "kept"}
    assert get(services, Participant, ana.id).step == 4


def test_no_choice_after_recording_keeps_it(services, ana, call):
    at_step(services, ana.id, 3)
    _, root = call.record(call.press(call.answer(), "1"))
    root = call.follow(root.find("Redirect").text)  # silence
    assert said(root).startswith("Sorry, I didn't catch that.")
    root = call.follow(root.find("Redirect").text)  # silence again: kept, as promised
    assert "Your reflection is kept" in said(root)
    assert get(services, Participant, ana.id).step == 4


def test_hanging_up_while_recording_keeps_it(services, ana, call):
    at_step(services, ana.id, 3)
    _, root = call.record(call.press(call.answer(), "1"), digits="hangup")
    assert list(root) == []
    [reflection] = rows(services, Reflection)
    assert reflection.status == "kept"
    assert get(services, Participant, ana.id).step == 4


def test_an_empty_recording_is_not_kept(services, ana, call):
    at_step(services, ana.id, 3)
    _, root = call.record(call.press(call.answer(), "1"), duration=0)
    assert said(root).startswith("We didn't hear anything")
    [reflection] = rows(services, Reflection)
    assert reflection.status == "empty"
    assert get(services, Participant, ana.id).step == 3


# Spoken answers move the steps on like texted ones ------------------------------------------


def test_spoken_step1_answers_become_voice_statements_and_advance(services, ana, call):
    at_step(services, ana.id, 1, prompt="step1_what_happened")
    root = call.answer()
    _, root = call.record(call.press(root, "1"))
    root = call.press(root, "1")
    assert "Your answer is kept" in said(root)
    p = get(services, Participant, ana.id)
    assert (p.step, p.prompt) == (1, "step1_emotions")
    # The next question is texted too, a little later, unless answered on this call.
    [follow_up] = [m for m in outbound(services, ana.id) if m.template == "step1_emotions"]
    assert follow_up.status == "pending"
    assert follow_up.send_after == services.now() + timedelta(minutes=10)

    # She answers it on the same call: the text is cancelled.
    _, root = call.record(call.press(root, "1"))
    call.press(root, "1")
    assert get(services, Message, follow_up.id).status == "cancelled"
    statements = rows(services, Statement, Statement.participant_id == ana.id)
    assert [(s.step, s.kind, s.channel) for s in statements] == [
        (1, "what_happened", "voice"),
        (1, "emotions", "voice"),
    ]
    recordings = {r.id: r.purpose for r in rows(services, Reflection)}
    assert [recordings[s.recording_id] for s in statements] == ["what_happened", "emotions"]
    assert get(services, Participant, ana.id).prompt == "step1_pattern"


def test_last_spoken_answer_opens_step3(services, ana, call):
    at_step(services, ana.id, 2, prompt="step2_responsibility")
    _, root = call.record(call.press(call.answer(), "1"))
    root = call.press(root, "1")
    assert "That was the last question" in said(root)
    p = get(services, Participant, ana.id)
    assert (p.step, p.prompt) == (3, None)
    # Straight on to the reflection, on the same call.
    assert options(root)[0] == "To record your reflection, press 1, or say reflection."


def test_a_message_for_the_facilitator_flags_it(services, ana, call):
    at_step(services, ana.id, 5)
    root = call.answer()
    assert options(root)[-1].startswith("To leave a message for Dana Coach, press 2")
    root = call.press(root, "2")
    assert "Please leave your message for Dana Coach." in said(root)
    _, root = call.record(root, duration=75)
    root = call.press(root, "1")
    assert "Your message is kept for Dana Coach" in said(root)
    [flag] = rows(services, AttentionItem, AttentionItem.kind == "voice_message")
    assert flag.detail == "left a voice message (1:15)"

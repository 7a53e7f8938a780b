from service.core.compose_rules import MAX_BODY, body_problem, refusal
from service.core.enums import ParticipantStatus


def test_opted_out_undeliverable_and_closed_people_are_not_texted_and_each_says_why():
    assert "STOP" in refusal(ParticipantStatus.OPTED_OUT)
    assert "call them" in refusal(ParticipantStatus.UNDELIVERABLE)
    assert "closed" in refusal(ParticipantStatus.CLOSED)
    assert refusal(ParticipantStatus.ACTIVE) is None
    assert refusal(ParticipantStatus.PAUSED) is None  # a pause holds check-ins, not a coach
    assert refusal("something-old") is None


def test_empty_and_overlong_texts_are_refused_with_the_count():
    assert body_problem("   ") == "write something to send"
    assert body_problem("x" * (MAX_BODY + 1)) == "a text holds at most 1600 characters (1601 now)"
    assert body_problem("See you Thursday?") is None

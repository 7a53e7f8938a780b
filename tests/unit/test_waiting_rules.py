"""What the list says we are waiting for from each person."""

from service.core.waiting_rules import WaitingOn, waiting_on


def test_what_we_wait_for_follows_their_status_step_and_question():
    assert waiting_on("invited", 1, None, False) is WaitingOn.CONSENT
    assert waiting_on("active", 1, "step1_emotions", False) is WaitingOn.ANSWER
    assert waiting_on("active", 2, "step2_responsibility", False) is WaitingOn.ANSWER
    assert waiting_on("active", 3, None, False) is WaitingOn.REFLECTION
    assert waiting_on("active", 4, "agree", False) is WaitingOn.AGREE
    assert waiting_on("active", 4, None, False) is WaitingOn.NOTHING
    assert waiting_on("active", 5, None, True) is WaitingOn.CHECKIN
    assert waiting_on("active", 5, None, False) is WaitingOn.NOTHING


def test_nothing_is_awaited_from_people_we_do_not_text_now():
    for status in ("paused", "opted_out", "undeliverable", "closed"):
        assert waiting_on(status, 5, None, True) is WaitingOn.NOTHING
        assert waiting_on(status, 1, "step1_what_happened", False) is WaitingOn.NOTHING

"""The system's lines in a participant's thread, and check-in results in words."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from service.core.enums import CallStatus, CheckInStatus
from service.core.thread_events import (
    AUDITED,
    STEP_CHANGED,
    Answer,
    Entry,
    Line,
    answers,
    call_line,
    checkin_line,
    merged,
)

T = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)


def test_calls_read_as_placed_answered_or_missed():
    assert call_line("out", CallStatus.RINGING) == Line.CALL_PLACED
    assert call_line("out", CallStatus.PENDING) == Line.CALL_PLACED
    assert call_line("out", CallStatus.COMPLETED) == Line.CALL_ANSWERED
    assert call_line("out", CallStatus.NO_ANSWER) == Line.CALL_MISSED
    assert call_line("out", CallStatus.BUSY) == Line.CALL_MISSED
    assert call_line("out", CallStatus.CANCELLED) is None
    assert call_line("in", CallStatus.COMPLETED) == Line.CALL_IN


def test_only_a_check_ins_result_is_a_line_and_step_changes_are_lines():
    assert checkin_line(CheckInStatus.ANSWERED) == Line.CHECKIN_ANSWERED
    assert checkin_line(CheckInStatus.MISSED) == Line.CHECKIN_MISSED
    assert checkin_line(CheckInStatus.OPEN) is None
    assert AUDITED[STEP_CHANGED] == Line.STEP
    assert "text_participant" not in AUDITED  # the text itself is in the thread


def test_each_commitment_asked_has_its_result_in_words():
    results = {1: "kept", 2: "partly"}
    assert answers(CheckInStatus.ANSWERED, [1, 2, 3], results) == [
        (1, Answer.KEPT),
        (2, Answer.PARTLY),
        (3, Answer.NO_ANSWER),
    ]
    assert answers(CheckInStatus.MISSED, [1], {}) == [(1, Answer.NO_ANSWER)]
    assert answers(CheckInStatus.OPEN, [1], {}) == [(1, Answer.WAITING)]
    assert answers(CheckInStatus.ANSWERED, [4], {4: "missed"}) == [(4, Answer.MISSED)]
    assert answers(CheckInStatus.CANCELLED, [1], {}) == [(1, Answer.NOT_ASKED)]


def test_lines_sit_among_texts_newest_first_after_the_text_that_caused_them():
    text = SimpleNamespace(created_at=T, body="2")
    older = SimpleNamespace(created_at=T - timedelta(hours=1), body="hi")
    line = "step 2"
    newest = "call"
    shown = merged([text, older], [Entry(T, 1, line), Entry(T + timedelta(minutes=5), 1, newest)])
    assert shown == [newest, line, text, older]

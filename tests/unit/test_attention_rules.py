"""Today's rules: urgent kinds first, what was said in 140 characters, snoozes that end at
8 am in the person's zone, events that settle items, and who has gone quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.core import attention_rules as rules
from service.core.attention_rules import Cause, QuietFacts, QuietReason
from service.core.enums import AttentionKind as K
from service.core.enums import ParticipantStatus as S

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday, 10 am in New York


def test_urgent_kinds_come_first_in_the_order_coaches_asked_for():
    kinds = [K.REFLECTION, K.QUIET, K.MISSED_RUN, K.DISAGREEMENT, K.HEADSUP, K.UNDELIVERABLE]
    ordered = sorted(kinds, key=rules.urgency)
    assert ordered == [
        K.UNDELIVERABLE, K.HEADSUP, K.DISAGREEMENT, K.MISSED_RUN, K.QUIET, K.REFLECTION,
    ]  # fmt: skip
    assert rules.urgency(K.OPTED_OUT) == rules.urgency(K.UNDELIVERABLE) == 0
    assert rules.urgency("no_such_kind") > rules.urgency(K.PAUSED)


def test_an_excerpt_is_140_characters_cut_at_a_word():
    short, cut = rules.excerpt("  I may  miss\nFriday. ")
    assert (short, cut) == ("I may miss Friday.", False)
    long_text = "I promised to call every Sunday " * 10
    shown, cut = rules.excerpt(long_text)
    assert cut and shown.endswith("…") and len(shown) <= 141
    assert long_text.startswith(shown[:-1])
    assert rules.excerpt(None) == ("", False)


def test_a_snooze_ends_at_8_am_in_their_zone():
    tomorrow = rules.snoozed_until("tomorrow", NOW, "America/New_York")
    assert tomorrow == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 8 am EST
    week = rules.snoozed_until(rules.Snooze.NEXT_WEEK, NOW, "America/New_York")
    assert week == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert rules.snoozed_until("tomorrow", NOW, None) == datetime(2026, 12, 4, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        rules.snoozed_until("forever", NOW, None)


def test_events_settle_the_items_they_make_needless():
    assert rules.causes(S.ACTIVE, S.CLOSED, replied=False) == [Cause.CLOSED]
    assert rules.settled_by(Cause.CLOSED) is None  # every kind
    assert rules.causes(S.OPTED_OUT, S.ACTIVE, replied=True) == [Cause.OPTED_IN, Cause.REPLIED]
    assert K.OPTED_OUT in rules.settled_by(Cause.OPTED_IN)
    assert rules.causes(S.UNDELIVERABLE, S.ACTIVE, replied=True)[0] == Cause.REACHABLE
    assert K.CALL_REQUESTED in rules.settled_by(Cause.CALLED)
    assert rules.settled_by(Cause.REPLIED) == {K.QUIET}
    assert rules.causes(S.ACTIVE, None, replied=False) == []
    assert rules.causes(S.ACTIVE, S.OPTED_OUT, replied=True) == [Cause.REPLIED]


def _facts(**kw) -> QuietFacts:
    base = dict(
        status=S.ACTIVE, step=1, last_reply_at=None, consent_at=NOW - timedelta(days=30),
        invited_at=None, agree_asked_at=None, checkin_sent_since_reply=False,
    )  # fmt: skip
    return QuietFacts(**{**base, **kw})


def test_no_reply_for_n_days_in_steps_1_to_4_is_quiet():
    assert rules.quiet(_facts(consent_at=NOW - timedelta(days=1)), NOW) is None  # one day
    found = rules.quiet(_facts(last_reply_at=NOW - timedelta(days=3, hours=1)), NOW)
    assert found.reason == QuietReason.NO_REPLY and "3 days" in found.detail
    assert rules.quiet(_facts(last_reply_at=NOW - timedelta(days=3)), NOW, days=5) is None
    # The spell is named by when it began: the same spell is the same key.
    spell = _facts(last_reply_at=NOW - timedelta(days=3, hours=1))
    later = rules.quiet(spell, NOW + timedelta(hours=5))
    assert later.key == found.key
    assert rules.quiet(_facts(status=S.PAUSED, consent_at=NOW - timedelta(days=9)), NOW) is None


def test_invited_with_no_yes_after_48_hours_is_quiet():
    invited = _facts(status=S.INVITED, consent_at=None, invited_at=NOW - timedelta(hours=47))
    assert rules.quiet(invited, NOW) is None
    found = rules.quiet(invited, NOW + timedelta(hours=1))
    assert found.reason == QuietReason.NO_YES
    answered = _facts(
        status=S.INVITED, consent_at=None, invited_at=NOW - timedelta(days=3),
        last_reply_at=NOW - timedelta(days=2),
    )  # fmt: skip
    assert rules.quiet(answered, NOW) is None  # they answered (not YES): not silent


def test_commitments_waiting_on_agree_for_2_days_are_quiet():
    waiting = _facts(
        step=4, consent_at=NOW - timedelta(days=20), last_reply_at=NOW - timedelta(days=2, hours=3),
        agree_asked_at=NOW - timedelta(days=2, hours=1),
    )  # fmt: skip
    assert rules.quiet(waiting, NOW).reason == QuietReason.NO_AGREE


def test_check_ins_unanswered_for_a_week_are_quiet():
    living = _facts(step=5, last_reply_at=NOW - timedelta(days=8), checkin_sent_since_reply=True)
    assert rules.quiet(living, NOW).reason == QuietReason.CHECKINS
    recent = _facts(step=5, last_reply_at=NOW - timedelta(days=6), checkin_sent_since_reply=True)
    assert rules.quiet(recent, NOW) is None
    # Nothing was asked of them since their reply: not quiet, just no check-ins due.
    assert rules.quiet(_facts(step=5, last_reply_at=NOW - timedelta(days=8)), NOW) is None


def test_only_a_reply_after_a_day_of_silence_can_end_a_quiet_spell():
    assert rules.could_end_a_spell(None, None, NOW)
    assert rules.could_end_a_spell(NOW - timedelta(days=1), None, NOW)
    assert not rules.could_end_a_spell(NOW - timedelta(hours=23), None, NOW)
    assert not rules.could_end_a_spell(None, NOW - timedelta(hours=2), NOW)  # just agreed
    # ...because no spell is ever raised sooner, whatever the program says.
    assert rules.quiet(_facts(last_reply_at=NOW - timedelta(hours=23)), NOW, days=0) is None

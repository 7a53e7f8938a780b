"""The list's 14-day strip: one dot per day of the person's own calendar."""

from datetime import UTC, date, datetime, timedelta

from service.core.checkin_strip import STRIP_DAYS, Asked, Dot, dot_of, strip, strip_start

NOW = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # Mon 2 Mar, 10 pm in New York
NY = "America/New_York"


def test_each_check_in_becomes_the_dot_a_coach_expects():
    assert dot_of("answered", ["kept", "kept"]) is Dot.KEPT
    assert dot_of("answered", ["kept", "missed"]) is Dot.PARTLY
    assert dot_of("answered", ["partly"]) is Dot.PARTLY
    assert dot_of("answered", ["missed"]) is Dot.NOT_KEPT
    assert dot_of("missed", []) is Dot.NO_ANSWER
    assert dot_of("open", []) is Dot.NO_ANSWER
    assert dot_of("cancelled", []) is Dot.NONE
    assert dot_of("unsent", []) is Dot.NONE


def test_the_strip_is_fourteen_of_their_days_ending_today_in_their_zone():
    asked = [
        # 1:00 UTC on 3 Mar is still 2 Mar (today) in New York.
        Asked(datetime(2026, 3, 3, 1, 0, tzinfo=UTC), "answered", ("kept",)),
        Asked(datetime(2026, 3, 1, 23, 0, tzinfo=UTC), "missed"),  # 1 Mar there
        # Two on one day: the worse one shows.
        Asked(datetime(2026, 2, 27, 14, 0, tzinfo=UTC), "answered", ("kept",)),
        Asked(datetime(2026, 2, 27, 20, 0, tzinfo=UTC), "answered", ("missed",)),
        Asked(datetime(2026, 2, 10, 20, 0, tzinfo=UTC), "answered", ("kept",)),  # too old
    ]
    days = strip(asked, NY, NOW)
    assert len(days) == STRIP_DAYS
    assert days[0][0] == date(2026, 2, 17) and days[-1][0] == date(2026, 3, 2)
    shown = dict(days)
    assert shown[date(2026, 3, 2)] is Dot.KEPT
    assert shown[date(2026, 3, 1)] is Dot.NO_ANSWER
    assert shown[date(2026, 2, 27)] is Dot.NOT_KEPT
    assert shown[date(2026, 2, 28)] is Dot.NONE
    # In UTC the same check-ins fall on other days.
    assert dict(strip(asked, "UTC", NOW))[date(2026, 3, 3)] is Dot.KEPT


def test_reading_from_strip_start_covers_every_zones_first_day():
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):
        first = strip([], tz, NOW)[0][0]
        from service.core.local_time import zone

        midnight = datetime.combine(first, datetime.min.time(), tzinfo=zone(tz))
        assert strip_start(NOW) <= midnight, tz
    assert NOW - strip_start(NOW) < timedelta(days=15)

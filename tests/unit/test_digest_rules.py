"""The daily digest leaves on the facilitator's own morning."""

from datetime import UTC, date, datetime

from service.core.digest_rules import digest_day


def test_the_digest_day_is_the_facilitators_from_nine_until_eight_in_the_evening():
    berlin = "Europe/Berlin"  # UTC+1 in March
    assert digest_day(datetime(2026, 3, 3, 7, 59, tzinfo=UTC), berlin) is None  # 08:59
    assert digest_day(datetime(2026, 3, 3, 8, 0, tzinfo=UTC), berlin) == date(2026, 3, 3)
    assert digest_day(datetime(2026, 3, 3, 18, 59, tzinfo=UTC), berlin) == date(2026, 3, 3)
    assert digest_day(datetime(2026, 3, 3, 19, 0, tzinfo=UTC), berlin) is None  # 20:00
    # 09:30 on 4 March in Auckland is still 3 March in UTC.
    assert digest_day(datetime(2026, 3, 3, 20, 30, tzinfo=UTC), "Pacific/Auckland") == date(
        2026, 3, 4
    )
    assert digest_day(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "Mars/Olympus") == date(2026, 3, 3)

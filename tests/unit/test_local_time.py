from datetime import UTC, datetime, timedelta

from service.core import local_time
from service.core.local_time import clock, local, utc_title

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # Tue 10:00 am in New York


def test_times_read_in_the_persons_own_zone_and_in_words():
    ny = "America/New_York"
    assert local(datetime(2026, 3, 3, 14, 2, tzinfo=UTC), ny, NOW) == "today 9:02 am"
    assert local(datetime(2026, 3, 3, 3, 0, tzinfo=UTC), ny, NOW) == "yesterday 10 pm"
    assert local(datetime(2026, 3, 4, 13, 0, tzinfo=UTC), ny, NOW) == "tomorrow 8 am"
    assert local(datetime(2026, 2, 27, 0, 30, tzinfo=UTC), ny, NOW) == "Thu 26 Feb, 7:30 pm"
    assert local(datetime(2025, 12, 31, 17, 0, tzinfo=UTC), ny, NOW) == "31 Dec 2025, 12 pm"


def test_an_unknown_zone_reads_as_utc_and_the_tooltip_is_exact():
    assert local(datetime(2026, 3, 3, 0, 5, tzinfo=UTC), "Mars/Olympus", NOW) == "today 12:05 am"
    assert utc_title(datetime(2026, 3, 3, 14, 2, tzinfo=UTC)) == "2026-03-03 14:02 UTC"
    assert clock(datetime(2026, 1, 1, 0, 0)) == "12 am"


def test_how_long_ago_reads_as_people_round_it():
    from datetime import timedelta

    from service.core.local_time import Span, elapsed

    for ago, expected in (
        (timedelta(seconds=20), (0, Span.NOW)),
        (timedelta(seconds=-30), (0, Span.NOW)),
        (timedelta(minutes=5, seconds=59), (5, Span.MINUTE)),
        (timedelta(hours=1), (1, Span.HOUR)),
        (timedelta(hours=23, minutes=59), (23, Span.HOUR)),
        (timedelta(days=3, hours=2), (3, Span.DAY)),
        (timedelta(days=13), (13, Span.DAY)),
        (timedelta(days=15), (2, Span.WEEK)),
        (timedelta(days=70), (2, Span.MONTH)),
        (timedelta(days=800), (2, Span.YEAR)),
    ):
        assert elapsed(NOW - ago, NOW) == expected, ago


def test_times_read_in_the_words_given():
    spanish = local_time.Words(
        today="hoy", yesterday="ayer", tomorrow="mañana",
        weekday_names=("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
        month_names=("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct",
                     "nov", "dic"),
        am="a. m.", pm="p. m.",
    )  # fmt: skip
    now = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # a Thursday
    at = datetime(2026, 3, 5, 19, 2, tzinfo=UTC)
    assert local_time.local(at, "UTC", now, spanish) == "hoy 7:02 p. m."
    assert local_time.local(at - timedelta(days=1), "UTC", now, spanish) == "ayer 7:02 p. m."
    assert local_time.local(at - timedelta(days=2), "UTC", now, spanish) == "mar 3 mar, 7:02 p. m."
    assert local_time.local(at - timedelta(days=400), "UTC", now, spanish).startswith(
        "29 ene 2025,"
    )
    assert local_time.local(at, "UTC", now) == "today 7:02 pm"  # English unless told

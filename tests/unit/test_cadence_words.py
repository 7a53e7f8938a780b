"""Cadences in words, as the programs pages show them."""

from __future__ import annotations

from datetime import time

from service.core.cadence_words import Words, clock, describe


def test_each_kind_of_cadence_reads_as_words_with_a_twelve_hour_clock():
    assert describe("daily@19:00") == "Every day at 7:00 pm"
    assert describe("days:0,2,4@19:00") == "Mon, Wed, Fri at 7:00 pm"
    assert describe("days:4,0@08:30") == "Mon, Fri at 8:30 am"
    assert describe("weekdays@12:00") == "Weekdays (Mon–Fri) at 12:00 pm"
    assert describe("every:3@00:15") == "Every 3 days at 12:15 am"
    assert describe("every:1@07:05") == "Every day at 7:05 am"


def test_a_value_that_is_not_a_cadence_is_shown_as_it_is():
    assert describe("fortnightly") == "fortnightly"
    assert describe("") == ""


def test_the_words_can_be_another_language():
    spanish = Words(
        daily="Todos los días a las {at}",
        days="{days} a las {at}",
        weekday_names=("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
        am="a. m.",
        pm="p. m.",
    )
    assert describe("days:0,2,4@19:00", spanish) == "lun, mié, vie a las 7:00 p. m."
    assert describe("daily@09:00", spanish) == "Todos los días a las 9:00 a. m."
    assert clock(time(0, 0)) == "12:00 am" and clock(time(23, 59)) == "11:59 pm"

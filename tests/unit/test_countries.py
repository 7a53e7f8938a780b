"""A program's country: national numbers read in it, shown in its national format."""

import pytest

from service.core.countries import (
    DEFAULT_COUNTRY,
    InvalidCountry,
    country_of_zone,
    validate_country,
)
from service.core.phones import InvalidPhone, display_phone, normalize_phone

ZONES = {"Europe/London": "GB", "America/New_York": "US", "America/Mexico_City": "MX"}


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("07911 123456", "GB", "+447911123456"),
        ("+44 7911 123456", "US", "+447911123456"),  # a +country wins over the program's
        ("(201) 555-0123", "US", "+12015550123"),
        ("201-555-0123", "CA", "+12015550123"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("612 34 56 78", "ES", "+34612345678"),
    ],
)
def test_national_numbers_are_read_in_the_programs_country(typed, country, stored):
    assert normalize_phone(typed, country) == stored


def test_a_uk_number_is_not_a_us_one():
    with pytest.raises(InvalidPhone):
        normalize_phone("07911 123456", "US")


@pytest.mark.parametrize(
    ("stored", "country", "shown"),
    [
        ("+447911123456", "GB", "07911 123456"),
        ("+12015550123", "US", "(201) 555-0123"),
        ("+12015550123", "GB", "+1 201-555-0123"),  # from elsewhere: international
        ("+525512345678", "MX", "55 1234 5678"),
        ("", "US", ""),
        ("not a number", "US", "not a number"),
    ],
)
def test_numbers_are_shown_in_the_programs_national_format(stored, country, shown):
    assert display_phone(stored, country) == shown


@pytest.mark.parametrize(
    ("typed", "code"), [("gb", "GB"), (" US ", "US"), ("uk", "GB"), ("mx", "MX")]
)
def test_country_codes_are_read_plainly(typed, code):
    assert validate_country(typed) == code


@pytest.mark.parametrize("typed", ["", "XX", "USA", "England", "1"])
def test_a_wrong_country_code_is_refused_plainly(typed):
    with pytest.raises(InvalidCountry, match="two-letter country code"):
        validate_country(typed)


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/London", "GB"),
        ("America/Mexico_City", "MX"),
        ("UTC", DEFAULT_COUNTRY),  # no country of its own
        ("Etc/GMT+5", DEFAULT_COUNTRY),
        ("", DEFAULT_COUNTRY),
        (None, DEFAULT_COUNTRY),
    ],
)
def test_the_default_country_follows_the_time_zone_where_it_names_one(zone, country):
    assert country_of_zone(zone, ZONES) == country

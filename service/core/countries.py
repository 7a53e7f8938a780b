"""A program's country: whose national phone numbers it reads ("07911 123456" in GB).

ISO 3166 alpha-2 codes, as phonenumbers knows them. A program without one takes the country
of its time zone when the zone belongs to exactly one (Europe/London is GB), else the US.
"""

from __future__ import annotations

from collections.abc import Mapping

import phonenumbers

DEFAULT_COUNTRY = "US"
COUNTRIES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


class InvalidCountry(ValueError):
    """Not a country code phone numbers can be read in."""


def validate_country(code: str | None) -> str:
    """' gb ' -> 'GB'; raises InvalidCountry with a plain reason."""
    text = (code or "").strip().upper()
    if text == "UK":  # what people type for the United Kingdom
        text = "GB"
    if text not in COUNTRIES:
        raise InvalidCountry(f"{code!r} is not a two-letter country code such as US, GB, MX or ES")
    return text


def country_of_zone(timezone: str | None, zone_countries: Mapping[str, str]) -> str:
    """The country of a time zone that belongs to exactly one, else the US.

    `zone_countries` maps zone names to a country (the tz database's zone.tab); zones it
    lacks (UTC, Etc/GMT+5) say nothing about a country.
    """
    country = zone_countries.get((timezone or "").strip())
    return country if country in COUNTRIES else DEFAULT_COUNTRY

"""Which country each time zone belongs to, from the tz database's zone.tab (tzdata)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def zone_countries() -> dict[str, str]:
    """{'Europe/London': 'GB', 'America/New_York': 'US', ...}: one country per zone."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    found = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _coordinates, zone, *_ = line.split("\t")
        found[zone] = code
    return found

"""The current date and time, because a model only knows its training cut-off.

A plan that needs "how many days are left this year" asks this tool first and refers to
its fields from later steps (``calculator[#E1.days_left_in_year * 24]``), so the result
is a flat dict whose field names are listed in the tool's ``Returns:`` section, which the
planner prompt shows.

    tz text ─ resolve_zone ─> ZoneInfo ─ datetime.now(zone) ─> describe_time ─> dict

The clock is read only in :func:`get_current_time`; :func:`describe_time` is pure, so
tests give it fixed instants (Dec 31, Feb 29, a DST change).
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from datetime import date, datetime
from typing import Any

from foreplan.errors import ToolError
from foreplan.tools.tool import tool

_UTC_ALIASES = {"utc", "z", "gmt", "zulu", "etc/utc", "etc/gmt", "universal"}
_STRIP = " \t\r\n'\"`"
# Common abbreviations are not IANA names; suggest the zone they usually mean.
_ABBREVIATIONS = {
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "mdt": "America/Denver",
    "cst": "America/Chicago", "cdt": "America/Chicago", "edt": "America/New_York",
    "bst": "Europe/London", "cest": "Europe/Paris", "ist": "Asia/Kolkata", "jst": "Asia/Tokyo",
}  # fmt: skip
# English names whatever the process locale (strftime("%A") follows LC_TIME)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LIST_HINT = 'python -c "import zoneinfo; print(sorted(zoneinfo.available_timezones()))"'


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    # available_timezones() walks the tz database on disk, so read it once
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def resolve_zone(tz: str) -> str:
    """The IANA name that ``tz`` means.

    Case and surrounding quotes do not matter, spaces may stand for underscores
    ("america/new york"), "UTC", "Z" and "GMT" mean UTC, an empty string means UTC, and
    a bare city that names exactly one zone ("Paris") means that zone.

    Raises:
        ToolError: no zone fits; the message names the closest ones.
    """
    key = tz.strip(_STRIP).replace(" ", "_").lower()
    if key in _UTC_ALIASES or not key:
        return "UTC"
    zones = _zones_by_lower_name()
    if key in zones:
        return zones[key]
    cities = [name for lower, name in zones.items() if lower.rsplit("/", 1)[-1] == key and "/" not in key]
    if len(cities) == 1:
        return cities[0]
    raise ToolError(_unknown_zone_message(tz.strip(), key, cities))


def _unknown_zone_message(shown: str, key: str, cities: list[str]) -> str:
    zones = _zones_by_lower_name()
    if key in _ABBREVIATIONS:  # spelling matches would mislead: PST is not MST or EST
        close = [_ABBREVIATIONS[key]]
    else:
        close = sorted(cities) + [zones[m] for m in difflib.get_close_matches(key, list(zones), n=3)]
        by_city = {lower.rsplit("/", 1)[-1]: name for lower, name in zones.items()}
        close += [by_city[m] for m in difflib.get_close_matches(key.rsplit("/", 1)[-1], list(by_city), n=3)]
        close = list(dict.fromkeys(close))[:5]  # drop repeats, keep the order
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    return (
        f"unknown time zone {shown[:60]!r}.{suggestion} Valid names look like Region/City "
        f"(e.g. Europe/Paris, America/New_York) or UTC; list them with {_LIST_HINT}"
    )


def _format_offset(moment: datetime) -> str:
    seconds = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def describe_time(now: datetime, tz_name: str) -> dict[str, Any]:
    """Describe an instant as the wall clock in a time zone shows it.

    Args:
        now: a timezone-aware instant; it is converted to ``tz_name``.
        tz_name: the zone, in any form :func:`resolve_zone` accepts.

    Returns:
        The fields documented on :func:`get_current_time`.

    Raises:
        ToolError: ``tz_name`` is not a known zone.
        ValueError: ``now`` is naive (a bug in the caller, not in the model's input).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("describe_time needs a timezone-aware datetime")
    name = resolve_zone(tz_name)
    local = now.astimezone(zoneinfo.ZoneInfo(name))
    today = local.date()
    return {
        "iso": local.isoformat(timespec="seconds"),
        "date": today.isoformat(),
        "time": local.strftime("%H:%M:%S"),
        "weekday": _WEEKDAYS[today.weekday()],
        "timezone": name,
        "year": today.year,
        "day_of_year": today.timetuple().tm_yday,
        "days_left_in_year": (date(today.year, 12, 31) - today).days,
        "utc_offset": _format_offset(local),
    }


@tool(timeout=5)
def get_current_time(tz: str = "UTC") -> dict:
    """Current date and time in a time zone (today's date, weekday, days left in the year).

    Args:
        tz: IANA time zone name such as Europe/Paris or America/New_York; default UTC.

    Returns:
        iso (ISO 8601 with offset), date (YYYY-MM-DD), time (HH:MM:SS), weekday (e.g.
        Wednesday), timezone (IANA name), year, day_of_year (1 to 366),
        days_left_in_year (days after today until Dec 31; 0 on Dec 31), utc_offset (e.g. +01:00).
    """
    name = resolve_zone(tz)
    return describe_time(datetime.now(zoneinfo.ZoneInfo(name)), name)

"""The clock tool describes fixed instants exactly; only one test reads the real clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from foreplan.errors import ToolError
from foreplan.tools.clock import describe_time, get_current_time, resolve_zone

FIELDS = {
    "iso", "date", "time", "weekday", "timezone", "year", "day_of_year", "days_left_in_year", "utc_offset",
}  # fmt: skip


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_new_years_eve_has_no_days_left() -> None:
    assert describe_time(at(2024, 12, 31, 12, 0, 5), "UTC") == {
        "iso": "2024-12-31T12:00:05+00:00",
        "date": "2024-12-31",
        "time": "12:00:05",
        "weekday": "Tuesday",
        "timezone": "UTC",
        "year": 2024,
        "day_of_year": 366,
        "days_left_in_year": 0,
        "utc_offset": "+00:00",
    }


@pytest.mark.parametrize(
    ("instant", "day_of_year", "days_left", "weekday"),
    [
        (at(2025, 1, 1), 1, 364, "Wednesday"),
        (at(2024, 1, 1), 1, 365, "Monday"),  # leap year
        (at(2024, 2, 29, 9, 15), 60, 306, "Thursday"),
        (at(2023, 12, 31, 23, 59, 59), 365, 0, "Sunday"),
    ],
)
def test_counts_days_of_the_year(instant: datetime, day_of_year: int, days_left: int, weekday: str) -> None:
    described = describe_time(instant, "UTC")
    assert described["day_of_year"] == day_of_year
    assert described["days_left_in_year"] == days_left
    assert described["weekday"] == weekday


def test_the_date_is_the_one_on_the_zones_wall_clock() -> None:
    # 23:30 UTC on Dec 31 is already next year in Tokyo and still this year in New York
    tokyo = describe_time(at(2024, 12, 31, 23, 30), "Asia/Tokyo")
    assert (tokyo["date"], tokyo["year"], tokyo["days_left_in_year"]) == ("2025-01-01", 2025, 364)
    assert tokyo["iso"] == "2025-01-01T08:30:00+09:00"
    new_york = describe_time(at(2024, 12, 31, 23, 30), "America/New_York")
    assert (new_york["date"], new_york["time"], new_york["utc_offset"]) == ("2024-12-31", "18:30:00", "-05:00")


@pytest.mark.parametrize(
    ("instant", "zone", "offset", "local_time"),
    [
        (at(2024, 1, 15, 12), "Europe/Paris", "+01:00", "13:00:00"),
        (at(2024, 7, 15, 12), "Europe/Paris", "+02:00", "14:00:00"),  # summer time
        (at(2024, 3, 31, 0, 59), "Europe/Paris", "+01:00", "01:59:00"),  # a minute before the change
        (at(2024, 3, 31, 1, 0), "Europe/Paris", "+02:00", "03:00:00"),  # 02:00 local never happens
        (at(2024, 1, 15, 12), "America/St_Johns", "-03:30", "08:30:00"),
        (at(2024, 7, 15, 12), "America/St_Johns", "-02:30", "09:30:00"),
        (at(2024, 1, 15, 12), "Asia/Kolkata", "+05:30", "17:30:00"),
    ],
)
def test_offsets_follow_daylight_saving(instant: datetime, zone: str, offset: str, local_time: str) -> None:
    described = describe_time(instant, zone)
    assert (described["utc_offset"], described["time"], described["timezone"]) == (offset, local_time, zone)
    assert described["iso"].endswith(offset)


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Z", "UTC"),
        ("GMT", "UTC"),
        ("  'UTC' ", "UTC"),
        ('"Z"', "UTC"),
        ("", "UTC"),
        ("europe/paris", "Europe/Paris"),
        (" `Europe/Paris` ", "Europe/Paris"),
        ("America/New York", "America/New_York"),
        ("Paris", "Europe/Paris"),  # a city that names exactly one zone
        ("tokyo", "Asia/Tokyo"),
    ],
)
def test_resolves_the_ways_models_write_zones(given: str, name: str) -> None:
    assert resolve_zone(given) == name
    assert describe_time(at(2024, 6, 1), given)["timezone"] == name


@pytest.mark.parametrize(
    ("given", "suggested"),
    [
        ("Europe/Pariss", "Europe/Paris"),
        ("America/NewYork", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("Louisville", "America/Kentucky/Louisville"),  # a city in two zones is not guessed
    ],
)
def test_unknown_zone_names_close_matches(given: str, suggested: str) -> None:
    with pytest.raises(ToolError, match=f"Did you mean .*{suggested}") as info:
        resolve_zone(given)
    assert type(info.value) is ToolError
    assert "Region/City (e.g. Europe/Paris" in str(info.value)
    assert 'python -c "import zoneinfo; print(sorted(zoneinfo.available_timezones()))"' in str(info.value)


@pytest.mark.parametrize("given", ["Mars/Olympus_Mons", "../../etc/passwd", "Europe/"])
def test_unknown_zone_without_a_close_match_still_explains(given: str) -> None:
    with pytest.raises(ToolError, match="unknown time zone .* Valid names look like Region/City"):
        describe_time(at(2024, 6, 1), given)


def test_a_naive_datetime_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        describe_time(datetime(2024, 6, 1), "UTC")  # noqa: DTZ001


def test_tool_reads_the_real_clock() -> None:
    result = get_current_time(tz="Europe/Paris")
    assert set(result) == FIELDS
    assert result["timezone"] == "Europe/Paris"
    assert abs(datetime.fromisoformat(result["iso"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert get_current_time()["timezone"] == "UTC"
    with pytest.raises(ToolError, match="unknown time zone"):
        get_current_time(tz="Mars/Olympus_Mons")


def test_returns_section_lists_every_field_for_the_planner() -> None:
    assert get_current_time.name == "get_current_time"
    assert get_current_time.timeout == 5
    for field in FIELDS:
        assert field in get_current_time.returns

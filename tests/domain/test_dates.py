"""Strict calendar values: the documented shapes only."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from server.domain import dates, errors


@pytest.mark.parametrize("text", ["2026-12-01", "2024-02-29", "0001-01-01"])
def test_days_of_the_documented_shape_are_read(text: str) -> None:
    assert dates.parse_day(text, "date") == date.fromisoformat(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",
        "2026-13-01",
        "20261201",
        "20261201xx",
        "2026-W01-1",
        "2026-12-1",
        " 2026-12-01",
        "2026-12-01T00:00:00Z",
        "\uff12\uff10\uff12\uff16-\uff11\uff12-\uff10\uff11",
        "",
    ],
)
def test_other_days_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        dates.parse_day(text, "startDate")
    assert caught.value.field == "startDate"


def test_months() -> None:
    assert dates.parse_month("2026-02", "month") == date(2026, 2, 1)
    for text in [
        "2026-+1",
        "2026- 1",
        "+026-01",
        "2026-13",
        "2026-00",
        "2026-1",
        "\uff12\uff10\uff12\uff16-\uff10\uff11",
    ]:
        with pytest.raises(errors.ValidationFailed):
            dates.parse_month(text, "month")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T23:59:59Z", datetime(2026, 11, 30, 23, 59, 59)),
        ("2026-11-30t23:59:59z", datetime(2026, 11, 30, 23, 59, 59)),
        ("2026-12-01T01:00:00+02:00", datetime(2026, 11, 30, 23, 0, 0)),
        ("2026-11-30T23:59:59.123456789Z", datetime(2026, 11, 30, 23, 59, 59, 123456)),
    ],
)
def test_instants_are_read_as_naive_utc(text: str, expected: datetime) -> None:
    assert dates.parse_instant(text, "as_of") == expected


@pytest.mark.parametrize(
    "text", ["2026-11-30T23:59:59", "2026-11-30", "2026-11-30T24:00:00Z", "2026-W48-1T00:00:00Z"]
)
def test_instants_need_their_offset_and_a_real_time(text: str) -> None:
    with pytest.raises(errors.ValidationFailed):
        dates.parse_instant(text, "as_of")


def test_a_day_or_an_instant() -> None:
    assert dates.parse_day_or_instant("2026-11-30", "from") == date(2026, 11, 30)
    assert dates.parse_day_or_instant("2026-12-01T01:00:00+02:00", "from") == date(2026, 11, 30)
    with pytest.raises(errors.ValidationFailed):
        dates.parse_day_or_instant("2026-W48-1", "from")

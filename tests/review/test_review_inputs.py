"""Malformed dates an outsider sends to the report and export endpoints.

The protos promise `YYYY-MM-DD` days and `YYYY-MM` months; anything else is
VALIDATION_ERROR on the field. Python's `date.fromisoformat` (3.11) also
takes ISO basic and week dates, and `int()` takes signs, spaces and
non-ASCII digits, so some garbage is read as a real period instead.
"""

from __future__ import annotations

import pytest

from tests.common import envelope
from tests.common.money import ALICE_CHECKING
from tests.conftest import Rest

# 10 characters, so the length check lets them through to date.fromisoformat.
LOOSE_DAYS = ["20261201xx", "2026-W01-1"]
# 7 characters with '-' at index 4, so monthly_period's int() reads them.
LOOSE_MONTHS = ["2026-+1", "2026- 1", "+026-01", "\uff12\uff10\uff12\uff16-\uff10\uff11"]


@pytest.mark.parametrize("day", LOOSE_DAYS)
def test_daily_report_refuses_a_malformed_day(rest: Rest, day: str) -> None:
    envelope.error(rest.get("/v1/reports/daily", params={"date": day}), 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("month", LOOSE_MONTHS)
def test_monthly_report_refuses_a_malformed_month(rest: Rest, month: str) -> None:
    envelope.error(
        rest.get("/v1/reports/monthly", params={"month": month}), 422, "VALIDATION_ERROR"
    )


@pytest.mark.parametrize("day", LOOSE_DAYS)
def test_export_refuses_a_malformed_start_date(rest: Rest, day: str) -> None:
    response = rest.get(
        "/v1/transactions/export",
        params={"accountId": ALICE_CHECKING, "format": "csv", "startDate": day},
    )
    envelope.error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-02-30"},
        {"date": "2026-13-01"},
        {"date": "x" * 2000},
        {"date": "2026-12-05T00:00:00Z"},
    ],
)
def test_daily_report_refusals_hold(rest: Rest, params: dict[str, str]) -> None:
    envelope.error(rest.get("/v1/reports/daily", params=params), 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "params",
    [
        {"startDate": "2026-02-30"},
        {"startDate": "2026-13-01"},
        {"endDate": "9999-12-31"},
        {"startDate": "2026-1-1"},
    ],
)
def test_export_date_refusals_hold(rest: Rest, params: dict[str, str]) -> None:
    response = rest.get("/v1/transactions/export", params={"accountId": ALICE_CHECKING, **params})
    envelope.error(response, 422, "VALIDATION_ERROR")

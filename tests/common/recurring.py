"""Factories for recurring-schedule tests: schedules, their runs, the sandbox clock."""

from __future__ import annotations

import json
import math
from calendar import monthrange
from datetime import date, datetime, time, timedelta
from typing import Any

from server.run import Stack
from tests.common import envelope
from tests.common.accounts import server_now
from tests.common.money import BOB, open_account, query
from tests.conftest import Rest

PATH = "/v1/transactions/recurring"
DAY_SECONDS = 86_400


def today(rest: Rest) -> date:
    return server_now(rest).date()


def advance_to(rest: Rest, instant: datetime) -> None:
    """Moves the sandbox clock to `instant` (due work runs at once)."""
    seconds = math.ceil((instant - server_now(rest)).total_seconds())
    while seconds > 0:
        step = min(seconds, 366 * DAY_SECONDS)
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": step}))
        seconds -= step


def after_nine(day: date) -> datetime:
    return datetime.combine(day, time(9, 1))


def body(source: str, target: str, start: date, **extra: Any) -> dict[str, Any]:
    return {
        "fromAccountId": source,
        "toAccountId": target,
        "amount": 1,
        "frequency": "DAILY",
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=40)).isoformat(),
        **extra,
    }


def create(rest: Rest, body: dict[str, Any]) -> dict[str, Any]:
    data = envelope.success(rest.post(PATH, json=body), 201)
    return data["recurringTransaction"]  # type: ignore[no-any-return]


def get(rest: Rest, recurring_id: str) -> dict[str, Any]:
    data = envelope.success(rest.get(f"{PATH}/{recurring_id}"))
    return data["recurringTransaction"]  # type: ignore[no-any-return]


def runs(stack: Stack, recurring_id: str) -> list[tuple[str, str, str]]:
    """(transaction id, status, scheduled date) of the schedule's runs, by date."""
    found = query(
        stack,
        "SELECT id, status, details FROM ledger_transactions WHERE details LIKE %s",
        (f'%"{recurring_id}"%',),
    )
    runs = [(row[0], row[1], json.loads(row[2])["scheduled_date"]) for row in found]
    return sorted(runs, key=lambda run: run[2])


def pair(rest: Rest, funded: float = 100, **kw: Any) -> tuple[str, str]:
    return open_account(rest, funded=funded, **kw), open_account(rest, owner=BOB)


def months_later(start: date, months: int, day: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day, monthrange(year, month + 1)[1]))

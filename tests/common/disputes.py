"""Factories for dispute tests: open, resolve, read, and the bank's disputes account.

The scene is the refund tests' (tests/common/refunds.py): a fresh customer
with 1,000.00 who paid another customer's account.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from server.domain.calendar import is_business_day
from server.domain.disputes import disputes_account_id
from server.run import Stack
from tests.common import envelope
from tests.common.money import query
from tests.conftest import Rest

DISPUTES = disputes_account_id("USD")


def open_(
    caller: Rest, transaction_id: str, headers: dict[str, str] | None = None, **body: Any
) -> Any:
    body.setdefault("reason", "SERVICE_NOT_RECEIVED")
    return caller.post(
        f"/v1/transactions/{transaction_id}/disputes", json=body, headers=headers or {}
    )


def opened(caller: Rest, transaction_id: str, **body: Any) -> dict[str, Any]:
    return envelope.success(open_(caller, transaction_id, **body), 201)["dispute"]  # type: ignore[no-any-return]


def resolve(caller: Rest, dispute_id: str, outcome: str, **body: Any) -> Any:
    return caller.post(f"/v1/disputes/{dispute_id}:resolve", json={"outcome": outcome, **body})


def get(caller: Rest, dispute_id: str) -> dict[str, Any]:
    return envelope.success(caller.get(f"/v1/disputes/{dispute_id}"))["dispute"]  # type: ignore[no-any-return]


def disputes_paid(stack: Stack) -> int:
    """Minor units the disputes account has paid out net (its balance, negated)."""
    rows = query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (DISPUTES,))
    return -int(rows[0][0])


def count(stack: Stack, transaction_id: str) -> int:
    rows = query(
        stack, "SELECT COUNT(*) FROM disputes WHERE transaction_id = %s", (transaction_id,)
    )
    return int(rows[0][0])


def postings_of(stack: Stack, dispute_id: str) -> list[dict[str, int]]:
    """Per ADJUSTMENT of the dispute, oldest first: account id -> signed minor units."""
    like = f'%"dispute_id": "{dispute_id}"%'
    found: dict[str, dict[str, int]] = {}
    for transaction_id, account, amount in query(
        stack,
        "SELECT t.id, p.account_id, p.amount_minor FROM postings p JOIN ledger_transactions t"
        " ON t.id = p.transaction_id WHERE t.type = 'ADJUSTMENT' AND t.details LIKE %s"
        " ORDER BY p.id",
        (like,),
    ):
        found.setdefault(str(transaction_id), {})[str(account)] = int(amount)
    return list(found.values())


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def business_days_between(start: date, end: date) -> int:
    """Business days after the first business day on or after `start`, up to `end`."""
    day = start
    while not is_business_day(day):
        day += timedelta(days=1)
    return sum(
        1 for n in range(1, (end - day).days + 1) if is_business_day(day + timedelta(days=n))
    )

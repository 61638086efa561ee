"""The reports' figures recomputed independently, in plain Python over rows read
straight from the stack's database (no SQL aggregation, no server code): the
reference the report tests compare every figure with.

Balances here are sums of postings (every balance in the bank came from
postings, opening balances included), not the server's "today's balance
less later postings".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from server.store.bootstrap import internal_account_id
from tests.common.accounts import Db


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass
class Sums:
    debit: int = 0
    credit: int = 0
    debits: int = 0
    credits: int = 0
    txns: set[str] = field(default_factory=set)
    fees: int = 0

    def add(self, txn: str, amount: int) -> None:
        self.txns.add(txn)
        if amount < 0:
            self.debit -= amount
            self.debits += 1
        else:
            self.credit += amount
            self.credits += 1


@dataclass
class Expected:
    summary: Sums
    by_type: dict[str, Sums]
    by_day: dict[date, Sums]
    by_account: dict[str, Sums]
    opening: int
    closing: int
    failed: int
    cancelled: int
    holds_count: int
    holds_minor: int
    closing_by_day: dict[date, int]


class Ledger:
    """Every posting, transaction, account and hold of the stack, read once."""

    def __init__(self, db: Db) -> None:
        self.accounts = {
            str(r[0]): {"kind": r[1], "currency": r[2], "owner": r[3]}
            for r in db.execute("SELECT id, kind, currency, owner_id FROM accounts")
        }
        self.txns = {
            str(r[0]): {
                "type": r[1],
                "status": r[2],
                "from": r[3],
                "to": r[4],
                "currency": r[5],
                "created": _time(r[6]),
                "cancelled": _time(r[7]) if r[7] is not None else None,
            }
            for r in db.execute(
                "SELECT id, type, status, from_account_id, to_account_id, currency,"
                " created_at, cancelled_at FROM ledger_transactions"
            )
        }
        self.postings = [
            (str(r[0]), str(r[1]), int(r[2]), _time(r[3]), str(r[4]))
            for r in db.execute(
                "SELECT transaction_id, account_id, amount_minor, created_at, currency"
                " FROM postings"
            )
        ]
        self.holds = [
            (str(r[0]), int(r[1]), _time(r[2]), _time(r[3]) if r[3] is not None else None, r[4])
            for r in db.execute(
                "SELECT account_id, amount_minor, created_at, resolved_at, currency FROM holds"
            )
        ]

    def scope(self, currency: str, account_ids: list[str] | None) -> set[str]:
        if account_ids:
            return set(account_ids)
        return {
            i
            for i, a in self.accounts.items()
            if a["kind"] == "CUSTOMER" and a["currency"] == currency
        }

    def expected(  # noqa: PLR0912 (one plain pass per figure, on purpose)
        self,
        first: date,
        last: date,
        as_of: datetime,
        *,
        currency: str = "USD",
        account_ids: list[str] | None = None,
        types: list[str] | None = None,
    ) -> Expected:
        start = datetime.combine(first, datetime.min.time())
        end = datetime.combine(last + timedelta(days=1), datetime.min.time())
        scope = self.scope(currency, account_ids)
        fee_income = internal_account_id("FEE_INCOME", currency)
        summary, by_type = Sums(), defaultdict(Sums)
        by_day: dict[date, Sums] = defaultdict(Sums)
        by_account: dict[str, Sums] = defaultdict(Sums)
        opening = closing = 0
        day_net: dict[date, int] = defaultdict(int)
        for txn, account, amount, at, cur in self.postings:
            kind = self.txns[txn]["type"]
            if types and kind not in types:
                continue
            if cur != currency:
                continue
            if account in scope:
                if at < start:
                    opening += amount
                if at < end:
                    closing += amount
                if start <= at < end:
                    summary.add(txn, amount)
                    by_type[kind].add(txn, amount)
                    by_day[at.date()].add(txn, amount)
                    by_account[account].add(txn, amount)
            if account == fee_income and start <= at < end and self.txns[txn]["from"] in scope:
                summary.fees += amount
                by_type[kind].fees += amount
                by_day[at.date()].fees += amount
                by_account[str(self.txns[txn]["from"])].fees += amount
        # Balances count every posting, whatever the types asked for.
        opening = closing = 0
        for _, account, amount, at, cur in self.postings:
            if cur == currency and account in scope:
                opening += amount if at < start else 0
                closing += amount if at < end else 0
                if start <= at < end:
                    day_net[at.date()] += amount
        failed = cancelled = 0
        for txn in self.txns.values():
            if txn["currency"] != currency or not ({txn["from"], txn["to"]} & scope):
                continue
            if types and txn["type"] not in types:
                continue
            if txn["status"] == "FAILED" and start <= txn["created"] < end:
                failed += 1
            when = txn["cancelled"] or txn["created"]
            if txn["status"] == "CANCELLED" and start <= when < end:
                cancelled += 1
        holds = [
            amount
            for account, amount, created, resolved, cur in self.holds
            if account in scope and created < as_of and (resolved is None or resolved >= as_of)
        ]
        closing_by_day, running = {}, opening
        day = first
        while day <= last:
            running += day_net.get(day, 0)
            closing_by_day[day] = running
            day += timedelta(days=1)
        return Expected(
            summary=summary,
            by_type=dict(by_type),
            by_day=dict(by_day),
            by_account=dict(by_account),
            opening=opening,
            closing=closing,
            failed=failed,
            cancelled=cancelled,
            holds_count=len(holds),
            holds_minor=sum(holds),
            closing_by_day=closing_by_day,
        )

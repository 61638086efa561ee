"""Makes two backends' records comparable, and checks the ledger's invariants.

What legitimately differs between two runs of one sequence is replaced:
- transaction ids are random: each becomes `T<n>`, numbered in the order
  the operations' answers show them, then (for the transactions no answer
  shows: fees and executions of the due work) in the order of their numbers;
- transaction numbers come from a sequence with gaps (a refused transfer
  may spend a value on PostgreSQL and not on SQLite): `TXN<date>#T<n>`;
- event ids are random: `evt`; so are the ids of deposits' holds: `hold`
  (a hold row names its transaction);
- timestamps follow the wall clock, which runs on between two runs: only
  their date is kept (the sandbox clock stays hours away from midnight).
Everything else (amounts, balances, messages, metadata, order of answers)
is compared as it is.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from tests.differential.run import Run, decode_json, decode_response
from tests.differential.world import ACCOUNTS

_TXN_ID = re.compile(r"txn_[a-z2-7]{20}")
_EVT_ID = re.compile(r"evt_[a-z2-7]{20}")
_HOLD_ID = re.compile(r"hold_[a-z2-7]{20}")
_NUMBER = re.compile(r"TXN(\d{8})(\d{3,})", re.IGNORECASE)
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?")


class Names:
    """Stable names of one run's transactions."""

    def __init__(self, run: Run) -> None:
        self.ids: dict[str, str] = {}
        self.numbers: dict[str, str] = {}
        for text in _strings(run.outcomes):
            for found in _TXN_ID.findall(text):
                self._name(found)
        rows = sorted(run.state["transactions"], key=lambda row: int(row[1][11:]))
        for row in rows:
            self._name(row[0])
        for row in rows:
            self.numbers[row[1].lower()] = f"TXN{row[1][3:11]}#{self.ids[row[0]]}"

    def _name(self, transaction_id: str) -> None:
        self.ids.setdefault(transaction_id, f"T{len(self.ids) + 1}")

    def text(self, value: str) -> str:
        value = _TXN_ID.sub(lambda m: self.ids.get(m.group(0), "T?"), value)
        value = _EVT_ID.sub("evt", value)
        value = _HOLD_ID.sub("hold", value)
        value = _NUMBER.sub(lambda m: self.numbers.get(m.group(0).lower(), "TXN?"), value)
        return _STAMP.sub(lambda m: m.group(1), value)

    def value(self, value: Any) -> Any:
        """`value` with every id, number and timestamp inside it normalised."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, datetime | date):
            return value.isoformat()[:10]
        if isinstance(value, dict):
            return {self.value(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


def _strings(value: Any) -> Iterator[str]:
    """Every string inside `value`, depth first, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def outcomes(run: Run, names: Names) -> list[Any]:
    return [names.value(outcome) for outcome in run.outcomes]


def state(run: Run, names: Names) -> dict[str, list[Any]]:
    """The state with decoded JSON and stored answers, normalised, each table sorted."""
    decoded = dict(run.state)
    decoded["transactions"] = [
        (*row[:9], decode_json(row[9]), *row[10:]) for row in decoded["transactions"]
    ]
    decoded["outbox"] = [
        (kind, aggregate, decode_json(payload)) for kind, aggregate, payload in decoded["outbox"]
    ]
    decoded["idempotency"] = [
        (*row[:5], decode_response(row[5]), *row[6:8], decode_json(row[8]))
        for row in decoded["idempotency"]
    ]
    return {
        table: sorted(
            (names.value(row) for row in rows), key=lambda row: json.dumps(row, default=str)
        )
        for table, rows in decoded.items()
    }


def invariants(run: Run) -> list[str]:
    """What must hold in any run: balanced transactions, balances that are the
    sum of their postings, no customer below its overdraft line."""
    problems = []
    totals: dict[tuple[str, str], int] = defaultdict(int)
    moved: dict[str, int] = defaultdict(int)
    for transaction_id, account_id, currency, amount_minor, *_ in run.state["postings"]:
        totals[(transaction_id, currency)] += amount_minor
        moved[account_id] += amount_minor
    problems += [f"{key} postings sum to {total}" for key, total in totals.items() if total]
    opening = {seed.id: seed.balance_minor for seed in ACCOUNTS}
    overdraft = {seed.id: seed.overdraft_minor for seed in ACCOUNTS}
    by_currency: dict[str, int] = defaultdict(int)
    for account_id, currency, _status, balance_minor, held_minor, _ in run.state["accounts"]:
        by_currency[currency] += balance_minor
        if held_minor < 0:
            problems.append(f"{account_id} holds a negative amount: {held_minor}")
        if account_id not in opening:
            continue  # the bank's own: opening balances and fees
        expected = opening[account_id] + moved[account_id]
        if balance_minor != expected:
            problems.append(f"{account_id} holds {balance_minor}, its postings say {expected}")
        if balance_minor < -overdraft[account_id]:
            problems.append(f"{account_id} is below its overdraft line: {balance_minor}")
    problems += [f"{c} balances sum to {total}" for c, total in by_currency.items() if total]
    return problems

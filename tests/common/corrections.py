"""Factories for the cancel and reversal tests: customers with tokens, and
transactions in the states other movement kinds leave them in.

Cancel and reversal work on every kind through what the kinds share (the
journal row, its postings, the reservation in pending debits, history rows
and their limit usage). The states no API reaches yet in this tree (a
PENDING external transfer, a PROCESSING bill payment) are written straight
into the stack's database exactly as that convention says, always as
balanced journal transactions, so the ledger stays whole for every test.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc

from server.domain.ids import new_id
from server.run import Stack
from server.store import limit_usage
from server.store.bootstrap import internal_account_id
from tests.common import envelope
from tests.common.accounts import Db
from tests.common.money import open_account
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest

BILL_PAY_CLEARING = internal_account_id("BILL_PAY_CLEARING", "USD")
FEE_INCOME = internal_account_id("FEE_INCOME", "USD")


@dataclass
class Customer:
    caller: Caller
    user_id: str
    account_id: str


def customer(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, funded: float = 1_000
) -> Customer:
    """A new customer with a funded CHECKING account and a token of their own."""
    user_id = create_user(rest, "CUSTOMER", name=f"Customer {uuid.uuid4().hex[:6]}")
    account_id = open_account(rest, owner=user_id, funded=funded)
    caller = user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)
    return Customer(caller, user_id, account_id)


def account_minor(db: Db, account_id: str) -> tuple[int, int]:
    """(balance, pending debits) of the account, minor units."""
    row = db.execute(
        "SELECT balance_minor, pending_debits_minor FROM accounts WHERE id = ?", (account_id,)
    )[0]
    return int(row[0]), int(row[1])


def insert_transaction(
    db: Db,
    *,
    type_: str,
    status: str,
    source: str,
    amount_minor: int,
    at: datetime,
    fee_minor: int = 0,
    details: dict[str, Any] | None = None,
) -> str:
    """A journal row of `type_` in `status`, debiting `source` (nothing posted)."""
    txn_id = new_id("txn")
    db.execute(
        "INSERT INTO ledger_transactions (id, number, type, status, currency, amount_minor,"
        " fee_minor, description, reference, details, created_at, completed_at,"
        " from_account_id) VALUES (?, ?, ?, ?, 'USD', ?, ?, 'corrections test', '', ?, ?, ?, ?)",
        (
            txn_id,
            f"TXNTEST{uuid.uuid4().hex[:16]}",
            type_,
            status,
            amount_minor,
            fee_minor,
            json.dumps(details or {}),
            at,
            at if status == "COMPLETED" else None,
            source,
        ),
    )
    return txn_id


def reserve(db: Db, account_id: str, amount_minor: int) -> None:
    """What a PENDING (or reserving SCHEDULED) debit holds in pending debits."""
    db.execute(
        "UPDATE accounts SET pending_debits_minor = pending_debits_minor + ? WHERE id = ?",
        (amount_minor, account_id),
    )


def _post(db: Db, txn_id: str, account_id: str, amount_minor: int, at: datetime) -> None:
    db.execute(
        "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?",
        (amount_minor, account_id),
    )
    balance = db.execute("SELECT balance_minor FROM accounts WHERE id = ?", (account_id,))[0][0]
    db.execute(
        "INSERT INTO postings (transaction_id, account_id, currency, amount_minor,"
        " balance_after_minor, created_at) VALUES (?, ?, 'USD', ?, ?, ?)",
        (txn_id, account_id, amount_minor, balance, at),
    )


def posted_payment(
    db: Db,
    source: str,
    amount_minor: int,
    fee_minor: int,
    at: datetime,
    *,
    status: str = "PROCESSING",
    type_: str = "PAYMENT",
) -> str:
    """A bill payment whose debit is posted (customer -> BILL_PAY_CLEARING, fee
    -> FEE_INCOME) at `at`, with its DEBIT history row counted toward the
    daily bill-payment limit, as the payments kind writes it."""
    with db.transaction():
        txn_id = insert_transaction(
            db,
            type_=type_,
            status=status,
            source=source,
            amount_minor=amount_minor,
            fee_minor=fee_minor,
            at=at,
            details={"clearingAccountId": BILL_PAY_CLEARING},
        )
        _post(db, txn_id, source, -(amount_minor + fee_minor), at)
        _post(db, txn_id, BILL_PAY_CLEARING, amount_minor, at)
        if fee_minor:
            _post(db, txn_id, FEE_INCOME, fee_minor, at)
        db.execute(
            "INSERT INTO account_entries (account_id, transaction_id, direction, type, status,"
            " limit_class, currency, amount_minor, fee_minor, counterparty, search_text,"
            " created_at) VALUES (?, ?, 'DEBIT', ?, ?, 'BILL_PAYMENT', 'USD', ?, ?,"
            " 'City Electric', '', ?)",
            (source, txn_id, type_, status, amount_minor, fee_minor, at),
        )
        for period in (limit_usage.day_key(at), limit_usage.month_key(at)):
            db.execute(
                "INSERT INTO limit_usage (account_id, limit_class, period, used_minor)"
                " VALUES (?, 'BILL_PAYMENT', ?, ?) ON CONFLICT (account_id, limit_class, period)"
                " DO UPDATE SET used_minor = limit_usage.used_minor + excluded.used_minor",
                (source, period, amount_minor),
            )
    return txn_id


def postings(db: Db, transaction_id: str) -> list[tuple[str, int]]:
    """(account, amount) of the transaction's postings, in order."""
    rows = db.execute(
        "SELECT account_id, amount_minor FROM postings WHERE transaction_id = ? ORDER BY id",
        (transaction_id,),
    )
    return [(str(account), int(amount)) for account, amount in rows]


def events(db: Db, aggregate_id: str) -> list[str]:
    rows = db.execute(
        "SELECT type FROM outbox_events WHERE aggregate_id = ? ORDER BY id", (aggregate_id,)
    )
    return [str(kind) for (kind,) in rows]


def advance(rest: Rest, **moved: int) -> None:
    envelope.success(rest.post("/v1/sandbox/clock:advance", json=moved))

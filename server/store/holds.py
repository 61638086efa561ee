"""Deposit holds: placed with a held deposit, released when their time comes.

A hold is PENDING until `release_at`, then RELEASED (`accounts.held_minor`
goes down by its amount), or VOIDED when the deposit it holds is reversed
first (the money leaves with the reversal, so holding it too would take it
off the available balance twice). Releasing claims the due holds with `FOR UPDATE
SKIP LOCKED` on PostgreSQL, so several server processes (and a movement
releasing its own account's holds) never release one hold twice and never
wait for each other; SQLite serialises writers anyway.
"""

from __future__ import annotations

from datetime import datetime

from server.store.db import is_postgres
from server.store.models import Account, Hold

RELEASE_BATCH_MAX = 100


def place(
    *,
    hold_id: str,
    account_id: str,
    transaction_id: str,
    amount_minor: int,
    currency: str,
    reason: str,
    description: str,
    release_at: datetime,
    now: datetime,
) -> None:
    """A PENDING hold on a locked account, and its held amount."""
    Hold.create(
        id=hold_id,
        account_id=account_id,
        transaction_id=transaction_id,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason,
        status="PENDING",
        description=description,
        release_at=release_at,
        created_at=now,
    )
    Account.update(held_minor=Account.held_minor + amount_minor).where(
        Account.id == account_id
    ).execute()


def release_due(
    now: datetime, account_id: str | None = None, batch_size: int = RELEASE_BATCH_MAX
) -> int:
    """Releases up to `batch_size` PENDING holds due at `now` (of one account,
    or of any); returns how many. Holds another transaction is releasing are
    skipped, not waited for."""
    query = Hold.select(Hold.id, Hold.account_id, Hold.amount_minor).where(
        (Hold.status == "PENDING") & (Hold.release_at <= now)
    )
    if account_id is not None:
        query = query.where(Hold.account_id == account_id)
    query = query.order_by(Hold.account_id, Hold.id).limit(batch_size)
    if is_postgres():
        query = query.for_update(skip_locked=True)
    return sum(_resolve(hold, "RELEASED", now) for hold in list(query))


def void_for_transaction(transaction_id: str, now: datetime) -> dict[str, int]:
    """Voids the PENDING holds a transaction placed, on accounts the caller
    has locked; returns the amount voided per account. A hold already
    released stays RELEASED, and so does one the holds worker is releasing
    right now (it was due; skipped, not waited for: the worker locks holds
    before their accounts, server.store.ledger's lock order)."""
    query = Hold.select(Hold.id, Hold.account_id, Hold.amount_minor).where(
        (Hold.transaction_id == transaction_id) & (Hold.status == "PENDING")
    )
    if is_postgres():
        query = query.for_update(skip_locked=True)
    pending = list(query)
    voided: dict[str, int] = {}
    for hold in pending:
        if _resolve(hold, "VOIDED", now):
            voided[hold.account_id] = voided.get(hold.account_id, 0) + int(hold.amount_minor)
    return voided


def _resolve(hold: Hold, status: str, now: datetime) -> bool:
    """Ends a PENDING hold as `status` and frees its amount on the account;
    False when it was no longer PENDING (someone else ended it)."""
    changed = (
        Hold.update(status=status, resolved_at=now)
        .where((Hold.id == hold.id) & (Hold.status == "PENDING"))
        .execute()
    )
    if changed:
        Account.update(held_minor=Account.held_minor - hold.amount_minor).where(
            Account.id == hold.account_id
        ).execute()
    return bool(changed)

"""Reading one transaction as a given caller may see it, as typed records.

`TransactionRecord` is what the api layer shows of a journal transaction:
the row's columns, with the facts its `details` JSON keeps (method,
location, card, hold, schedule, failure code, where the request came from)
as fields. Movements return it too (server.services), built from the values
they wrote rather than read back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain import errors
from server.domain.principal import Principal
from server.store.models import Account, AccountEntry, LedgerTransaction, User


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """Where a movement's request came from (shown to staff and the initiator)."""

    user_id: str = ""  # the initiating user ("" for a client acting for itself)
    ip_address: str = ""
    device: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    id: str
    number: str
    type: str
    status: str
    currency: str
    amount_minor: int
    fee_minor: int
    description: str
    reference: str
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    from_account_id: str | None
    to_account_id: str | None
    client_id: str | None
    original_transaction_id: str | None
    failure_reason: str | None
    failure_code: str | None
    method: str | None
    location: str | None
    atm_network: str | None
    card_last4: str | None
    hold_id: str | None
    available_at: datetime | None
    scheduled_date: str | None  # YYYY-MM-DD
    request: RequestFacts
    # The REVERSAL that corrected a REVERSED transaction (services.reversals).
    reversal_transaction_id: str | None = None
    # Refunds (services.refunds): what REFUND transactions gave back of this
    # one, and for a REFUND, the request it paid.
    refunded_minor: int | None = None
    refund_request_id: str | None = None
    # The recurring schedule whose run made it (services.recurring_execution).
    recurring_transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """One side of a transaction: the account, its holder's name."""

    id: str
    account_number: str
    currency: str
    owner_id: str | None
    holder: str


def record_of(
    row: LedgerTransaction, details: Mapping[str, Any] | None = None
) -> TransactionRecord:
    """The record of a transaction row; `details`: its details already decoded."""
    if details is None:
        details = json.loads(row.details or "{}")
    facts = details.get("metadata") or {}
    available = details.get("available_at")
    return TransactionRecord(
        id=row.id,
        number=row.number,
        type=row.type,
        status=row.status,
        currency=row.currency,
        amount_minor=row.amount_minor,
        fee_minor=row.fee_minor,
        description=row.description,
        reference=row.reference,
        created_at=row.created_at,
        completed_at=row.completed_at,
        cancelled_at=row.cancelled_at,
        from_account_id=row.from_account_id,
        to_account_id=row.to_account_id,
        client_id=row.client_id,
        original_transaction_id=row.original_transaction_id,
        failure_reason=row.failure_reason,
        failure_code=details.get("failure_code") or None,
        method=details.get("method") or None,
        location=details.get("location") or None,
        atm_network=details.get("atm_network") or None,
        card_last4=details.get("card_last4") or None,
        hold_id=details.get("hold_id") or None,
        available_at=datetime.fromisoformat(available) if available else None,
        scheduled_date=details.get("scheduled_date") or None,
        request=RequestFacts(
            user_id=facts.get("user_id") or "",
            ip_address=facts.get("ip_address") or "",
            device=facts.get("device") or "",
            location=facts.get("location") or "",
        ),
        reversal_transaction_id=details.get("reversal_transaction_id") or None,
        refunded_minor=details.get("refunded_minor"),
        refund_request_id=details.get("refund_request_id") or None,
        recurring_transaction_id=details.get("recurring_transaction_id") or None,
    )


def account_record(account: Account, holder: str) -> AccountRecord:
    return AccountRecord(
        id=account.id,
        account_number=account.account_number,
        currency=account.currency,
        owner_id=account.owner_id,
        holder=holder,
    )


@dataclass(frozen=True)
class TransactionView:
    transaction: TransactionRecord
    from_account: AccountRecord | None
    to_account: AccountRecord | None
    balance_after_minor: int | None
    counterparty: str


def holder_name(account: Account) -> str:
    """The account holder's name (the account's name for the bank's own accounts)."""
    if account.owner_id is None:
        return str(account.name)
    user = User.get_or_none(User.id == account.owner_id)
    return str(user.name) if user else ""


def _side(account_id: str | None) -> AccountRecord | None:
    if not account_id:
        return None
    account = Account.get_or_none(Account.id == account_id)
    return account_record(account, holder_name(account)) if account else None


def get(transaction_id: str, principal: Principal) -> TransactionView:
    """The transaction, if the caller is staff or owns one of its accounts."""
    row = LedgerTransaction.get_or_none(LedgerTransaction.id == transaction_id)
    not_found = errors.NotFound(
        "Transaction not found",
        field="transactionId",
        metadata={"transaction_id": transaction_id[:64]},
    )
    if row is None:
        raise not_found
    from_side, to_side = _side(row.from_account_id), _side(row.to_account_id)
    own_sides = [
        side
        for side in (from_side, to_side)
        if side is not None and principal.can_see(side.owner_id)
    ]
    if not principal.is_staff and not own_sides:
        raise not_found
    # The caller's side: the debited account first (as seed 002 shows it).
    mine = own_sides[0] if own_sides else None
    entry = None
    if mine is not None:
        entry = AccountEntry.get_or_none(
            (AccountEntry.transaction_id == row.id) & (AccountEntry.account_id == mine.id)
        )
    return TransactionView(
        transaction=record_of(row),
        from_account=from_side,
        to_account=to_side,
        balance_after_minor=entry.balance_after_minor if entry else None,
        counterparty=entry.counterparty if entry else "",
    )

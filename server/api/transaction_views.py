"""Transactions and history lines as messages: only the fields that apply.

Every field that applies to some transactions only is `optional` in
transaction.proto and is set here only where it applies, so that neither
REST (the transcoder prints every field without presence) nor gRPC
(`HasField`) shows an empty string or an `*_UNSPECIFIED` enum for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from backoffice.v1 import transaction_pb2 as tpb
from server.api import call
from server.api.convert import timestamp
from server.domain.masking import mask_account_number
from server.domain.money import to_major
from server.domain.principal import Principal
from server.store import history, movements, transactions
from server.store.models import Account, LedgerTransaction

# Types on which a fee is reported even when it is 0 (transaction.proto, `fee`).
FEE_TYPES = frozenset({"TRANSFER", "EXTERNAL_TRANSFER", "WITHDRAWAL", "PAYMENT"})
# Types with one account, shown as `account_id`.
SINGLE_ACCOUNT_TYPES = frozenset({"DEPOSIT", "WITHDRAWAL", "FEE", "INTEREST", "ADJUSTMENT"})


def list_item(row: history.HistoryRow) -> tpb.TransactionListItem:
    currency = row.currency
    item = tpb.TransactionListItem(
        id=row.transaction_id,
        transaction_number=row.number,
        type=row.type,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        direction=row.direction or None,  # type: ignore[arg-type]
        account_id=row.account_id or None,
        amount=to_major(row.amount_minor, currency),
        currency=currency,
        description=row.description or None,
        reference=row.reference or None,
        counterparty=row.counterparty or None,
        # Only scheduled transfers have one; most details need no parsing.
        scheduled_date=(
            json.loads(row.details).get("scheduled_date") or None
            if "scheduled_date" in row.details
            else None
        ),
        timestamp=timestamp(row.transaction_created_at),
        completed_at=timestamp(row.completed_at),
    )
    if row.fee_minor or row.type in FEE_TYPES:
        item.fee = to_major(row.fee_minor, currency)
    if row.balance_after_minor is not None:
        item.balance_after = to_major(row.balance_after_minor, currency)
    return item


def _account_ref(
    account: Account | None, holder: str, balance_minor: int | None
) -> tpb.AccountRef | None:
    if account is None:
        return None
    ref = tpb.AccountRef(
        id=account.id,
        account_number=mask_account_number(account.account_number),
        holder=holder or None,
    )
    if balance_minor is not None:
        ref.balance = to_major(balance_minor, account.currency)
    return ref


def _request_facts(
    message: tpb.Transaction, row: LedgerTransaction, facts: dict[str, Any], reader: Principal
) -> None:
    """Where the request came from, for staff and the initiator only."""
    initiator = facts.get("user_id") or None
    if not reader.can_see_request_metadata(initiator, row.client_id):
        return
    if initiator:
        message.initiated_by = initiator
    shown = {name: facts[name] for name in ("ip_address", "device", "location") if facts.get(name)}
    if shown:
        message.metadata.CopyFrom(tpb.TransactionMetadata(**shown))


def _base_message(row: LedgerTransaction, reader: Principal) -> tpb.Transaction:
    details = json.loads(row.details or "{}")
    message = tpb.Transaction(
        id=row.id,
        transaction_number=row.number,
        type=row.type,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        amount=to_major(row.amount_minor, row.currency),
        currency=row.currency,
        description=row.description or None,
        reference=row.reference or None,
        location=details.get("location") or None,
        timestamp=timestamp(row.created_at),
        completed_at=timestamp(row.completed_at),
        cancelled_at=timestamp(row.cancelled_at),
        failure_reason=row.failure_reason or None,
        failure_code=details.get("failure_code") or None,
        original_transaction_id=row.original_transaction_id or None,
        hold_id=details.get("hold_id") or None,
        scheduled_date=details.get("scheduled_date") or None,
        method=details.get("method") or None,
        atm_network=details.get("atm_network") or None,
    )
    if row.fee_minor or row.type in FEE_TYPES:
        message.fee = to_major(row.fee_minor, row.currency)
    if details.get("card_last4"):
        message.card_number = f"****{details['card_last4']}"
    if details.get("available_at"):
        message.available_date.CopyFrom(
            timestamp(datetime.fromisoformat(details["available_at"]))  # type: ignore[arg-type]
        )
    if row.type in SINGLE_ACCOUNT_TYPES:
        account_id = row.to_account_id or row.from_account_id
        if account_id:
            message.account_id = account_id
    _request_facts(message, row, details.get("metadata") or {}, reader)
    return message


def created_message(result: movements.Result) -> tpb.Transaction:
    """The transaction as its creator sees it: with the balances after it."""
    row = result.transaction
    principal = call.current().principal
    message = _base_message(row, principal)
    for side, account_id in (
        ("from_account", row.from_account_id),
        ("to_account", row.to_account_id),
    ):
        account = result.accounts.get(account_id) if account_id else None
        if account is None:
            continue
        visible = principal.can_see(account.owner_id)
        balance = result.balances_after.get(account.id) if visible else None
        holder = result.holders.get(account.id)
        if holder is None:
            holder = transactions.holder_name(account)
        getattr(message, side).CopyFrom(_account_ref(account, holder, balance))
    own_side = row.from_account_id or row.to_account_id
    if own_side and own_side in result.balances_after:
        account = result.accounts[own_side]
        if principal.can_see(account.owner_id):
            message.balance_after = to_major(result.balances_after[own_side], row.currency)
    return message


def view_message(view: transactions.TransactionView, principal: Principal) -> tpb.Transaction:
    message = _base_message(view.row, principal)
    for side, ref in (("from_account", view.from_account), ("to_account", view.to_account)):
        if ref is not None:
            getattr(message, side).CopyFrom(_account_ref(ref.account, ref.holder, None))
    if view.balance_after_minor is not None:
        message.balance_after = to_major(view.balance_after_minor, view.row.currency)
    if view.counterparty:
        message.counterparty = view.counterparty
    return message

"""Transactions and history lines as messages: only the fields that apply.

Every field that applies to some transactions only is `optional` in
transaction.proto and is set here only where it applies, so that neither
REST (the transcoder prints every field without presence) nor gRPC
(`HasField`) shows an empty string or an `*_UNSPECIFIED` enum for it.
"""

from __future__ import annotations

import json

from backoffice.v1 import transaction_pb2 as tpb
from server.api import call, external_views, payment_views
from server.api.convert import timestamp
from server.domain.masking import mask_account_number
from server.domain.money import to_major
from server.domain.principal import Principal
from server.services.context import Movement, Side
from server.store import history, transactions
from server.store.transactions import AccountRecord, TransactionRecord

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


def _account_ref(account: AccountRecord | None, balance_minor: int | None) -> tpb.AccountRef | None:
    if account is None:
        return None
    ref = tpb.AccountRef(
        id=account.id,
        account_number=mask_account_number(account.account_number),
        holder=account.holder or None,
    )
    if balance_minor is not None:
        ref.balance = to_major(balance_minor, account.currency)
    return ref


def _request_facts(message: tpb.Transaction, row: TransactionRecord, reader: Principal) -> None:
    """Where the request came from, for staff and the initiator only."""
    facts = row.request
    initiator = facts.user_id or None
    if not reader.can_see_request_metadata(initiator, row.client_id):
        return
    if initiator:
        message.initiated_by = initiator
    shown = {
        name: value
        for name, value in (
            ("ip_address", facts.ip_address),
            ("device", facts.device),
            ("location", facts.location),
        )
        if value
    }
    if shown:
        message.metadata.CopyFrom(tpb.TransactionMetadata(**shown))


def _base_message(row: TransactionRecord, reader: Principal) -> tpb.Transaction:
    message = tpb.Transaction(
        id=row.id,
        transaction_number=row.number,
        type=row.type,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        amount=to_major(row.amount_minor, row.currency),
        currency=row.currency,
        description=row.description or None,
        reference=row.reference or None,
        location=row.location,
        timestamp=timestamp(row.created_at),
        completed_at=timestamp(row.completed_at),
        cancelled_at=timestamp(row.cancelled_at),
        failure_reason=row.failure_reason or None,
        failure_code=row.failure_code,
        original_transaction_id=row.original_transaction_id or None,
        recurring_transaction_id=row.recurring_transaction_id,
        reversal_transaction_id=row.reversal_transaction_id,
        hold_id=row.hold_id,
        scheduled_date=row.scheduled_date,
        method=row.method,
        atm_network=row.atm_network,  # type: ignore[arg-type]
    )
    if row.fee_minor or row.type in FEE_TYPES:
        message.fee = to_major(row.fee_minor, row.currency)
    if row.card_last4:
        message.card_number = f"****{row.card_last4}"
    if row.refunded_minor is not None:
        message.refunded_amount = to_major(row.refunded_minor, row.currency)
    if row.refund_request_id:
        message.refund_request_id = row.refund_request_id
    if row.available_at is not None:
        message.available_date.CopyFrom(timestamp(row.available_at))  # type: ignore[arg-type]
    if row.type in SINGLE_ACCOUNT_TYPES:
        account_id = row.to_account_id or row.from_account_id
        if account_id:
            message.account_id = account_id
    _request_facts(message, row, reader)
    return message


HELD_FOR_REVIEW = "PENDING_REVIEW"


def created_status(result: Movement) -> int:
    """201 Created; 202 Accepted for a movement fraud screening held for review
    (PENDING_REVIEW: nothing moved until staff approve it, risk.proto)."""
    return 202 if result.transaction.status == HELD_FOR_REVIEW else 201


def announce_created(result: Movement, message: str) -> None:
    """Tells the REST edge 201 with `message`, or 202 for a held movement."""
    announce(result.transaction.status == HELD_FOR_REVIEW, message)


def announce_message(transaction: tpb.Transaction, message: str) -> None:
    """`announce_created` for a movement already made a message."""
    announce(transaction.status == tpb.TransactionStatusEnum.PENDING_REVIEW, message)


def announce(held: bool, message: str) -> None:
    info = call.current()
    if held:
        info.accepted("Held for review")
    else:
        info.created(message)


def created_message(movement: Movement, creator: Principal | None = None) -> tpb.Transaction:
    """The transaction as its creator sees it: with the balances after it.

    `creator`: who made it, when that is not this call's caller (a keyed
    transfer answered by the batch another call runs, server.services.
    transfer_queue); by default this call's principal.
    """
    row = movement.transaction
    principal = creator if creator is not None else call.current().principal
    message = _base_message(row, principal)
    own: Side | None = None
    for name, side in (
        ("from_account", movement.from_account),
        ("to_account", movement.to_account),
    ):
        if side is None:
            continue
        visible = principal.can_see(side.account.owner_id)
        balance = side.balance_after_minor if visible else None
        getattr(message, name).CopyFrom(_account_ref(side.account, balance))
        if own is None:
            own = side
    if (
        own is not None
        and own.balance_after_minor is not None
        and principal.can_see(own.account.owner_id)
    ):
        message.balance_after = to_major(own.balance_after_minor, row.currency)
    return message


def view_message(view: transactions.TransactionView, principal: Principal) -> tpb.Transaction:
    message = _base_message(view.transaction, principal)
    for name, ref in (("from_account", view.from_account), ("to_account", view.to_account)):
        if ref is not None:
            getattr(message, name).CopyFrom(_account_ref(ref, None))
    if view.balance_after_minor is not None:
        message.balance_after = to_major(view.balance_after_minor, view.transaction.currency)
    if view.counterparty:
        message.counterparty = view.counterparty
    if view.transaction.type == "PAYMENT":
        payment_views.add_stored_payment_fields(message, view.transaction.id)
    if view.transaction.type == "EXTERNAL_TRANSFER":
        external_views.add_stored_facts(message)
    return message

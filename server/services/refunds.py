"""Refund requests: a customer asks, staff approve (posting a REFUND) or reject.

The rules are server.domain.refunds; the rows server.store.refund_rows.
Each use case is one database transaction that locks the original
transaction's row first, so that the sums of an original's requests (what
may still be asked or approved) are read and written by one writer at a
time. Approval posts the REFUND (the bank's refunds account -> the account
the original debited), completes the request and records the refund on the
original in that one transaction; a conditional update that finds another
process got there first rolls it all back (CONFLICT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.domain import errors, limits, movements, refunds
from server.domain import transaction_states as states
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.movement_events import refunded_data, transaction_data
from server.domain.principal import Principal
from server.services import steps
from server.services.context import Movement, Posted, RequestContext
from server.store import case_lists, clock, dispute_rows, ledger, movement_rows, outbox, tx
from server.store import refund_rows as store
from server.store.bootstrap import internal_account_id
from server.store.refund_rows import OriginalRecord, RefundRecord

ID_LENGTH_MAX = 64


@dataclass(frozen=True)
class RefundInput:
    """RefundTransaction's request, decoded."""

    transaction_id: str
    reason: str  # the enum's word; "" when unset
    amount: float | None
    description: str = ""


@dataclass(frozen=True)
class Approved:
    """The completed request and the REFUND transaction it posted."""

    request: RefundRecord
    movement: Movement


def transaction_not_found(transaction_id: str) -> errors.NotFound:
    return errors.NotFound(
        "Transaction not found",
        field="transactionId",
        metadata={"transaction_id": transaction_id[:ID_LENGTH_MAX]},
    )


def _request_not_found(request_id: str) -> errors.NotFound:
    return errors.NotFound(
        "Refund request not found",
        field="refundRequestId",
        metadata={"refund_request_id": request_id[:ID_LENGTH_MAX]},
    )


def refundable_of(
    original: OriginalRecord, refunded_minor: int, open_minor: int
) -> refunds.RefundableTransaction:
    same_owner = (
        original.from_is_customer
        and original.to_is_customer
        and original.from_owner_id == original.to_owner_id
    )
    return refunds.RefundableTransaction(
        transaction_id=original.id,
        type=original.type,
        status=original.status,
        amount_minor=original.amount_minor,
        currency=original.currency,
        completed_at=original.completed_at,
        # Direct (staff) refunds have no request: the original's running total counts them.
        refunded_minor=max(refunded_minor, int(original.details.get("refunded_minor", 0))),
        open_requested_minor=open_minor,
        to_same_owner=same_owner,
        disputed_minor=dispute_rows.standing(original.id)[1],
    )


def _check_debit_of_caller(original: OriginalRecord, principal: Principal) -> str:
    """The debited customer account, if the caller may ask for it; else CONFLICT.

    The caller already sees the transaction (one of its sides is theirs):
    a customer who only received it has no debit to dispute.
    """
    account_id = original.from_account_id
    if (
        account_id is None
        or not original.from_is_customer
        or not principal.can_see(original.from_owner_id)
    ):
        raise refunds.RefundConflict(
            "Only a debit of your own account can be refunded",
            metadata={"transaction_id": original.id, "type": original.type},
        )
    return account_id


def request_refund(request: RefundInput, context: RequestContext) -> RefundRecord:
    """Stores a PENDING_REVIEW request on a COMPLETED debit of the caller's; no money moves."""
    principal = context.principal
    transaction_id = movements.required_id(request.transaction_id, "transactionId")

    def work() -> RefundRecord:
        now = clock.now()
        original = store.lock_original(transaction_id)
        if original is None or not (
            principal.can_see(original.from_owner_id) or principal.can_see(original.to_owner_id)
        ):
            raise transaction_not_found(transaction_id)
        principal.require_write()
        refunded, open_minor = store.sums(original.id)
        refundable = refundable_of(original, refunded, open_minor)
        account_id = ""  # set below for every type a request may name
        if original.type in refunds.REFUNDABLE_TYPES:
            account_id = _check_debit_of_caller(original, principal)
        amount_minor = (
            None if request.amount is None else parse_amount(request.amount, original.currency)
        )
        asked = refunds.new_request(
            new_id("ref"),
            refundable,
            reason=request.reason,
            amount_minor=amount_minor,
            description=request.description,
            now=now,
        )
        record = RefundRecord(
            id=asked.request_id,
            transaction_id=original.id,
            account_id=account_id,
            owner_id=original.from_owner_id,
            status=asked.status,
            reason=request.reason,
            currency=asked.currency,
            amount_minor=asked.amount_minor,
            approved_minor=None,
            description=request.description,
            requested_by=principal.user_id,
            client_id=principal.client_id,
            expected_resolution=refunds.expected_resolution(now),
            reviewed_by=None,
            reviewed_at=None,
            review_notes=None,
            rejection_reason=None,
            refund_transaction_id=None,
            created_at=now,
            completed_at=None,
        )
        store.insert(record)
        return record

    return tx.write(work)


def get_request(principal: Principal, request_id: str) -> RefundRecord:
    """The request, if the caller is staff or owns its account; else NOT_FOUND."""
    found = store.get(request_id[:ID_LENGTH_MAX]) if request_id else None
    if found is None or not principal.can_see(found.owner_id):
        raise _request_not_found(request_id)
    return found


# The filters asked for, a customer's narrowed to the requests on their accounts.
list_query = case_lists.CaseQuery.of


def list_requests(
    query: case_lists.CaseQuery, *, limit: int, offset: int, after: list[object] | None
) -> store.RefundPage:
    return store.list_requests(query, limit=limit, offset=offset, after=after)


def reject(principal: Principal, request_id: str, reason: str) -> RefundRecord:
    """PENDING_REVIEW -> REJECTED (staff); no money moves."""
    principal.require_staff(write=True)

    def work() -> RefundRecord:
        now = clock.now()
        found = store.get(request_id[:ID_LENGTH_MAX], lock=True) if request_id else None
        if found is None:
            raise _request_not_found(request_id)
        refunds.reject(found.rules(), reason)
        if not store.reject(found.id, reason=reason, reviewer=principal.user_id, now=now):
            raise refunds.RefundConflict(
                "The refund request was decided by someone else meanwhile",
                metadata={"refund_request_id": found.id},
            )
        return store.get(found.id) or found

    return tx.write(work)


def approve(
    principal: Principal,
    request_id: str,
    *,
    amount: float | None,
    notes: str,
    context: RequestContext,
) -> Approved:
    """Approves the request (in full or for less) and posts its REFUND at once."""
    principal.require_staff(write=True)

    def work() -> Approved:
        now = clock.now()
        first = store.get(request_id[:ID_LENGTH_MAX]) if request_id else None
        if first is None:
            raise _request_not_found(request_id)
        # The original first, as a new request does: one lock order for both.
        original = store.lock_original(first.transaction_id)
        found = store.get(first.id, lock=True)
        assert original is not None and found is not None, "rows are never deleted"
        refunded, open_minor = store.sums(original.id, excluding=found.id)
        approved_minor = None if amount is None else parse_amount(amount, found.currency)
        approval = refunds.approve(
            found.rules(),
            refundable_of(original, refunded, open_minor),
            notes=notes,
            approved_minor=approved_minor,
        )
        posted = post_refund(
            RefundPosting(
                account_id=found.account_id,
                currency=found.currency,
                original_id=original.id,
                original_number=original.number,
                amount_minor=approval.refund_minor,
                why=found.reason.replace("_", " ").lower(),
                details={"refund_request_id": found.id},
            ),
            context,
            now,
        )
        refund_id = posted.transaction.id
        if not store.complete(
            found.id,
            approved_minor=approval.refund_minor,
            refund_transaction_id=refund_id,
            reviewer=principal.user_id,
            notes=notes,
            now=now,
        ) or not store.mark_original(
            original, approval.original_refunded_minor, approval.original_status, refund_id
        ):
            raise refunds.RefundConflict(
                "The refund request or its transaction changed meanwhile; nothing was refunded",
                metadata={"refund_request_id": found.id, "transaction_id": original.id},
            )
        emit_refunded(
            original,
            found.account_id,
            refunded_minor=approval.original_refunded_minor,
            refund_minor=approval.refund_minor,
            status=approval.original_status,
            refund_transaction_id=refund_id,
            refund_request_id=found.id,
            now=now,
        )
        completed = store.get(found.id)
        assert completed is not None
        return Approved(completed, posted.movement())

    return tx.write(work)


@dataclass(frozen=True)
class RefundPosting:
    """What a REFUND transaction pays back, to whom, and why."""

    account_id: str  # the customer account the original debited
    currency: str
    original_id: str
    original_number: str
    amount_minor: int
    why: str  # shown in the description: `Refund of TXN... (<why>)`
    details: dict[str, object]


def post_refund(refund: RefundPosting, context: RequestContext, now: datetime) -> Posted:
    """The REFUND transaction: refunds account -> the customer's account, its
    history row, and its created/completed events (an approved request's and a
    staff direct refund's)."""
    locks, number = steps.lock_numbered([refund.account_id], now)
    account = locks[refund.account_id]
    # A refund gives money back and takes nothing from the account, so a
    # frozen account receives it; a closed one cannot (reject the request).
    if account.status == "CLOSED":
        movements.require_active(account.id, account.status, "accountId")
    amount_minor = refund.amount_minor
    currency = refund.currency
    details: dict[str, object] = {**refund.details, "metadata": context.metadata()}
    balances: dict[str, int] = {}
    row = ledger.post(
        balances_after=balances,
        transaction_id=new_id("txn"),
        number=number,
        type_=states.REFUND,
        status=states.COMPLETED,
        currency=currency,
        amount_minor=amount_minor,
        legs=[
            ledger.Leg(leg.account_id, leg.amount_minor, leg.currency)
            for leg in refunds.refund_legs(
                internal_account_id(refunds.REFUNDS_ACCOUNT_CODE, currency),
                account.id,
                amount_minor,
                currency,
            )
        ],
        now=now,
        description=f"Refund of {refund.original_number} ({refund.why})",
        details=details,
        columns={
            "to_account_id": account.id,
            "original_transaction_id": refund.original_id,
            "client_id": context.principal.client_id,
        },
        locked=locks,
    )
    movement_rows.write_entries(
        movement_rows.entry(
            row,
            account,
            direction="CREDIT",
            amount_minor=amount_minor,
            fee_minor=0,
            balance_after=balances[account.id],
            limit_class=limits.CLASS_NONE,
            counterparty="Refund",
            now=now,
        )
    )
    steps.emit_completed(row, account.id, now)
    return Posted(row, details, {account.id: account}, balances)


def emit_refunded(
    original: OriginalRecord,
    account_id: str,
    *,
    refunded_minor: int,
    refund_minor: int,
    status: str,
    refund_transaction_id: str,
    refund_request_id: str,
    now: datetime,
) -> None:
    """transaction.refunded on the original ("" as refund_request_id for a direct refund)."""
    base = transaction_data(
        transaction_id=original.id,
        number=original.number,
        account_id=account_id,
        amount_minor=original.amount_minor,
        currency=original.currency,
        type_=original.type,
        status=status,
    )
    data = refunded_data(
        base,
        refunded_minor=refunded_minor,
        refund_minor=refund_minor,
        refund_transaction_id=refund_transaction_id,
        refund_request_id=refund_request_id,
    )
    outbox.emit(refunds.EVENT_REFUNDED, original.id, data, now)

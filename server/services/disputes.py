"""Disputes: a customer opens one on a debit, staff resolve it once.

The rules are server.domain.disputes; the rows server.store.dispute_rows;
the money server.services.dispute_postings. Each use case is one database
transaction that locks the disputed transaction's row first (as refunds
do), so the sums of its refunds and disputes are read and written by one
writer at a time; then the dispute's row; then the account.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.crypto.fields import FieldSealer
from server.domain import disputes, errors, movements
from server.domain import notifications as notes
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.principal import Principal
from server.services import dispute_notices, dispute_postings
from server.services.context import Movement, RequestContext
from server.services.refunds import ID_LENGTH_MAX, transaction_not_found
from server.store import case_lists, clock, dispute_rows, ledger, refund_rows, tx
from server.store.dispute_rows import DisputeRecord
from server.store.refund_rows import OriginalRecord


@dataclass(frozen=True)
class DisputeInput:
    """CreateDispute's request, decoded."""

    transaction_id: str
    reason: str  # the enum's word; "" when unset
    amount: float | None
    description: str = ""


@dataclass(frozen=True)
class Resolved:
    """The resolved dispute and the ADJUSTMENT its resolution posted, if any."""

    dispute: DisputeRecord
    movement: Movement | None


def _not_found(dispute_id: str) -> errors.NotFound:
    return errors.NotFound(
        "Dispute not found",
        field="disputeId",
        metadata={"dispute_id": dispute_id[:ID_LENGTH_MAX]},
    )


def _disputable(original: OriginalRecord) -> disputes.DisputableTransaction:
    refunded, open_refund = refund_rows.sums(original.id)
    disputed, open_id = dispute_rows.others(original.id)
    same_owner = (
        original.from_is_customer
        and original.to_is_customer
        and original.from_owner_id == original.to_owner_id
    )
    return disputes.DisputableTransaction(
        transaction_id=original.id,
        type=original.type,
        status=original.status,
        amount_minor=original.amount_minor,
        currency=original.currency,
        completed_at=original.completed_at,
        # Direct (staff) refunds have no request: the original's running total counts them.
        refunded_minor=max(refunded, int(original.details.get("refunded_minor", 0))),
        open_refund_minor=open_refund,
        disputed_minor=disputed,
        open_dispute_id=open_id,
        to_same_owner=same_owner,
    )


def _debited_account(original: OriginalRecord, principal: Principal) -> str:
    """The debited customer account, if the caller may dispute it; else CONFLICT."""
    account_id = original.from_account_id
    if (
        account_id is None
        or not original.from_is_customer
        or not principal.can_see(original.from_owner_id)
    ):
        raise disputes.DisputeConflict(
            "Only a debit of your own account can be disputed",
            metadata={"transaction_id": original.id, "type": original.type},
        )
    return account_id


def open_dispute(
    request: DisputeInput, context: RequestContext, sealer: FieldSealer | None = None
) -> DisputeRecord:
    """Stores an OPEN dispute on a COMPLETED debit of the caller's; an
    unauthorized transaction's provisional credit posts with it. The owner
    is told (dispute_notices) when `sealer` is given."""
    principal = context.principal
    transaction_id = movements.required_id(request.transaction_id, "transactionId")

    def work() -> DisputeRecord:
        now = clock.now()
        original = refund_rows.lock_original(transaction_id[:ID_LENGTH_MAX])
        if original is None or not (
            principal.can_see(original.from_owner_id) or principal.can_see(original.to_owner_id)
        ):
            raise transaction_not_found(transaction_id)
        principal.require_write()
        disputable = _disputable(original)
        account_id = ""  # set below for every type a dispute may name
        if original.type in disputes.DISPUTABLE_TYPES:
            account_id = _debited_account(original, principal)
        amount_minor = (
            None if request.amount is None else parse_amount(request.amount, original.currency)
        )
        opened = disputes.open_dispute(
            new_id("dsp"),
            disputable,
            reason=request.reason,
            amount_minor=amount_minor,
            description=request.description,
            now=now,
        )
        account = ledger.lock_accounts([account_id])[account_id]
        if account.status == "CLOSED":
            movements.require_active(account.id, account.status, "accountId")
        record = DisputeRecord(
            id=opened.dispute_id,
            transaction_id=original.id,
            account_id=account_id,
            owner_id=original.from_owner_id,
            status=opened.status,
            outcome=None,
            reason=opened.reason,
            currency=opened.currency,
            amount_minor=opened.amount_minor,
            description=request.description,
            opened_by=principal.user_id,
            client_id=principal.client_id,
            investigation_deadline=opened.investigation_deadline,
            credit_status=opened.credit_status,
            credit_due=opened.credit_due,
            credit_transaction_id=None,
            credited_at=None,
            reversal_transaction_id=None,
            resolution_note=None,
            resolved_by=None,
            resolved_at=None,
            created_at=now,
            updated_at=now,
        )
        dispute_rows.insert(record)
        if disputes.credit_is_due(opened, now):
            dispute_postings.credit_now(record, original.number, now)
        stored = dispute_rows.get(record.id)
        assert stored is not None
        dispute_postings.emit(disputes.EVENT_CREATED, stored, now)
        dispute_notices.tell(sealer, stored, notes.DISPUTE_OPENED, original.number)
        return stored

    return tx.write(work)


def get_dispute(principal: Principal, dispute_id: str) -> DisputeRecord:
    """The dispute, if the caller is staff or owns its account; else NOT_FOUND."""
    found = dispute_rows.get(dispute_id[:ID_LENGTH_MAX]) if dispute_id else None
    if found is None or not principal.can_see(found.owner_id):
        raise _not_found(dispute_id)
    return found


# The filters asked for, a customer's narrowed to the disputes on their accounts.
list_query = case_lists.CaseQuery.of


def list_disputes(
    query: case_lists.CaseQuery, *, limit: int, offset: int, after: list[object] | None
) -> dispute_rows.DisputePage:
    return dispute_rows.list_disputes(query, limit=limit, offset=offset, after=after)


def resolve(
    principal: Principal,
    dispute_id: str,
    *,
    outcome: str,
    note: str,
    context: RequestContext,
    sealer: FieldSealer | None = None,
) -> Resolved:
    """OPEN -> RESOLVED (staff), once; posts the final credit or the claw-back."""
    principal.require_staff(write=True)
    principal.require_scope("backoffice.admin")
    disputes.check_outcome(outcome)

    def work() -> Resolved:
        now = clock.now()
        first = dispute_rows.get(dispute_id[:ID_LENGTH_MAX]) if dispute_id else None
        if first is None:
            raise _not_found(dispute_id)
        # The original first, as opening and crediting do: one lock order.
        original = refund_rows.lock_original(first.transaction_id)
        found = dispute_rows.get(first.id, lock=True)
        assert original is not None and found is not None, "rows are never deleted"
        resolution = disputes.resolve(found.rules(), outcome, note)
        posted = (
            dispute_postings.post(found, resolution.posting, original.number, now, context)
            if resolution.posting is not None
            else None
        )
        posted_id = str(posted.transaction.id) if posted is not None else None
        final = resolution.posting == disputes.FINAL_CREDIT
        if not dispute_rows.mark_resolved(
            resolution.dispute,
            credit_transaction_id=posted_id if final else None,
            reversal_transaction_id=None if final else posted_id,
            note=note,
            resolver=principal.user_id,
            now=now,
        ):
            raise disputes.DisputeConflict(
                "The dispute was resolved by someone else meanwhile; nothing moved",
                metadata={"dispute_id": found.id},
            )
        stored = dispute_rows.get(found.id)
        assert stored is not None
        dispute_postings.emit(disputes.EVENT_RESOLVED, stored, now)
        dispute_notices.tell(sealer, stored, notes.DISPUTE_RESOLVED, original.number)
        return Resolved(stored, posted.movement() if posted is not None else None)

    return tx.write(work)

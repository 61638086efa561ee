"""Staff postings on a customer account: FEE, INTEREST and ADJUSTMENT; and a
direct (goodwill) REFUND of a debit without a customer's request.

Reached through the generic CreateTransaction (banking.write), so the
staff-only rule is checked here: a writing staff role with backoffice.admin.
The rules (sides, internal accounts, description, debits) are
server/domain/adjustments.py; the posting is steps.post_with_internal, the one
an overdraft fee uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import adjustments, movements
from server.domain import refunds as refund_rules
from server.domain.money import parse_amount
from server.services import refunds, steps
from server.services.context import Movement, Posted, RequestContext
from server.store import clock, refund_rows, tx


@dataclass(frozen=True)
class PostingInput:
    kind: str  # FEE, INTEREST or ADJUSTMENT
    account_id: str
    amount: float
    description: str
    direction: str | None = None  # ADJUSTMENT only: CREDIT or DEBIT
    currency: str = ""


def post(request: PostingInput, context: RequestContext) -> Movement:
    """Posts the staff FEE, INTEREST or ADJUSTMENT on a customer account."""
    principal = context.principal
    principal.require_staff(write=True)
    principal.require_scope("backoffice.admin")
    kind = request.kind
    side = adjustments.direction(kind, request.direction)
    account_id = movements.required_id(request.account_id, "accountId")
    description = adjustments.description(request.description)
    account = steps.customer_account(account_id, principal, "accountId")
    currency = movements.currency_of(request.currency, account.currency)
    amount_minor = parse_amount(request.amount, currency)
    movements.check_per_transaction(amount_minor, 1, adjustments.AMOUNT_MAX_MINOR, currency)
    internal = adjustments.INTERNAL_ACCOUNT[kind]

    def work() -> Posted:
        now = clock.now()
        locks, number = steps.lock_numbered([account_id], now)
        locked = locks[account_id]
        movements.require_active(locked.id, locked.status, "accountId")
        if side == "DEBIT":
            adjustments.check_debit(steps.funds(locked), amount_minor)
        details: dict[str, object] = {
            "posted_by": principal.user_id or principal.client_id,
            "metadata": context.metadata(),
        }
        end = "from_account_id" if side == "DEBIT" else "to_account_id"
        row, balances = steps.post_with_internal(
            locked,
            now,
            type_=kind,
            direction=side,
            amount_minor=amount_minor,
            internal_code=internal,
            description=description,
            counterparty=description,
            details=details,
            columns={end: account_id, "client_id": principal.client_id},
            number=number,
        )
        return Posted(row, details, {account_id: locked}, balances)

    return tx.write(work).movement()


@dataclass(frozen=True)
class DirectRefundInput:
    original_transaction_id: str
    amount: float | None = None  # None: all that is left to refund


def refund(request: DirectRefundInput, context: RequestContext) -> Movement:
    """Staff refund a COMPLETED debit of a customer account at once: the bounds
    of a request (the original less its refunds and open requests), the
    posting of an approved one (refunds.post_refund)."""
    principal = context.principal
    principal.require_staff(write=True)
    principal.require_scope("backoffice.admin")
    transaction_id = movements.required_id(request.original_transaction_id, "originalTransactionId")

    def work() -> Posted:
        now = clock.now()
        original = refund_rows.lock_original(transaction_id[: refunds.ID_LENGTH_MAX])
        if original is None:
            raise refunds.transaction_not_found(transaction_id)
        account_id = original.from_account_id
        if account_id is None or not original.from_is_customer:
            raise refund_rules.RefundConflict(
                "Only a debit of a customer account can be refunded",
                metadata={"transaction_id": original.id, "type": original.type},
            )
        refunded, open_minor = refund_rows.sums(original.id)
        amount_minor = (
            None if request.amount is None else parse_amount(request.amount, original.currency)
        )
        outcome = refund_rules.direct_refund(
            refunds.refundable_of(original, refunded, open_minor), amount_minor, now
        )
        posted = refunds.post_refund(
            refunds.RefundPosting(
                account_id=account_id,
                currency=original.currency,
                original_id=original.id,
                original_number=original.number,
                amount_minor=outcome.refund_minor,
                why="goodwill",
                details={"refunded_by": principal.user_id or principal.client_id},
            ),
            context,
            now,
        )
        refund_id = str(posted.transaction.id)
        if not refund_rows.mark_original(
            original, outcome.original_refunded_minor, outcome.original_status, refund_id
        ):
            raise refund_rules.RefundConflict(
                "The transaction changed meanwhile; nothing was refunded",
                metadata={"transaction_id": original.id},
            )
        refunds.emit_refunded(
            original,
            account_id,
            refunded_minor=outcome.original_refunded_minor,
            refund_minor=outcome.refund_minor,
            status=outcome.original_status,
            refund_transaction_id=refund_id,
            refund_request_id="",
            now=now,
        )
        return posted

    return tx.write(work).movement()

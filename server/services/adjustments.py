"""Staff postings on a customer account: FEE, INTEREST and ADJUSTMENT.

Reached through the generic CreateTransaction (banking.write), so the
staff-only rule is checked here: a writing staff role with backoffice.admin.
The rules (sides, internal accounts, description, debits) are
server/domain/adjustments.py; the posting is steps.post_with_internal, the one
an overdraft fee uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import adjustments, movements
from server.domain.money import parse_amount
from server.services import steps
from server.services.context import Movement, Posted, RequestContext
from server.store import clock, tx


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

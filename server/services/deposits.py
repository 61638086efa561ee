"""Deposits: money in through a clearing account; checks are held (seed 002).

On PostgreSQL a deposit is posted by the stored function `bank_post_deposit`
(server.store.movement_functions, m0025) in one round trip, with the same
checks, rows and errors; what it hands back, SQLite, and
BANK_TRANSFER_FUNCTION=off take the Python path below.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import errors, limits, movements
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.services import steps
from server.services.context import Movement, Posted, RequestContext
from server.store import clock, holds, ledger, movement_functions, movement_rows, tx
from server.store.bootstrap import internal_account_id


@dataclass(frozen=True)
class DepositInput:
    account_id: str
    amount: float
    method: str
    currency: str = ""
    location: str = ""
    reference: str = ""
    description: str = ""


def deposit(request: DepositInput, context: RequestContext) -> Movement:
    """Credits the account; CHECK and MOBILE_CHECK deposits are held until they clear."""
    account_id = movements.required_id(request.account_id, "accountId")
    method = request.method
    movements.check_deposit_fields(method)
    location = movements.text(request.location, "location", movements.LOCATION_LENGTH_MAX)
    reference = movements.text(request.reference, "reference", movements.REFERENCE_LENGTH_MAX)
    description = movements.text(
        request.description, "description", movements.DESCRIPTION_LENGTH_MAX
    )
    if movement_functions.available():
        moved = _through_function(
            movement_functions.Deposit(
                movement_functions.Movement(
                    account_id,
                    request.amount,
                    request.currency,
                    method,
                    context.principal,
                    context.metadata(),
                ),
                context.sandbox,
                location,
                reference,
                description,
            )
        )
        if moved is not None:
            return moved
    account = steps.customer_account(account_id, context.principal, "accountId")
    movements.check_deposit_method(context.principal, method, sandbox=context.sandbox)
    currency = movements.currency_of(request.currency, account.currency)
    amount_minor = parse_amount(request.amount, currency)
    movements.check_per_transaction(amount_minor, 1, movements.deposit_max_minor(method), currency)
    context.principal.require_write()
    clearing = internal_account_id(movements.DEPOSIT_CLEARING_ACCOUNT[method], currency)
    words = movements.method_words(method)

    def work() -> Posted:
        now = clock.now()
        locks, number = steps.lock_numbered([account_id], now)
        locked = locks[account_id]
        movements.require_active(locked.id, locked.status, "accountId")
        release_at = movements.deposit_release(method, now)
        hold_id = new_id("hold") if release_at > now else None
        details: dict[str, object] = {
            "method": method,
            "location": location,
            "hold_id": hold_id,
            "available_at": release_at.isoformat(),
            "metadata": context.metadata(),
        }
        balances: dict[str, int] = {}
        row = ledger.post(
            balances_after=balances,
            transaction_id=new_id("txn"),
            number=number,
            type_="DEPOSIT",
            status="COMPLETED",
            currency=currency,
            amount_minor=amount_minor,
            legs=[
                ledger.Leg(account_id, amount_minor, currency),
                ledger.Leg(clearing, -amount_minor, currency),
            ],
            now=now,
            description=description or f"{words} deposit",
            reference=reference,
            details=details,
            columns={"to_account_id": account_id, "client_id": context.principal.client_id},
            locked=locks,
        )
        if hold_id is not None:
            holds.place(
                hold_id=hold_id,
                account_id=account_id,
                transaction_id=row.id,
                amount_minor=amount_minor,
                currency=currency,
                reason=f"{method}_DEPOSIT",
                description=f"{words} hold",
                release_at=release_at,
                now=now,
            )
        movement_rows.write_entries(
            movement_rows.entry(
                row,
                locked,
                direction="CREDIT",
                amount_minor=amount_minor,
                fee_minor=0,
                balance_after=balances[account_id],
                limit_class=limits.CLASS_NONE,
                counterparty=location or words,
                now=now,
            )
        )
        steps.emit_completed(row, account_id, now)
        return Posted(row, details, {account_id: locked}, balances)

    return tx.write(work).movement()


def _through_function(deposit: movement_functions.Deposit) -> Movement | None:
    """The deposit in one statement (PostgreSQL); None: the Python path posts it."""
    outcome = movement_functions.post_deposit(deposit, clock.now())
    if isinstance(outcome, movement_functions.Fallback):
        return None
    if isinstance(outcome, errors.BankError):
        raise outcome
    return outcome.movement()

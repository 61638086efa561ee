"""Recurring schedules: create, list, read, cancel (transaction_service.proto).

The rules are server.domain.recurring (dates, validation) and
server.domain.recurring_runs (statuses); rows are server.store.recurring_rows.
Each run is executed by server.services.recurring_execution, which the
due-work worker calls. A write is one database transaction.

A RECURRING_TRANSFER's runs are CreateTransfer's use case; a
RECURRING_PAYMENT's are CreatePayment's (server.services.payments), dated
the day they run.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import date

import peewee

from server.crypto.fields import FieldSealer
from server.domain import errors, movements
from server.domain import payees as payee_rules
from server.domain import payments as payment_rules
from server.domain import recurring as rules
from server.domain import recurring_runs as runs
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.principal import Principal
from server.services import recurring_execution, screening, steps
from server.services.context import RequestContext
from server.store import clock, risk_facts, tx
from server.store import payees as payee_store
from server.store import recurring_rows as store
from server.store.recurring_rows import RecurringPage, RecurringRecord


@dataclass(frozen=True)
class RecurringInput:
    """CreateRecurringTransactionRequest, decoded."""

    from_account_id: str
    to_account_id: str
    payee_id: str
    amount: float
    currency: str
    description: str
    frequency: str
    start_date: date | None
    end_date: date | None
    day_of_month: int | None
    account_number: str = ""


@dataclass(frozen=True, slots=True)
class RecurringQuery:
    account_id: str
    status: str


def create(
    request: RecurringInput, context: RequestContext, sealer: FieldSealer
) -> RecurringRecord:
    """Stores an ACTIVE schedule; its first run is made at once when already due.

    `sealer` seals a payment's own number at the payee and opens numbers
    when a first run is made at once.
    """
    principal = context.principal
    from_id = movements.required_id(request.from_account_id, "fromAccountId")
    kind = rules.recurring_type(from_id, request.to_account_id, request.payee_id)
    if request.account_number.strip() and kind != rules.RECURRING_PAYMENT:
        raise errors.ValidationFailed(
            "accountNumber applies only to payments to a payee", field="accountNumber"
        )
    if request.start_date is None:
        raise errors.ValidationFailed("startDate is required", field="startDate")
    # A payment's description becomes each run's memo, which CreatePayment
    # caps shorter: checked now rather than failing every run.
    description_max = (
        payment_rules.MEMO_LENGTH_MAX
        if kind == rules.RECURRING_PAYMENT
        else movements.DESCRIPTION_LENGTH_MAX
    )
    description = movements.text(request.description, "description", description_max)
    schedule = rules.new_schedule(
        request.frequency or None,
        request.start_date,
        request.end_date,
        request.day_of_month,
        today=clock.now().date(),
    )

    def work() -> RecurringRecord:
        now = clock.now()
        source = steps.customer_account(from_id, principal, "fromAccountId")
        movements.require_active(source.id, source.status, "fromAccountId")
        currency = movements.currency_of(request.currency, source.currency)
        amount_minor = parse_amount(request.amount, currency)
        rules.check_amount(amount_minor, currency, steps.effective_limits(source), kind)
        to_id = payee_id = last4 = None
        number = ""
        if kind == rules.RECURRING_TRANSFER:
            destination = steps.customer_account(
                request.to_account_id, steps.STAFF_VIEW, "toAccountId"
            )
            movements.require_active(destination.id, destination.status, "toAccountId")
            movements.check_destination_currency(currency, destination.currency)
            to_id = destination.id
        else:
            payee = _payee_of(request.payee_id, source.owner_id)
            number = request.account_number.strip()
            if number:
                number = payment_rules.validate_payee_account_number(number, "")
            payee_id, last4 = payee.id, (number or payee.account_number_last4)[-4:]
        principal.require_write()
        # Fraud screening of the instruction (its runs are not screened again):
        # a DECLINE refuses it; a schedule is never held, so a REVIEW declines.
        screening.screen(
            screening.Screened(
                movement="TRANSFER" if kind == rules.RECURRING_TRANSFER else "PAYMENT",
                account_id=source.id,
                amount_minor=amount_minor,
                currency=currency,
                paid_before=lambda: (
                    risk_facts.paid_account_before(source.id, str(to_id))
                    if to_id
                    else risk_facts.paid_payee_before(source.id, str(payee_id))
                ),
                can_hold=False,
            ),
            context,
        )
        record = RecurringRecord(
            id=new_id("rec"),
            type=kind,
            owner_id=source.owner_id,
            client_id=principal.client_id,
            from_account_id=source.id,
            to_account_id=to_id,
            payee_id=payee_id,
            payee_account_last4=last4,
            amount_minor=amount_minor,
            currency=currency,
            description=description,
            schedule=schedule,
            state=runs.activate(schedule),
            last_execution=None,
            last_transaction_id=None,
            created_at=now,
            cancelled_at=None,
            version=1,
        )
        store.insert(record, principal.user_id, payee_account_number=number, sealer=sealer)
        return record

    record = tx.write(work)
    now = clock.now()
    if runs.is_due(record.state, now):
        # Started today after 09:00 UTC: the first run is due now, not at
        # the next sweep (transaction_service.proto). If the sweeper ran it
        # first (or is changing it), the schedule is made either way and its
        # run happens once.
        with contextlib.suppress(peewee.IntegrityError, errors.Conflict):
            recurring_execution.run_one(record.id, now, sealer)
        record = _found(store.get(record.id), record.id, principal)
    return record


def _payee_of(requested: str, owner_id: str | None) -> payee_rules.PayeeRecord:
    """The payee, if the account's owner may pay it (own payee or bank-wide biller),
    as CreatePayment decides; anything else is NOT_FOUND on `payeeId`."""
    payee_id = payee_rules.payee_id_of(requested)
    payee = payee_store.get_payee(payee_id)
    if payee is None or not (payee.bank_wide or payee.owner_id == owner_id):
        raise errors.NotFound(
            "Payee not found", field="payeeId", metadata={"payee_id": payee_id[:80]}
        )
    return payee


def _found(
    record: RecurringRecord | None, recurring_id: str, principal: Principal
) -> RecurringRecord:
    """The schedule if the caller may see it; NOT_FOUND otherwise (also for others')."""
    if record is None or not principal.can_see(record.owner_id):
        raise errors.NotFound(
            "Recurring transaction not found", metadata={"recurring_id": recurring_id[:64]}
        )
    return record


def get(recurring_id: str, principal: Principal) -> RecurringRecord:
    return _found(store.get(recurring_id), recurring_id, principal)


def list_query(principal: Principal, account_id: str, status: str) -> RecurringQuery:
    if status and status not in runs.RECURRING_STATUSES:
        raise errors.ValidationFailed("status is not a recurring status", field="status")
    if account_id and principal.is_customer:
        # Another customer's account lists nothing rather than telling it exists.
        account = steps.customer_account(account_id, principal, "accountId")
        account_id = account.id
    return RecurringQuery(account_id, status)


def list_page(
    principal: Principal,
    query: RecurringQuery,
    *,
    limit: int,
    offset: int,
    after: list[object] | None,
) -> RecurringPage:
    """One page of the schedules the caller may see, newest first."""
    return store.list_page(
        owner_id=None if principal.is_staff else (principal.user_id or ""),
        account_id=query.account_id,
        status=query.status,
        limit=limit,
        offset=offset,
        after=after,
    )


def cancel(recurring_id: str, principal: Principal) -> RecurringRecord:
    """ACTIVE or PAUSED -> CANCELLED; CONFLICT for a CANCELLED or COMPLETED one."""

    def work() -> RecurringRecord:
        record = _found(store.get(recurring_id, lock=True), recurring_id, principal)
        principal.require_write()
        state = runs.cancel(record.state)
        now = clock.now()
        if not store.save(record, state, cancelled_at=now):
            # A run changed the schedule since it was read: the caller may retry.
            raise runs.RecurringConflict(
                "The recurring transaction changed meanwhile; retry",
                metadata={"recurring_id": record.id},
            )
        return replace(record, state=state, cancelled_at=now, version=record.version + 1)

    return tx.write(work)

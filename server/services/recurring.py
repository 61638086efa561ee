"""Recurring schedules: create, list, read, cancel (transaction_service.proto).

The rules are server.domain.recurring (dates, validation) and
server.domain.recurring_runs (statuses); rows are server.store.recurring_rows.
Each run is executed by server.services.recurring_execution, which the
due-work worker calls. A write is one database transaction.

RECURRING_PAYMENT (payee_id) is refused until bill payments exist
(transaction_service.proto says so): a schedule whose every run would fail
must not be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from server.domain import errors, movements
from server.domain import recurring as rules
from server.domain import recurring_runs as runs
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.principal import Principal
from server.services import recurring_execution, steps
from server.services.context import RequestContext
from server.store import clock, tx
from server.store import recurring_rows as store
from server.store.recurring_rows import RecurringPage, RecurringRecord


@dataclass(frozen=True)
class RecurringInput:
    """CreateRecurringTransactionRequest, decoded (dates still text)."""

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


@dataclass(frozen=True, slots=True)
class RecurringQuery:
    account_id: str
    status: str


def create(request: RecurringInput, context: RequestContext) -> RecurringRecord:
    """Stores an ACTIVE schedule; its first run is made at once when already due."""
    principal = context.principal
    from_id = movements.required_id(request.from_account_id, "fromAccountId")
    kind = rules.recurring_type(from_id, request.to_account_id, request.payee_id)
    if kind == rules.RECURRING_PAYMENT:
        raise errors.ValidationFailed(
            "Recurring payments to a payee are not available yet; use toAccountId",
            field="payeeId",
        )
    if request.start_date is None:
        raise errors.ValidationFailed("startDate is required", field="startDate")
    description = movements.text(
        request.description, "description", movements.DESCRIPTION_LENGTH_MAX
    )
    to_id = request.to_account_id
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
        destination = steps.customer_account(to_id, steps.STAFF_VIEW, "toAccountId")
        movements.require_active(source.id, source.status, "fromAccountId")
        movements.require_active(destination.id, destination.status, "toAccountId")
        currency = movements.currency_of(request.currency, source.currency)
        movements.check_destination_currency(currency, destination.currency)
        amount_minor = parse_amount(request.amount, currency)
        rules.check_amount(amount_minor, currency, steps.effective_limits(source), kind)
        principal.require_write()
        record = RecurringRecord(
            id=new_id("rec"),
            type=kind,
            owner_id=source.owner_id,
            client_id=principal.client_id,
            from_account_id=source.id,
            to_account_id=destination.id,
            payee_id=None,
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
        store.insert(record, principal.user_id)
        return record

    record = tx.write(work)
    now = clock.now()
    if runs.is_due(record.state, now):
        # Started today after 09:00 UTC: the first run is due now, not at
        # the next sweep (transaction_service.proto).
        recurring_execution.run_one(record.id, now)
        record = _found(store.get(record.id), record.id, principal)
    return record


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

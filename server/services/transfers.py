"""Internal transfers between two customer accounts of this bank.

Immediate by default: one database transaction that locks both accounts
(sorted order; the lock also reads the holders' names, a transaction number
and the source's limit counters), checks the request on the locked rows,
posts the journal transaction, writes the history rows and the events.
Nothing is written when a rule refuses it. Fraud screening decides first
(`screen`): a declined transfer is refused, one sent to review is held
PENDING_REVIEW (server.services.risk_reviews). With `scheduled` the transfer is
stored SCHEDULED (`schedule`) and posted by `execute` when it comes due
(server.services.scheduled, run by server.workers.scheduled).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from server.domain import errors, limits, movements, risk, scheduling
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.services import screening, steps
from server.services.context import Movement, Posted, RequestContext
from server.store import clock, ledger, movement_rows, outbox, risk_facts, tx
from server.store import scheduled as scheduled_rows
from server.store.models import Account, LedgerTransaction


@dataclass(frozen=True)
class TransferInput:
    from_account_id: str
    to_account_id: str
    amount: float
    currency: str = ""
    description: str = ""
    reference: str = ""
    scheduled: bool = False
    scheduled_date: str | None = None


@dataclass(frozen=True)
class Checked:
    """A transfer request that passed the checks needing no database."""

    from_id: str
    to_id: str
    description: str
    reference: str
    columns: dict[str, str | None]


def check_request(request: TransferInput, context: RequestContext) -> Checked:
    """The request's own checks (ids given, text lengths, two accounts), before any read."""
    from_id = movements.required_id(request.from_account_id, "fromAccountId")
    to_id = movements.required_id(request.to_account_id, "toAccountId")
    description = movements.text(
        request.description, "description", movements.DESCRIPTION_LENGTH_MAX
    )
    reference = movements.text(request.reference, "reference", movements.REFERENCE_LENGTH_MAX)
    if from_id == to_id:
        raise errors.ValidationFailed(
            "Source and destination accounts must differ", field="toAccountId"
        )
    columns: dict[str, str | None] = {
        "from_account_id": from_id,
        "to_account_id": to_id,
        "client_id": context.principal.client_id,
    }
    return Checked(from_id, to_id, description, reference, columns)


def is_immediate(request: TransferInput) -> bool:
    """Posted now (no scheduling asked for): what the batch paths take."""
    return not request.scheduled and request.scheduled_date is None


def transfer(request: TransferInput, context: RequestContext) -> Movement:
    """Moves money between two customer accounts, now or on a scheduled date.

    An immediate transfer on PostgreSQL shares a transaction with concurrent
    ones (server.services.transfer_queue); otherwise it runs here.
    """
    # Imported here: transfer_queue builds on this module.
    from server.services import transfer_queue  # noqa: PLC0415

    if transfer_queue.takes(request):
        # The batch checks the request (check_request) with the others';
        # `submit` screens it before it is queued.
        done = transfer_queue.submit(transfer_queue.Item(request, context))
        assert isinstance(done, transfer_queue.Done), "an unkeyed transfer holds no key"
        return done.movement
    return transfer_here(request, context)


def transfer_here(request: TransferInput, context: RequestContext) -> Movement:
    """The transfer in this thread's transaction (or one of its own), never the
    micro-batch: screened, then held for review or posted (or scheduled).
    Also a transfer whose step-up challenge was just answered
    (server.api.challenges), so that verification never skips screening."""
    from server.services import risk_reviews  # noqa: PLC0415

    checked = check_request(request, context)
    outcome = screen(request, context)
    context = outcome.marked(context)
    if outcome.decision.action == risk.REVIEW:
        return tx.write(
            lambda: risk_reviews.hold_transfer(request, checked, context, outcome)
        ).movement()
    return tx.write(lambda: post(request, checked, context)).movement()


def screen(request: TransferInput, context: RequestContext) -> screening.Outcome:
    """Fraud screening of the transfer (server.services.screening): DECLINE
    raises RISK_DECLINED; REVIEW is to be held. A request the transfer itself
    refuses (ids, amount, an account the caller cannot use) is left to that
    refusal, unscreened. A scheduled transfer cannot be held: a REVIEW of one
    is a DECLINE."""
    quick = screening.without_lookups(context)
    if quick is not None:
        return quick
    # A request the transfer refuses itself is answered by that refusal, and
    # records no decision.
    allowed = screening.Outcome(screening.ALLOWED, None, screened=False)
    try:
        checked = check_request(request, context)
        source = movement_rows.customer_account(checked.from_id)
        if source is None or not context.principal.can_see(source.owner_id):
            return allowed
        currency = movements.currency_of(request.currency, source.currency)
        amount_minor = parse_amount(request.amount, currency)
    except errors.BankError:
        return allowed
    from_id, to_id = checked.from_id, checked.to_id
    return screening.screen(
        screening.Screened(
            movement="TRANSFER",
            account_id=from_id,
            amount_minor=amount_minor,
            currency=currency,
            paid_before=lambda: risk_facts.paid_account_before(from_id, to_id),
            can_hold=is_immediate(request),
        ),
        context,
    )


def post(request: TransferInput, checked: Checked, context: RequestContext) -> Posted:
    """The transfer, inside the caller's write transaction (Python path)."""
    from_id, to_id = checked.from_id, checked.to_id
    now = clock.now()
    # The destination may belong to anyone (paying another customer); only
    # its existence is checked, and its details stay hidden in the answer.
    # The checks run on the locked rows: what they see is what is written.
    locked = ledger.lock_accounts_with_owners(
        [from_id, to_id], "CUSTOMER", usage_of=from_id, periods=limits.period_bounds(now)
    )
    source = steps.usable(locked.accounts.get(from_id), from_id, context.principal, "fromAccountId")
    destination = steps.usable(locked.accounts.get(to_id), to_id, steps.STAFF_VIEW, "toAccountId")
    holders = {
        account_id: movement_rows.holder(account, locked.owners[account_id])
        for account_id, account in locked.accounts.items()
    }
    number = movements.transaction_number(now, locked.sequence)
    currency = movements.currency_of(request.currency, source.currency)
    amount_minor = parse_amount(request.amount, currency)
    movements.check_destination_currency(currency, destination.currency)
    day = scheduling.scheduled_date(request.scheduled, request.scheduled_date, now.date())
    context.principal.require_write()
    if day is not None:
        return schedule(
            source,
            destination,
            amount_minor,
            now,
            Scheduling(
                number,
                checked.description,
                checked.reference,
                day,
                context.metadata(),
                checked.columns,
            ),
            holders=holders,
        )
    details: dict[str, object] = {"metadata": context.metadata()}
    # Written by `execute` once every check has passed.
    row = LedgerTransaction(
        id=new_id("txn"),
        number=number,
        type="TRANSFER",
        status="PROCESSING",
        currency=currency,
        amount_minor=amount_minor,
        fee_minor=0,
        description=checked.description,
        reference=checked.reference,
        details=json.dumps(details, sort_keys=True),
        created_at=now,
        **checked.columns,
    )
    assert locked.usage is not None
    posted = execute(
        row,
        {from_id: source, to_id: destination},
        now,
        new=True,
        holders=holders,
        source_usage=locked.usage,
    )
    posted.details = details
    return posted


@dataclass(frozen=True)
class Scheduling:
    """What a scheduled transfer's row keeps until it executes."""

    number: str
    description: str
    reference: str
    day: date
    metadata: dict[str, str]
    columns: dict[str, str | None]


def schedule(
    source: Account,
    destination: Account,
    amount_minor: int,
    now: datetime,
    fields: Scheduling,
    *,
    holders: dict[str, str],
) -> Posted:
    """Stores a SCHEDULED transfer (no money moves until its date)."""
    movements.require_active(source.id, source.status, "fromAccountId")
    movements.require_active(destination.id, destination.status, "toAccountId")
    effective = steps.effective_limits(source)
    movements.check_per_transaction(
        amount_minor,
        effective.per_transaction_min,
        effective.per_transaction_internal_transfer_max,
        source.currency,
    )
    details: dict[str, object] = {
        "metadata": fields.metadata,
        "scheduled_date": fields.day.isoformat(),
    }
    row = ledger.create_transaction(
        id=new_id("txn"),
        number=fields.number,
        type="TRANSFER",
        status="SCHEDULED",
        currency=source.currency,
        amount_minor=amount_minor,
        fee_minor=0,
        description=fields.description,
        reference=fields.reference,
        details=json.dumps(details, sort_keys=True),
        created_at=now,
        scheduled_for=scheduling.execution_time(fields.day),
        **fields.columns,
    )
    movement_rows.write_unposted_pair(
        row, source, destination, amount_minor=amount_minor, holders=holders, now=now
    )
    outbox.emit("transaction.created", row.id, movement_rows.event_data(row, source.id), now)
    return Posted(row, details, {source.id: source, destination.id: destination}, holders=holders)


def execute(
    row: LedgerTransaction,
    locked: dict[str, Account],
    now: datetime,
    *,
    new: bool,
    holders: dict[str, str] | None = None,
    source_usage: dict[str, int] | None = None,
) -> Posted:
    """Checks and posts a transfer; the accounts are locked.

    `new`: the row is not written yet (an immediate transfer: it is inserted
    COMPLETED, with its history rows); otherwise it is a stored SCHEDULED
    transfer whose row and history rows are completed in place. `holders`:
    the accounts' holder names, when the caller has them; `source_usage`: the
    source's limit counters of `now`, read under the lock, when it has them.
    """
    from_id, to_id = str(row.from_account_id), str(row.to_account_id)
    source, destination = locked[from_id], locked[to_id]
    movements.require_active(source.id, source.status, "fromAccountId")
    movements.require_active(destination.id, destination.status, "toAccountId")
    effective = steps.effective_limits(source)
    movements.check_per_transaction(
        row.amount_minor,
        effective.per_transaction_min,
        effective.per_transaction_internal_transfer_max,
        row.currency,
    )
    uses = steps.check_limits(
        source,
        (limits.DAILY_TRANSFER, limits.MONTHLY_TRANSFER),
        effective,
        row.amount_minor,
        now,
        used_by_limit=source_usage,
    )
    source = steps.holds_released(source, now)
    overdraft_fee = movements.debit_fees(steps.funds(source), source.type, row.amount_minor)
    created = movement_rows.event_data(row, from_id)
    row.status, row.completed_at = "COMPLETED", now
    if new:
        movement_rows.insert_transaction(row)
    balances = ledger.post_legs(
        row.id,
        [
            ledger.Leg(from_id, -row.amount_minor, row.currency),
            ledger.Leg(to_id, row.amount_minor, row.currency),
        ],
        now,
        {from_id: source, to_id: destination},
    )
    if holders is None:
        holders = movement_rows.holder_names([source, destination])
    if new:
        _write_entries(row, source, destination, balances=balances, holders=holders, now=now)
    else:
        scheduled_rows.complete(row, balances, now)
    events = [("transaction.completed", row.id, movement_rows.event_data(row, from_id))]
    if new:
        events.insert(0, ("transaction.created", row.id, created))
    outbox.emit_many(events, now)
    steps.warn_if_approaching(source, row.amount_minor, uses, now)
    posted = Posted(row, {}, {from_id: source, to_id: destination}, balances, holders=holders)
    if overdraft_fee:
        # A FEE transaction of its own, posted after this one: the balance
        # after this transfer (answered and kept) is the one before the fee.
        posted.overdraft_fee_transaction_id = steps.charge_overdraft_fee(source, now, row)
    return posted


def _write_entries(
    row: LedgerTransaction,
    source: Account,
    destination: Account,
    *,
    balances: dict[str, int],
    holders: dict[str, str],
    now: datetime,
) -> None:
    movement_rows.write_entries(
        movement_rows.entry(
            row,
            source,
            direction="DEBIT",
            amount_minor=row.amount_minor,
            fee_minor=0,
            balance_after=balances[source.id],
            limit_class=limits.CLASS_TRANSFER,
            counterparty=holders[destination.id],
            now=now,
        ),
        movement_rows.entry(
            row,
            destination,
            direction="CREDIT",
            amount_minor=row.amount_minor,
            fee_minor=0,
            balance_after=balances[destination.id],
            limit_class=limits.CLASS_NONE,
            counterparty=holders[source.id],
            now=now,
        ),
    )

"""Movements held by fraud screening, and staff's review of them (risk.proto).

A transfer screening sent to REVIEW is made PENDING_REVIEW in one database
transaction (`hold_transfer`): the accounts are locked and the transfer
checked as if it posted now (ownership, status, currency, per-transaction
and daily limits, funds net of other pending debits), its amount is
reserved in the source's pending_debits (the available balance drops by
it), its history rows are written without balances, its OPEN alert is
raised and `transaction.created` is emitted. Nothing is posted.

`approve` and `reject` decide an alert exactly once: the alert's OPEN ->
APPROVED/REJECTED change is a conditional UPDATE in the same transaction as
the posting or the release, so of two concurrent decisions one changes the
row and the other finds it decided (CONFLICT); on PostgreSQL the second
UPDATE waits for the first's commit and then matches nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors, limits, movements, risk
from server.domain import transaction_states as states
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.principal import Principal
from server.domain.scheduling import execution_time
from server.services import steps, transfers
from server.services.context import Movement, Posted, RequestContext
from server.services.screening import Outcome
from server.store import (
    clock,
    correction_rows,
    ledger,
    movement_rows,
    outbox,
    payment_rows,
    risk_rows,
    tx,
)
from server.store.models import Account, LedgerTransaction
from server.store.movement_rows import event_data

PENDING_REVIEW = states.PENDING_REVIEW
REJECTED_CODE = "RISK_REJECTED"
NOTE_LENGTH_MAX = 500


def hold_transfer(
    request: transfers.TransferInput,
    checked: transfers.Checked,
    context: RequestContext,
    outcome: Outcome,
) -> Posted:
    """The transfer, PENDING_REVIEW with its amount reserved, and its alert
    (inside the caller's write transaction)."""
    decision = outcome.decision
    assert decision.rule is not None and outcome.alert_id is not None
    from_id, to_id = checked.from_id, checked.to_id
    now = clock.now()
    locked = ledger.lock_accounts_with_owners(
        [from_id, to_id], "CUSTOMER", usage_of=from_id, periods=limits.period_bounds(now)
    )
    source = steps.usable(locked.accounts.get(from_id), from_id, context.principal, "fromAccountId")
    destination = steps.usable(locked.accounts.get(to_id), to_id, steps.STAFF_VIEW, "toAccountId")
    currency = movements.currency_of(request.currency, source.currency)
    amount_minor = parse_amount(request.amount, currency)
    movements.check_destination_currency(currency, destination.currency)
    context.principal.require_write()
    movements.require_active(source.id, source.status, "fromAccountId")
    movements.require_active(destination.id, destination.status, "toAccountId")
    effective = steps.effective_limits(source)
    movements.check_per_transaction(
        amount_minor,
        effective.per_transaction_min,
        effective.per_transaction_internal_transfer_max,
        currency,
    )
    steps.check_limits(
        source,
        (limits.DAILY_TRANSFER, limits.MONTHLY_TRANSFER),
        effective,
        amount_minor,
        now,
        used_by_limit=locked.usage,
    )
    source = steps.holds_released(source, now)
    _check_funds(source, amount_minor)
    holders = {
        account_id: movement_rows.holder(account, locked.owners[account_id])
        for account_id, account in locked.accounts.items()
    }
    details: dict[str, object] = {"metadata": context.metadata(), "risk_alert_id": outcome.alert_id}
    row = ledger.create_transaction(
        id=new_id("txn"),
        number=movements.transaction_number(now, locked.sequence),
        type="TRANSFER",
        status=PENDING_REVIEW,
        currency=currency,
        amount_minor=amount_minor,
        fee_minor=0,
        description=checked.description,
        reference=checked.reference,
        details=json.dumps(details, sort_keys=True),
        created_at=now,
        **checked.columns,
    )
    _reserve(source, amount_minor)
    movement_rows.write_unposted_pair(
        row, source, destination, amount_minor=amount_minor, holders=holders, now=now
    )
    raise_alert(row, from_id, outcome, now)
    outbox.emit("transaction.created", row.id, event_data(row, from_id), now)
    return Posted(row, details, {from_id: source, to_id: destination}, holders=holders)


def raise_alert(row: LedgerTransaction, account_id: str, outcome: Outcome, now: datetime) -> None:
    """The OPEN alert of a movement held PENDING_REVIEW (in its transaction)."""
    decision = outcome.decision
    assert decision.rule is not None and outcome.alert_id is not None
    risk_rows.insert_alert(
        risk_rows.AlertRecord(
            id=outcome.alert_id,
            status=risk.OPEN,
            transaction_id=row.id,
            account_id=account_id,
            transaction_type=str(row.type),
            amount_minor=int(row.amount_minor),
            currency=str(row.currency),
            rule_id=decision.rule.id,
            rule_kind=decision.rule.kind,
            score=decision.score,
            fired=decision.fired,
            created_at=now,
            decided_at=None,
            decided_by=None,
            note=None,
        )
    )


def _check_funds(source: Account, amount_minor: int) -> None:
    """TXN001 unless the amount fits in the available balance net of what other
    pending debits already reserve."""
    funds = steps.funds(source)
    movements.debit_fees(
        movements.Funds(
            balance=funds.balance - funds.pending_debits,
            held=funds.held,
            pending_debits=0,
            overdraft_limit=funds.overdraft_limit,
        ),
        source.type,
        amount_minor,
    )


def _reserve(source: Account, amount_minor: int) -> None:
    Account.update(pending_debits_minor=Account.pending_debits_minor + amount_minor).where(
        Account.id == source.id
    ).execute()
    source.pending_debits_minor += amount_minor


# -- staff's decisions -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Decided:
    alert: risk_rows.AlertRecord
    movement: Movement


def _note(note: str) -> str | None:
    if len(note) > NOTE_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"note must be at most {NOTE_LENGTH_MAX} characters", field="note"
        )
    return note or None


def get_alert(principal: Principal, alert_id: str) -> risk_rows.AlertRecord:
    principal.require_staff()
    found = risk_rows.alert(alert_id) if alert_id else None
    if found is None:
        raise errors.NotFound("Alert not found", field="alertId")
    return found


def list_alerts(
    principal: Principal, status: str, offset: int, limit: int
) -> tuple[list[risk_rows.AlertRecord], int]:
    principal.require_staff()
    return risk_rows.list_alerts(status, offset, limit)


def approve(principal: Principal, alert_id: str, note: str) -> Decided:
    """Posts the held movement, once."""
    return _decide(principal, alert_id, note, risk.APPROVED)


def reject(principal: Principal, alert_id: str, note: str) -> Decided:
    """Releases the hold; the transaction ends CANCELLED (RISK_REJECTED), once."""
    return _decide(principal, alert_id, note, risk.REJECTED)


def _decide(principal: Principal, alert_id: str, note: str, status: str) -> Decided:
    principal.require_staff(write=True)
    kept_note = _note(note)
    held = get_alert(principal, alert_id)
    _require_other_eyes(principal, held)
    by = principal.user_id or principal.client_id

    def work() -> Posted:
        now = clock.now()
        if not risk_rows.decide_alert(alert_id, status, by, kept_note, now):
            raise errors.Conflict("The alert was already decided", metadata={"alert_id": alert_id})
        found = risk_rows.alert(alert_id)
        assert found is not None
        row = LedgerTransaction.get_by_id(found.transaction_id)
        assert row.status == PENDING_REVIEW, row.status
        if status == risk.REJECTED:
            return _release(row, now)
        if row.type == "EXTERNAL_TRANSFER":
            return _submit_later(row)
        if row.type == "PAYMENT":
            return _pay_on_its_date(row)
        return _post(row, now)

    posted = tx.write(work)
    decided = risk_rows.alert(alert_id)
    assert decided is not None
    return Decided(decided, posted.movement())


def expire(alert_id: str, now: datetime) -> bool:
    """Rejects an alert nobody decided in time (the due-work sweeper): as a
    staff rejection, decided by risk.EXPIRED_BY. False when it was decided
    meanwhile (the same conditional OPEN -> REJECTED update as staff's)."""
    note = f"No decision within {risk.ALERT_EXPIRY_DAYS} days"

    def work() -> bool:
        if not risk_rows.decide_alert(alert_id, risk.REJECTED, risk.EXPIRED_BY, note, now):
            return False
        found = risk_rows.alert(alert_id)
        assert found is not None
        row = LedgerTransaction.get_by_id(found.transaction_id)
        assert row.status == PENDING_REVIEW, row.status
        _release(row, now)
        return True

    return tx.write(work)


def _require_other_eyes(principal: Principal, held: risk_rows.AlertRecord) -> None:
    """Four eyes: who made the held movement (that person; or, for one made
    without a person, that service client) never decides its alert, neither
    approving nor rejecting it: FORBIDDEN (403)."""
    row = LedgerTransaction.get_or_none(LedgerTransaction.id == held.transaction_id)
    if row is None:
        return
    made_by = json.loads(row.details or "{}").get("metadata", {}).get("user_id") or None
    if principal.initiated(made_by, row.client_id):
        raise errors.Forbidden(
            "An alert on a movement you made is decided by someone else",
            metadata={"alert_id": held.id},
        )


def _post(row: LedgerTransaction, now: datetime) -> Posted:
    from_id, to_id = str(row.from_account_id), str(row.to_account_id)
    locked = ledger.lock_accounts([from_id, to_id])
    correction_rows.release_pending_debit(from_id, int(row.amount_minor))
    locked[from_id].pending_debits_minor -= int(row.amount_minor)
    posted = transfers.execute(row, locked, now, new=False)
    posted.details = json.loads(row.details or "{}")
    return posted


def _submit_later(row: LedgerTransaction) -> Posted:
    """An approved external transfer: PENDING, its reservation kept; the
    external worker submits it when its submission time has come."""
    from_id = str(row.from_account_id)
    locked = ledger.lock_accounts([from_id])
    row.status = "PENDING"
    LedgerTransaction.update(status=row.status).where(LedgerTransaction.id == row.id).execute()
    correction_rows.set_entries_status(row.id, row.status)
    return Posted(row, json.loads(row.details or "{}"), locked)


def _pay_on_its_date(row: LedgerTransaction) -> Posted:
    """An approved bill payment: SCHEDULED, its reservation kept; the payment
    worker debits it at 09:00 UTC of its payment date (at once when that has
    passed), checking funds and limits then."""
    from_id = str(row.from_account_id)
    locked = ledger.lock_accounts([from_id])
    record = payment_rows.get(row.id)
    assert record is not None
    row.status = "SCHEDULED"
    LedgerTransaction.update(status=row.status).where(LedgerTransaction.id == row.id).execute()
    correction_rows.set_entries_status(row.id, row.status)
    payment_rows.set_due(row.id, execution_time(record.payment_date))
    return Posted(row, json.loads(row.details or "{}"), locked)


def _release(row: LedgerTransaction, now: datetime) -> Posted:
    """A rejected movement: its reservation (an external transfer's amount,
    fee and reserved overdraft fee) released, its history rows CANCELLED and
    taken off the limits they counted toward."""
    from_id = str(row.from_account_id)
    locked = ledger.lock_accounts([str(a) for a in (from_id, row.to_account_id) if a])
    details = json.loads(row.details or "{}")
    reserved = int(row.amount_minor)
    if row.type == "EXTERNAL_TRANSFER":
        reserved += int(row.fee_minor) + int(details.get(movements.RESERVED_OVERDRAFT_FEE_KEY, 0))
    counted = correction_rows.counted_debits(row.id)
    correction_rows.release_pending_debit(from_id, reserved)
    locked[from_id].pending_debits_minor -= reserved
    details["failure_code"] = REJECTED_CODE
    row.status, row.cancelled_at = "CANCELLED", now
    row.failure_reason = "Rejected by fraud review"
    row.details = json.dumps(details, sort_keys=True)
    LedgerTransaction.update(
        status=row.status,
        cancelled_at=now,
        failure_reason=row.failure_reason,
        details=row.details,
    ).where(LedgerTransaction.id == row.id).execute()
    correction_rows.set_entries_status(row.id, "CANCELLED")
    correction_rows.uncount(counted)
    outbox.emit("transaction.cancelled", row.id, event_data(row, from_id), now)
    return Posted(row, details, locked)

"""Bill payments to a registered payee (seed 002 section 5).

A payment dated today is debited at once: the account pays the bank's
BILL_PAY_CLEARING account in one journal transaction, and the payment is
PROCESSING until its estimated delivery, when the worker makes it COMPLETED
(server.services.payment_runs). The money then stays in BILL_PAY_CLEARING as
the bill-pay network's counterpart: the network settles the clearing account
with the bank in bulk, outside this ledger.

A later payment date stores the payment SCHEDULED with nothing posted: its
amount is reserved in the account's `pending_debits_minor` (the available
balance drops at once) and the worker debits it at 09:00 UTC on that date,
checking funds and the day's bill-payment limit then.

Fraud screening decides first (`_screened`): a declined payment is refused;
one sent to review is stored PENDING_REVIEW, reserved as a later payment is,
with no step due until staff approve it (SCHEDULED, server.services.
risk_reviews) or reject it.

Rules are server.domain.payments'; the payment's own row is
server.store.payment_rows'. One database transaction per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from server.crypto.fields import FieldSealer
from server.domain import errors, limits, movements, risk
from server.domain import payees as payee_rules
from server.domain import payments as rules
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.scheduling import execution_time
from server.domain.transaction_states import PAYMENT, PROCESSING
from server.services import risk_reviews, screening, steps
from server.services.context import Movement, Posted, RequestContext
from server.services.risk_reviews import PENDING_REVIEW
from server.store import (
    clock,
    ledger,
    movement_rows,
    outbox,
    payment_rows,
    risk_facts,
    tx,
)
from server.store import payees as payee_store
from server.store.bootstrap import internal_account_id
from server.store.models import Account, LedgerTransaction
from server.store.payment_rows import PaymentRecord

CLEARING_CODE = "BILL_PAY_CLEARING"


@dataclass(frozen=True)
class PaymentInput:
    from_account_id: str
    payee_id: str
    amount: float
    currency: str = ""
    payment_date: str = ""
    account_number: str = ""
    memo: str = ""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """A committed payment: the movement and what it pays."""

    movement: Movement
    payment: PaymentRecord


def pay(request: PaymentInput, context: RequestContext, sealer: FieldSealer) -> PaymentResult:
    """Pays one of the account owner's payees (or a bank-wide biller), now or later."""
    from_id = movements.required_id(request.from_account_id, "fromAccountId")
    payee_id = payee_rules.payee_id_of(request.payee_id)
    memo = rules.validate_memo(request.memo)
    requested = _requested_date(request.payment_date)
    account = steps.customer_account(from_id, context.principal, "fromAccountId")
    currency = movements.currency_of(request.currency, account.currency)
    amount_minor = parse_amount(request.amount, currency)
    payee = _payee_of(account, payee_id)
    on_record = "" if request.account_number.strip() else _number_on_record(payee.id, sealer)
    number_at_payee = rules.validate_payee_account_number(request.account_number, on_record)
    context.principal.require_write()
    screened = _screened(from_id, payee.id, amount_minor, currency, context)
    context = screened.marked(context)
    held = screened.decision.action == risk.REVIEW
    result: list[PaymentRecord] = []

    def work() -> Posted:
        now = clock.now()
        today = now.date()
        day = rules.resolve_payment_date(requested, today)
        locked = ledger.lock_accounts_with_owners(
            [from_id], "CUSTOMER", usage_of=from_id, periods=limits.period_bounds(now)
        )
        source = steps.usable(
            locked.accounts.get(from_id), from_id, context.principal, "fromAccountId"
        )
        movements.require_active(source.id, source.status, "fromAccountId")
        effective = steps.effective_limits(source)
        rules.check_amount(amount_minor, effective, currency)
        # Held for review: reserved like a later payment, with no step due
        # until staff approve it (server.services.risk_reviews).
        status = PENDING_REVIEW if held else rules.initial_status(day, today)
        payment_id = new_id("txn")
        delivery = rules.estimated_delivery(day, payee.type)
        record = PaymentRecord(
            id=payment_id,
            payee_id=payee.id,
            payee_name=payee.name,
            payee_type=payee.type,
            payee_account_last4=number_at_payee[-4:],
            memo=memo,
            payment_date=day,
            send_date=rules.send_date(day),
            estimated_delivery=delivery,
            due_at=None if held else execution_time(delivery if status == PROCESSING else day),
        )
        result.append(record)
        holder = movement_rows.holder(source, locked.owners[from_id])
        row = LedgerTransaction(
            id=payment_id,
            number=movements.transaction_number(now, locked.sequence),
            type=PAYMENT,
            status=status,
            currency=currency,
            amount_minor=amount_minor,
            fee_minor=0,
            description=memo or f"Payment to {payee.name}",
            reference="",
            details="{}",
            created_at=now,
            from_account_id=from_id,
            client_id=context.principal.client_id,
        )
        details: dict[str, object] = {
            "metadata": context.metadata(),
            "scheduled_date": day.isoformat(),
        }
        stored = _Stored(record, number_at_payee, sealer)
        if status == PROCESSING:
            assert locked.usage is not None
            posted = _debit_now(row, details, source, usage=locked.usage, stored=stored, now=now)
        else:
            if held:
                details["risk_alert_id"] = screened.alert_id
            posted = _schedule(row, details, source, stored, now)
            if held:
                risk_reviews.raise_alert(row, from_id, screened, now)
        posted.holders[from_id] = holder
        return posted

    movement = tx.write(work).movement()
    return PaymentResult(movement, result[-1])


def _screened(
    from_id: str, payee_id: str, amount_minor: int, currency: str, context: RequestContext
) -> screening.Outcome:
    """Fraud screening (server.services.screening) before anything is written:
    RISK_DECLINED raises. A REVIEW makes the payment PENDING_REVIEW: its
    amount reserved as a later payment's is, no step due until staff approve
    it (then SCHEDULED for its payment date, debited by the payment worker)."""
    return screening.screen(
        screening.Screened(
            movement=PAYMENT,
            account_id=from_id,
            amount_minor=amount_minor,
            currency=currency,
            paid_before=lambda: risk_facts.paid_payee_before(from_id, payee_id),
        ),
        context,
    )


def get_payment(transaction_id: str) -> PaymentRecord | None:
    """A PAYMENT transaction's payee, memo and dates (None: not a payment)."""
    return payment_rows.get(transaction_id)


def clearing_account_id(currency: str) -> str:
    return internal_account_id(CLEARING_CODE, currency)


def _requested_date(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise errors.ValidationFailed(
            "paymentDate must be a date YYYY-MM-DD",
            field=rules.FIELD_PAYMENT_DATE,
            metadata={"value": text[:40]},
        ) from None


def _payee_of(account: Account, payee_id: str) -> payee_rules.PayeeRecord:
    """The payee, if the account's owner may pay it (own payee or bank-wide biller).

    Anything else, another customer's payee included, is NOT_FOUND on
    `payeeId`, so that payee ids of others cannot be probed.
    """
    payee = payee_store.get_payee(payee_id)
    if payee is None or not (payee.bank_wide or payee.owner_id == account.owner_id):
        raise errors.NotFound(
            "Payee not found", field="payeeId", metadata={"payee_id": payee_id[:80]}
        )
    return payee


def _number_on_record(payee_id: str, sealer: FieldSealer) -> str:
    return payee_store.account_number(payee_id, sealer)


def _entry(
    row: LedgerTransaction,
    source: Account,
    *,
    balance_after: int | None,
    limit_class: str,
    counterparty: str,
    now: datetime,
) -> dict[str, object]:
    return movement_rows.entry(
        row,
        source,
        direction="DEBIT",
        amount_minor=row.amount_minor,
        fee_minor=0,
        balance_after=balance_after,
        limit_class=limit_class,
        counterparty=counterparty,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class _Stored:
    """The payment's own row, written right after its journal row (its key)."""

    record: PaymentRecord
    number_at_payee: str
    sealer: FieldSealer

    def write(self) -> None:
        payment_rows.insert(self.record, self.number_at_payee, self.sealer)


def _debit_now(
    row: LedgerTransaction,
    details: dict[str, object],
    source: Account,
    *,
    usage: dict[str, int],
    stored: _Stored,
    now: datetime,
) -> Posted:
    """Today's payment: checked, debited to BILL_PAY_CLEARING, PROCESSING."""
    effective = steps.effective_limits(source)
    uses = rules.check_limits(row.amount_minor, usage, effective, row.currency)
    source = steps.holds_released(source, now)
    overdraft_fee = movements.debit_fees(steps.funds(source), source.type, row.amount_minor)
    clearing = clearing_account_id(row.currency)
    details["clearingAccountId"] = clearing
    row.details = json.dumps(details, sort_keys=True)
    movement_rows.insert_transaction(row)
    stored.write()
    balances = ledger.post_legs(
        row.id,
        [
            ledger.Leg(source.id, -row.amount_minor, row.currency),
            ledger.Leg(clearing, row.amount_minor, row.currency),
        ],
        now,
        {source.id: source},
    )
    movement_rows.write_entries(
        _entry(
            row,
            source,
            balance_after=balances[source.id],
            limit_class=limits.CLASS_BILL_PAYMENT,
            counterparty=stored.record.payee_name,
            now=now,
        )
    )
    outbox.emit("transaction.created", row.id, movement_rows.event_data(row, source.id), now)
    steps.warn_if_approaching(source, row.amount_minor, uses, now)
    posted = Posted(row, details, {source.id: source}, balances)
    if overdraft_fee:
        # A FEE transaction of its own, posted after the payment: the balance
        # after the payment (answered and kept) is the one before the fee.
        posted.overdraft_fee_transaction_id = steps.charge_overdraft_fee(source, now, row)
    return posted


def _schedule(
    row: LedgerTransaction,
    details: dict[str, object],
    source: Account,
    stored: _Stored,
    now: datetime,
) -> Posted:
    """A later payment: SCHEDULED, its amount reserved, nothing posted.

    The reservation must fit in today's available balance (TXN001), and the
    amount in one day's bill-payment limit (TXN004); both are checked again
    when the payment is debited.
    """
    effective = steps.effective_limits(source)
    nothing_used = dict.fromkeys(rules.BILL_PAYMENT_LIMITS, 0)
    rules.check_limits(row.amount_minor, nothing_used, effective, row.currency)
    source = steps.holds_released(source, now)
    if row.amount_minor > steps.funds(source).available:
        raise errors.InsufficientFunds(
            field="amount",
            metadata={"available_minor": str(max(steps.funds(source).available, 0))},
        )
    row.details = json.dumps(details, sort_keys=True)
    movement_rows.insert_transaction(row)
    stored.write()
    payment_rows.move_pending_debits(source.id, row.amount_minor)
    source.pending_debits_minor += row.amount_minor
    movement_rows.write_entries(
        _entry(
            row,
            source,
            balance_after=None,
            limit_class=limits.CLASS_NONE,
            counterparty=stored.record.payee_name,
            now=now,
        )
    )
    outbox.emit("transaction.created", row.id, movement_rows.event_data(row, source.id), now)
    return Posted(row, details, {source.id: source})

"""External transfers (seed 002 section 2): money to an account at another bank.

Accepting one is one database transaction: the source account is locked
(with a transaction number and its limit counters), the request is checked on
the locked row (beneficiary, currency, amount, limits, funds), and the
transfer is written PENDING with its amount plus fee (and the overdraft fee
posting it will cost, if any) reserved in the account's pending debits, its
history row (counted toward the limits from now on), its beneficiary sealed
(server.store.external_rows) and its `transaction.created` event. Nothing
is posted yet: the worker (server.workers.external, through
server.services.external_settlement) submits it at `submission_at` and
settles it at `estimated_completion`. Fraud screening decides first
(`_screened`): a declined transfer is refused; one sent to review is written
PENDING_REVIEW instead of PENDING (reserved alike, never claimed by the
worker) with its alert, until staff approve it (PENDING) or reject it
(server.services.risk_reviews).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from server.crypto.fields import FieldSealer
from server.domain import errors, external, limits, movements, risk
from server.domain.beneficiaries import Beneficiary, BeneficiaryInput, validate_beneficiary
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.services import risk_reviews, screening, steps
from server.services.context import Movement, Posted, RequestContext
from server.store import (
    clock,
    external_rows,
    ledger,
    movement_rows,
    outbox,
    risk_facts,
    tx,
)
from server.store.external_rows import ExternalFacts
from server.store.models import Account

DESCRIPTION_LENGTH_MAX = 140  # sent with the payment (CreateExternalTransferRequest)


@dataclass(frozen=True)
class ExternalTransferInput:
    from_account_id: str
    beneficiary: BeneficiaryInput
    amount: float
    rail: str = ""  # empty: ACH
    purpose: str = ""  # empty: not declared
    currency: str = ""
    description: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ExternalMovement:
    """An accepted external transfer: the movement and what only this kind has."""

    movement: Movement
    facts: ExternalFacts


@dataclass(frozen=True, slots=True)
class _Checked:
    """The request, checked before any lock is taken."""

    from_id: str
    rail: str
    purpose: str
    description: str
    reference: str


def _checked_request(request: ExternalTransferInput) -> _Checked:
    from_id = movements.required_id(request.from_account_id, "fromAccountId")
    rail = external.parse_rail(request.rail)
    if rail == external.INTERNATIONAL_WIRE and not request.purpose:
        raise errors.ValidationFailed(
            "purpose is required for INTERNATIONAL_WIRE", field="purpose", metadata={"rail": rail}
        )
    return _Checked(
        from_id=from_id,
        rail=rail,
        purpose=request.purpose,
        description=movements.text(request.description, "description", DESCRIPTION_LENGTH_MAX),
        reference=movements.text(request.reference, "reference", movements.REFERENCE_LENGTH_MAX),
    )


def create(
    request: ExternalTransferInput, context: RequestContext, sealer: FieldSealer
) -> ExternalMovement:
    """Accepts an external transfer: PENDING, amount and fee reserved."""
    checked = _checked_request(request)
    from_id = checked.from_id
    # Read unlocked first: the beneficiary's rules depend on the account's
    # country, and a refused request should take no lock. Everything money
    # depends on is checked again on the locked row below.
    account = steps.customer_account(from_id, context.principal, "fromAccountId")
    beneficiary = validate_beneficiary(
        request.beneficiary, checked.rail, account_country=account.country
    )
    currency = movements.currency_of(request.currency, account.currency)
    external.check_rail_currency(checked.rail, currency)
    amount_minor = parse_amount(request.amount, currency)
    external.check_amount(amount_minor, steps.effective_limits(account), currency)
    context.principal.require_write()
    screened = _screened(from_id, beneficiary, amount_minor, currency, context)
    context = screened.marked(context)
    held = screened.decision.action == risk.REVIEW
    network_return = external.sandbox_return(beneficiary.account_number, sandbox=context.sandbox)

    def work() -> tuple[Posted, ExternalFacts]:
        now = clock.now()
        periods = limits.period_bounds(now)
        locked = ledger.lock_accounts_with_owners(
            [from_id], "CUSTOMER", usage_of=from_id, periods=periods
        )
        source = steps.usable(
            locked.accounts.get(from_id), from_id, context.principal, "fromAccountId"
        )
        movements.require_active(source.id, source.status, "fromAccountId")
        source = steps.holds_released(source, now)
        fee_minor = external.transfer_fee_minor(
            checked.rail,
            ach_transfers_this_month=external_rows.ach_transfers_this_month(from_id, periods),
            currency=currency,
        )
        effective = steps.effective_limits(source)
        assert locked.usage is not None
        uses = external.check_limits(amount_minor, locked.usage, effective, currency)
        overdraft_fee_minor = _check_funds(source, amount_minor + fee_minor)
        reserved_minor = amount_minor + fee_minor + overdraft_fee_minor
        details = _details(checked.rail, context, overdraft_fee_minor)
        if held:
            details["risk_alert_id"] = screened.alert_id
        row = ledger.create_transaction(
            id=new_id("txn"),
            number=movements.transaction_number(now, locked.sequence),
            type=external_rows.TYPE,
            status=risk_reviews.PENDING_REVIEW if held else "PENDING",
            currency=currency,
            amount_minor=amount_minor,
            fee_minor=fee_minor,
            description=checked.description,
            reference=checked.reference,
            details=json.dumps(details, sort_keys=True),
            created_at=now,
            from_account_id=from_id,
            client_id=context.principal.client_id,
            scheduled_for=external.submission_at(checked.rail, now),
        )
        external_rows.reserve(from_id, reserved_minor)
        source.pending_debits_minor += reserved_minor
        facts = external_rows.insert(
            row.id,
            from_id,
            beneficiary,
            purpose=checked.purpose,
            submission_at=external.submission_at(checked.rail, now),
            estimated_completion=external.estimated_completion(checked.rail, now),
            network_return_code=network_return.code if network_return else None,
            sealer=sealer,
            now=now,
        )
        movement_rows.write_entries(
            movement_rows.entry(
                row,
                source,
                direction="DEBIT",
                amount_minor=amount_minor,
                fee_minor=fee_minor,
                balance_after=None,
                limit_class=limits.CLASS_EXTERNAL_TRANSFER,
                counterparty=beneficiary.name,
                now=now,
            )
        )
        if held:
            risk_reviews.raise_alert(row, from_id, screened, now)
        outbox.emit("transaction.created", row.id, movement_rows.event_data(row, from_id), now)
        steps.warn_if_approaching(source, amount_minor, uses, now)
        holder = movement_rows.holder(source, locked.owners[from_id])
        posted = Posted(row, details, {from_id: source}, holders={from_id: holder})
        return posted, facts

    posted, facts = tx.write(work)
    return ExternalMovement(posted.movement(), facts)


def _screened(
    from_id: str,
    beneficiary: Beneficiary,
    amount_minor: int,
    currency: str,
    context: RequestContext,
) -> screening.Outcome:
    """Fraud screening (server.services.screening) before anything is written:
    RISK_DECLINED raises. A REVIEW makes the transfer PENDING_REVIEW: reserved
    like a PENDING one, never submitted until staff approve it. A beneficiary
    is known when an earlier transfer from the account went to the same name,
    account number ending and bank country (the numbers themselves are
    sealed)."""
    return screening.screen(
        screening.Screened(
            movement=external_rows.TYPE,
            account_id=from_id,
            amount_minor=amount_minor,
            currency=currency,
            paid_before=lambda: risk_facts.paid_beneficiary_before(
                from_id, beneficiary.name, beneficiary.account_number[-4:], beneficiary.bank_country
            ),
        ),
        context,
    )


def _details(rail: str, context: RequestContext, overdraft_fee_minor: int) -> dict[str, object]:
    details: dict[str, object] = {"metadata": context.metadata(), "rail": rail}
    if overdraft_fee_minor:
        details[movements.RESERVED_OVERDRAFT_FEE_KEY] = overdraft_fee_minor
    return details


def _check_funds(source: Account, debit_minor: int) -> int:
    """TXN001 unless amount plus fee fit in the available balance; returns the
    overdraft fee the debit will cost (0 when it stays above zero).

    The debit posts later, at submission; if it then takes the balance of a
    CHECKING or BUSINESS account below zero it costs the overdraft fee, so
    that fee must fit too, and it is reserved with the amount and fee: left
    unreserved, other debits could spend it before submission, and the fee
    would then take the balance below the overdraft line. Money already
    promised to other pending debits is taken off the balance for the
    decision.
    """
    funds = steps.funds(source)
    return movements.debit_fees(
        movements.Funds(
            balance=funds.balance - funds.pending_debits,
            held=funds.held,
            pending_debits=0,
            overdraft_limit=funds.overdraft_limit,
        ),
        source.type,
        debit_minor,
    )

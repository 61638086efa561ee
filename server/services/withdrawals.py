"""Withdrawals: cash at an ATM or branch, a bank check, or a card payment.

ATM withdrawals are priced by network (seed 002), checked against the
per-transaction and daily ATM limits, and need the card's PIN; a wrong PIN
counts even when the request fails, and the third locks the card. The PIN
is checked (Argon2, on the hashing pool: a full pool answers 503 and counts
nothing) before the account is locked; the wrong-PIN counter is one SQL
increment, so concurrent wrong PINs all count.

On PostgreSQL the withdrawal is posted by the stored function
`bank_post_withdrawal` (server.store.movement_functions, m0025), with the
same checks, rows and errors: in one round trip without a card; with one,
after the card, the ATM and the PIN are checked here. What it hands back,
SQLite, and BANK_TRANSFER_FUNCTION=off take the Python path below.
"""

from __future__ import annotations

from dataclasses import dataclass

from server import hashing
from server.config import Settings
from server.domain import errors, limit_checks, limits, movements, withdrawals
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.services import steps
from server.services.context import Movement, Posted, RequestContext
from server.store import cards, clock, ledger, movement_functions, movement_rows, tx
from server.store.bootstrap import internal_account_id
from server.store.models import Account


@dataclass(frozen=True)
class WithdrawalInput:
    account_id: str
    amount: float
    method: str
    currency: str = ""
    location: str = ""
    location_country: str = ""
    pin: str = ""
    card_number: str = ""
    description: str = ""


def _account(account_id: str, request: WithdrawalInput, context: RequestContext) -> Account:
    """The account withdrawn from, then (another's or an unknown one stays
    NOT_FOUND) a customer's DEBIT_CARD must carry the PIN."""
    account = steps.customer_account(account_id, context.principal, "accountId")
    withdrawals.check_customer_pin(context.principal, request.method, request.pin)
    return account


def withdrawal(request: WithdrawalInput, context: RequestContext, settings: Settings) -> Movement:
    """Debits the account (and the ATM fee, when one is owed) to a clearing account."""
    account_id = movements.required_id(request.account_id, "accountId")
    method = request.method
    fields = withdrawals.check_fields(
        method, request.location, request.description, request.card_number, request.pin
    )
    if not withdrawals.may_use(context.principal, method):
        # Another's or an unknown account stays NOT_FOUND (ids are not probed).
        steps.customer_account(account_id, context.principal, "accountId")
        raise withdrawals.method_refused(context.principal, method)
    function = movement_functions.available()
    if function and not request.card_number:
        # Nothing to read first: the function makes every check.
        moved = _through_function(request, fields, context, "", "")
        if moved is not None:
            return moved
        function = False
    account = _account(account_id, request, context)
    currency = movements.currency_of(request.currency, account.currency)
    amount_minor = parse_amount(request.amount, currency)
    context.principal.require_write()
    atm_kind, card_last4 = _terms(request, account, amount_minor, fields.location, settings)
    if function:
        # The card and its PIN are checked: the function posts (checking again).
        moved = _through_function(request, fields, context, atm_kind, card_last4)
        if moved is not None:
            return moved
    fee_minor = movements.ATM_FEE_MINOR[atm_kind] if atm_kind else 0
    clearing = internal_account_id(movements.WITHDRAWAL_CLEARING_ACCOUNT[method], currency)
    words = movements.method_words(method)

    def work() -> Posted:
        now = clock.now()
        uses: list[limit_checks.LimitUse] = []
        if method == "ATM":  # the lock brings the day's ATM counter with it
            found = ledger.lock_accounts_with_owners(
                [account_id], "CUSTOMER", usage_of=account_id, periods=limits.period_bounds(now)
            )
            locked = found.accounts[account_id]
            number = movements.transaction_number(now, found.sequence)
            movements.require_active(locked.id, locked.status, "accountId")
            uses = steps.check_limits(
                locked,
                (limits.DAILY_ATM_WITHDRAWAL,),
                steps.effective_limits(locked),
                amount_minor,
                now,
                used_by_limit=found.usage,
            )
        else:
            locks, number = steps.lock_numbered([account_id], now)
            locked = locks[account_id]
            movements.require_active(locked.id, locked.status, "accountId")
        locked = steps.holds_released(locked, now)
        overdraft_fee = movements.debit_fees(
            steps.funds(locked), locked.type, amount_minor + fee_minor
        )
        legs = [
            ledger.Leg(account_id, -(amount_minor + fee_minor), currency),
            ledger.Leg(clearing, amount_minor, currency),
        ]
        if fee_minor:
            legs.append(
                ledger.Leg(internal_account_id("FEE_INCOME", currency), fee_minor, currency)
            )
        details: dict[str, object] = {
            "method": method,
            "location": fields.location,
            "atm_network": atm_kind,
            "card_last4": card_last4,
            "metadata": context.metadata(),
        }
        balances: dict[str, int] = {}
        row = ledger.post(
            balances_after=balances,
            transaction_id=new_id("txn"),
            number=number,
            type_="WITHDRAWAL",
            status="COMPLETED",
            currency=currency,
            amount_minor=amount_minor,
            fee_minor=fee_minor,
            legs=legs,
            now=now,
            description=fields.description or f"{words} withdrawal",
            details=details,
            columns={"from_account_id": account_id, "client_id": context.principal.client_id},
            locked={account_id: locked},
        )
        movement_rows.write_entries(
            movement_rows.entry(
                row,
                locked,
                direction="DEBIT",
                amount_minor=amount_minor,
                fee_minor=fee_minor,
                balance_after=balances[account_id],
                limit_class=limits.CLASS_ATM if method == "ATM" else limits.CLASS_NONE,
                counterparty=fields.location or words,
                now=now,
            )
        )
        steps.emit_completed(row, account_id, now)
        steps.warn_if_approaching(locked, amount_minor, uses, now)
        posted = Posted(row, details, {account_id: locked}, balances)
        if overdraft_fee:
            # A FEE transaction of its own, posted after this one: the balance
            # after the withdrawal (answered and kept) is the one before the fee.
            posted.overdraft_fee_transaction_id = steps.charge_overdraft_fee(locked, now, row)
        return posted

    return tx.write(work).movement()


def _through_function(
    request: WithdrawalInput,
    fields: withdrawals.WithdrawalFields,
    context: RequestContext,
    atm_kind: str,
    card_last4: str,
) -> Movement | None:
    """The withdrawal in one statement (PostgreSQL); None: the Python path posts it."""
    outcome = movement_functions.post_withdrawal(
        movement_functions.Withdrawal(
            movement_functions.Movement(
                request.account_id,
                request.amount,
                request.currency,
                request.method,
                context.principal,
                context.metadata(),
            ),
            fields.location,
            fields.description,
            atm_kind,
            card_last4,
        ),
        clock.now(),
    )
    if isinstance(outcome, movement_functions.Fallback):
        return None
    if isinstance(outcome, errors.BankError):
        raise outcome
    return outcome.movement()


def _terms(
    request: WithdrawalInput, account: Account, amount_minor: int, location: str, settings: Settings
) -> tuple[str, str]:
    """Per-transaction limit, ATM pricing and card checks; returns (atm kind, card last4)."""
    effective = steps.effective_limits(account)
    maximum = effective.per_transaction_atm_withdrawal_max if request.method == "ATM" else None
    movements.check_per_transaction(
        amount_minor, effective.per_transaction_min, maximum, account.currency
    )
    atm_kind = ""
    if request.method == "ATM":
        atm_kind = withdrawals.atm_kind(
            location, cards.atm(location), request.location_country, account.country
        )
    card_last4 = ""
    if request.card_number:
        digits = withdrawals.card_digits(request.card_number)
        card = cards.card_by_digits(digits)
        withdrawals.check_card(
            digits,
            account.id,
            card_account_id=card.account_id if card else None,
            status=card.status if card else "",
            last4=card.last4 if card else "",
        )
        assert card is not None
        card_last4 = card.last4
        if request.pin or request.method == "ATM":
            _verify_pin(card, request.pin, settings)
    return atm_kind, card_last4


def _verify_pin(card: cards.CardRecord, pin: str, settings: Settings) -> None:
    """Checks the PIN; a wrong one counts, and the third locks the card.

    Both outcomes last even when the request fails after all (tx.write_lasting).
    """
    if hashing.verify(settings, card.pin_hash, pin):
        if card.failed_pin_attempts:
            cards.clear_wrong_pins(card.id)
        return
    raise withdrawals.refuse_pin(cards.count_wrong_pin(card.id), card.last4)

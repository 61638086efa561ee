"""Deposits and withdrawals through the database functions of m0025.

On PostgreSQL a deposit is one statement, `SELECT bank_post_deposit(item,
now)`, and so is a withdrawal (`bank_post_withdrawal`) once its card and PIN
are checked. Outside a transaction the statement is its own transaction
(PostgreSQL commits a lone statement by itself): one round trip for the
whole movement. Inside one (a request with an Idempotency-Key) it runs there.
Each gets what `server.services.deposits.deposit` and
`server.services.withdrawals.withdrawal` give: the same checks in the same
order, the same rows and events, and for a refusal the very same BankError,
built here by the domain functions the Python path calls, from the facts
the function reports.

What this module hands the function is what needs no database: new ids
(the transaction, the overdraft fee, the hold, the events), the details
JSON, the history row's counterparty and search words, the hold's release
time (from the business-day calendar), the clearing account of each
currency, and the amount parsed for each currency exponent.

`Fallback` (nothing written) sends the movement through the Python path:
a text of the request that cannot be a PostgreSQL value, a currency without
an exponent, an account type without limits or stored limit overrides that
are not whole numbers (withdrawals), and a refusal the domain's rules do not
confirm (a bug: logged at ERROR, the Python path being the reference).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import peewee
import psycopg2.errors

from server.domain import errors, limit_checks, limits, movements
from server.domain.ids import new_id
from server.domain.money import CURRENCY_EXPONENTS, parse_amount
from server.domain.principal import Principal
from server.services.context import Posted
from server.store import sql
from server.store.bootstrap import internal_account_id
from server.store.db import database
from server.store.function_rows import Accounts, count_posted, minor_by_exponent, texts_fit
from server.store.models import LedgerTransaction
from server.store.movement_rows import holder
from server.store.transfer_function import Fallback, available, switched_off

log = logging.getLogger(__name__)

DEPOSIT_STATEMENT = "SELECT bank_post_deposit(?, ?)"
WITHDRAWAL_STATEMENT = "SELECT bank_post_withdrawal(?, ?)"
_EVENTS = 5  # created, completed, limit.approaching, the overdraft fee's two
_RETRIES_MAX = 5  # as server.store.tx: deadlocks and serialization failures
_RETRYABLE = (psycopg2.errors.DeadlockDetected, psycopg2.errors.SerializationFailure)

Result = Posted | errors.BankError | Fallback


@dataclass(frozen=True)
class Movement:
    """What deposits and withdrawals share, once their request's own checks passed."""

    account_id: str
    amount: float | int | str | Decimal  # as the API gives it
    currency: str  # as requested ("": the account's)
    method: str
    principal: Principal
    metadata: Mapping[str, str]  # RequestContext.metadata()


@dataclass(frozen=True)
class Deposit:
    movement: Movement
    sandbox: bool
    location: str  # trimmed
    reference: str  # trimmed
    description: str  # trimmed ("": the method's words)


@dataclass(frozen=True)
class Withdrawal:
    movement: Movement
    location: str  # trimmed
    description: str  # trimmed ("": the method's words)
    atm_kind: str = ""  # an ATM's network kind (movements.ATM_FEE_MINOR), else ""
    card_last4: str = ""


def post_deposit(deposit: Deposit, now: datetime) -> Result:
    """The deposit, in one statement; call only when `available()`."""
    move = deposit.movement
    words = movements.method_words(move.method)
    counterparty = deposit.location or words
    description = deposit.description or f"{words} deposit"
    release_at = movements.deposit_release(move.method, now)
    hold_id = new_id("hold") if release_at > now else None
    details: dict[str, object] = {
        "method": move.method,
        "location": deposit.location,
        "hold_id": hold_id,
        "available_at": release_at.isoformat(),
        "metadata": dict(move.metadata),
    }
    item = {
        **_common(move, details, (description, deposit.reference, counterparty)),
        "method_allowed": _allows(
            lambda: movements.check_deposit_method(
                move.principal, move.method, sandbox=deposit.sandbox
            )
        ),
        "maximum": movements.deposit_max_minor(move.method),
        "clearing": _clearing(movements.DEPOSIT_CLEARING_ACCOUNT[move.method]),
        "description": description,
        "reference": deposit.reference,
        "counterparty": counterparty,
        "hold_id": hold_id,
        "hold_reason": f"{move.method}_DEPOSIT",
        "hold_description": f"{words} hold",
        "release_at": release_at.isoformat(),
    }
    texts = (deposit.location, deposit.reference, deposit.description)
    return _post(DEPOSIT_STATEMENT, deposit, item, texts, now)


def post_withdrawal(withdrawal: Withdrawal, now: datetime) -> Result:
    """The withdrawal, in one statement; call only when `available()`."""
    move = withdrawal.movement
    words = movements.method_words(move.method)
    counterparty = withdrawal.location or words
    description = withdrawal.description or f"{words} withdrawal"
    details: dict[str, object] = {
        "method": move.method,
        "location": withdrawal.location,
        "atm_network": withdrawal.atm_kind,
        "card_last4": withdrawal.card_last4,
        "metadata": dict(move.metadata),
    }
    item = {
        **_common(move, details, (description, counterparty)),
        "atm": move.method == "ATM",
        "atm_fee": _atm_fee(withdrawal),
        "clearing": _clearing(movements.WITHDRAWAL_CLEARING_ACCOUNT[move.method]),
        "description": description,
        "counterparty": counterparty,
        "fee_id": new_id("txn"),
    }
    texts = (withdrawal.location, withdrawal.description, withdrawal.card_last4)
    return _post(WITHDRAWAL_STATEMENT, withdrawal, item, texts, now)


def _common(move: Movement, details: dict[str, object], words: tuple[str, ...]) -> dict[str, Any]:
    principal = move.principal
    return {
        "account": move.account_id,
        "viewer": None if principal.is_staff else (principal.user_id or ""),
        "can_write": _allows(principal.require_write),
        "currency": move.currency.strip().upper(),
        "minor": minor_by_exponent(move.amount),
        "client_id": principal.client_id,
        "id": new_id("txn"),
        "details": json.dumps(details, sort_keys=True),
        "search": " ".join(part for part in words if part).lower(),
        "events": [new_id("evt") for _ in range(_EVENTS)],
    }


def _allows(check: Callable[[], None]) -> bool:
    """Whether a check of the caller alone (no account) passes."""
    try:
        check()
    except errors.Forbidden:
        return False
    return True


def _atm_fee(withdrawal: Withdrawal) -> int:
    return movements.ATM_FEE_MINOR[withdrawal.atm_kind] if withdrawal.atm_kind else 0


def _clearing(code: str) -> dict[str, str]:
    return {currency: internal_account_id(code, currency) for currency in CURRENCY_EXPONENTS}


def _post(
    statement: str,
    request: Deposit | Withdrawal,
    item: dict[str, Any],
    texts: tuple[str, ...],
    now: datetime,
) -> Result:
    move = request.movement
    every_text = (move.account_id, move.currency, move.principal.client_id, *texts)
    amount_text = (move.amount,) if isinstance(move.amount, str) else ()
    metadata = (*move.metadata.keys(), *move.metadata.values())
    if not texts_fit((*every_text, *amount_text, *metadata, move.principal.user_id or "")):
        return Fallback("a text the database cannot hold")
    answer = _answer(statement, json.dumps(item, separators=(",", ":")), now)
    if "fallback" in answer:
        return Fallback(str(answer["fallback"]))
    if answer.get("error") == "not_found":
        return errors.AccountNotFound(
            field="accountId", metadata={"account_id": move.account_id[:64]}
        )
    accounts = Accounts({move.account_id: answer["account"]})
    if "error" in answer:
        try:
            _raise_refusal(str(answer["error"]), answer, accounts.data(move.account_id), request)
        except errors.BankError as refusal:
            return refusal
        log.error(
            "the movement function refused what the domain accepts; the Python path posts",
            extra={"refusal": answer["error"], "statement": statement},
        )
        return Fallback("disagreement")
    return _posted(item, answer["ok"], accounts, now, request)


def _answer(statement: str, payload: str, now: datetime) -> dict[str, Any]:
    """The function's answer; outside a transaction the statement is one, retried
    (as server.store.tx retries) when PostgreSQL breaks a deadlock with it."""
    attempt = 1
    while True:
        try:
            answer = sql.scalar(statement, (payload, now))
            break
        except peewee.DatabaseError as exc:
            cause = exc.__cause__ or exc.__context__
            if database.in_transaction() or not isinstance(cause, _RETRYABLE):
                raise
            if attempt == _RETRIES_MAX:
                raise errors.Unavailable("The database is busy; retry shortly") from exc
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter, not crypto)
            attempt += 1
    decoded = json.loads(answer) if isinstance(answer, str) else answer
    assert isinstance(decoded, dict), decoded
    return decoded


def _posted(
    item: Mapping[str, Any],
    ok: Mapping[str, Any],
    accounts: Accounts,
    now: datetime,
    request: Deposit | Withdrawal,
) -> Posted:
    account_id = request.movement.account_id
    deposit = isinstance(request, Deposit)
    row = LedgerTransaction(
        id=item["id"],
        number=ok["number"],
        type="DEPOSIT" if deposit else "WITHDRAWAL",
        status="COMPLETED",
        currency=ok["currency"],
        amount_minor=int(ok["amount_minor"]),
        fee_minor=0 if deposit else int(item["atm_fee"]),
        description=item["description"],
        reference=item.get("reference", ""),
        details=item["details"],
        created_at=now,
        completed_at=now,
        **{"to_account_id" if deposit else "from_account_id": account_id},
        client_id=item["client_id"],
    )
    balance_after = int(ok["balance_after"])
    account = accounts.instance(account_id, int(ok.get("balance", balance_after)), int(ok["held"]))
    posted = Posted(
        row,
        json.loads(item["details"]),
        {account_id: account},
        {account_id: balance_after},
        holders={account_id: holder(account, accounts.owner_name(account_id))},
    )
    if ok.get("fee_number"):
        posted.overdraft_fee_transaction_id = str(item["fee_id"])
    count_posted(row.type, bool(ok.get("fee_number")))
    return posted


def _raise_refusal(
    kind: str,
    facts: Mapping[str, Any],
    account: Mapping[str, Any],
    request: Deposit | Withdrawal,
) -> None:
    """Raises the BankError the Python path raises for this refusal, by the
    same domain functions, from the facts the function reports."""
    move = request.movement
    currency = str(account["currency"])
    if kind == "method" and isinstance(request, Deposit):
        movements.check_deposit_method(move.principal, move.method, sandbox=request.sandbox)
    elif kind == "currency":
        movements.currency_of(move.currency, currency)
    elif kind == "amount":
        parse_amount(move.amount, str(facts["currency"]))  # type: ignore[arg-type]
    elif kind == "read_only":
        move.principal.require_write()
    elif kind == "inactive":
        movements.require_active(move.account_id, str(account["status"]), "accountId")
    elif kind == "per_transaction":
        amount_minor = int(facts["amount_minor"])
        if isinstance(request, Deposit):
            maximum: int | None = movements.deposit_max_minor(move.method)
            movements.check_per_transaction(amount_minor, 1, maximum, currency)
            return
        effective = limits.stored_limits(account["type"], account["limit_overrides"], currency)
        maximum = effective.per_transaction_atm_withdrawal_max if move.method == "ATM" else None
        movements.check_per_transaction(
            amount_minor, effective.per_transaction_min, maximum, currency
        )
    elif kind == "limit":
        effective = limits.stored_limits(account["type"], account["limit_overrides"], currency)
        limit_checks.check(
            (limits.DAILY_ATM_WITHDRAWAL,),
            int(facts["amount_minor"]),
            {limits.DAILY_ATM_WITHDRAWAL: int(facts["daily_used"])},
            effective,
            currency,
        )
    elif kind == "funds":
        funds = movements.Funds(
            balance=int(facts["balance"]),
            held=int(facts["held"]),
            pending_debits=int(facts["pending_debits"]),
            overdraft_limit=int(facts["overdraft_limit"]),
        )
        movements.debit_fees(funds, str(account["type"]), int(facts["amount_minor"]))


__all__ = [
    "DEPOSIT_STATEMENT",
    "WITHDRAWAL_STATEMENT",
    "Deposit",
    "Fallback",
    "Movement",
    "Result",
    "Withdrawal",
    "available",
    "post_deposit",
    "post_withdrawal",
    "switched_off",
]

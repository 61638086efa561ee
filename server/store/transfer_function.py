"""Immediate transfers through the database function `bank_post_transfers` (m0021).

On PostgreSQL a batch of immediate internal transfers is posted by one
statement, `SELECT bank_post_transfers(items, now)`, inside the caller's
write transaction (server.store.tx.write): one round trip, which also carries
the statements the transaction deferred (server.store.db). Each item gets
what `server.services.transfers.transfer` gives for it: the same checks in
the same order, the same rows and events, and for a refusal the very same
BankError, built here by the domain functions the Python path calls, from
the facts the function reports. An item whose refusal the domain does not
confirm is a bug, and raises.

What this module hands the function, per item, is what needs no database:
new ids (the transaction, its overdraft fee, six events), the details JSON,
the words of the history rows' search text in lower case, and the amount
parsed by `parse_amount` for each currency exponent (the function picks the
source's; None where it is refused).

Some items come back as `Fallback`: the caller posts them through the Python
path instead (nothing of theirs was written). They are rare:
- the source's currency has no exponent (`parse_amount` refuses it);
- the source's account type has no default limits, or its stored limit
  overrides are not whole numbers (the Python path decides those);
- a holder's name is not plain ASCII: history rows keep it in lower case,
  and Python's `str.lower` and the database's `lower()` differ beyond ASCII;
- a text of the request cannot be a PostgreSQL value (a NUL character, a
  lone surrogate), or its two accounts are one (which the caller refuses
  first): it is not sent, so that it fails its own transfer only.
A fallback item the function saw took a transaction number it does not use
(numbers are unique, not gapless).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from server.domain import errors, limit_checks, limits, movements
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.principal import AUDITOR, Principal
from server.services.context import Posted
from server.store import sql
from server.store.db import is_postgres
from server.store.function_rows import Accounts as _Accounts
from server.store.function_rows import count_posted, texts_fit
from server.store.function_rows import minor_by_exponent as _minor_by_exponent
from server.store.models import LedgerTransaction
from server.store.movement_rows import holder

ENV_SWITCH = "BANK_TRANSFER_FUNCTION"  # "off": always the Python path
NOT_SENT = "not for the database: a text it cannot hold, or one account twice"

_STATEMENT = "SELECT bank_post_transfers(?, ?)"
_EVENTS_PER_ITEM = 6  # created, completed, 2 x limit.approaching, the fee's two


@dataclass(frozen=True)
class FunctionItem:
    """One immediate transfer, as `transfers.transfer` has it once the request
    itself is checked (ids given and different, texts within their lengths)."""

    from_account_id: str
    to_account_id: str
    amount: float | int | str | Decimal  # as the API gives it to TransferInput
    currency: str = ""  # "": the source's
    description: str = ""
    reference: str = ""
    client_id: str | None = None
    # The user whose accounts the source must belong to; None when the caller
    # sees every account (staff). "" matches no account.
    viewer: str | None = None
    can_write: bool = True  # Principal.require_write passes
    metadata: Mapping[str, str] = field(default_factory=dict)  # RequestContext.metadata()

    @staticmethod
    def viewer_of(principal: Principal) -> str | None:
        """`viewer` for a caller (Principal.can_see)."""
        return None if principal.is_staff else (principal.user_id or "")


@dataclass(frozen=True)
class Fallback:
    """An item the function left to the Python path (nothing of it was written)."""

    reason: str


Result = Posted | errors.BankError | Fallback


class _Switch(threading.local):
    def __init__(self) -> None:
        self.off = False


_switch = _Switch()


def available() -> bool:
    """Whether transfers may go through the function: PostgreSQL, and not switched off."""
    if _switch.off or os.environ.get(ENV_SWITCH, "").strip().lower() == "off":
        return False
    return is_postgres()


@contextlib.contextmanager
def switched_off() -> Iterator[None]:
    """`available()` is False inside (this thread): the Python path runs."""
    before = _switch.off
    _switch.off = True
    try:
        yield
    finally:
        _switch.off = before


@dataclass(frozen=True)
class _Prepared:
    """An item with what this side decided for it."""

    item: FunctionItem
    transaction_id: str
    fee_transaction_id: str
    description: str
    reference: str
    metadata: dict[str, str]
    details_text: str


def post_transfers(items: Sequence[FunctionItem], now: datetime) -> list[Result]:
    """Posts `items` in the open write transaction; one result per item, in order.

    Call only when `available()`. Refusals come back as BankErrors (nothing
    written for them); a database failure raises and fails the transaction.
    """
    results: list[Result | None] = [None] * len(items)
    sent: list[tuple[int, _Prepared]] = []
    for index, item in enumerate(items):
        if _holdable(item):
            sent.append((index, _prepare(item)))
        else:
            results[index] = Fallback(NOT_SENT)
    if sent:
        payload = json.dumps([_wire(entry) for _, entry in sent], separators=(",", ":"))
        answer = sql.scalar(_STATEMENT, (payload, now))
        if isinstance(answer, str):
            answer = json.loads(answer)
        assert isinstance(answer, dict) and len(answer["items"]) == len(sent), answer
        accounts = _Accounts(answer["accounts"])
        for (index, entry), outcome in zip(sent, answer["items"], strict=True):
            results[index] = _result(entry, outcome, accounts, now)
    assert all(result is not None for result in results)
    return cast(list[Result], results)


def _holdable(item: FunctionItem) -> bool:
    """Whether every text of the item fits a PostgreSQL text value (UTF-8, no
    NUL character), and its accounts differ. One that does not is left to the
    Python path, whose failure then is its own, not the whole batch's."""
    texts = [
        item.from_account_id,
        item.to_account_id,
        item.currency,
        item.description,
        item.reference,
        item.client_id or "",
        item.viewer or "",
        *item.metadata.keys(),
        *item.metadata.values(),
    ]
    if item.from_account_id == item.to_account_id:
        return False  # refused by the caller's checks; never posted here
    if isinstance(item.amount, str):
        texts.append(item.amount)
    return texts_fit(texts)


def _prepare(item: FunctionItem) -> _Prepared:
    metadata = dict(item.metadata)
    return _Prepared(
        item=item,
        transaction_id=new_id("txn"),
        fee_transaction_id=new_id("txn"),
        description=item.description.strip(),
        reference=item.reference.strip(),
        metadata=metadata,
        details_text=json.dumps({"metadata": metadata}, sort_keys=True),
    )


def _wire(entry: _Prepared) -> dict[str, Any]:
    item = entry.item
    words = " ".join(part for part in (entry.description, entry.reference) if part)
    return {
        "from": item.from_account_id,
        "to": item.to_account_id,
        "currency": item.currency.strip().upper(),
        "minor": _minor_by_exponent(item.amount),
        "description": entry.description,
        "reference": entry.reference,
        "search": words.lower(),
        "details": entry.details_text,
        "client_id": item.client_id,
        "viewer": item.viewer,
        "can_write": item.can_write,
        "id": entry.transaction_id,
        "fee_id": entry.fee_transaction_id,
        "events": [new_id("evt") for _ in range(_EVENTS_PER_ITEM)],
    }


def _result(
    entry: _Prepared, outcome: Mapping[str, Any], accounts: _Accounts, now: datetime
) -> Result:
    if "fallback" in outcome:
        return Fallback(str(outcome["fallback"]))
    if "error" in outcome:
        return _error(entry.item, outcome, accounts)
    return _posted(entry, outcome["ok"], accounts, now)


def _posted(entry: _Prepared, ok: Mapping[str, Any], accounts: _Accounts, now: datetime) -> Posted:
    item = entry.item
    from_id, to_id = item.from_account_id, item.to_account_id
    row = LedgerTransaction(
        id=entry.transaction_id,
        number=ok["number"],
        type="TRANSFER",
        status="COMPLETED",
        currency=ok["currency"],
        amount_minor=int(ok["amount_minor"]),
        fee_minor=0,
        description=entry.description,
        reference=entry.reference,
        details=entry.details_text,
        created_at=now,
        from_account_id=from_id,
        to_account_id=to_id,
        client_id=item.client_id,
    )
    row.completed_at = now
    after = ok["accounts"]
    locked = {
        account_id: accounts.instance(
            account_id, int(after[account_id][0]), int(after[account_id][1])
        )
        for account_id in (from_id, to_id)
    }
    posted = Posted(
        row,
        {"metadata": entry.metadata},
        locked,
        {account_id: int(value) for account_id, value in ok["balances_after"].items()},
        holders={
            account_id: holder(account, accounts.owner_name(account_id))
            for account_id, account in locked.items()
        },
    )
    if ok.get("fee_number"):
        posted.overdraft_fee_transaction_id = entry.fee_transaction_id
    count_posted(row.type, bool(ok.get("fee_number")))
    return posted


def _error(item: FunctionItem, outcome: Mapping[str, Any], accounts: _Accounts) -> errors.BankError:
    """The BankError the Python path raises for this refusal, built by the
    same domain functions from the facts the function reports."""
    kind = outcome["error"]
    if kind == "not_found":
        field_name = str(outcome["field"])
        account_id = item.from_account_id if field_name == "fromAccountId" else item.to_account_id
        return errors.AccountNotFound(field=field_name, metadata={"account_id": account_id[:64]})
    source = accounts.data(item.from_account_id)
    try:
        _raise_refusal(kind, item, outcome, source, accounts)
    except errors.BankError as refusal:
        return refusal
    raise AssertionError(f"bank_post_transfers refused ({kind}) what the domain accepts")


def _raise_refusal(
    kind: str,
    item: FunctionItem,
    outcome: Mapping[str, Any],
    source: Mapping[str, Any],
    accounts: _Accounts,
) -> None:
    currency = str(source["currency"])
    if kind == "currency":
        movements.currency_of(item.currency, currency)
    elif kind == "amount":
        parse_amount(item.amount, str(outcome["currency"]))  # type: ignore[arg-type]
    elif kind == "destination_currency":
        destination = accounts.data(item.to_account_id)
        movements.check_destination_currency(str(outcome["currency"]), destination["currency"])
    elif kind == "read_only":
        Principal(client_id=item.client_id or "", role=AUDITOR).require_write()
    elif kind == "inactive":
        field_name = str(outcome["field"])
        account_id = item.from_account_id if field_name == "fromAccountId" else item.to_account_id
        movements.require_active(account_id, accounts.data(account_id)["status"], field_name)
    else:
        effective = limits.stored_limits(source["type"], source["limit_overrides"], currency)
        amount_minor = int(outcome["amount_minor"])
        if kind == "per_transaction":
            movements.check_per_transaction(
                amount_minor,
                effective.per_transaction_min,
                effective.per_transaction_internal_transfer_max,
                currency,
            )
        elif kind == "limit":
            used = {
                limits.DAILY_TRANSFER: int(outcome["daily_used"]),
                limits.MONTHLY_TRANSFER: int(outcome["monthly_used"]),
            }
            limit_checks.check(
                (limits.DAILY_TRANSFER, limits.MONTHLY_TRANSFER),
                amount_minor,
                used,
                effective,
                currency,
            )
        elif kind == "funds":
            funds = movements.Funds(
                balance=int(outcome["balance"]),
                held=int(outcome["held"]),
                pending_debits=int(outcome["pending_debits"]),
                overdraft_limit=int(outcome["overdraft_limit"]),
            )
            movements.debit_fees(funds, str(source["type"]), amount_minor)
        else:
            raise AssertionError(f"unknown refusal {kind!r}")


__all__ = [
    "ENV_SWITCH",
    "Fallback",
    "FunctionItem",
    "Result",
    "available",
    "post_transfers",
    "switched_off",
]

"""Steps several movement kinds share: whose accounts, limits, holds, fees, events.

Each runs inside the movement's database transaction, on locked accounts.
"""

from __future__ import annotations

from datetime import datetime

from server.domain import errors, limit_checks, limits, movements
from server.domain.ids import new_id
from server.domain.movement_events import approaching_data
from server.domain.principal import Principal
from server.store import holds, ledger, movement_rows, outbox
from server.store.bootstrap import internal_account_id
from server.store.limit_usage import limit_usage
from server.store.models import Account, LedgerTransaction
from server.store.movement_rows import event_data

# Who may be paid: any customer account (its existence alone is checked).
STAFF_VIEW = Principal(client_id="internal", role="ADMIN")


def usable(
    account: Account | None, account_id: str, principal: Principal, field_name: str
) -> Account:
    """`account` if the caller may use it, else TXN002 (also for others' accounts)."""
    if account is None or not principal.can_see(account.owner_id):
        raise errors.AccountNotFound(field=field_name, metadata={"account_id": account_id[:64]})
    return account


def customer_account(account_id: str, principal: Principal, field_name: str) -> Account:
    """A customer account the caller may use, or TXN002 (also for others' accounts)."""
    return usable(movement_rows.customer_account(account_id), account_id, principal, field_name)


def funds(account: Account) -> movements.Funds:
    return movements.Funds(
        balance=account.balance_minor,
        held=account.held_minor,
        pending_debits=account.pending_debits_minor,
        overdraft_limit=account.overdraft_limit_minor,
    )


def effective_limits(account: Account) -> limits.Limits:
    return limits.stored_limits(account.type, account.limit_overrides, account.currency)


def check_limits(
    account: Account,
    names: tuple[str, ...],
    effective: limits.Limits,
    amount_minor: int,
    now: datetime,
    *,
    used_by_limit: dict[str, int] | None = None,
) -> list[limit_checks.LimitUse]:
    """Refuses (TXN004) a debit over a daily or monthly limit; returns what was used.

    `used_by_limit`: the account's counters of `now`, when the caller read
    them with its lock; otherwise they are read here.
    """
    if used_by_limit is None:
        used_by_limit = limit_usage([account.id], limits.period_bounds(now))[account.id]
    return limit_checks.check(names, amount_minor, used_by_limit, effective, account.currency)


def warn_if_approaching(
    account: Account, amount_minor: int, uses: list[limit_checks.LimitUse], now: datetime
) -> None:
    """limit.approaching once, when a debit crosses 80% of a limit."""
    for crossed in limit_checks.approaching(uses, amount_minor):
        outbox.emit(
            "limit.approaching",
            account.id,
            approaching_data(account.id, crossed, account.currency),
            now,
        )


def next_number(now: datetime) -> str:
    """A fresh transaction number; the sequence never serialises writers."""
    return movements.transaction_number(now, ledger.next_sequence())


def lock_numbered(account_ids: list[str], now: datetime) -> tuple[dict[str, Account], str]:
    """Locks the accounts and takes a transaction number (one round trip)."""
    locked, sequence = ledger.lock_accounts_numbered(account_ids)
    return locked, movements.transaction_number(now, sequence)


def holds_released(account: Account, now: datetime) -> Account:
    """The locked account after releasing its due holds (re-read only if one was)."""
    if not account.held_minor:
        return account
    released = 0
    while (count := holds.release_due(now, account.id)) > 0:
        released += count
        if count < holds.RELEASE_BATCH_MAX:
            break
    if released:
        return ledger.lock_accounts([account.id])[account.id]
    return account


def emit_completed(row: LedgerTransaction, account_id: str, now: datetime) -> None:
    data = event_data(row, account_id)
    outbox.emit_many(
        [("transaction.created", row.id, data), ("transaction.completed", row.id, data)], now
    )


def charge_overdraft_fee(account: Account, now: datetime, cause: LedgerTransaction) -> str:
    """Posts the 35.00 overdraft fee as its own FEE transaction."""
    return charge_fee(
        account, now, cause, movements.OVERDRAFT_FEE_MINOR, kind="OVERDRAFT", label="Overdraft fee"
    )


def charge_fee(
    account: Account,
    now: datetime,
    cause: LedgerTransaction,
    fee_minor: int,
    *,
    kind: str,
    label: str,
) -> str:
    """Posts a fee caused by `cause` as a FEE transaction of its own (account ->
    fee income of its currency), with its history line and events; returns its id.
    `kind` is kept as details.fee_kind (OVERDRAFT, RETURNED_ITEM)."""
    fee_txn, _ = post_with_internal(
        account,
        now,
        type_="FEE",
        direction="DEBIT",
        amount_minor=fee_minor,
        internal_code="FEE_INCOME",
        description=f"{label} ({cause.number})",
        counterparty=label,
        details={"fee_kind": kind},
        columns={"from_account_id": account.id, "original_transaction_id": cause.id},
    )
    return str(fee_txn.id)


def post_with_internal(
    account: Account,
    now: datetime,
    *,
    type_: str,
    direction: str,
    amount_minor: int,
    internal_code: str,
    description: str,
    counterparty: str,
    details: dict[str, object],
    columns: dict[str, object],
    number: str | None = None,
) -> tuple[LedgerTransaction, dict[str, int]]:
    """A COMPLETED transaction between the locked customer `account` (credited
    or debited per `direction`) and the internal account `internal_code` of its
    currency, with the customer's history line and events; returns the row and
    the balances after."""
    currency = account.currency
    signed = amount_minor if direction == "CREDIT" else -amount_minor
    balances: dict[str, int] = {}
    row = ledger.post(
        balances_after=balances,
        transaction_id=new_id("txn"),
        number=number or next_number(now),
        type_=type_,
        status="COMPLETED",
        currency=currency,
        amount_minor=amount_minor,
        legs=[
            ledger.Leg(account.id, signed, currency),
            ledger.Leg(internal_account_id(internal_code, currency), -signed, currency),
        ],
        now=now,
        description=description,
        details=details,
        columns=columns,
        locked={account.id: account},
    )
    movement_rows.write_entries(
        movement_rows.entry(
            row,
            account,
            direction=direction,
            amount_minor=amount_minor,
            fee_minor=0,
            balance_after=balances[account.id],
            limit_class=limits.CLASS_NONE,
            counterparty=counterparty,
            now=now,
        )
    )
    emit_completed(row, account.id, now)
    return row, balances

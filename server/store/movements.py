"""Money movements: transfer, deposit, withdrawal.

Each movement is one database transaction (`tx.write`) that
1. locks the touched customer accounts in sorted id order,
2. re-checks status, limits and funds on the locked rows,
3. posts one balanced journal transaction (plus an overdraft fee, if owed),
4. writes the customer-facing history rows (`account_entries`) and holds,
5. writes the outbox events.
Nothing is written when a rule refuses the movement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from server.domain import errors, limits, movements
from server.domain.ids import new_id
from server.domain.money import parse_amount, to_major
from server.domain.passwords import verify_secret
from server.domain.principal import Principal
from server.store import clock, ledger, outbox, sql, tx
from server.store import limit_usage as usage
from server.store.bootstrap import internal_account_id
from server.store.db import database
from server.store.limit_usage import limit_usage
from server.store.models import (
    Account,
    AccountEntry,
    Atm,
    Card,
    Hold,
    LedgerTransaction,
)

DESCRIPTION_LENGTH_MAX = 255
REFERENCE_LENGTH_MAX = 35
LOCATION_LENGTH_MAX = 100
LIMIT_WARNING_PERCENT = 80


@dataclass(frozen=True)
class RequestContext:
    """Who asks, and from where (kept as the transaction's metadata)."""

    principal: Principal
    ip_address: str = ""
    device: str = ""
    location: str = ""
    # Sandbox mode relaxes what customers may do (deposit methods); False
    # unless the caller says so, so that a forgotten flag keeps the stricter rule.
    sandbox: bool = False

    def metadata(self) -> dict[str, str]:
        # user_id (with the row's client_id) names the initiator, who alone
        # (with staff) is shown the rest.
        return {
            "ip_address": self.ip_address,
            "device": self.device,
            "location": self.location,
            "user_id": self.principal.user_id or "",
        }


@dataclass
class Result:
    """A committed movement, with what the response needs."""

    transaction: LedgerTransaction
    accounts: dict[str, Account]
    balances_after: dict[str, int] = field(default_factory=dict)
    overdraft_fee_transaction_id: str | None = None
    # account id -> holder name, where the movement already looked it up
    holders: dict[str, str] = field(default_factory=dict)


# --- validation helpers ----------------------------------------------------


def _text(value: str, field_name: str, limit: int) -> str:
    text = value.strip()
    if len(text) > limit:
        raise errors.ValidationFailed(
            f"{field_name} is longer than {limit} characters",
            field=field_name,
            metadata={"length_max": str(limit)},
        )
    return text


def _account_id(value: str, field_name: str) -> str:
    if not value:
        raise errors.ValidationFailed(f"{field_name} is required", field=field_name)
    return value


class _TransferAccounts(NamedTuple):
    source: Account
    destination: Account
    holders: dict[str, str]
    number: str
    source_usage: dict[str, int]  # the source's limit counters of `now`


def _transfer_accounts(
    from_id: str, to_id: str, principal: Principal, now: datetime
) -> _TransferAccounts:
    """Locks source and destination (sorted order) and takes a transaction number.

    One round trip, which also reads the holders' names and the source's
    limit counters. The source must be one the caller may use and the
    destination any customer account (paying another customer); either
    missing is TXN002. Unknown ids and accounts of other kinds are not
    locked; a source the caller may not use is, for as long as the refusal
    takes (the rollback releases it).
    """
    locked = ledger.lock_accounts_with_owners(
        [from_id, to_id], "CUSTOMER", usage_of=from_id, periods=limits.period_bounds(now)
    )
    accounts = locked.accounts
    source = _usable(accounts.get(from_id), from_id, principal, "fromAccountId")
    destination = _usable(accounts.get(to_id), to_id, _STAFF_VIEW, "toAccountId")
    holders = {
        account_id: _holder(account, locked.owners[account_id])
        for account_id, account in accounts.items()
    }
    assert locked.usage is not None
    return _TransferAccounts(
        source,
        destination,
        holders,
        movements.transaction_number(now, locked.sequence),
        locked.usage,
    )


def _usable(
    account: Account | None, account_id: str, principal: Principal, field_name: str
) -> Account:
    """`account` if the caller may use it, else TXN002 (also for others' accounts)."""
    if account is None or not principal.can_see(account.owner_id):
        raise errors.AccountNotFound(field=field_name, metadata={"account_id": account_id[:64]})
    return account


def customer_account(account_id: str, principal: Principal, field_name: str) -> Account:
    """A customer account the caller may use, or TXN002 (also for others' accounts)."""
    found = sql.rows(
        Account,
        f'SELECT {sql.column_list(Account)} FROM "accounts" WHERE "id" = ? AND "kind" = ?',
        (account_id, "CUSTOMER"),
    )
    return _usable(found[0] if found else None, account_id, principal, field_name)


def _require_active(account: Account, field_name: str) -> None:
    if account.status != "ACTIVE":
        raise errors.AccountNotActive(
            f"Account is {account.status.lower()}",
            field=field_name,
            metadata={"account_id": account.id, "status": account.status},
        )


def _currency(requested: str, account: Account, field_name: str = "currency") -> str:
    currency = requested.strip().upper() or account.currency
    if currency != account.currency:
        raise errors.CurrencyMismatch(
            f"Account holds {account.currency}, not {currency}",
            field=field_name,
            metadata={"account_currency": account.currency, "currency": currency},
        )
    return currency


def _funds(account: Account) -> movements.Funds:
    return movements.Funds(
        balance=account.balance_minor,
        held=account.held_minor,
        pending_debits=account.pending_debits_minor,
        overdraft_limit=account.overdraft_limit_minor,
    )


@dataclass(frozen=True)
class LimitUse:
    name: str
    used_minor: int
    limit_minor: int


def _check_limits(
    account: Account,
    names: tuple[str, ...],
    effective: limits.Limits,
    amount_minor: int,
    now: datetime,
    *,
    used_by_limit: dict[str, int] | None = None,
) -> list[LimitUse]:
    """Refuses (TXN004) a debit over a daily or monthly limit; returns what was used.

    `used_by_limit`: the account's counters of `now`, when the caller read
    them with its lock; otherwise they are read here.
    """
    if used_by_limit is None:
        used_by_limit = limit_usage([account.id], limits.period_bounds(now))[account.id]
    uses: list[LimitUse] = []
    for name in names:
        daily = name in limits.DAILY_LIMITS
        used = used_by_limit[name]
        maximum = effective.get(name)
        if used + amount_minor > maximum:
            raise errors.LimitExceeded(
                f"{'Daily' if daily else 'Monthly'} limit exceeded",
                field="amount",
                metadata={
                    "limit": name,
                    "limit_amount": limits.format_major(maximum, account.currency),
                    "used_amount": limits.format_major(used, account.currency),
                },
            )
        uses.append(LimitUse(name, used, maximum))
    return uses


def _warn_if_approaching(
    account: Account, amount_minor: int, uses: list[LimitUse], now: datetime
) -> None:
    """limit.approaching once, when a debit crosses 80% of a limit."""
    for use in uses:
        threshold = use.limit_minor * LIMIT_WARNING_PERCENT // 100
        if use.limit_minor and use.used_minor < threshold <= use.used_minor + amount_minor:
            outbox.emit(
                "limit.approaching",
                account.id,
                {
                    "accountId": account.id,
                    "limit": use.name,
                    "limitAmount": to_major(use.limit_minor, account.currency),
                    "usedAmount": to_major(use.used_minor + amount_minor, account.currency),
                    "percent": (use.used_minor + amount_minor) * 100 // use.limit_minor,
                },
                now,
            )


def _effective(account: Account) -> limits.Limits:
    return limits.stored_limits(account.type, account.limit_overrides, account.currency)


def next_number(now: datetime) -> str:
    """A fresh transaction number; the sequence never serialises writers."""
    return movements.transaction_number(now, ledger.next_sequence())


def lock_numbered(account_ids: list[str], now: datetime) -> tuple[dict[str, Account], str]:
    """Locks the accounts and takes a transaction number (one round trip)."""
    locked, sequence = ledger.lock_accounts_numbered(account_ids)
    return locked, movements.transaction_number(now, sequence)


def release_due_holds(now: datetime, account_id: str | None = None) -> int:
    """Releases PENDING holds whose time has come; returns how many."""
    query = Hold.select().where((Hold.status == "PENDING") & (Hold.release_at <= now))
    if account_id is not None:
        query = query.where(Hold.account_id == account_id)
    released = 0
    for hold in query.order_by(Hold.account_id, Hold.id):
        changed = (
            Hold.update(status="RELEASED", resolved_at=now)
            .where((Hold.id == hold.id) & (Hold.status == "PENDING"))
            .execute()
        )
        if changed:
            Account.update(held_minor=Account.held_minor - hold.amount_minor).where(
                Account.id == hold.account_id
            ).execute()
            released += 1
    return released


def _holds_released(account: Account, now: datetime) -> Account:
    """The locked account after releasing its due holds (re-read only if one was)."""
    if account.held_minor and release_due_holds(now, account.id):
        return ledger.lock_accounts([account.id])[account.id]
    return account


def _entry(
    result_txn: LedgerTransaction,
    account: Account,
    *,
    direction: str,
    amount_minor: int,
    fee_minor: int,
    balance_after: int | None,
    limit_class: str,
    counterparty: str,
    now: datetime,
) -> dict[str, object]:
    """One history row (account_entries) of `account` for the transaction."""
    words = (result_txn.number, result_txn.description, result_txn.reference, counterparty)
    return {
        "account_id": account.id,
        "transaction_id": result_txn.id,
        "direction": direction,
        "type": result_txn.type,
        "status": result_txn.status,
        "limit_class": limit_class,
        "currency": result_txn.currency,
        "amount_minor": amount_minor,
        "fee_minor": fee_minor,
        "balance_after_minor": balance_after,
        "counterparty": counterparty,
        "search_text": " ".join(part for part in words if part).lower(),
        "created_at": now,
    }


def _write_entries(*records: dict[str, object]) -> None:
    """History rows, and the limit usage of the debits among them."""
    sql.insert(AccountEntry, records, deferred=True)
    usage.count_entries(records)


def _holder(account: Account, owner_name: str | None) -> str:
    """An account's holder: its owner's name, or its own name for the bank's accounts."""
    return str(account.name) if account.owner_id is None else str(owner_name or "")


def holder_names(accounts: list[Account]) -> dict[str, str]:
    """Each account's holder (`_holder`), its owners' names read in one query."""
    owners = sorted({str(a.owner_id) for a in accounts if a.owner_id is not None})
    found: dict[str, str] = {}
    if owners:
        found = dict(
            sql.execute(
                f'SELECT "id", "name" FROM "users" WHERE "id" IN ({sql.marks(len(owners))})',
                owners,
            ).fetchall()
        )
    return {a.id: _holder(a, found.get(str(a.owner_id))) for a in accounts}


def _charge_overdraft_fee(account: Account, now: datetime, cause: LedgerTransaction) -> str:
    """Posts the 35.00 overdraft fee as its own FEE transaction."""
    fee_id = new_id("txn")
    balances: dict[str, int] = {}
    fee_txn = ledger.post(
        balances_after=balances,
        transaction_id=fee_id,
        number=next_number(now),
        type_="FEE",
        status="COMPLETED",
        currency=account.currency,
        amount_minor=movements.OVERDRAFT_FEE_MINOR,
        legs=[
            ledger.Leg(account.id, -movements.OVERDRAFT_FEE_MINOR, account.currency),
            ledger.Leg(
                internal_account_id("FEE_INCOME"), movements.OVERDRAFT_FEE_MINOR, account.currency
            ),
        ],
        now=now,
        description=f"Overdraft fee ({cause.number})",
        details={"fee_kind": "OVERDRAFT"},
        columns={"from_account_id": account.id, "original_transaction_id": cause.id},
        locked={account.id: account},
    )
    _write_entries(
        _entry(
            fee_txn,
            account,
            direction="DEBIT",
            amount_minor=movements.OVERDRAFT_FEE_MINOR,
            fee_minor=0,
            balance_after=balances[account.id],
            limit_class=limits.CLASS_NONE,
            counterparty="Overdraft fee",
            now=now,
        )
    )
    _emit_completed(fee_txn, account.id, now)
    return fee_id


def _event_data(row: LedgerTransaction, account_id: str) -> dict[str, object]:
    return {
        "transactionId": row.id,
        "transactionNumber": row.number,
        "accountId": account_id,
        "amount": to_major(row.amount_minor, row.currency),
        "currency": row.currency,
        "type": row.type,
        "status": row.status,
    }


def _emit_completed(row: LedgerTransaction, account_id: str, now: datetime) -> None:
    data = _event_data(row, account_id)
    outbox.emit_many(
        [("transaction.created", row.id, data), ("transaction.completed", row.id, data)], now
    )


# --- transfer ----------------------------------------------------------------


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


SCHEDULE_DAYS_MAX = 365
SCHEDULED_HOUR_UTC = 9


def _scheduled_date(request: TransferInput, today: date) -> date | None:
    """The execution date of a scheduled transfer, or None for an immediate one."""
    if request.scheduled_date is not None and not request.scheduled:
        raise errors.ValidationFailed(
            "scheduledDate is only allowed with scheduled: true", field="scheduledDate"
        )
    if not request.scheduled:
        return None
    if not request.scheduled_date:
        raise errors.ValidationFailed(
            "scheduledDate is required when scheduled is true", field="scheduledDate"
        )
    try:
        day = date.fromisoformat(request.scheduled_date.strip())
    except ValueError:
        raise errors.ValidationFailed(
            "scheduledDate must be a date YYYY-MM-DD", field="scheduledDate"
        ) from None
    if not today < day <= today + timedelta(days=SCHEDULE_DAYS_MAX):
        raise errors.ValidationFailed(
            f"scheduledDate must be after today and at most {SCHEDULE_DAYS_MAX} days ahead",
            field="scheduledDate",
            metadata={"today": today.isoformat()},
        )
    return day


def transfer(request: TransferInput, context: RequestContext) -> Result:
    """An internal transfer between two customer accounts of this bank.

    Immediate by default; with `scheduled` it is stored as SCHEDULED and
    executed by the due-work sweeper at 09:00 UTC on its date, when limits and
    funds are checked again (a refusal then makes it FAILED).
    """
    from_id = _account_id(request.from_account_id, "fromAccountId")
    to_id = _account_id(request.to_account_id, "toAccountId")
    description = _text(request.description, "description", DESCRIPTION_LENGTH_MAX)
    reference = _text(request.reference, "reference", REFERENCE_LENGTH_MAX)
    if from_id == to_id:
        raise errors.ValidationFailed(
            "Source and destination accounts must differ", field="toAccountId"
        )
    columns = {
        "from_account_id": from_id,
        "to_account_id": to_id,
        "client_id": context.principal.client_id,
    }

    def work() -> Result:
        now = clock.now()
        # The destination may belong to anyone (paying another customer); only
        # its existence is checked, and its details stay hidden in the answer.
        # The checks run on the locked rows: what they see is what is written.
        source, destination, holders, number, source_usage = _transfer_accounts(
            from_id, to_id, context.principal, now
        )
        currency = _currency(request.currency, source)
        amount_minor = parse_amount(request.amount, currency)
        if currency != destination.currency:
            raise errors.CurrencyMismatch(
                f"Destination account holds {destination.currency}, not {currency}",
                field="toAccountId",
                metadata={"account_currency": destination.currency, "currency": currency},
            )
        scheduled_day = _scheduled_date(request, now.date())
        context.principal.require_write()
        locked = {from_id: source, to_id: destination}
        if scheduled_day is not None:
            return _schedule(
                source,
                destination,
                amount_minor,
                now,
                {
                    "number": number,
                    "description": description,
                    "reference": reference,
                    "day": scheduled_day,
                    "metadata": context.metadata(),
                    "columns": columns,
                    "holders": holders,
                },
            )
        # Written by _execute_transfer once every check has passed.
        row = LedgerTransaction(
            id=new_id("txn"),
            number=number,
            type="TRANSFER",
            status="PROCESSING",
            currency=currency,
            amount_minor=amount_minor,
            fee_minor=0,
            description=description,
            reference=reference,
            details=json.dumps({"metadata": context.metadata()}, sort_keys=True),
            created_at=now,
            **columns,
        )
        return _execute_transfer(
            row, locked, now, new=True, holders=holders, source_usage=source_usage
        )

    return tx.write(work)


def _schedule(
    source: Account,
    destination: Account,
    amount_minor: int,
    now: datetime,
    fields: dict[str, Any],
) -> Result:
    """Stores a SCHEDULED transfer (no money moves until its date)."""
    _require_active(source, "fromAccountId")
    _require_active(destination, "toAccountId")
    effective = _effective(source)
    _check_per_transaction(
        amount_minor,
        effective.per_transaction_min,
        effective.per_transaction_internal_transfer_max,
        source.currency,
    )
    day: date = fields["day"]
    row = ledger.create_transaction(
        id=new_id("txn"),
        number=fields["number"],
        type="TRANSFER",
        status="SCHEDULED",
        currency=source.currency,
        amount_minor=amount_minor,
        fee_minor=0,
        description=fields["description"],
        reference=fields["reference"],
        details=json.dumps(
            {"metadata": fields["metadata"], "scheduled_date": day.isoformat()}, sort_keys=True
        ),
        created_at=now,
        scheduled_for=datetime.combine(day, time(hour=SCHEDULED_HOUR_UTC)),
        **fields["columns"],
    )
    holders = fields["holders"]
    _write_entries(
        *(
            _entry(
                row,
                account,
                direction=direction,
                amount_minor=amount_minor,
                fee_minor=0,
                balance_after=None,
                limit_class=limits.CLASS_NONE,
                counterparty=holders[other.id],
                now=now,
            )
            for account, other, direction in (
                (source, destination, "DEBIT"),
                (destination, source, "CREDIT"),
            )
        )
    )
    outbox.emit("transaction.created", row.id, _event_data(row, source.id), now)
    return Result(row, {source.id: source, destination.id: destination}, {}, holders=holders)


def _execute_transfer(
    row: LedgerTransaction,
    locked: dict[str, Account],
    now: datetime,
    *,
    new: bool,
    holders: dict[str, str] | None = None,
    source_usage: dict[str, int] | None = None,
) -> Result:
    """Checks and posts a transfer; the accounts are locked.

    `new`: the row is not written yet (an immediate transfer: it is inserted
    COMPLETED, with its history rows); otherwise it is a stored SCHEDULED
    transfer whose row and history rows are completed in place. `holders`:
    the accounts' holder names, when the caller has them; `source_usage`: the
    source's limit counters of `now`, read under the lock, when it has them.
    """
    from_id, to_id = str(row.from_account_id), str(row.to_account_id)
    source, destination = locked[from_id], locked[to_id]
    _require_active(source, "fromAccountId")
    _require_active(destination, "toAccountId")
    effective = _effective(source)
    _check_per_transaction(
        row.amount_minor,
        effective.per_transaction_min,
        effective.per_transaction_internal_transfer_max,
        row.currency,
    )
    uses = _check_limits(
        source,
        (limits.DAILY_TRANSFER, limits.MONTHLY_TRANSFER),
        effective,
        row.amount_minor,
        now,
        used_by_limit=source_usage,
    )
    source = _holds_released(source, now)
    overdraft_fee = movements.debit_fees(_funds(source), source.type, row.amount_minor)
    created = _event_data(row, from_id)
    row.status, row.completed_at = "COMPLETED", now
    if new:
        sql.insert(LedgerTransaction, [row.__data__], deferred=True)
    else:
        sql.defer(
            'UPDATE "ledger_transactions" SET "status" = ?, "completed_at" = ? WHERE "id" = ?',
            (row.status, LedgerTransaction.completed_at.db_value(now), row.id),
        )
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
        holders = holder_names([source, destination])
    if new:
        _write_entries(
            _entry(
                row,
                source,
                direction="DEBIT",
                amount_minor=row.amount_minor,
                fee_minor=0,
                balance_after=balances[from_id],
                limit_class=limits.CLASS_TRANSFER,
                counterparty=holders[to_id],
                now=now,
            ),
            _entry(
                row,
                destination,
                direction="CREDIT",
                amount_minor=row.amount_minor,
                fee_minor=0,
                balance_after=balances[to_id],
                limit_class=limits.CLASS_NONE,
                counterparty=holders[from_id],
                now=now,
            ),
        )
    else:
        for account_id, limit_class in (
            (from_id, limits.CLASS_TRANSFER),
            (to_id, limits.CLASS_NONE),
        ):
            sql.defer(
                'UPDATE "account_entries" SET "status" = ?, "balance_after_minor" = ?,'
                ' "limit_class" = ? WHERE "transaction_id" = ? AND "account_id" = ?',
                ("COMPLETED", balances[account_id], limit_class, row.id, account_id),
            )
        # Counted now that it executes, in the period of its history row (the
        # day it was scheduled), as the row itself says.
        assert row.created_at is not None
        usage.count(from_id, limits.CLASS_TRANSFER, row.amount_minor, row.created_at)
    events = [("transaction.completed", row.id, _event_data(row, from_id))]
    if new:
        events.insert(0, ("transaction.created", row.id, created))
    outbox.emit_many(events, now)
    _warn_if_approaching(source, row.amount_minor, uses, now)
    result = Result(row, {from_id: source, to_id: destination}, balances, holders=holders)
    if overdraft_fee:
        result.overdraft_fee_transaction_id = _charge_overdraft_fee(source, now, row)
        result.balances_after[from_id] -= overdraft_fee
    return result


def run_scheduled_transfer(transaction_id: str, now: datetime) -> str:
    """Executes one due SCHEDULED transfer; returns its new status."""

    def work() -> str:
        row = LedgerTransaction.get_by_id(transaction_id)
        locked = ledger.lock_accounts([str(row.from_account_id), str(row.to_account_id)])
        row = LedgerTransaction.get_by_id(transaction_id)  # re-read under the locks
        if row.status != "SCHEDULED":
            return str(row.status)
        try:
            with database.atomic():  # a savepoint: a refusal undoes only this attempt
                _execute_transfer(row, locked, now, new=False)
        except errors.BankError as refusal:
            _fail(row, refusal, now)
            return "FAILED"
        return "COMPLETED"

    return tx.write(work)


def _fail(row: LedgerTransaction, refusal: errors.BankError, now: datetime) -> None:
    details = json.loads(row.details or "{}")
    details["failure_code"] = refusal.reason
    LedgerTransaction.update(
        status="FAILED", failure_reason=refusal.message, details=json.dumps(details, sort_keys=True)
    ).where(LedgerTransaction.id == row.id).execute()
    AccountEntry.update(status="FAILED").where(AccountEntry.transaction_id == row.id).execute()
    row.status = "FAILED"
    data = _event_data(row, str(row.from_account_id))
    data["failureCode"], data["failureReason"] = refusal.reason, refusal.message
    outbox.emit("transaction.failed", row.id, data, now)


def cancel_scheduled_on_close(account_id: str, now: datetime) -> None:
    """Closing an account cancels the scheduled transfers that touch it.

    Runs inside CloseAccount's transaction (server.store.accounts.CLOSE_HOOKS).
    """
    doomed = LedgerTransaction.select().where(
        (LedgerTransaction.status == "SCHEDULED")
        & (
            (LedgerTransaction.from_account_id == account_id)
            | (LedgerTransaction.to_account_id == account_id)
        )
    )
    for row in doomed:
        LedgerTransaction.update(
            status="CANCELLED", cancelled_at=now, failure_reason="Account closed"
        ).where(LedgerTransaction.id == row.id).execute()
        AccountEntry.update(status="CANCELLED").where(
            AccountEntry.transaction_id == row.id
        ).execute()
        row.status = "CANCELLED"
        outbox.emit(
            "transaction.cancelled", row.id, _event_data(row, str(row.from_account_id)), now
        )


def due_scheduled_transfers(now: datetime, batch_size: int = 100) -> list[str]:
    """Ids of SCHEDULED transfers whose time has come, oldest first."""
    return [
        row.id
        for row in LedgerTransaction.select(LedgerTransaction.id)
        .where((LedgerTransaction.status == "SCHEDULED") & (LedgerTransaction.scheduled_for <= now))
        .order_by(LedgerTransaction.scheduled_for, LedgerTransaction.id)
        .limit(batch_size)
    ]


_STAFF_VIEW = Principal(client_id="internal", role="ADMIN")


def _check_per_transaction(
    amount_minor: int, minimum: int, maximum: int | None, currency: str
) -> None:
    if amount_minor < minimum:
        raise errors.InvalidAmount(
            f"Amount is below the minimum of {to_major(minimum, currency):.2f}",
            field="amount",
            metadata={"minimum": f"{to_major(minimum, currency):.2f}"},
        )
    if maximum is not None and amount_minor > maximum:
        raise errors.InvalidAmount(
            f"Amount is above the per-transaction maximum of {to_major(maximum, currency):.2f}",
            field="amount",
            metadata={"maximum": f"{to_major(maximum, currency):.2f}"},
        )


# --- deposit -----------------------------------------------------------------


@dataclass(frozen=True)
class DepositInput:
    account_id: str
    amount: float
    method: str
    currency: str = ""
    location: str = ""
    reference: str = ""
    description: str = ""


def deposit(request: DepositInput, context: RequestContext) -> Result:
    """Money in, through a clearing account; checks are held per seed 002."""
    account_id = _account_id(request.account_id, "accountId")
    if request.method not in movements.DEPOSIT_HOLD_BUSINESS_DAYS:
        raise errors.ValidationFailed(
            "method must be one of CASH, CHECK, MOBILE_CHECK, WIRE, DIRECT_DEPOSIT",
            field="method",
        )
    location = _text(request.location, "location", LOCATION_LENGTH_MAX)
    reference = _text(request.reference, "reference", REFERENCE_LENGTH_MAX)
    description = _text(request.description, "description", DESCRIPTION_LENGTH_MAX)
    account = customer_account(account_id, context.principal, "accountId")
    movements.check_deposit_method(context.principal, request.method, sandbox=context.sandbox)
    currency = _currency(request.currency, account)
    amount_minor = parse_amount(request.amount, currency)
    maximum = movements.DEPOSIT_MAX_MINOR.get(request.method, movements.DEPOSIT_MAX_DEFAULT_MINOR)
    _check_per_transaction(amount_minor, 1, maximum, currency)
    context.principal.require_write()
    clearing = internal_account_id(movements.DEPOSIT_CLEARING_ACCOUNT[request.method])

    def work() -> Result:
        now = clock.now()
        locks, number = lock_numbered([account_id], now)
        locked = locks[account_id]
        _require_active(locked, "accountId")
        release_at = movements.deposit_release(request.method, now)
        hold_id = new_id("hold") if release_at > now else None
        balances: dict[str, int] = {}
        row = ledger.post(
            balances_after=balances,
            transaction_id=new_id("txn"),
            number=number,
            type_="DEPOSIT",
            status="COMPLETED",
            currency=currency,
            amount_minor=amount_minor,
            legs=[
                ledger.Leg(account_id, amount_minor, currency),
                ledger.Leg(clearing, -amount_minor, currency),
            ],
            now=now,
            description=description or f"{request.method.replace('_', ' ').title()} deposit",
            reference=reference,
            details={
                "method": request.method,
                "location": location,
                "hold_id": hold_id,
                "available_at": release_at.isoformat(),
                "metadata": context.metadata(),
            },
            columns={"to_account_id": account_id, "client_id": context.principal.client_id},
            locked=locks,
        )
        if hold_id is not None:
            Hold.create(
                id=hold_id,
                account_id=account_id,
                transaction_id=row.id,
                amount_minor=amount_minor,
                currency=currency,
                reason=f"{request.method}_DEPOSIT",
                status="PENDING",
                description=f"{request.method.replace('_', ' ').title()} hold",
                release_at=release_at,
                created_at=now,
            )
            Account.update(held_minor=Account.held_minor + amount_minor).where(
                Account.id == account_id
            ).execute()
        _write_entries(
            _entry(
                row,
                locked,
                direction="CREDIT",
                amount_minor=amount_minor,
                fee_minor=0,
                balance_after=balances[account_id],
                limit_class=limits.CLASS_NONE,
                counterparty=location or request.method.replace("_", " ").title(),
                now=now,
            )
        )
        _emit_completed(row, account_id, now)
        return Result(row, {account_id: locked}, balances)

    return tx.write(work)


# --- withdrawal --------------------------------------------------------------


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


def _card(card_number: str, account: Account) -> Card:
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if not 13 <= len(digits) <= 19 or len(digits) != len(card_number.replace(" ", "")):
        raise errors.ValidationFailed("card_number must be 13 to 19 digits", field="cardNumber")
    card = Card.get_or_none(Card.number_hash == movements.card_number_hash(digits))
    if card is None or card.account_id != account.id:
        raise errors.ValidationFailed(
            "This card is not linked to the account",
            field="cardNumber",
            metadata={"card_last4": digits[-4:]},
        )
    if card.status != "ACTIVE":
        raise errors.CardLocked(field="cardNumber", metadata={"card_last4": card.last4})
    return card


def _verify_pin(card: Card, pin: str) -> None:
    """Checks the PIN; a wrong one counts, and the third locks the card.

    Both outcomes last even when the request fails after all (tx.write_lasting).
    """
    if verify_secret(card.pin_hash, pin):
        if card.failed_pin_attempts:
            tx.write_lasting(
                lambda: Card.update(failed_pin_attempts=0).where(Card.id == card.id).execute()
            )
        return

    def count_failure() -> int:
        now = clock.now()
        Card.update(failed_pin_attempts=Card.failed_pin_attempts + 1).where(
            Card.id == card.id
        ).execute()
        attempts = int(Card.get_by_id(card.id).failed_pin_attempts)
        if attempts >= movements.PIN_ATTEMPTS_MAX:
            Card.update(status="LOCKED", locked_at=now).where(Card.id == card.id).execute()
        return attempts

    attempts = tx.write_lasting(count_failure)
    if attempts >= movements.PIN_ATTEMPTS_MAX:
        raise errors.CardLocked(
            "Incorrect PIN; the card is now locked",
            field="pin",
            metadata={"card_last4": card.last4, "attempts": str(attempts)},
        )
    raise errors.InvalidPin(
        field="pin", metadata={"attempts_left": str(movements.PIN_ATTEMPTS_MAX - attempts)}
    )


def _withdrawal_fields(request: WithdrawalInput) -> tuple[str, str]:
    """Field-level checks; returns (location, description)."""
    method = request.method
    if method not in movements.WITHDRAWAL_CLEARING_ACCOUNT:
        raise errors.ValidationFailed(
            "method must be one of ATM, BRANCH, CHECK, DEBIT_CARD", field="method"
        )
    location = _text(request.location, "location", LOCATION_LENGTH_MAX)
    description = _text(request.description, "description", DESCRIPTION_LENGTH_MAX)
    if method in ("ATM", "BRANCH") and not location:
        raise errors.ValidationFailed(f"location is required for {method}", field="location")
    if method in ("ATM", "DEBIT_CARD") and not request.card_number:
        raise errors.ValidationFailed(f"cardNumber is required for {method}", field="cardNumber")
    if method == "ATM" and not request.pin:
        raise errors.ValidationFailed("pin is required for ATM", field="pin")
    if len(request.pin) > 64:
        raise errors.ValidationFailed("pin is too long", field="pin")
    return location, description


def _withdrawal_terms(
    request: WithdrawalInput, account: Account, amount_minor: int, location: str
) -> tuple[str, str]:
    """Per-transaction limit, ATM pricing and card checks; returns (atm kind, card last4)."""
    effective = _effective(account)
    maximum = effective.per_transaction_atm_withdrawal_max if request.method == "ATM" else None
    _check_per_transaction(amount_minor, effective.per_transaction_min, maximum, account.currency)
    atm_kind = (
        _atm_kind(location, request.location_country, account) if (request.method == "ATM") else ""
    )
    card_last4 = ""
    if request.card_number:
        card = _card(request.card_number, account)
        card_last4 = card.last4
        if request.pin or request.method == "ATM":
            _verify_pin(card, request.pin)
    return atm_kind, card_last4


def withdrawal(request: WithdrawalInput, context: RequestContext) -> Result:
    """Money out: cash at an ATM or branch, a bank check, or a card payment."""
    account_id = _account_id(request.account_id, "accountId")
    method = request.method
    location, description = _withdrawal_fields(request)
    account = customer_account(account_id, context.principal, "accountId")
    currency = _currency(request.currency, account)
    amount_minor = parse_amount(request.amount, currency)
    context.principal.require_write()
    atm_kind, card_last4 = _withdrawal_terms(request, account, amount_minor, location)
    fee_minor = movements.ATM_FEE_MINOR[atm_kind] if atm_kind else 0
    clearing = internal_account_id(movements.WITHDRAWAL_CLEARING_ACCOUNT[method])

    def work() -> Result:
        now = clock.now()
        uses: list[LimitUse] = []
        if method == "ATM":  # the lock brings the day's ATM counter with it
            found = ledger.lock_accounts_with_owners(
                [account_id], "CUSTOMER", usage_of=account_id, periods=limits.period_bounds(now)
            )
            locked = found.accounts[account_id]
            number = movements.transaction_number(now, found.sequence)
            _require_active(locked, "accountId")
            uses = _check_limits(
                locked,
                (limits.DAILY_ATM_WITHDRAWAL,),
                _effective(locked),
                amount_minor,
                now,
                used_by_limit=found.usage,
            )
        else:
            locks, number = lock_numbered([account_id], now)
            locked = locks[account_id]
            _require_active(locked, "accountId")
        locked = _holds_released(locked, now)
        overdraft_fee = movements.debit_fees(_funds(locked), locked.type, amount_minor + fee_minor)
        legs = [
            ledger.Leg(account_id, -(amount_minor + fee_minor), currency),
            ledger.Leg(clearing, amount_minor, currency),
        ]
        if fee_minor:
            legs.append(ledger.Leg(internal_account_id("FEE_INCOME"), fee_minor, currency))
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
            description=description or f"{method.replace('_', ' ').title()} withdrawal",
            details={
                "method": method,
                "location": location,
                "atm_network": atm_kind,
                "card_last4": card_last4,
                "metadata": context.metadata(),
            },
            columns={"from_account_id": account_id, "client_id": context.principal.client_id},
            locked={account_id: locked},
        )
        _write_entries(
            _entry(
                row,
                locked,
                direction="DEBIT",
                amount_minor=amount_minor,
                fee_minor=fee_minor,
                balance_after=balances[account_id],
                limit_class=limits.CLASS_ATM if method == "ATM" else limits.CLASS_NONE,
                counterparty=location or method.replace("_", " ").title(),
                now=now,
            )
        )
        _emit_completed(row, account_id, now)
        _warn_if_approaching(locked, amount_minor, uses, now)
        result = Result(row, {account_id: locked}, balances)
        if overdraft_fee:
            result.overdraft_fee_transaction_id = _charge_overdraft_fee(locked, now, row)
            result.balances_after[account_id] -= overdraft_fee
        return result

    return tx.write(work)


def _atm_kind(location: str, location_country: str, account: Account) -> str:
    """How the ATM is priced. Our own ATMs are registered (ids `ATM-...`)."""
    atm = Atm.get_or_none(Atm.id == location)
    if location.startswith("ATM-") and atm is None:
        raise errors.ValidationFailed(
            "Unknown ATM of this bank", field="location", metadata={"location": location[:100]}
        )
    country = atm.country if atm else (location_country.strip().upper() or account.country)
    return movements.atm_network(atm.network if atm else None, country, account.country)

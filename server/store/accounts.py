"""Accounts: queries and the atomic use-cases behind AccountService.

Only CUSTOMER accounts are reachable here: the bank's INTERNAL (GL) accounts
answer NOT_FOUND like a missing id. Every state change runs in one write
transaction that locks the account row first (`ledger.lock_accounts`), then
re-reads and re-checks it, so a close cannot slip past a concurrent deposit.
Balances are never written here; the ledger moves them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.domain import accounts as rules
from server.domain import errors, ledger_reports, limits
from server.domain.ids import new_id
from server.domain.masking import mask_account_number
from server.domain.principal import Principal
from server.store import clock, ledger, ledger_balances, outbox, tx
from server.store.db import database, is_postgres
from server.store.limit_usage import limit_usage
from server.store.models import Account, AccountEntry, Hold, User
from server.store.scheduled import cancel_on_close as cancel_scheduled_on_close

log = logging.getLogger(__name__)

# Transaction statuses of an entry still in flight: an account with such an
# entry cannot close (money could still land on it or leave it).
IN_FLIGHT_STATUSES = ("INITIATED", "PENDING", "PROCESSING")
HOLD_PENDING = "PENDING"
# Holds without a planned end (legal orders) carry a release_at in this year
# or later; they show no release_date.
HOLD_NO_END_YEAR = 9000


@dataclass(frozen=True, slots=True)
class NewAccount:
    """Validated-as-far-as-possible CreateAccount input."""

    type: str
    currency: str
    owner_id: str
    nickname: str
    overdraft_limit: float


# --- reads ----------------------------------------------------------------


def _customer_accounts() -> Any:
    """Customer accounts with the holder's name (`.holder` once `.objects()`)."""
    return (
        Account.select(Account, User.name.alias("holder"))
        .join(User, peewee.JOIN.LEFT_OUTER, on=(Account.owner == User.id))
        .where(Account.kind == rules.KIND_CUSTOMER)
    )


def _fetch(account_id: str) -> Any:
    """The customer account with its holder's name, or NOT_FOUND."""
    rules.check_account_id(account_id)
    row = _customer_accounts().where(Account.id == account_id).objects().first()
    if row is None:
        raise rules.not_found(account_id)
    return row


def get_account(principal: Principal, account_id: str) -> rules.AccountView:
    row = _fetch(account_id)
    rules.check_can_read(principal, account_id, row.owner_id)
    return _views(principal, [row], clock.now())[0]


def list_accounts(
    principal: Principal,
    query: rules.AccountQuery,
    offset: int,
    limit: int,
    after: list[Any] | None,
) -> rules.Page:
    """One page of customer accounts by `query.sort`, ties broken by id."""
    select = _customer_accounts()
    if query.owner_id is not None:
        select = select.where(Account.owner == query.owner_id)
    filters: list[tuple[Any, str | None]] = [
        (Account.type, query.type),
        (Account.status, query.status),
        (Account.currency, query.currency),
    ]
    for field, value in filters:
        if value is not None:
            select = select.where(field == value)
    total = select.count()
    column: Any = Account.balance_minor if query.sort == "balance" else Account.created_at
    descending = query.order == "desc"
    if after is not None:
        select = select.where(_after(column, descending, _sort_key(query.sort, after)))
    else:
        select = select.offset(offset)
    ordering = (column.desc(), Account.id.desc()) if descending else (column, Account.id)
    rows = list(select.order_by(*ordering).limit(limit + 1).objects())
    has_next = len(rows) > limit
    rows = rows[:limit]
    next_key: list[object] = []
    if has_next:
        last = rows[-1]
        sort_value = last.balance_minor if query.sort == "balance" else last.created_at
        next_key = [sort_value.isoformat() if query.sort == "created_at" else sort_value, last.id]
    return rules.Page(_views(principal, rows, clock.now()), total, has_next, next_key)


def _sort_key(sort: str, after: list[Any]) -> tuple[Any, str]:
    """The (value, id) a page token resumes after; a forged one is refused."""
    try:
        value, last_id = after
        if not isinstance(last_id, str):
            raise TypeError(last_id)
        if sort == "balance":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(value)
            return value, last_id
        return datetime.fromisoformat(str(value)), last_id
    except (TypeError, ValueError):
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None


def _after(column: Any, descending: bool, key: tuple[Any, str]) -> Any:
    value, last_id = key
    if descending:
        return (column < value) | ((column == value) & (Account.id < last_id))
    return (column > value) | ((column == value) & (Account.id > last_id))


def get_balance(
    principal: Principal, account_id: str, as_of: datetime | None = None
) -> rules.BalanceView:
    row = _fetch(account_id)
    rules.check_can_read(principal, account_id, row.owner_id)
    if as_of is not None:
        return _balance_as_of(row, ledger_reports.check_as_of(as_of, clock.now()))
    pending_credits = (
        AccountEntry.select(peewee.fn.COALESCE(peewee.fn.SUM(AccountEntry.amount_minor), 0))
        .where(
            (AccountEntry.account_id == account_id)
            & (AccountEntry.direction == "CREDIT")
            & (AccountEntry.status.in_(IN_FLIGHT_STATUSES))
        )
        .scalar()
    )
    return rules.BalanceView(
        account_id=row.id,
        currency=row.currency,
        balance_minor=row.balance_minor,
        held_minor=row.held_minor,
        pending_debits_minor=row.pending_debits_minor,
        pending_credits_minor=int(pending_credits or 0),
        overdraft_limit_minor=row.overdraft_limit_minor,
        as_of=clock.now(),
    )


def _balance_as_of(row: Any, instant: datetime) -> rules.BalanceView:
    """The balances at a past instant, from the postings and holds then
    (account_service.proto: nothing in flight, today's overdraft line)."""
    return rules.BalanceView(
        account_id=row.id,
        currency=row.currency,
        balance_minor=ledger_balances.balance_as_of(row.id, instant),
        held_minor=ledger_balances.held_as_of(row.id, instant),
        pending_debits_minor=0,
        pending_credits_minor=0,
        overdraft_limit_minor=row.overdraft_limit_minor,
        as_of=instant,
    )


def list_holds(
    principal: Principal,
    account_id: str,
    *,
    status: str | None,
    offset: int,
    limit: int,
    after: list[Any] | None,
) -> rules.Page:
    """Holds on the account, newest first (created_at, then id)."""
    row = _fetch(account_id)
    rules.check_can_read(principal, account_id, row.owner_id)
    select = Hold.select().where(Hold.account_id == account_id)
    if status is not None:
        select = select.where(Hold.status == status)
    total = select.count()
    if after is not None:
        stamp, last_id = _sort_key("created_at", after)
        select = select.where(
            (Hold.created_at < stamp) | ((Hold.created_at == stamp) & (Hold.id < last_id))
        )
    else:
        select = select.offset(offset)
    holds = list(select.order_by(Hold.created_at.desc(), Hold.id.desc()).limit(limit + 1))
    has_next = len(holds) > limit
    holds = holds[:limit]
    next_key: list[object] = [holds[-1].created_at.isoformat(), holds[-1].id] if has_next else []
    return rules.Page([_hold_view(h) for h in holds], total, has_next, next_key)


def _hold_view(hold: Any) -> rules.HoldView:
    release = hold.release_at
    return rules.HoldView(
        id=hold.id,
        account_id=hold.account_id,
        amount_minor=hold.amount_minor,
        currency=hold.currency,
        reason=hold.reason,
        description=hold.description,
        transaction_id=hold.transaction_id or "",
        status=hold.status,
        release_date=release.date().isoformat() if release.year < HOLD_NO_END_YEAR else "",
        created_at=hold.created_at,
        resolved_at=hold.resolved_at,
    )


# --- views ----------------------------------------------------------------


def _limits_report(row: Any, used: dict[str, int], periods: limits.Periods) -> rules.LimitsReport:
    overrides = limits.parse_overrides(row.limit_overrides)
    return rules.LimitsReport(
        currency=row.currency,
        limits=limits.effective_limits(row.type, overrides, currency=row.currency),
        defaults=limits.default_limits(row.type, currency=row.currency),
        used=used,
        periods=periods,
    )


def _views(principal: Principal, rows: Iterable[Any], now: datetime) -> list[rules.AccountView]:
    rows = list(rows)
    periods = limits.period_bounds(now)
    usage = limit_usage([row.id for row in rows], periods)
    return [
        rules.AccountView(
            id=row.id,
            account_number=rules.visible_account_number(
                principal, row.owner_id, row.account_number
            ),
            type=row.type,
            status=row.status,
            currency=row.currency,
            owner_id=row.owner_id or "",
            holder=getattr(row, "holder", None) or "",
            nickname=row.name,
            balance_minor=row.balance_minor,
            held_minor=row.held_minor,
            pending_debits_minor=row.pending_debits_minor,
            overdraft_limit_minor=row.overdraft_limit_minor,
            freeze_reason=row.freeze_reason or "",
            frozen_at=row.frozen_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            close_reason=row.close_reason or "",
            limits=_limits_report(row, usage[row.id], periods),
        )
        for row in rows
    ]


# --- writes ---------------------------------------------------------------


def _locked(account_id: str) -> Any:
    """Locks the customer account for this transaction and returns it fresh."""
    rules.check_account_id(account_id)
    locked = ledger.lock_accounts([account_id]).get(account_id)
    if locked is None or locked.kind != rules.KIND_CUSTOMER:
        raise rules.not_found(account_id)
    return _fetch(account_id)


def create_account(principal: Principal, spec: NewAccount) -> rules.AccountView:
    """Opens an ACTIVE account with balance 0 and a fresh account number."""
    owner_id = rules.owner_for_create(principal, spec.owner_id)
    account_type = rules.check_type(spec.type)
    currency = rules.check_currency(spec.currency)
    nickname = rules.check_nickname(spec.nickname)
    overdraft_minor = rules.parse_overdraft_limit(spec.overdraft_limit, currency)
    if overdraft_minor:
        rules.check_overdraft_allowed(principal, account_type, overdraft_minor)

    def work() -> rules.AccountView:
        now = clock.now()
        owner = _lock_owner(owner_id)
        open_count = (
            Account.select()
            .where((Account.owner == owner_id) & (Account.status != rules.CLOSED))
            .count()
            if owner is not None
            else 0
        )
        rules.check_owner_can_hold(owner_id, owner.status if owner else None, open_count)
        account_id = new_id("acc")
        number = _insert_with_fresh_number(
            id=account_id,
            kind=rules.KIND_CUSTOMER,
            type=account_type,
            currency=currency,
            owner=owner_id,
            name=nickname,
            status=rules.ACTIVE,
            balance_minor=0,
            held_minor=0,
            pending_debits_minor=0,
            overdraft_limit_minor=overdraft_minor,
            limit_overrides="{}",
            created_at=now,
            updated_at=now,
        )
        outbox.emit(
            "account.created",
            account_id,
            {
                "account_id": account_id,
                "account_number": mask_account_number(number),
                "account_type": account_type,
                "currency": currency,
                "customer_id": owner_id,
                "status": rules.ACTIVE,
            },
            now,
        )
        return _views(principal, [_fetch(account_id)], now)[0]

    return tx.write(work)


def _lock_owner(owner_id: str) -> Any:
    """The owner row, locked so that concurrent opens count accounts one at a time."""
    query = User.select(User.id, User.status).where(User.id == owner_id)
    if is_postgres():
        query = query.for_update()
    return query.first()


def _insert_with_fresh_number(**values: Any) -> str:
    """Inserts the account under a random unused number; retries collisions."""
    for _ in range(rules.ACCOUNT_NUMBER_ATTEMPTS_MAX):
        number = rules.new_account_number()
        if Account.select().where(Account.account_number == number).exists():
            continue
        try:
            # A savepoint, so that losing a race for the number leaves the
            # surrounding transaction usable (PostgreSQL aborts it otherwise).
            with database.atomic():
                Account.create(account_number=number, **values)
        except peewee.IntegrityError:
            continue
        return number
    log.error("no free account number", extra={"attempts": rules.ACCOUNT_NUMBER_ATTEMPTS_MAX})
    raise errors.Unavailable("Could not allocate an account number; retry shortly")


def update_account(
    principal: Principal,
    account_id: str,
    nickname: str | None,
    overdraft_limit: float | None,
) -> rules.AccountView:
    """Changes the nickname and (staff) the overdraft line; absent means unchanged."""
    new_nickname = None if nickname is None else rules.check_nickname(nickname)

    def work() -> rules.AccountView:
        now = clock.now()
        row = _locked(account_id)
        rules.check_can_update(principal, account_id, row.owner_id)
        rules.check_not_closed(account_id, row.status)
        changes: dict[str, Any] = {}
        if new_nickname is not None and new_nickname != row.name:
            changes["name"] = new_nickname
        if overdraft_limit is not None:
            minor = rules.parse_overdraft_limit(overdraft_limit, row.currency)
            rules.check_overdraft_allowed(principal, row.type, minor)
            # Lowering the line below what is already overdrawn is allowed
            # (account.proto): it only blocks further debits.
            if minor != row.overdraft_limit_minor:
                changes["overdraft_limit_minor"] = minor
        if changes:
            Account.update(updated_at=now, **changes).where(Account.id == account_id).execute()
            _emit_updated(row, sorted(_public_names(changes)), now)
        return _views(principal, [_fetch(account_id)], now)[0]

    return tx.write(work)


def _public_names(changes: dict[str, Any]) -> set[str]:
    names = {"name": "nickname", "overdraft_limit_minor": "overdraft_limit"}
    return {names.get(key, key) for key in changes}


def _emit_updated(row: Any, changed: list[str], now: datetime, **extra: Any) -> None:
    outbox.emit(
        "account.updated",
        row.id,
        {
            "account_id": row.id,
            "account_type": row.type,
            "customer_id": row.owner_id,
            "changes": changed,
            **extra,
        },
        now,
    )


def freeze_account(principal: Principal, account_id: str, reason: str) -> rules.AccountView:
    """ACTIVE or INACTIVE -> FROZEN; FROZEN answers unchanged; CLOSED refused."""
    why = rules.check_reason(reason, required=True)

    def work() -> rules.AccountView:
        now = clock.now()
        row = _locked(account_id)
        rules.check_can_administer(principal, account_id, row.owner_id)
        if rules.freeze_changes(account_id, row.status):
            Account.update(
                status=rules.FROZEN, freeze_reason=why, frozen_at=now, updated_at=now
            ).where(Account.id == account_id).execute()
            _emit_updated(row, ["status"], now, status=rules.FROZEN, previous_status=row.status)
            log.info("account frozen", extra={"account_id": account_id, "reason": why})
        return _views(principal, [_fetch(account_id)], now)[0]

    return tx.write(work)


def unfreeze_account(principal: Principal, account_id: str, reason: str) -> rules.AccountView:
    """FROZEN or INACTIVE -> ACTIVE; ACTIVE answers unchanged; CLOSED refused."""
    why = rules.check_reason(reason, required=True)

    def work() -> rules.AccountView:
        now = clock.now()
        row = _locked(account_id)
        rules.check_can_administer(principal, account_id, row.owner_id)
        if rules.unfreeze_changes(account_id, row.status):
            Account.update(
                status=rules.ACTIVE, freeze_reason=None, frozen_at=None, updated_at=now
            ).where(Account.id == account_id).execute()
            _emit_updated(row, ["status"], now, status=rules.ACTIVE, previous_status=row.status)
            log.info("account unfrozen", extra={"account_id": account_id, "reason": why})
        return _views(principal, [_fetch(account_id)], now)[0]

    return tx.write(work)


def close_account(principal: Principal, account_id: str, reason: str) -> rules.AccountView:
    """Closes an account whose balance is 0 with nothing held or in flight."""
    why = rules.check_reason(reason, required=False)

    def work() -> rules.AccountView:
        now = clock.now()
        row = _locked(account_id)
        rules.check_can_close(principal, account_id, row.owner_id)
        state = rules.CloseState(
            account_id=account_id,
            status=row.status,
            currency=row.currency,
            balance_minor=row.balance_minor,
            held_minor=row.held_minor,
            pending_debits_minor=row.pending_debits_minor,
            pending_holds=Hold.select()
            .where((Hold.account_id == account_id) & (Hold.status == HOLD_PENDING))
            .count(),
            pending_entries=AccountEntry.select()
            .where(
                (AccountEntry.account_id == account_id)
                & AccountEntry.status.in_(IN_FLIGHT_STATUSES)
            )
            .count(),
        )
        if rules.close_changes(state):
            # Closing cancels the scheduled transfers from or to the account.
            cancel_scheduled_on_close(account_id, now)
            # The WHERE repeats the checks: belt and braces against any
            # writer that touched the row without taking the lock.
            changed = (
                Account.update(
                    status=rules.CLOSED,
                    closed_at=now,
                    close_reason=why or None,
                    freeze_reason=None,
                    frozen_at=None,
                    updated_at=now,
                )
                .where(
                    (Account.id == account_id)
                    & (Account.status != rules.CLOSED)
                    & (Account.balance_minor == 0)
                    & (Account.held_minor == 0)
                    & (Account.pending_debits_minor == 0)
                )
                .execute()
            )
            assert changed == 1, "the locked account changed under its lock"
            outbox.emit(
                "account.closed",
                account_id,
                {
                    "account_id": account_id,
                    "account_type": row.type,
                    "customer_id": row.owner_id,
                    "close_reason": why,
                    "closed_at": now.isoformat() + "Z",
                },
                now,
            )
        return _views(principal, [_fetch(account_id)], now)[0]

    return tx.write(work)


def update_limits(
    principal: Principal,
    account_id: str,
    changes_major: dict[str, float],
    resets: frozenset[str],
    reason: str,
) -> rules.LimitsReport:
    """Sets and removes per-account limit overrides (staff)."""
    why = rules.check_reason(reason, required=True)
    if not changes_major and not resets:
        raise errors.ValidationFailed("Give at least one limit to set or to reset")

    def work() -> rules.LimitsReport:
        now = clock.now()
        row = _locked(account_id)
        rules.check_can_administer(principal, account_id, row.owner_id)
        rules.check_not_closed(account_id, row.status)
        changes = {
            name: limits.parse_override(name, value, row.currency)
            for name, value in changes_major.items()
        }
        current = limits.parse_overrides(row.limit_overrides)
        updated = limits.apply_override_changes(
            current, changes, resets, account_type=row.type, currency=row.currency
        )
        if updated != current:
            Account.update(limit_overrides=limits.dump_overrides(updated), updated_at=now).where(
                Account.id == account_id
            ).execute()
            _emit_updated(row, ["limits"], now)
            log.info(
                "account limits changed",
                extra={"account_id": account_id, "reason": why, "overrides": updated},
            )
        return _views(principal, [_fetch(account_id)], now)[0].limits

    return tx.write(work)

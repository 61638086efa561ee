"""Reports: who may ask for what, and a report's figures from the database's sums.

Daily and monthly reports are computed here when asked; custom reports are
stored and computed by the report worker through `figures` too
(server.services.report_jobs). Every read of one report runs in one
snapshot of the ledger (server.store.report_rows).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import peewee

from server.domain import errors
from server.domain import reports as rules
from server.domain.principal import Principal
from server.domain.reports import Figures, Group, Period, Totals
from server.store import clock, report_days, report_rows, tx
from server.store.db import per_use_connection
from server.store.report_rows import Scope, Sums


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A checked request: what to compute."""

    kind: str
    period: Period
    currency: str
    account_ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    group_by: str = rules.DAY
    every_currency: bool = False  # also the other currencies the scope holds


@dataclass(frozen=True, slots=True)
class Computed:
    """A daily or monthly report: its figures per currency, the asked one first."""

    query: ReportQuery
    figures: list[Figures]
    as_of: datetime
    computed_at: datetime
    requested_by: str
    name: str = ""
    others: list[Figures] = field(default_factory=list)


def requester(principal: Principal) -> str:
    return principal.user_id or principal.client_id


def today(sandbox: bool) -> tuple[datetime, date]:
    now = clock.now(sandbox)
    return now, now.date()


# -- Who may ask ------------------------------------------------------------------------
def scope_accounts(principal: Principal, account_ids: Sequence[str], currency: str) -> str:
    """Checks the caller may report on `account_ids`; returns the currency to use.

    Staff: any scope; an unknown account is NOT_FOUND. A customer: only their
    own accounts, named: anything else (bank-wide, another's account, an id
    that does not exist) is FORBIDDEN, so that ids cannot be probed.
    """
    field_name = "account_ids" if len(account_ids) != 1 else "account_id"
    if not principal.is_staff and not account_ids:
        raise errors.Forbidden(
            "Customers ask for reports on their own accounts: name them",
            field=field_name,
        )
    found = report_rows.accounts(account_ids)
    for account_id in account_ids:
        facts = found.get(account_id)
        if not principal.is_staff and (facts is None or facts.owner_id != principal.user_id):
            raise errors.Forbidden(
                "You may report only on your own accounts",
                field=field_name,
                metadata={"account_id": account_id},
            )
        if facts is None:
            raise errors.AccountNotFound(
                "Account not found", field=field_name, metadata={"account_id": account_id}
            )
    held = sorted({facts.currency for facts in found.values()})
    if currency:
        chosen = rules.currency_of(currency)
        if len(account_ids) == 1 and held != [chosen]:
            raise errors.ValidationFailed(
                f"currency must be the account's currency ({held[0]})",
                field="currency",
                metadata={"account_currency": held[0]},
            )
        return chosen
    return held[0] if len(held) == 1 else rules.DEFAULT_CURRENCY


# -- Daily and monthly ------------------------------------------------------------------
def daily(
    principal: Principal, day: str, account_id: str, currency: str, sandbox: bool
) -> Computed:
    now, current = today(sandbox)
    period = rules.daily_period(day, current)
    return _computed(
        principal, rules.DAILY, period=period, account_id=account_id, currency=currency, now=now
    )


def monthly(
    principal: Principal, month: str, account_id: str, currency: str, sandbox: bool
) -> Computed:
    now, current = today(sandbox)
    period = rules.monthly_period(month, current)
    return _computed(
        principal, rules.MONTHLY, period=period, account_id=account_id, currency=currency, now=now
    )


def _computed(
    principal: Principal,
    kind: str,
    *,
    period: Period,
    account_id: str,
    currency: str,
    now: datetime,
) -> Computed:
    ids = (account_id,) if account_id else ()
    chosen = scope_accounts(principal, ids, currency)
    query = ReportQuery(kind, period, chosen, ids, (), rules.DAY, every_currency=not ids)
    everything = figures(query, now)
    first = next(f for f in everything if f.currency == chosen)
    label = period.first.isoformat() if kind == rules.DAILY else period.first.isoformat()[:7]
    return Computed(
        query=query,
        figures=[first],
        others=everything,
        as_of=period.as_of(now),
        computed_at=now,
        requested_by=requester(principal),
        name=rules.report_name(kind, label, chosen, account_id),
    )


# -- Figures ----------------------------------------------------------------------------
def figures(query: ReportQuery, now: datetime) -> list[Figures]:
    """The report's figures, one per currency (`query.currency` only unless
    `every_currency`), ordered by currency."""
    with per_use_connection():
        with report_rows.snapshot():
            found, keep = _in_snapshot(query, now)
        if keep is not None:  # a closed day summed afresh: kept for the next report of it
            day, postings, totals = keep
            with contextlib.suppress(peewee.IntegrityError):  # a concurrent report kept them
                tx.write(lambda: report_days.save(day, postings, totals, now))
        return found


_Keep = tuple[date, int, dict[tuple[str, str], Sums]]


def keep_yesterday(sandbox: bool) -> None:
    """Sums yesterday's postings bank-wide once it has closed (the report worker
    calls this now and then), so that no caller waits for a closed day's sum."""
    now, current = today(sandbox)
    day = current - timedelta(days=1)
    figures(ReportQuery(rules.DAILY, Period(day, day), rules.DEFAULT_CURRENCY), now)


def _in_snapshot(query: ReportQuery, now: datetime) -> tuple[list[Figures], _Keep | None]:
    if query.every_currency:
        held = report_rows.currencies_held(query.account_ids)
        currencies = tuple(sorted({query.currency, *held}))
    else:
        currencies = (query.currency,)
    scope = Scope(
        start=query.period.start,
        end=query.period.end,
        as_of=query.period.as_of(now),
        currencies=currencies,
        account_ids=query.account_ids,
        types=query.types,
    )
    typed, keep = _by_type(query, scope, now)
    return _figures(query, scope, currencies, typed), keep


def _by_type(
    query: ReportQuery, scope: Scope, now: datetime
) -> tuple[dict[tuple[str, str], Sums], _Keep | None]:
    """The period's sums per currency and type; a closed day's, bank-wide and of
    every type, from its kept totals while they still hold (server.store.report_days)."""
    day = query.period.first
    if query.account_ids or query.types or day != query.period.last or scope.end > now:
        return report_rows.by_type(scope), None
    postings = report_days.posting_count(scope.start, scope.end)
    kept = report_days.read(day, postings)
    if kept is not None:
        return kept, None
    every = report_rows.by_type(replace(scope, currencies=()))
    return every, (day, postings, every)


def _totals(sums: Sums | None, fees_minor: int = 0) -> Totals:
    if sums is None:
        return Totals(fees_minor=fees_minor)
    return Totals(
        transactions=sums.transactions,
        debit_minor=sums.debit_minor,
        credit_minor=sums.credit_minor,
        debits=sums.debits,
        credits=sums.credits,
        fees_minor=fees_minor,
    )


def _figures(
    query: ReportQuery,
    scope: Scope,
    currencies: Sequence[str],
    typed: dict[tuple[str, str], Sums],
) -> list[Figures]:
    fees = report_rows.fees(scope)
    closing = report_rows.closing_balances(scope)
    extras = report_rows.extras(scope)
    all_nets = report_rows.net_by_day(scope) if query.types else None
    # One day grouped by time: its one group is the summary (no second pass).
    one_day = query.period.first == query.period.last and query.group_by in rules.TIME_GROUPS
    grouped = None if one_day else _groups(query, scope, all_nets)
    found = []
    for currency in currencies:
        by_type = sorted(
            (kind, _totals(sums)) for (cur, kind), sums in typed.items() if cur == currency
        )
        summary = rules.summed(totals for _, totals in by_type)
        summary.fees_minor = fees.get((currency, ""), 0)
        closing_minor = closing.get(currency, 0)
        moved = summary.net_minor
        if all_nets is not None:
            moved = sum(net for (cur, _), net in all_nets.items() if cur == currency)
        more = extras.get(currency, report_rows.Extras())
        found.append(
            Figures(
                currency=currency,
                summary=summary,
                by_type=by_type,
                groups=(
                    [
                        Group(
                            rules.time_key(query.group_by, query.period.first),
                            summary,
                            closing_minor,
                        )
                    ]
                    if grouped is None
                    else grouped(currency, closing_minor)
                ),
                opening_minor=closing_minor - moved,
                closing_minor=closing_minor,
                failed=more.failed,
                cancelled=more.cancelled,
                holds_count=more.holds_count,
                holds_minor=more.holds_minor,
                new_accounts=more.new_accounts,
                closed_accounts=more.closed_accounts,
            )
        )
    return found


def _groups(
    query: ReportQuery, scope: Scope, all_nets: dict[tuple[str, date], int] | None
) -> Callable[[str, int], list[Group]]:
    """A function (currency, closing balance) -> that currency's groups."""
    group_by = query.group_by
    if group_by in rules.TIME_GROUPS:
        days = report_rows.by_day(scope)
        day_fees = report_rows.fees(scope, "DAY")

        def timed(currency: str, closing_minor: int) -> list[Group]:
            per_day = {
                day: _totals(sums, day_fees.get((currency, day.isoformat()), 0))
                for (cur, day), sums in days.items()
                if cur == currency
            }
            for (cur, label), amount in day_fees.items():
                day = date.fromisoformat(label)
                if cur == currency and day not in per_day:
                    per_day[day] = Totals(fees_minor=amount)
            nets = None
            if all_nets is not None:
                nets = {day: net for (cur, day), net in all_nets.items() if cur == currency}
            return rules.time_groups(group_by, query.period, per_day, closing_minor, nets)

        return timed
    if group_by == rules.TYPE:
        typed = report_rows.by_type(scope)
        type_fees = report_rows.fees(scope, "TYPE")

        def by_type(currency: str, closing_minor: int) -> list[Group]:
            keys = {k for c, k in typed if c == currency} | {
                k for c, k in type_fees if c == currency
            }
            return [
                Group(k, _totals(typed.get((currency, k)), type_fees.get((currency, k), 0)))
                for k in sorted(keys)
            ]

        return by_type
    accounts = report_rows.by_account(scope)
    account_fees = report_rows.fees(scope, "ACCOUNT")
    balances = report_rows.closing_balances(scope, per_account=True)
    facts = report_rows.accounts(sorted(set(accounts) | {k for _, k in account_fees}))

    def by_account(currency: str, closing_minor: int) -> list[Group]:
        keys = sorted(k for k, f in facts.items() if f.currency == currency)
        return [
            Group(k, _totals(accounts.get(k), account_fees.get((currency, k), 0)), balances.get(k))
            for k in keys
        ]

    return by_account

"""Reports' pure rules: periods, the request's checks, group keys, totals.

Every amount here is integer minor units; the store aggregates rows in the
database (GROUP BY) and hands over sums, which these functions put together
into a report's figures (protos/backoffice/v1/report.proto says what each
means). Proto doubles are made at the edge only (server.api.report_views).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from server.domain import dates, errors
from server.domain.money import CURRENCY_EXPONENTS

DAILY, MONTHLY, CUSTOM = "DAILY", "MONTHLY", "CUSTOM"
DAY, WEEK, MONTH, TYPE, ACCOUNT = "DAY", "WEEK", "MONTH", "TYPE", "ACCOUNT"
GROUP_BYS = (DAY, WEEK, MONTH, TYPE, ACCOUNT)
TIME_GROUPS = frozenset({DAY, WEEK, MONTH})
FORMATS = ("json", "csv", "pdf", "xlsx")
PENDING, PROCESSING, COMPLETED, FAILED = "PENDING", "PROCESSING", "COMPLETED", "FAILED"

RANGE_DAYS_MAX = 366
ACCOUNTS_MAX = 50
TYPES_MAX = 10
GROUPS_MAX = 1_000
PENDING_PER_CALLER_MAX = 5
KEPT_DAYS = 30
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time())

    @property
    def end(self) -> datetime:
        """The instant after the last day (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time())

    def as_of(self, now: datetime) -> datetime:
        """End of the period, or `now` while it has not ended."""
        return min(self.end, now)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


# -- Periods ----------------------------------------------------------------------------
def parse_day(text: str, field: str) -> date:
    return dates.parse_day(text, field)


def daily_period(text: str, today: date) -> Period:
    day = parse_day(text.strip(), "date") if text.strip() else today
    if day > today:
        raise errors.ValidationFailed(
            "date must not be in the future", field="date", metadata={"value": day.isoformat()}
        )
    return Period(day, day)


def monthly_period(text: str, today: date) -> Period:
    """The month `YYYY-MM`, up to today for the current month."""
    value = text.strip()
    if not value:
        year, month = today.year, today.month
    else:
        first = dates.parse_month(value, "month")
        year, month = first.year, first.month
    first = date(year, month, 1)
    if first > today:
        raise errors.ValidationFailed(
            "month must not be in the future", field="month", metadata={"value": value}
        )
    last = date(year, month, calendar.monthrange(year, month)[1])
    return Period(first, min(last, today))


def custom_period(first_text: str, last_text: str, today: date) -> Period:
    if not first_text.strip():
        raise errors.ValidationFailed("date_range.from is required", field="date_range.from")
    if not last_text.strip():
        raise errors.ValidationFailed("date_range.to is required", field="date_range.to")
    first = _day_or_stamp(first_text.strip(), "date_range.from")
    last = _day_or_stamp(last_text.strip(), "date_range.to")
    if first > last:
        raise errors.ValidationFailed(
            "date_range.from must not be after date_range.to", field="date_range.from"
        )
    if last > today:
        raise errors.ValidationFailed(
            "date_range.to must not be in the future", field="date_range.to"
        )
    if (last - first).days + 1 > RANGE_DAYS_MAX:
        raise errors.ValidationFailed(
            f"date_range covers more than {RANGE_DAYS_MAX} days",
            field="date_range",
            metadata={"days_max": str(RANGE_DAYS_MAX)},
        )
    return Period(first, last)


def _day_or_stamp(text: str, field: str) -> date:
    """`YYYY-MM-DD`, or an RFC 3339 timestamp's UTC day (DateRange accepts both)."""
    return dates.parse_day_or_instant(text, field)


# -- The rest of a request --------------------------------------------------------------
def currency_of(text: str, field: str = "currency") -> str:
    value = text.strip().upper()
    if value not in CURRENCY_EXPONENTS:
        raise errors.ValidationFailed(
            f"{field} must be one of {', '.join(sorted(CURRENCY_EXPONENTS))}",
            field=field,
            metadata={"value": text[:10]},
        )
    return value


def file_format(text: str) -> str:
    value = text.strip().lower() or "json"
    if value not in FORMATS:
        raise errors.InvalidRequest(
            f"format must be one of {', '.join(FORMATS)}",
            field="format",
            metadata={"value": text[:20]},
        )
    return value


def account_list(ids: Sequence[str]) -> list[str]:
    if len(ids) > ACCOUNTS_MAX:
        raise errors.ValidationFailed(
            f"account_ids names more than {ACCOUNTS_MAX} accounts",
            field="account_ids",
            metadata={"accounts_max": str(ACCOUNTS_MAX)},
        )
    seen: list[str] = []
    for index, account_id in enumerate(ids):
        if not account_id.startswith("acc_"):
            raise errors.ValidationFailed(
                "account ids start with acc_", field=f"account_ids[{index}]"
            )
        if account_id in seen:
            raise errors.ValidationFailed(
                "account_ids names an account twice", field=f"account_ids[{index}]"
            )
        seen.append(account_id)
    return seen


def type_list(types: Sequence[str]) -> list[str]:
    if len(types) > TYPES_MAX:
        raise errors.ValidationFailed(
            f"types names more than {TYPES_MAX} types",
            field="types",
            metadata={"types_max": str(TYPES_MAX)},
        )
    if len(set(types)) != len(types):
        raise errors.ValidationFailed("types names a type twice", field="types")
    return sorted(types)


# -- Group keys -------------------------------------------------------------------------
def week_key(day: date) -> str:
    """ISO 8601 week, `2025-W45`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def time_key(group_by: str, day: date) -> str:
    if group_by == DAY:
        return day.isoformat()
    if group_by == WEEK:
        return week_key(day)
    return day.isoformat()[:7]


def time_keys(group_by: str, period: Period) -> list[tuple[str, date]]:
    """Every key of the period in order, with the last day of the period it covers."""
    found: dict[str, date] = {}
    for day in period.days():
        found[time_key(group_by, day)] = day
    return list(found.items())


# -- Figures ----------------------------------------------------------------------------
@dataclass(slots=True)
class Totals:
    """Sums of postings (minor units) and counts."""

    transactions: int = 0
    debit_minor: int = 0
    credit_minor: int = 0
    debits: int = 0
    credits: int = 0
    fees_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.credit_minor - self.debit_minor

    def add(self, other: Totals) -> None:
        self.transactions += other.transactions
        self.debit_minor += other.debit_minor
        self.credit_minor += other.credit_minor
        self.debits += other.debits
        self.credits += other.credits
        self.fees_minor += other.fees_minor


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    totals: Totals
    closing_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """One report's numbers, in one currency."""

    currency: str
    summary: Totals
    by_type: list[tuple[str, Totals]]
    groups: list[Group]
    opening_minor: int
    closing_minor: int
    failed: int = 0
    cancelled: int = 0
    holds_count: int = 0
    holds_minor: int = 0
    new_accounts: int = 0
    closed_accounts: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def time_groups(
    group_by: str,
    period: Period,
    per_day: dict[date, Totals],
    closing_minor: int,
    day_nets: dict[date, int] | None = None,
) -> list[Group]:
    """DAY/WEEK/MONTH groups from per-day sums, every key of the period listed.

    `per_day` transaction counts are per day; a week or month adds its days'
    counts (a transaction posting on two days of a week, an external transfer
    submitted one day and returned another, counts in each).
    Closing balances run backwards from the period's closing balance, by
    `day_nets` (every posting's net per day, when the totals count some
    transaction types only) or else the totals' own net.
    """
    keyed: dict[str, Totals] = {}
    nets: dict[str, int] = {}
    for day in period.days():
        key = time_key(group_by, day)
        totals = per_day.get(day, Totals())
        keyed.setdefault(key, Totals()).add(totals)
        moved = totals.net_minor if day_nets is None else day_nets.get(day, 0)
        nets[key] = nets.get(key, 0) + moved
    later_net = 0
    closings: dict[str, int] = {}
    for key in reversed(list(keyed)):
        closings[key] = closing_minor - later_net
        later_net += nets[key]
    return [Group(key, totals, closings[key]) for key, totals in keyed.items()]


def check_group_count(groups: Sequence[Group]) -> None:
    if len(groups) > GROUPS_MAX:
        raise errors.BusinessRuleViolation(
            f"The report has more than {GROUPS_MAX} groups; narrow it or group it otherwise",
            metadata={"groups_max": str(GROUPS_MAX)},
        )


def summed(parts: Iterable[Totals]) -> Totals:
    total = Totals()
    for part in parts:
        total.add(part)
    return total


def with_transactions(totals: Totals, transactions: int) -> Totals:
    return replace(totals, transactions=transactions)


def report_name(kind: str, period_label: str, currency: str, account_id: str) -> str:
    """The id of a daily or monthly report (not stored): what it computed."""
    tail = f"_{account_id}" if account_id else ""
    return f"rpt_{kind.lower()}_{period_label}_{currency}{tail}"


# -- Stored form (a COMPLETED custom report's figures, as JSON) ------------------------
def _totals_dict(totals: Totals) -> dict[str, int]:
    return {
        "transactions": totals.transactions,
        "debit_minor": totals.debit_minor,
        "credit_minor": totals.credit_minor,
        "debits": totals.debits,
        "credits": totals.credits,
        "fees_minor": totals.fees_minor,
    }


def figures_dict(figures: Figures) -> dict[str, object]:
    return {
        "currency": figures.currency,
        "summary": _totals_dict(figures.summary),
        "by_type": [[kind, _totals_dict(t)] for kind, t in figures.by_type],
        "groups": [[g.key, _totals_dict(g.totals), g.closing_minor] for g in figures.groups],
        "opening_minor": figures.opening_minor,
        "closing_minor": figures.closing_minor,
        "failed": figures.failed,
        "cancelled": figures.cancelled,
        "holds_count": figures.holds_count,
        "holds_minor": figures.holds_minor,
        "new_accounts": figures.new_accounts,
        "closed_accounts": figures.closed_accounts,
    }


def figures_from(stored: dict[str, object]) -> Figures:
    def totals(value: object) -> Totals:
        assert isinstance(value, dict)
        return Totals(**{k: int(v) for k, v in value.items()})

    by_type = stored["by_type"]
    groups = stored["groups"]
    assert isinstance(by_type, list) and isinstance(groups, list)
    return Figures(
        currency=str(stored["currency"]),
        summary=totals(stored["summary"]),
        by_type=[(str(kind), totals(t)) for kind, t in by_type],
        groups=[
            Group(str(key), totals(t), None if closing is None else int(closing))
            for key, t, closing in groups
        ],
        opening_minor=_int(stored["opening_minor"]),
        closing_minor=_int(stored["closing_minor"]),
        failed=_int(stored["failed"]),
        cancelled=_int(stored["cancelled"]),
        holds_count=_int(stored["holds_count"]),
        holds_minor=_int(stored["holds_minor"]),
        new_accounts=_int(stored["new_accounts"]),
        closed_accounts=_int(stored["closed_accounts"]),
    )


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value

"""How much of each periodic limit an account has used: running counters (m0012).

Every debit that counts toward a limit (a DEBIT history row with a limit
class, in a status other than FAILED or CANCELLED) adds its amount to its
account's counter rows of that limit class for the row's UTC day and UTC
month, in the transaction that writes the row (`count`). A limit check reads
the two rows of the current periods (`limit_usage`): constant work, where a
sum over the period's debits grew with every debit of a busy account.

Money movements call both inside their transaction, after locking the
account: the lock serialises an account's debits, so a check sees every
debit committed before it. A counted debit never changes status today
(scheduled transfers count when they execute, and fail or are cancelled only
before); reversals, when built, subtract through `count` with a negative
amount.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from server.domain import limits
from server.store import sql
from server.store.db import is_postgres

_ADD = (
    'INSERT INTO "limit_usage" ("account_id", "limit_class", "period", "used_minor")'
    " VALUES (?, ?, ?, ?), (?, ?, ?, ?)"
    ' ON CONFLICT ("account_id", "limit_class", "period")'
    ' DO UPDATE SET "used_minor" = "limit_usage"."used_minor" + excluded."used_minor"'
)


def day_key(moment: datetime) -> str:
    return f"D{moment:%Y-%m-%d}"


def month_key(moment: datetime) -> str:
    return f"M{moment:%Y-%m}"


def counts(direction: str, limit_class: str, status: str) -> bool:
    """Whether a history row with these values uses a limit."""
    return (
        direction == "DEBIT"
        and limit_class != limits.CLASS_NONE
        and status not in limits.USAGE_EXCLUDED_STATUSES
    )


def count(account_id: str, limit_class: str, amount_minor: int, at: datetime) -> None:
    """Adds a counted debit of `at` (its history row's created_at) to the counters."""
    assert limit_class != limits.CLASS_NONE
    sql.defer(
        _ADD,
        (
            *(account_id, limit_class, day_key(at), amount_minor),
            *(account_id, limit_class, month_key(at), amount_minor),
        ),
    )


def count_entries(records: Iterable[dict[str, object]]) -> None:
    """`count` for each history row about to be written that uses a limit."""
    for record in records:
        if counts(str(record["direction"]), str(record["limit_class"]), str(record["status"])):
            created_at = record["created_at"]
            assert isinstance(created_at, datetime)
            count(
                str(record["account_id"]),
                str(record["limit_class"]),
                int(str(record["amount_minor"])),
                created_at,
            )


def _usage(counters: Iterable[Sequence[Any]], day: str) -> dict[str, int]:
    """limits.usage_by_limit from one account's (class, period, used) counters
    of a day (`day`) and its month."""
    daily: dict[str, int] = {}
    monthly: dict[str, int] = {}
    for limit_class, period, used_minor in counters:
        (daily if period == day else monthly)[limit_class] = int(used_minor)
    return limits.usage_by_limit(daily, monthly)


def limit_usage(account_ids: list[str], periods: limits.Periods) -> dict[str, dict[str, int]]:
    """Used amount per periodic limit (limits.PERIODIC_LIMITS), per account."""
    if not account_ids:
        return {}
    day, month = day_key(periods.day_start), month_key(periods.month_start)
    rows = sql.execute(
        'SELECT "account_id", "limit_class", "period", "used_minor" FROM "limit_usage"'
        f' WHERE "account_id" IN ({sql.marks(len(account_ids))}) AND "period" IN (?, ?)',
        [*account_ids, day, month],
    ).fetchall()
    by_account: dict[str, list[Sequence[Any]]] = defaultdict(list)
    for account_id, *counter in rows:
        by_account[account_id].append(counter)
    return {a: _usage(by_account[a], day) for a in account_ids}


def counters_column(account_id_sql: str, periods: limits.Periods) -> tuple[str, list[str]]:
    """A scalar subquery (and its values) giving the counters of the account
    whose id is `account_id_sql` in `periods`, for a statement that reads
    accounts; `counters_from` reads its value."""
    aggregate, pair = (
        ("json_agg", "json_build_array") if is_postgres() else ("json_group_array", "json_array")
    )
    column = (
        f'(SELECT {aggregate}({pair}(l."limit_class", l."period", l."used_minor"))'
        f' FROM "limit_usage" l WHERE l."account_id" = {account_id_sql}'
        ' AND l."period" IN (?, ?))'
    )
    return column, [day_key(periods.day_start), month_key(periods.month_start)]


def counters_from(value: Any, periods: limits.Periods) -> dict[str, int]:
    """limits.usage_by_limit from a `counters_column` value (JSON: text on
    SQLite, decoded by psycopg2 on PostgreSQL, NULL when there are none)."""
    counters = json.loads(value) if isinstance(value, str) else value or []
    return _usage(counters, day_key(periods.day_start))

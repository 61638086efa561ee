"""How much of each periodic limit an account has used (account_entries sums)."""

from __future__ import annotations

from collections import defaultdict

from server.domain import limits
from server.store import sql


def limit_usage(account_ids: list[str], periods: limits.Periods) -> dict[str, dict[str, int]]:
    """Used amount per periodic limit (limits.PERIODIC_LIMITS), per account.

    Sums the DEBIT entries of each account by limit_class over the day and
    the month of `periods`, leaving out FAILED and CANCELLED ones. Money
    movements call it inside their transaction, after locking the account.
    """
    if not account_ids:
        return {}
    excluded = sorted(limits.USAGE_EXCLUDED_STATUSES)
    rows = sql.execute(
        'SELECT "account_id", "limit_class",'
        ' SUM(CASE WHEN "created_at" >= ? AND "created_at" < ? THEN "amount_minor" ELSE 0 END),'
        ' SUM("amount_minor")'
        ' FROM "account_entries"'
        f' WHERE "account_id" IN ({sql.marks(len(account_ids))})'
        ' AND "direction" = ? AND "limit_class" <> ?'
        f' AND "status" NOT IN ({sql.marks(len(excluded))})'
        ' AND "created_at" >= ? AND "created_at" < ?'
        ' GROUP BY "account_id", "limit_class"',
        [
            periods.day_start,
            periods.day_end,
            *account_ids,
            "DEBIT",
            limits.CLASS_NONE,
            *excluded,
            periods.month_start,
            periods.month_end,
        ],
    ).fetchall()
    daily: dict[str, dict[str, int]] = defaultdict(dict)
    monthly: dict[str, dict[str, int]] = defaultdict(dict)
    for account_id, limit_class, day_minor, month_minor in rows:
        daily[account_id][limit_class] = int(day_minor or 0)
        monthly[account_id][limit_class] = int(month_minor or 0)
    return {a: limits.usage_by_limit(daily[a], monthly[a]) for a in account_ids}

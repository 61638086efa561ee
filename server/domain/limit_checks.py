"""Deciding a debit against the account's daily and monthly limits.

Pure: the use case reads the account's counters (`used_by_limit`, as
`limits.usage_by_limit` gives them) under the account's lock, so two debits
cannot both fit, and passes them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from server.domain import errors, limits

# limit.approaching is written when a debit crosses this share of a limit.
LIMIT_WARNING_PERCENT = 80


@dataclass(frozen=True, slots=True)
class LimitUse:
    """One periodic limit before a debit: what was used, and the limit."""

    name: str
    used_minor: int
    limit_minor: int


@dataclass(frozen=True, slots=True)
class Approaching:
    """A limit that a debit took across LIMIT_WARNING_PERCENT."""

    name: str
    used_minor: int  # after the debit
    limit_minor: int
    percent: int


def check(
    names: tuple[str, ...],
    amount_minor: int,
    used_by_limit: Mapping[str, int],
    effective: limits.Limits,
    currency: str,
) -> list[LimitUse]:
    """Refuses (TXN004) a debit that takes any of `names` over its limit;
    returns what each had used before it."""
    uses: list[LimitUse] = []
    for name in names:
        used = used_by_limit[name]
        maximum = effective.get(name)
        if used + amount_minor > maximum:
            raise errors.LimitExceeded(
                f"{'Daily' if name in limits.DAILY_LIMITS else 'Monthly'} limit exceeded",
                field="amount",
                metadata={
                    "limit": name,
                    "limit_amount": limits.format_major(maximum, currency),
                    "used_amount": limits.format_major(used, currency),
                },
            )
        uses.append(LimitUse(name, used, maximum))
    return uses


def approaching(uses: Iterable[LimitUse], amount_minor: int) -> list[Approaching]:
    """The limits that this debit takes across the warning share (once: only
    the debit that crosses it)."""
    crossed = []
    for use in uses:
        threshold = use.limit_minor * LIMIT_WARNING_PERCENT // 100
        after = use.used_minor + amount_minor
        if use.limit_minor and use.used_minor < threshold <= after:
            crossed.append(
                Approaching(use.name, after, use.limit_minor, after * 100 // use.limit_minor)
            )
    return crossed

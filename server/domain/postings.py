"""Postings: the legs of a journal transaction, and the rule that they balance.

A journal transaction is two or more postings that sum to zero per currency
(README, "Ledger"). The store asserts the same rule before it writes, and
PostgreSQL refuses an unbalanced transaction too; this pure copy lets the
rules that *build* postings (reversals, refunds) check their own output
without a database, as formance keeps `Postings.Reverse()` and `Validate()`
next to the type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Leg:
    """One posting: `amount_minor` > 0 raises the account's balance, < 0 lowers it.

    The field names are those of `server.store.ledger.Leg`, so that a use case
    turns one into the other field by field.
    """

    account_id: str
    amount_minor: int
    currency: str


def totals_by_currency(legs: Iterable[Leg]) -> Mapping[str, int]:
    """The sum of the legs' signed amounts, per currency."""
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.currency] += leg.amount_minor
    return dict(totals)


def is_balanced(legs: Iterable[Leg]) -> bool:
    """True for two or more non-zero legs summing to zero in every currency."""
    materialised = tuple(legs)
    if len(materialised) < 2 or any(leg.amount_minor == 0 for leg in materialised):
        return False
    return all(total == 0 for total in totals_by_currency(materialised).values())


def assert_balanced(legs: Iterable[Leg]) -> None:
    """Programmer check: postings this code built always balance."""
    materialised = tuple(legs)
    assert is_balanced(materialised), f"unbalanced postings: {materialised!r}"

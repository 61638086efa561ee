"""Exact money: integer minor units, built from the wire through one helper.

The wire carries amounts as JSON numbers (proto `double`); see
protos/backoffice/v1/common.proto for why. `parse_amount` turns such a value
into minor units without float arithmetic: it takes the shortest decimal
representation of the double (the digits the client sent) and refuses
anything that is not an exact number of cents, is not finite, or is out of
range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from server.domain.errors import CurrencyMismatch, InvalidAmount

# ISO 4217 currencies this bank holds, with their minor-unit exponents.
CURRENCY_EXPONENTS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "JPY": 0}

# 15 significant digits survive a double round trip exactly; the largest
# amount the API accepts stays well inside that.
AMOUNT_MAX_MINOR = 10**13  # 100,000,000,000.00 in a 2-decimal currency.


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise CurrencyMismatch(
            f"Unsupported currency {currency!r}", field="currency", metadata={"currency": currency}
        ) from None


def parse_amount(value: float | int | str | Decimal, currency: str, field: str = "amount") -> int:
    """Minor units of a strictly positive wire amount, or InvalidAmount (TXN005)."""
    minor = parse_signed_amount(value, currency, field)
    if minor <= 0:
        raise InvalidAmount("Amount must be greater than zero", field=field)
    return minor


def parse_signed_amount(
    value: float | int | str | Decimal, currency: str, field: str = "amount"
) -> int:
    """Minor units of a wire amount that may be zero or negative."""
    if isinstance(value, bool):
        raise InvalidAmount("Amount must be a number", field=field)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidAmount("Amount must be a finite number", field=field)
    try:
        decimal = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidAmount("Amount must be a number", field=field) from None
    if not decimal.is_finite():
        raise InvalidAmount("Amount must be a finite number", field=field)
    places = exponent(currency)
    scaled = decimal.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(
            f"Amount has more than {places} decimal places",
            field=field,
            metadata={"decimals_max": str(places)},
        )
    minor = int(scaled)
    if abs(minor) > AMOUNT_MAX_MINOR:
        raise InvalidAmount("Amount is too large", field=field)
    return minor


def to_major(minor: int, currency: str) -> float:
    """The wire value (major units) of `minor`: exact for every accepted amount.

    The double nearest to minor / 10**exponent. Python divides two ints with
    one correct rounding of the exact quotient (no float arithmetic happens
    before it), which is the value the Decimal conversion gives
    (`to_major_decimal`), without its cost on every amount of every page.
    """
    return minor / _SCALES[exponent(currency)]


def to_major_decimal(minor: int, currency: str) -> float:
    """`to_major` through Decimal: the reference the tests compare it with."""
    return float(
        Decimal(minor)
        .scaleb(-exponent(currency))
        .quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_EVEN)
    )


_SCALES: dict[int, int] = {e: 10**e for e in range(10)}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; refuses to mix currencies."""

    minor: int
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"Cannot combine {self.currency} with {other.currency}",
                metadata={"currency": self.currency, "other_currency": other.currency},
            )

    @property
    def major(self) -> float:
        return to_major(self.minor, self.currency)

    def __str__(self) -> str:
        places = exponent(self.currency)
        return f"{Decimal(self.minor).scaleb(-places):.{places}f} {self.currency}"

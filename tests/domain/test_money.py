"""Money parsing and arithmetic: exact, no float arithmetic, TXN005 on bad input."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from server.domain import errors
from server.domain.money import (
    AMOUNT_MAX_MINOR,
    Money,
    parse_amount,
    parse_signed_amount,
    to_major,
    to_major_decimal,
)


@pytest.mark.parametrize(
    ("wire", "minor"),
    [
        (500.00, 50_000),
        (0.01, 1),
        (0.1, 10),
        (19.99, 1_999),
        (1234567.89, 123_456_789),
        (100, 10_000),
        ("42.50", 4_250),
        (Decimal("0.30"), 30),
    ],
)
def test_parse_amount_is_exact(wire: float | int | str | Decimal, minor: int) -> None:
    assert parse_amount(wire, "USD") == minor


@pytest.mark.parametrize(
    "wire",
    [
        0,
        0.0,
        -1,
        -0.01,
        0.001,
        10.005,
        0.1 + 0.2,
        math.nan,
        math.inf,
        -math.inf,
        "abc",
        "NaN",
        True,
    ],
)
def test_parse_amount_refuses_invalid(wire: object) -> None:
    with pytest.raises(errors.InvalidAmount) as caught:
        parse_amount(wire, "USD")  # type: ignore[arg-type]
    assert caught.value.reason == "TXN005"
    assert caught.value.field == "amount"


def test_parse_amount_refuses_huge() -> None:
    with pytest.raises(errors.InvalidAmount):
        parse_amount(1e15, "USD")
    assert parse_amount(AMOUNT_MAX_MINOR / 100, "USD") == AMOUNT_MAX_MINOR


def test_zero_decimal_currency() -> None:
    assert parse_amount(1500, "JPY") == 1500
    with pytest.raises(errors.InvalidAmount):
        parse_amount(10.5, "JPY")


def test_unknown_currency_is_currency_mismatch() -> None:
    with pytest.raises(errors.CurrencyMismatch):
        parse_amount(1, "XXX")


def test_signed_amount_allows_zero_and_negative() -> None:
    assert parse_signed_amount(0, "USD") == 0
    assert parse_signed_amount(-12.34, "USD") == -1234


@pytest.mark.parametrize("minor", [1, 10, 99, 1_999, 123_456_789, AMOUNT_MAX_MINOR])
def test_round_trip_through_the_wire(minor: int) -> None:
    assert parse_amount(to_major(minor, "USD"), "USD") == minor


def test_money_refuses_mixed_currencies() -> None:
    assert Money(100, "USD") + Money(50, "USD") == Money(150, "USD")
    assert -(Money(100, "USD") - Money(150, "USD")) == Money(50, "USD")
    with pytest.raises(errors.CurrencyMismatch):
        _ = Money(100, "USD") + Money(100, "EUR")
    assert str(Money(123_456, "USD")) == "1234.56 USD"


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY"])
def test_to_major_is_the_decimal_conversion(currency: str) -> None:
    rng = random.Random(20261201)  # noqa: S311 (samples, not secrets)
    samples = [0, 1, -1, 5, 10, 99, AMOUNT_MAX_MINOR, -AMOUNT_MAX_MINOR, 2**53 + 1, 10**18 + 7]
    samples += [rng.randrange(-(10**15), 10**15) for _ in range(20_000)]
    for minor in samples:
        assert to_major(minor, currency) == to_major_decimal(minor, currency), minor

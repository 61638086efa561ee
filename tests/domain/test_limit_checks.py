"""Daily and monthly limit decisions, and the 80% warning."""

from __future__ import annotations

import pytest

from server.domain import errors, limit_checks, limits

SAVINGS = limits.default_limits("SAVINGS")
NAMES = (limits.DAILY_TRANSFER, limits.MONTHLY_TRANSFER)


def _used(daily: int, monthly: int) -> dict[str, int]:
    return {limits.DAILY_TRANSFER: daily, limits.MONTHLY_TRANSFER: monthly}


def test_a_debit_up_to_the_limit_fits() -> None:
    uses = limit_checks.check(NAMES, 2_000_00, _used(3_000_00, 3_000_00), SAVINGS, "USD")
    assert uses == [
        limit_checks.LimitUse(limits.DAILY_TRANSFER, 3_000_00, 5_000_00),
        limit_checks.LimitUse(limits.MONTHLY_TRANSFER, 3_000_00, 20_000_00),
    ]


def test_a_debit_over_the_daily_limit_is_refused_with_the_figures() -> None:
    with pytest.raises(errors.LimitExceeded) as refused:
        limit_checks.check(NAMES, 2_000_01, _used(3_000_00, 3_000_00), SAVINGS, "USD")
    assert refused.value.reason == "TXN004"
    assert refused.value.message == "Daily limit exceeded"
    assert refused.value.metadata == {
        "field": "amount",
        "limit": "daily_transfer",
        "limit_amount": "5000.00",
        "used_amount": "3000.00",
    }


def test_a_debit_over_the_monthly_limit_is_refused() -> None:
    with pytest.raises(errors.LimitExceeded) as refused:
        limit_checks.check(NAMES, 1_000_00, _used(0, 19_500_00), SAVINGS, "USD")
    assert refused.value.message == "Monthly limit exceeded"


def test_the_warning_fires_once_when_a_debit_crosses_eighty_percent() -> None:
    below = limit_checks.LimitUse(limits.DAILY_TRANSFER, 3_000_00, 5_000_00)
    assert limit_checks.approaching([below], 999_99) == []
    assert limit_checks.approaching([below], 1_000_00) == [
        limit_checks.Approaching(limits.DAILY_TRANSFER, 4_000_00, 5_000_00, 80)
    ]
    above = limit_checks.LimitUse(limits.DAILY_TRANSFER, 4_000_00, 5_000_00)
    assert limit_checks.approaching([above], 500_00) == []  # crossed before
    blocked = limit_checks.LimitUse(limits.DAILY_TRANSFER, 0, 0)
    assert limit_checks.approaching([blocked], 0) == []

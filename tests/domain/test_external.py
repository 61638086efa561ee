"""External transfer rules: fees, amounts, limits, cut-offs and settlement, statuses, sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.domain import errors, external, limits
from server.domain.external import ACH, INTERNATIONAL_WIRE, WIRE, PriorTransfer

CHECKING = limits.default_limits("CHECKING")
SAVINGS = limits.default_limits("SAVINGS")


def counters(**used: int) -> dict[str, int]:
    """The account's usage per limit, as `limits.usage_by_limit` gives it: every limit named."""
    return {**limits.usage_by_limit({}, {}), **used}


def utc(*parts: int) -> datetime:
    """A naive UTC time, as the store keeps them."""
    return datetime(*parts)


# --- rails and fees -------------------------------------------------------------


def test_rail_defaults_to_ach_and_refuses_unknown_words() -> None:
    assert external.parse_rail("") == ACH
    assert external.parse_rail("WIRE") == WIRE
    with pytest.raises(errors.ValidationFailed) as caught:
        external.parse_rail("SEPA")
    assert (caught.value.field, caught.value.metadata["rail"]) == ("rail", "SEPA")


@pytest.mark.parametrize(("already", "fee"), [(0, 0), (1, 0), (2, 0), (3, 1_00), (10, 1_00)])
def test_ach_is_free_three_times_a_month_then_one_dollar(already: int, fee: int) -> None:
    assert external.transfer_fee_minor(ACH, ach_transfers_this_month=already, currency="USD") == fee


@pytest.mark.parametrize("already", [0, 3])
def test_wire_fees_ignore_the_ach_count(already: int) -> None:
    assert external.transfer_fee_minor(WIRE, ach_transfers_this_month=already, currency="USD") == (
        25_00
    )
    fee = external.transfer_fee_minor(
        INTERNATIONAL_WIRE, ach_transfers_this_month=already, currency="USD"
    )
    assert fee == 45_00


def test_fees_are_nominal_in_the_accounts_currency() -> None:
    fee = external.transfer_fee_minor(
        INTERNATIONAL_WIRE, ach_transfers_this_month=0, currency="JPY"
    )
    assert fee == 45


def test_the_fourth_ach_of_a_month_pays_and_a_new_month_is_free_again() -> None:
    november = [PriorTransfer(ACH, "COMPLETED", utc(2026, 11, day, 12)) for day in (2, 9, 16)]
    fourth = utc(2026, 11, 30, 23, 59, 59)
    used = external.ach_transfers_this_month(november, fourth)
    assert used == 3
    assert external.transfer_fee_minor(ACH, ach_transfers_this_month=used, currency="USD") == 1_00
    december = utc(2026, 12, 1, 0, 0, 0)
    assert external.ach_transfers_this_month(november, december) == 0


def test_failed_cancelled_and_wire_transfers_leave_free_achs_unused() -> None:
    prior = [
        PriorTransfer(ACH, "COMPLETED", utc(2026, 11, 2)),
        PriorTransfer(ACH, "PENDING", utc(2026, 11, 3)),
        PriorTransfer(ACH, "FAILED", utc(2026, 11, 4)),
        PriorTransfer(ACH, "CANCELLED", utc(2026, 11, 5)),
        PriorTransfer(WIRE, "COMPLETED", utc(2026, 11, 6)),
        PriorTransfer(ACH, "COMPLETED", utc(2026, 10, 31, 23, 59, 59)),
    ]
    assert external.ach_transfers_this_month(prior, utc(2026, 11, 20)) == 2


def test_returned_item_fee_only_for_nsf_returns() -> None:
    nsf = external.sandbox_return("9876540001", sandbox=True)
    closed = external.sandbox_return("9876540002", sandbox=True)
    assert nsf is not None and closed is not None
    assert external.returned_item_fee_minor(nsf, "USD") == 30_00
    assert external.returned_item_fee_minor(closed, "USD") == 0


# --- amounts, currency and limits -----------------------------------------------


@pytest.mark.parametrize("amount", [1, 1_000_00, 5_000_00])
def test_amounts_up_to_five_thousand_pass(amount: int) -> None:
    external.check_amount(amount, CHECKING, "USD")


def test_above_five_thousand_is_txn005() -> None:
    with pytest.raises(errors.InvalidAmount) as caught:
        external.check_amount(5_000_01, CHECKING, "USD")
    assert caught.value.reason == "TXN005"
    assert (caught.value.field, caught.value.metadata["maximum"]) == ("amount", "5000.00")


def test_below_the_minimum_is_txn005() -> None:
    with pytest.raises(errors.InvalidAmount) as caught:
        external.check_amount(0, CHECKING, "USD")
    assert caught.value.metadata["minimum"] == "0.01"


def test_domestic_rails_move_dollars_only() -> None:
    external.check_rail_currency(ACH, "USD")
    external.check_rail_currency(INTERNATIONAL_WIRE, "EUR")
    for rail in (ACH, WIRE):
        with pytest.raises(errors.CurrencyMismatch) as caught:
            external.check_rail_currency(rail, "EUR")
        assert caught.value.reason == "TXN006"
        assert caught.value.metadata["rail"] == rail


def test_external_transfers_count_against_every_limit_of_their_class() -> None:
    counted = {
        name
        for name, classes in limits.USAGE_CLASSES.items()
        if limits.CLASS_EXTERNAL_TRANSFER in classes
    }
    assert set(external.EXTERNAL_TRANSFER_LIMITS) == counted
    assert limits.MONTHLY_EXTERNAL_TRANSFER in counted
    assert limits.DAILY_TRANSFER in counted


@pytest.mark.parametrize(
    ("account_type", "monthly"),
    [("SAVINGS", 10_000_00), ("CHECKING", 25_000_00), ("BUSINESS", 250_000_00)],
)
def test_monthly_external_limits_are_the_seeds(account_type: str, monthly: int) -> None:
    assert limits.default_limits(account_type).monthly_external_transfer == monthly


def test_monthly_external_limit_counts_to_the_cent() -> None:
    used = counters(monthly_external_transfer=9_000_00)
    uses = external.check_limits(1_000_00, used, SAVINGS, "USD")
    assert {use.name for use in uses} == set(external.EXTERNAL_TRANSFER_LIMITS)
    with pytest.raises(errors.LimitExceeded) as caught:
        external.check_limits(1_000_01, used, SAVINGS, "USD")
    assert caught.value.reason == "TXN004"
    assert caught.value.metadata == {
        "limit": limits.MONTHLY_EXTERNAL_TRANSFER,
        "limit_amount": "10000.00",
        "used_amount": "9000.00",
        "field": "amount",
    }


def test_daily_transfer_limit_counts_external_transfers_too() -> None:
    used = counters(daily_transfer=4_500_00)
    with pytest.raises(errors.LimitExceeded) as caught:
        external.check_limits(600_00, used, SAVINGS, "USD")
    assert caught.value.metadata["limit"] == limits.DAILY_TRANSFER
    assert caught.value.message == "Daily limit exceeded"


# --- timing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "completion"),
    [
        # Winter (EST, UTC-5): cut-off 14:00 ET is 19:00Z; settlement 17:00 ET is 22:00Z.
        (utc(2026, 12, 1, 18, 59), utc(2026, 12, 1, 22, 0)),
        (utc(2026, 12, 1, 19, 0), utc(2026, 12, 2, 22, 0)),
        (utc(2026, 12, 1, 18, 30), utc(2026, 12, 1, 22, 0)),  # 13:30 EST: in time
        # Summer (EDT, UTC-4): cut-off is 18:00Z; settlement 21:00Z.
        (utc(2026, 7, 15, 17, 59), utc(2026, 7, 15, 21, 0)),
        (utc(2026, 7, 15, 18, 0), utc(2026, 7, 16, 21, 0)),
        (utc(2026, 7, 15, 18, 30), utc(2026, 7, 16, 21, 0)),  # 14:30 EDT: too late
        # The Monday after clocks moved forward: already EDT.
        (utc(2026, 3, 9, 18, 30), utc(2026, 3, 10, 21, 0)),
        # Friday evening (EST) settles Monday (EDT since Sunday).
        (utc(2026, 3, 6, 20, 0), utc(2026, 3, 9, 21, 0)),
        # 00:30Z Thursday is still Wednesday evening in New York: next day.
        (utc(2026, 12, 3, 0, 30), utc(2026, 12, 3, 22, 0)),
        # Saturday and Sunday: Monday.
        (utc(2026, 11, 28, 15, 0), utc(2026, 11, 30, 22, 0)),
        # Wednesday after the cut-off before Thanksgiving: Friday.
        (utc(2026, 11, 25, 20, 0), utc(2026, 11, 27, 22, 0)),
        # Thanksgiving itself, in the morning: Friday.
        (utc(2026, 11, 26, 14, 0), utc(2026, 11, 27, 22, 0)),
        # Christmas Eve afternoon: Christmas is Friday, so Monday.
        (utc(2026, 12, 24, 21, 0), utc(2026, 12, 28, 22, 0)),
        # 2026-07-03 is a Fed business day (Independence Day is Saturday).
        (utc(2026, 7, 3, 14, 0), utc(2026, 7, 3, 21, 0)),
    ],
)
def test_domestic_wire_same_day_before_two_pm_new_york(
    accepted: datetime, completion: datetime
) -> None:
    assert external.estimated_completion(WIRE, accepted) == completion


def test_aware_and_naive_utc_give_the_same_answer() -> None:
    naive = utc(2026, 7, 15, 17, 59)
    aware = naive.replace(tzinfo=UTC)
    assert external.estimated_completion(WIRE, aware) == external.estimated_completion(WIRE, naive)
    assert external.submission_at(WIRE, aware) == naive


@pytest.mark.parametrize(
    ("accepted", "completion"),
    [
        # Friday 10:00 EST: Tuesday.
        (utc(2026, 12, 18, 15, 0), utc(2026, 12, 22, 22, 0)),
        # Wednesday 23rd: Thursday 24th, then Christmas Friday, so Monday 28th.
        (utc(2026, 12, 23, 15, 0), utc(2026, 12, 28, 22, 0)),
        # Saturday: submitted Monday the 23rd, settles Wednesday the 25th.
        (utc(2026, 11, 21, 15, 0), utc(2026, 11, 25, 22, 0)),
        # ACH cut-off 14:45 ET: 14:44 EST makes the day, 14:45 does not.
        (utc(2026, 11, 24, 19, 44), utc(2026, 11, 27, 22, 0)),
        (utc(2026, 11, 24, 19, 45), utc(2026, 11, 30, 22, 0)),
        # Summer: 14:44 EDT is 18:44Z.
        (utc(2026, 7, 14, 18, 44), utc(2026, 7, 16, 21, 0)),
        (utc(2026, 7, 14, 18, 45), utc(2026, 7, 17, 21, 0)),
    ],
)
def test_ach_settles_two_business_days_after_submission(
    accepted: datetime, completion: datetime
) -> None:
    assert external.estimated_completion(ACH, accepted) == completion


def test_international_wire_settles_five_business_days_after_submission() -> None:
    # Monday 21 Dec: 22, 23, 24, (25 Christmas), 28, 29.
    assert external.estimated_completion(INTERNATIONAL_WIRE, utc(2026, 12, 21, 15, 0)) == utc(
        2026, 12, 29, 22, 0
    )


def test_submission_is_at_once_in_time_else_next_business_morning() -> None:
    in_time = utc(2026, 12, 1, 15, 0)
    assert external.submission_at(WIRE, in_time) == in_time
    # Saturday: Monday 09:00 EST = 14:00Z.
    assert external.submission_at(WIRE, utc(2026, 11, 28, 12, 0)) == utc(2026, 11, 30, 14, 0)
    # After Wednesday's cut-off before Thanksgiving: Friday 09:00 EST.
    assert external.submission_at(ACH, utc(2026, 11, 25, 20, 0)) == utc(2026, 11, 27, 14, 0)
    # Summer morning after: 09:00 EDT = 13:00Z.
    assert external.submission_at(WIRE, utc(2026, 7, 15, 19, 0)) == utc(2026, 7, 16, 13, 0)


# --- statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("PENDING", "PROCESSING"),
        ("PENDING", "CANCELLED"),
        ("PENDING", "FAILED"),
        ("PROCESSING", "COMPLETED"),
        ("PROCESSING", "FAILED"),
    ],
)
def test_legal_moves(current: str, target: str) -> None:
    assert external.move(current, target) == target


@pytest.mark.parametrize(
    ("current", "target", "error", "reason"),
    [
        ("PENDING", "COMPLETED", errors.Conflict, "CONFLICT"),
        ("PENDING", "PENDING", errors.Conflict, "CONFLICT"),
        ("FAILED", "PROCESSING", errors.Conflict, "CONFLICT"),
        ("PROCESSING", "PENDING", errors.Conflict, "CONFLICT"),
        ("SCHEDULED", "PROCESSING", errors.Conflict, "CONFLICT"),
        ("PROCESSING", "CANCELLED", errors.TransactionNotCancellable, "TXN007"),
        ("FAILED", "CANCELLED", errors.TransactionNotCancellable, "TXN007"),
        ("COMPLETED", "CANCELLED", errors.TransactionAlreadyCompleted, "TXN008"),
        ("COMPLETED", "FAILED", errors.TransactionAlreadyCompleted, "TXN008"),
    ],
)
def test_illegal_moves_are_conflicts(
    current: str, target: str, error: type[errors.BankError], reason: str
) -> None:
    with pytest.raises(error) as caught:
        external.move(current, target)
    assert caught.value.reason == reason
    assert caught.value.http_status == 409
    assert caught.value.metadata["status"] == current
    assert caught.value.metadata["target_status"] == target


def test_final_statuses() -> None:
    assert [
        s
        for s in ("PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED")
        if external.LIFECYCLE.is_final(s)
    ] == ["COMPLETED", "FAILED", "CANCELLED"]


# --- sandbox returns -------------------------------------------------------------


@pytest.mark.parametrize(
    ("account_number", "code"),
    [
        ("9876540001", "R01"),
        ("9876540002", "R02"),
        ("9876540003", "R03"),
        ("DE89370400440532010003", "R03"),  # an IBAN standing for the account number
    ],
)
def test_sandbox_accounts_fail_on_purpose(account_number: str, code: str) -> None:
    returned = external.sandbox_return(account_number, sandbox=True)
    assert returned is not None and returned.code == code
    assert external.sandbox_return(account_number, sandbox=False) is None


@pytest.mark.parametrize("account_number", ["9876543210", "9876540004", "0001000"])
def test_other_sandbox_accounts_settle(account_number: str) -> None:
    assert external.sandbox_return(account_number, sandbox=True) is None

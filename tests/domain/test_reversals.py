"""Staff reversals: mirrored postings that balance, and what may be reversed."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from server.domain import errors, reversals
from server.domain import transaction_states as states
from server.domain.postings import Leg, is_balanced, totals_by_currency
from server.domain.reversals import ReversalConflict, ReversibleTransaction

ORIGINAL = ReversibleTransaction("txn_1", states.TRANSFER, states.COMPLETED)
# A 500.00 external transfer with a 25.00 wire fee.
WIRE_LEGS = (
    Leg("acc_alice", -525_00, "USD"),
    Leg("acc_wire_clearing", 500_00, "USD"),
    Leg("acc_fee_income", 25_00, "USD"),
)


def test_the_reversal_mirrors_every_leg_fee_included() -> None:
    legs = reversals.plan_reversal(ORIGINAL, WIRE_LEGS)
    assert legs == (
        Leg("acc_alice", 525_00, "USD"),
        Leg("acc_wire_clearing", -500_00, "USD"),
        Leg("acc_fee_income", -25_00, "USD"),
    )
    assert is_balanced(legs)


def test_original_and_reversal_together_move_nothing() -> None:
    rng = random.Random(20270301)  # noqa: S311 (samples, not secrets)
    for _ in range(500):
        legs: list[Leg] = []
        for currency in rng.sample(["USD", "EUR", "JPY"], rng.randint(1, 3)):
            amounts = [rng.randint(1, 10**9) for _ in range(rng.randint(1, 4))]
            legs += [Leg(f"acc_{currency}_{i}", a, currency) for i, a in enumerate(amounts)]
            legs.append(Leg(f"acc_{currency}_sink", -sum(amounts), currency))
        mirrored = reversals.reversed_legs(legs)
        assert is_balanced(mirrored)
        combined: dict[tuple[str, str], int] = {}
        for leg in (*legs, *mirrored):
            key = (leg.account_id, leg.currency)
            combined[key] = combined.get(key, 0) + leg.amount_minor
        assert set(combined.values()) == {0}
        assert set(totals_by_currency(mirrored).values()) == {0}


def test_unbalanced_postings_are_a_programmer_error() -> None:
    with pytest.raises(AssertionError):
        reversals.reversed_legs((Leg("acc_a", -1, "USD"), Leg("acc_b", 2, "USD")))
    with pytest.raises(AssertionError):
        reversals.reversed_legs((Leg("acc_a", -1, "USD"), Leg("acc_b", 1, "EUR")))


def test_a_second_reversal_is_409_conflict() -> None:
    reversed_once = replace(ORIGINAL, status=states.REVERSED, reversal_transaction_id="txn_r")
    with pytest.raises(ReversalConflict) as raised:
        reversals.plan_reversal(reversed_once, WIRE_LEGS)
    assert raised.value.reason == "CONFLICT" and raised.value.http_status == 409
    assert raised.value.grpc_status == "FAILED_PRECONDITION"
    assert "already reversed" in raised.value.message


@pytest.mark.parametrize("status", sorted(states.TRANSACTION_STATUSES - {states.COMPLETED}))
def test_only_completed_transactions_are_reversed(status: str) -> None:
    with pytest.raises(ReversalConflict) as raised:
        reversals.check_reversible(replace(ORIGINAL, status=status))
    assert raised.value.metadata["status"] == status


@pytest.mark.parametrize("kind", [states.REVERSAL, states.REFUND])
def test_corrections_and_refunds_are_not_reversed(kind: str) -> None:
    with pytest.raises(ReversalConflict):
        reversals.check_reversible(replace(ORIGINAL, type=kind))


def test_refunded_money_or_an_open_refund_request_blocks_a_reversal() -> None:
    with pytest.raises(ReversalConflict):
        reversals.check_reversible(replace(ORIGINAL, refunded_minor=1))
    with pytest.raises(ReversalConflict):
        reversals.check_reversible(replace(ORIGINAL, open_refund_request_count=1))


@pytest.mark.parametrize(
    "kind",
    sorted(states.TRANSACTION_TYPES - reversals.NOT_REVERSIBLE_TYPES),
)
def test_every_other_completed_type_is_reversible(kind: str) -> None:
    reversals.check_reversible(replace(ORIGINAL, type=kind))


def test_the_reason_is_required_and_other_needs_notes() -> None:
    assert reversals.check_reason("FRAUD", "") == "FRAUD"
    assert reversals.check_reason("OTHER", "wrong branch code") == "OTHER"
    for reason, notes, field in (
        (None, "", "reason"),
        ("TYPO", "", "reason"),
        ("OTHER", "   ", "notes"),
        ("FRAUD", "x" * 501, "notes"),
    ):
        with pytest.raises(errors.ValidationFailed) as raised:
            reversals.check_reason(reason, notes)
        assert raised.value.field == field

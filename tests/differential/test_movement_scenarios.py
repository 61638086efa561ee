"""One written sequence of deposits and withdrawals that meets every rule they
apply, refusals included, on every backend (on PostgreSQL through the
functions of m0025, server.store.movement_functions); each rule is checked
to be reached, so that a change of the world cannot quietly leave one out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from server.store import movement_functions
from tests.differential.backends import Backend
from tests.differential.compare import compare, run_everywhere
from tests.differential.operations import AdvanceClock, Deposit, Operation, Withdrawal
from tests.differential.run import Run
from tests.differential.world import (
    ATM_ABROAD,
    ATM_HOME,
    CARD_NUMBER,
    FEE_INCOME_USD,
    PIN,
    UNKNOWN_ID,
)

CHK, BOB, BIZ, JPY = "acc_dtalicechk", "acc_dtbobchk", "acc_dtcarolbiz", "acc_dtcaroljpy"
FROZEN, CLOSED = "acc_dtcarolchk", "acc_dtcarolold"


def _atm(amount: float, location: str = ATM_HOME, pin: str = PIN) -> Withdrawal:
    return Withdrawal(
        "alice", CHK, amount, method="ATM", location=location, card_number=CARD_NUMBER, pin=pin
    )


SCENARIO: list[Operation] = [
    # Deposits of every kind; the checks are held (two and three business days).
    Deposit("staff", CHK, 50.0, location="Main St branch"),
    Deposit("alice", CHK, 25.0, method="MOBILE_CHECK"),
    Deposit("staff", BOB, 100.0, method="CHECK", location="Branch 5", reference="CHK-1"),
    Deposit("staff", JPY, 1500.0, method="WIRE", description="Salary"),
    Deposit("staff", CHK, 5.0, method="DIRECT_DEPOSIT", currency="usd"),
    # Every refusal of a deposit.
    Deposit("staff", UNKNOWN_ID, 1.0),
    Deposit("alice", BOB, 1.0, method="MOBILE_CHECK"),  # another customer's account
    Deposit("staff", FEE_INCOME_USD, 1.0),  # the bank's own
    Deposit("alice", CHK, 1.0),  # customers deposit mobile checks only
    Deposit("staff", CHK, 1.0, currency="EUR"),
    Deposit("staff", CHK, 0.001),
    Deposit("staff", CHK, 1_000_000.01),  # above the deposit maximum
    Deposit("alice", CHK, 10_000.01, method="MOBILE_CHECK"),  # above a mobile check's
    Deposit("auditor", CHK, 1.0),
    Deposit("staff", FROZEN, 1.0),
    Deposit("staff", CLOSED, 1.0, method="WIRE"),
    Deposit("staff", CHK, 1.0, method="CRYPTO"),
    Deposit("staff", CHK, 1.0, description="x" * 256),
    # ATM withdrawals: the bank's own (free), another bank's, abroad; the daily
    # ATM limit (100.00) crossed at 80% (limit.approaching), then met.
    _atm(20.0),
    _atm(20.0, location="Corner shop"),
    _atm(20.0, location=ATM_ABROAD),
    _atm(20.0),
    _atm(20.01),
    _atm(20.0),  # exactly to the limit
    _atm(500.01),  # above the ATM's per-transaction maximum
    _atm(1.0, pin="0000"),
    _atm(1.0, location="ATM-DT-NOWHERE"),
    Withdrawal("alice", CHK, 1.0, method="DEBIT_CARD", location="", card_number="4111111111111111"),
    Withdrawal("alice", CHK, 2.0, method="DEBIT_CARD", location="", card_number=CARD_NUMBER),
    # Every refusal of a withdrawal without a card.
    Withdrawal("staff", UNKNOWN_ID, 1.0),
    Withdrawal("alice", BOB, 1.0, method="DEBIT_CARD", card_number=CARD_NUMBER),
    Withdrawal("alice", CHK, 1.0),  # customers withdraw with their card only
    Withdrawal("alice", CHK, 1.0, method="CHECK"),
    Withdrawal("staff", CHK, 1.0, currency="EUR"),
    Withdrawal("staff", CHK, 0.001),
    Withdrawal("auditor", CHK, 1.0),
    Withdrawal("staff", FROZEN, 1.0),
    Withdrawal("staff", CHK, 1.0, location=""),
    # To zero (no fee), below it with the overdraft fee exactly to the line
    # (25.00 of the balance is held), then past it.
    # (a teller pays out cash and bank checks)
    Withdrawal("staff", CHK, 170.5, method="CHECK", location=""),
    Withdrawal("staff", CHK, 40.0),
    Withdrawal("staff", CHK, 0.01),
    Withdrawal("staff", BIZ, 400.0),
    Withdrawal("staff", JPY, 7_000.0, description="Rent"),
    # The next month's first day, past the check's release: Bob's withdrawal
    # releases his hold itself; then the due work releases Alice's.
    AdvanceClock(0, sweep=False),
    AdvanceClock(6, sweep=False),
    Withdrawal("staff", BOB, 1_050.0),
    AdvanceClock(72, sweep=True),
]

FUNCTION_OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def scenario_runs(backends: list[Backend]) -> dict[str, Run]:
    real = movement_functions.post_deposit, movement_functions.post_withdrawal

    def counted(function: Any) -> Any:
        def run(*args: Any) -> Any:
            outcome = function(*args)
            FUNCTION_OUTCOMES[type(outcome).__name__] += 1
            return outcome

        return run

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(movement_functions, "post_deposit", counted(real[0]))
        patch.setattr(movement_functions, "post_withdrawal", counted(real[1]))
        return run_everywhere(backends, SCENARIO)


def test_every_backend_answers_and_books_the_scenario_alike(
    scenario_runs: dict[str, Run],
) -> None:
    problems = compare(SCENARIO, scenario_runs)
    assert not problems, "\n".join(problems)


def _reason(outcome: Any) -> str:
    if isinstance(outcome, dict) and "error" in outcome:
        return str(outcome["error"]["reason"])
    return ""


def test_the_scenario_meets_every_rule(scenario_runs: dict[str, Run]) -> None:
    run = next(iter(scenario_runs.values()))
    reasons = [_reason(outcome) for outcome in run.outcomes]
    deposits = [r for r, op in zip(reasons, SCENARIO, strict=True) if isinstance(op, Deposit)]
    assert Counter(deposits) == {
        "": 5,
        "TXN002": 3,
        "FORBIDDEN": 2,
        "TXN006": 1,
        "TXN005": 3,
        "TXN003": 2,
        "VALIDATION_ERROR": 2,
    }, deposits
    taken = [r for r, op in zip(reasons, SCENARIO, strict=True) if isinstance(op, Withdrawal)]
    for reason in ("TXN001", "TXN002", "TXN003", "TXN004", "TXN005", "TXN006", "FORBIDDEN"):
        assert reason in taken, (reason, taken)
    assert {"INVALID_PIN", "VALIDATION_ERROR"} <= set(taken), taken
    transactions = sorted(run.state["transactions"], key=lambda row: int(row[1][11:]))
    withdrawals = [row for row in transactions if row[2] == "WITHDRAWAL"]
    assert [row[6] for row in withdrawals[:5]] == [0, 250, 500, 0, 0]  # ATM fees
    fees = [row for row in transactions if row[2] == "FEE"]
    assert sorted(row[5] for row in fees) == [3_500, 3_500, 3_500], fees  # USD twice, yen
    events = Counter(row[0] for row in run.state["outbox"])
    assert events["limit.approaching"] == 1, events
    deposit_holds = [row for row in run.state["holds"] if row[2] is not None]
    assert sorted((row[6], row[3]) for row in deposit_holds) == [
        ("CHECK_DEPOSIT", "RELEASED"),
        ("MOBILE_CHECK_DEPOSIT", "RELEASED"),
    ]
    assert [row[1:] for row in run.state["cards"]] == [(1, "ACTIVE")]


def test_the_function_backend_posts_through_the_functions(
    scenario_runs: dict[str, Run],
) -> None:
    if "postgres-function" not in scenario_runs:
        pytest.skip("no stored function")
    assert FUNCTION_OUTCOMES["Fallback"] == 0, FUNCTION_OUTCOMES
    assert FUNCTION_OUTCOMES["Posted"] >= 15, FUNCTION_OUTCOMES
    refusals = sum(FUNCTION_OUTCOMES.values()) - FUNCTION_OUTCOMES["Posted"]
    assert refusals >= 15, FUNCTION_OUTCOMES

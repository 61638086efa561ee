"""One written sequence that meets every rule a transfer applies, on every
backend; and the comparison itself, shown to see what it is meant to see.

The random sequences (test_posting_paths) reach most rules in most runs;
this one reaches each of them in every run, and says so: a change of the
world that left a rule unreached would fail here, not quietly thin the
differential test.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from server.store import transfer_function
from tests.differential import normalise
from tests.differential.backends import Backend
from tests.differential.compare import compare, run_everywhere
from tests.differential.operations import (
    AdvanceClock,
    Batch,
    Keyed,
    KeyedBatch,
    Operation,
    Replay,
    Transfer,
)
from tests.differential.run import Run
from tests.differential.world import FEE_INCOME_USD, HOLD_ID, UNKNOWN_ID

CHK, SAV, BOB, EUR, BIZ, JPY, BOB_JPY = (
    "acc_dtalicechk",
    "acc_dtalicesav",
    "acc_dtbobchk",
    "acc_dtbobeur",
    "acc_dtcarolbiz",
    "acc_dtcaroljpy",
    "acc_dtbobjpy",
)
FROZEN, CLOSED = "acc_dtcarolchk", "acc_dtcarolold"
PAY_ALICE = Transfer("bob", BOB, CHK, 5.0, description="Lunch")

SCENARIO: list[Operation] = [
    # Overdraft: to zero (no fee), below zero (the fee), past the line (refused).
    Transfer("alice", CHK, SAV, 200.0),
    Transfer("alice", CHK, SAV, 50.0, reference="REF-1"),
    Transfer("alice", CHK, SAV, 15.01),
    # Per-transaction maximum, the daily limit crossed at 80%, then met.
    Transfer("alice", SAV, BOB, 120.01),
    Transfer("alice", SAV, BOB, 120.0),
    Transfer("alice", SAV, BOB, 31.0),
    # The monthly limit: crossed at 80%, met, and after the month turns, free again.
    Transfer("bob", BOB, SAV, 400.0),
    Transfer("bob", BOB, SAV, 300.0),
    Transfer("bob", BOB, SAV, 0.01),
    # Idempotency: executed, replayed, the key reused with another body, and
    # a batch whose items use the same keys.
    Keyed("key-a", PAY_ALICE),
    Replay(0),
    Keyed("key-a", Transfer("bob", BOB, CHK, 6.0, description="Lunch")),
    KeyedBatch(
        "bob",
        (
            ("key-a", PAY_ALICE),
            ("key-b", Transfer("bob", BOB_JPY, "acc_dtbobjpy", 1.0)),
            ("key-c", Transfer("bob", EUR, CHK, 1.0)),
            (None, Transfer("bob", EUR, "acc_dtcaroleur", 10.0)),
        ),
    ),
    Keyed("key-c", Transfer("bob", EUR, CHK, 1.0)),
    # A scheduled transfer, executed by the due work a day later.
    Transfer("bob", EUR, "acc_dtcaroleur", 20.0, scheduled="+1"),
    # Refusals of every kind, and fees, in one batch.
    Batch(
        (
            Transfer("carol", BIZ, JPY, 1.0),
            Transfer("carol", BIZ, CHK, 300.0),
            Transfer("carol", BIZ, CHK, 1.0),
            Transfer("auditor", BIZ, CHK, 1.0),
            Transfer("carol", FROZEN, BIZ, 1.0),
            Transfer("carol", BIZ, CLOSED, 1.0),
            Transfer("carol", UNKNOWN_ID, BIZ, 1.0),
            Transfer("alice", BIZ, CHK, 1.0),
            Transfer("carol", BIZ, BIZ, 1.0),
            Transfer("carol", BIZ, FEE_INCOME_USD, 1.0),
            Transfer("carol", BIZ, CHK, 1.005),
            Transfer("carol", BIZ, CHK, 1.0, currency="EUR"),
            Transfer("carol", BIZ, CHK, 1.0, description="x" * 256),
        )
    ),
    # The overdraft fee in yen: 3,500 (35_00 minor units of a currency without any).
    Transfer("carol", JPY, BOB_JPY, 5_001.0),
    Transfer("carol", JPY, BOB_JPY, 1.5),
    # The next day: the daily limit is free again; the month is not over.
    AdvanceClock(24, sweep=True),
    Transfer("alice", SAV, BOB, 120.0),
    Transfer("bob", BOB, SAV, 0.01),
    # The next month, without the due work: the transfer itself releases
    # the savings account's due hold.
    AdvanceClock(0, sweep=False),
    Transfer("alice", SAV, BOB, 120.0),
    Transfer("bob", BOB, SAV, 100.0),
]


# What the stored function answered, by kind, while the scenario ran.
FUNCTION_OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def scenario_runs(backends: list[Backend]) -> dict[str, Run]:
    real = transfer_function.post_transfers

    def counted(items: Any, now: Any) -> Any:
        outcomes = real(items, now)
        FUNCTION_OUTCOMES.update(type(outcome).__name__ for outcome in outcomes)
        return outcomes

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transfer_function, "post_transfers", counted)
        return run_everywhere(backends, SCENARIO)


def test_every_backend_answers_and_books_the_scenario_alike(
    scenario_runs: dict[str, Run],
) -> None:
    problems = compare(SCENARIO, scenario_runs)
    assert not problems, "\n".join(problems)


def test_the_scenario_meets_every_rule(scenario_runs: dict[str, Run]) -> None:
    run = next(iter(scenario_runs.values()))
    reasons = Counter(_reasons(run.outcomes))
    for reason in (
        "TXN001",
        "TXN002",
        "TXN003",
        "TXN004",
        "TXN005",
        "TXN006",
        "FORBIDDEN",
        "VALIDATION_ERROR",
        "IDEMPOTENCY_KEY_REUSED",
    ):
        assert reasons[reason], f"no {reason} in the scenario: {reasons}"
    types = Counter(row[2] for row in run.state["transactions"])
    assert types["FEE"] >= 3, types  # USD by a single transfer and in a batch, and yen
    events = Counter(row[0] for row in run.state["outbox"])
    assert events["limit.approaching"] >= 2, events
    statuses = Counter(row[3] for row in run.state["transactions"])
    assert statuses == {"COMPLETED": sum(statuses.values())}, "the scheduled one executed"
    assert [row[3] for row in run.state["holds"] if row[0] == HOLD_ID] == ["RELEASED"]
    replay, reused = run.outcomes[10], run.outcomes[11]
    assert replay["headers"] == {"idempotent-replayed": "true"}
    assert reused["error"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert [item.get("replayed", False) for item in run.outcomes[12]] == [
        True,
        False,
        False,
        False,
    ]
    assert run.outcomes[13]["headers"] == {"idempotent-replayed": "true"}
    jpy_fee = [row for row in run.state["transactions"] if row[2] == "FEE" and row[4] == "JPY"]
    assert [row[5] for row in jpy_fee] == [3_500]


def test_the_function_backend_posts_through_the_function(
    backends: list[Backend], scenario_runs: dict[str, Run]
) -> None:
    """Not handed back to the Python path: then the comparison would prove nothing."""
    if "postgres-function" not in scenario_runs:
        pytest.skip("no stored function yet")
    assert FUNCTION_OUTCOMES["Posted"] >= 10, FUNCTION_OUTCOMES
    assert FUNCTION_OUTCOMES["Fallback"] == 0, FUNCTION_OUTCOMES
    refusals = sum(FUNCTION_OUTCOMES.values()) - FUNCTION_OUTCOMES["Posted"]
    assert refusals >= 10, FUNCTION_OUTCOMES


def _reasons(value: Any) -> list[str]:
    if isinstance(value, list):
        return [reason for item in value for reason in _reasons(item)]
    if isinstance(value, dict) and "error" in value:
        return [value["error"].get("reason") or value["error"]["code"]]
    return []


# --- the comparison sees what it is meant to see ------------------------------------


def _tampered(runs: dict[str, Run], change: Any) -> dict[str, Run]:
    """The runs with the last one changed by `change(run)`."""
    changed = copy.deepcopy(runs)
    change(list(changed.values())[-1])
    return changed


def _fee_rows_dropped(run: Run) -> None:
    fees = {row[0] for row in run.state["transactions"] if row[2] == "FEE"}
    run.state["postings"] = [row for row in run.state["postings"] if row[0] not in fees]


def _message_changed(run: Run) -> None:
    run.outcomes[2]["error"]["message"] = "Not enough money"


def _metadata_changed(run: Run) -> None:
    run.outcomes[5]["error"]["metadata"]["used_amount"] = "0.00"


def _event_dropped(run: Run) -> None:
    run.state["outbox"] = [row for row in run.state["outbox"] if row[0] != "limit.approaching"]


def _counter_changed(run: Run) -> None:
    first, *rest = run.state["limit_usage"]
    run.state["limit_usage"] = [(*first[:3], first[3] + 1), *rest]


def _transactions_swapped(run: Run) -> None:
    """Two answers naming each other's transaction: ids are compared by position."""
    first, second = run.outcomes[0]["movement"], run.outcomes[1]["movement"]
    first["transaction"]["id"], second["transaction"]["id"] = (
        second["transaction"]["id"],
        first["transaction"]["id"],
    )


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        (_fee_rows_dropped, "table postings differs"),
        (_message_changed, "operation 2 "),
        (_metadata_changed, "operation 5 "),
        (_event_dropped, "table outbox differs"),
        (_counter_changed, "table limit_usage differs"),
        (_transactions_swapped, "operation 0 "),
    ],
)
def test_a_difference_is_reported(scenario_runs: dict[str, Run], change: Any, seen: str) -> None:
    assert not compare(SCENARIO, scenario_runs)
    problems = compare(SCENARIO, _tampered(scenario_runs, change))
    assert any(seen in problem for problem in problems), problems


def test_unbalanced_postings_and_balances_off_their_postings_are_reported(
    scenario_runs: dict[str, Run],
) -> None:
    run = copy.deepcopy(next(iter(scenario_runs.values())))
    assert normalise.invariants(run) == []
    transaction_id, account_id, currency, amount_minor, *rest = run.state["postings"][0]
    run.state["postings"][0] = (transaction_id, account_id, currency, amount_minor + 1, *rest)
    problems = normalise.invariants(run)
    assert any("postings sum to 1" in problem for problem in problems), problems
    assert any(f"{account_id} holds" in problem for problem in problems), problems

"""The two implementations of posting must never drift.

The same random sequence of operations (transfers that pass or meet each
refusal, batches, idempotent requests and their replays, sandbox clock moves
across day and month ends) runs on every backend (tests.differential.conftest)
from the same seeded state; every answer and the whole ledger afterwards
(balances, postings, history rows, limit counters, events, stored
idempotent answers, holds) must be the same, and each run must keep the
ledger's invariants.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings

from tests.differential import operations as ops
from tests.differential.backends import Backend
from tests.differential.compare import compare, run_everywhere

EXAMPLES = 50


# A failing sequence is printed whole, however long; shrinking it to the
# shortest that still fails may take hypothesis up to 5 minutes of its own.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@pytest.mark.timeout(900)
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sequence=ops.sequences())
def test_every_backend_answers_and_books_a_sequence_alike(
    backends: list[Backend], sequence: list[ops.Operation]
) -> None:
    runs = run_everywhere(backends, sequence)
    for outcome in next(iter(runs.values())).outcomes:
        for kind in _kinds(outcome):
            event(kind)  # --hypothesis-show-statistics: how often each path was taken
    problems = compare(sequence, runs)
    assert not problems, "\n".join(problems)


def _kinds(outcome: Any) -> list[str]:
    """Names of what an operation's answer shows, for the statistics."""
    if isinstance(outcome, list):
        return [f"batch item: {kind}" for item in outcome for kind in _kinds(item)]
    if not isinstance(outcome, dict):
        return [str(outcome)]
    replayed = outcome.get("replayed") or outcome.get("headers", {}).get("idempotent-replayed")
    again = " (replayed)" if replayed else ""
    if "error" in outcome:
        return [f"refused {outcome['error'].get('reason') or outcome['error']['code']}{again}"]
    if "movement" in outcome:
        fee = outcome["movement"]["overdraft_fee_transaction_id"]
        transaction = outcome["movement"]["transaction"]
        kind = f"{transaction['type']} {transaction['status']}"
        return [f"{kind}{' with overdraft fee' if fee else ''}"]
    if "response" in outcome or "transaction" in outcome:
        return [f"keyed: answered{again}"]
    return [f"clock moved{', due work run' if outcome['work'] else ''}"]

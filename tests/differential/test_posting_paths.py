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

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings

from tests.differential import normalise
from tests.differential import operations as ops
from tests.differential.backends import Backend, active
from tests.differential.run import Run, run_sequence

EXAMPLES = 30


def compare(sequence: list[ops.Operation], runs: dict[str, Run]) -> list[str]:
    """The differences between the first run and each other one (empty: none)."""
    problems = []
    for name, run in runs.items():
        problems += [f"{name}: {problem}" for problem in normalise.invariants(run)]
    (reference, first), *others = runs.items()
    first_names = normalise.Names(first)
    expected = normalise.outcomes(first, first_names)
    expected_state = normalise.state(first, first_names)
    for name, run in others:
        names = normalise.Names(run)
        for index, (want, got) in enumerate(
            zip(expected, normalise.outcomes(run, names), strict=True)
        ):
            if want != got:
                problems.append(
                    f"operation {index} {sequence[index]!r} answered differently:\n"
                    f"  {reference}: {_show(want)}\n  {name}: {_show(got)}"
                )
        for table, rows in normalise.state(run, names).items():
            if rows != expected_state[table]:
                problems.append(
                    _table_difference(table, reference, expected_state[table], name, rows)
                )
    return problems


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _table_difference(
    table: str, reference: str, expected: list[Any], name: str, found: list[Any]
) -> str:
    want = {_show(row) for row in expected}
    got = {_show(row) for row in found}
    lines = [f"table {table} differs:"]
    lines += [f"  only in {reference}: {row}" for row in sorted(want - got)[:5]]
    lines += [f"  only in {name}: {row}" for row in sorted(got - want)[:5]]
    return "\n".join(lines)


def run_everywhere(backends: list[Backend], sequence: list[ops.Operation]) -> dict[str, Run]:
    runs = {}
    for backend in backends:
        with active(backend):
            runs[backend.name] = run_sequence(sequence)
    return runs


# A failing sequence is printed whole, however long.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
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
    if isinstance(outcome, list):
        return [f"batch item: {kind}" for item in outcome for kind in _kinds(item)]
    if not isinstance(outcome, dict):
        return [str(outcome)]
    if "error" in outcome:
        return [f"refused {outcome['error']['reason']}"]
    if "movement" in outcome:
        fee = outcome["movement"]["overdraft_fee_transaction_id"]
        status = outcome["movement"]["transaction"]["status"]
        return [f"{status}{' with overdraft fee' if fee else ''}"]
    if "response" in outcome:
        replayed = outcome["headers"].get("idempotent-replayed") == "true"
        return ["keyed: replayed" if replayed else "keyed: executed"]
    return [f"clock moved{', due work run' if outcome['work'] else ''}"]

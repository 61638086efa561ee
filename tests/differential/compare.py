"""Runs one sequence on every backend, and lists how the runs differ."""

from __future__ import annotations

import json
from typing import Any

from tests.differential import normalise
from tests.differential import operations as ops
from tests.differential.backends import Backend, active
from tests.differential.run import Run, run_sequence


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

"""An Idempotency-Key is kept 24 hours of real time, whatever the sandbox clock does.

Moving the sandbox clock a day on must not turn a client's retry, sent a
second later, into a second transfer (the fault test found it: its replays
moved money twice once its clock thread had moved the clock past a day).
"""

from __future__ import annotations

import uuid

from tests.common import envelope
from tests.common.money import balance, open_account
from tests.conftest import Rest


def test_a_retry_after_the_sandbox_clock_moved_days_on_is_answered_not_run_again(
    rest: Rest,
) -> None:
    source = open_account(rest, funded=100)
    target = open_account(rest)
    key = {"Idempotency-Key": f"clock-{uuid.uuid4()}"}
    body = {"fromAccountId": source, "toAccountId": target, "amount": 10}
    first = rest.post("/v1/transactions/transfer", json=body, headers=key)
    created = envelope.success(first, 201)["transaction"]
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 2}))
    again = rest.post("/v1/transactions/transfer", json=body, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(again, 201)["transaction"]["id"] == created["id"]
    assert (balance(rest, source), balance(rest, target)) == (90, 10)

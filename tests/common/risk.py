"""Factories for fraud-screening tests: fresh customers and accounts, rules, alerts.

Velocity, history and payees are per account, so each test works on fresh
accounts of a fresh customer (`new_scene`). Rules are global: a test that
adds one removes it from screening when it ends (`rule`), and one that
changes a sandbox default puts it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc

from server.domain.ids import stable_id
from server.run import Stack
from server.store import sandbox_risk
from tests.common import envelope
from tests.common.money import BOB, assert_ledger_consistent, open_account, query
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest


def default_rule_id(kind: str) -> str:
    """The id of the sandbox's default rule of `kind`."""
    (name,) = [name for name, rule_kind, *_ in sandbox_risk.RISK_RULES if rule_kind == kind]
    return stable_id("rsk", name)


@dataclass
class Scene:
    """A fresh customer, their funded account, and another customer's account."""

    customer: Caller
    account: str
    payee: str


@contextmanager
def new_scene(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, funded: float = 50_000
) -> Iterator[Scene]:
    user_id = create_user(rest, "CUSTOMER", "Risk Tester")
    customer = user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)
    account = open_account(rest, owner=user_id, funded=funded)
    payee = open_account(rest, owner=BOB)
    try:
        yield Scene(customer, account, payee)
    finally:
        customer.close()
    assert_ledger_consistent(stack)


def send(caller: Rest, source: str, target: str, amount: float, **headers: str) -> Any:
    body = {"fromAccountId": source, "toAccountId": target, "amount": amount}
    return caller.post("/v1/transactions/transfer", json=body, headers=headers)


@contextmanager
def rule(rest: Rest, **body: Any) -> Iterator[dict[str, Any]]:
    """A rule of the test's own, disabled when the block ends."""
    body.setdefault("name", f"test {body.get('kind')}")
    made = envelope.success(rest.post("/v1/risk/rules", json=body), 201)["rule"]
    try:
        yield made
    finally:
        patch(rest, made["id"], enabled=False)


@contextmanager
def changed(rest: Rest, rule_id: str, **changes: Any) -> Iterator[dict[str, Any]]:
    """A sandbox default changed for the block, then put back."""
    before = envelope.success(rest.get(f"/v1/risk/rules/{rule_id}"))["rule"]
    try:
        yield patch(rest, rule_id, **changes)
    finally:
        patch(rest, rule_id, **{name: before[name] for name in changes})


def patch(rest: Rest, rule_id: str, **changes: Any) -> dict[str, Any]:
    response = rest.patch(f"/v1/risk/rules/{rule_id}", json=changes)
    return envelope.success(response)["rule"]  # type: ignore[no-any-return]


def account(rest: Rest, account_id: str) -> dict[str, Any]:
    return envelope.success(rest.get(f"/v1/accounts/{account_id}"))["account"]  # type: ignore[no-any-return]


def balances(rest: Rest, account_id: str) -> tuple[float, float]:
    """(balance, available balance)."""
    found = account(rest, account_id)
    return float(found["balance"]), float(found["availableBalance"])


def alert_of(rest: Rest, transaction_id: str) -> dict[str, Any]:
    """The alert holding `transaction_id` (from the OPEN queue or any status)."""
    for status in ("OPEN", ""):
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "limit": 100}
            if status:
                params["status"] = status
            data = envelope.success(rest.get("/v1/risk/alerts", params=params))
            for found in data.get("alerts", []):
                if found["transactionId"] == transaction_id:
                    return found  # type: ignore[no-any-return]
            if not data["pagination"]["hasNext"]:
                break
            page += 1
    raise AssertionError(f"no alert holds {transaction_id}")


def decisions(stack: Stack, account_id: str) -> list[tuple[str, str | None]]:
    """The account's stored decisions, oldest first: (decision, rule id)."""
    rows = query(
        stack,
        "SELECT decision, rule_id FROM risk_decisions WHERE account_id = %s ORDER BY id",
        (account_id,),
    )
    return [(str(decision), rule_id) for decision, rule_id in rows]


def allowed(stack: Stack, account_id: str) -> int:
    """How many of the account's debits carry an ALLOW decision (kept in the
    movement's own metadata)."""
    rows = query(
        stack,
        "SELECT COUNT(*) FROM ledger_transactions WHERE from_account_id = %s AND details LIKE %s",
        (account_id, '%"risk_decision": "ALLOW"%'),
    )
    return int(rows[0][0])

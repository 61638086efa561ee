"""Factories for refund tests: a customer who paid someone, requests, reviews.

A fresh customer with a funded account of their own pays a fresh account of
another customer; the customer asks for the money back and staff (the
sandbox client, ADMIN) review it. `refunds_paid` is what the bank's refunds
account has paid out, to check that exactly what was approved was credited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc

from server.run import Stack
from server.store.bootstrap import internal_account_id
from tests.common import envelope
from tests.common.money import BOB, assert_ledger_consistent, open_account, query, transfer
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest

REFUNDS = internal_account_id("REFUNDS", "USD")


@dataclass
class Scene:
    """A customer, their funded account, another customer's account."""

    customer: Caller
    account: str
    payee: str


@contextmanager
def new_scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    """A fresh Scene; the ledger is checked whole when the block ends."""
    user_id = create_user(rest, "CUSTOMER", "Refund Tester")
    customer = user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)
    account = open_account(rest, owner=user_id, funded=1000)
    payee = open_account(rest, owner=BOB)
    yield Scene(customer, account, payee)
    customer.close()
    assert_ledger_consistent(stack)


def paid(scene: Scene, amount: float) -> dict[str, Any]:
    """A COMPLETED transfer from the customer's account to the other customer's."""
    response = transfer(scene.customer.rest, scene.account, scene.payee, amount)
    return envelope.success(response, 201)["transaction"]  # type: ignore[no-any-return]


def ask(caller: Rest, transaction_id: str, **body: Any) -> Any:
    body.setdefault("reason", "DUPLICATE_PAYMENT")
    return caller.post(f"/v1/transactions/{transaction_id}/refund", json=body)


def asked(caller: Rest, transaction_id: str, **body: Any) -> dict[str, Any]:
    data = envelope.success(ask(caller, transaction_id, **body), 201)
    return data["refundRequest"]  # type: ignore[no-any-return]


def approve(caller: Rest, request_id: str, **body: Any) -> Any:
    return caller.post(f"/v1/refund-requests/{request_id}/approve", json=body)


def reject(caller: Rest, request_id: str, reason: str = "Not a duplicate") -> Any:
    return caller.post(f"/v1/refund-requests/{request_id}/reject", json={"reason": reason})


def transaction(rest: Rest, transaction_id: str) -> dict[str, Any]:
    return envelope.success(rest.get(f"/v1/transactions/{transaction_id}"))["transaction"]  # type: ignore[no-any-return]


def refunds_paid(stack: Stack) -> int:
    """Minor units the refunds account has paid out so far (its balance, negated)."""
    return -int(query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (REFUNDS,))[0][0])


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)

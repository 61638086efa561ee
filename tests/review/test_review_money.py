"""Money an outsider can recover twice: a debit made good by a dispute must
not be refundable again, and the other way round.

Opening a dispute subtracts what was refunded or asked for
(server/domain/disputes.py DisputableTransaction.disputable_minor), but a
refund request ignores what disputes credited or hold open
(server/domain/refunds.py RefundableTransaction.refundable_minor): a customer
whose dispute was resolved in their favour (or is open with its provisional
credit posted) can still ask for, and be approved, a refund of the same
money. Staff can also reverse a debit whose open dispute has credited it
provisionally: the customer then holds the money twice.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from server.run import Stack
from tests.common import envelope
from tests.common.disputes import opened, resolve
from tests.common.money import balance
from tests.common.refunds import Scene, ask, new_scene, paid
from tests.conftest import Rest


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    with new_scene(stack, raw_channel, rest) as made:
        yield made


def test_a_debit_won_in_dispute_is_not_refunded_again(rest: Rest, scene: Scene) -> None:
    debit = paid(scene, 100)
    dispute = opened(scene.customer.rest, debit["id"], reason="UNAUTHORIZED_TRANSACTION")
    envelope.success(resolve(rest, dispute["id"], "CUSTOMER_FAVOR"))
    made_good = balance(rest, scene.account)
    assert made_good == 1000  # the 100 came back from the disputes account
    response = ask(scene.customer.rest, debit["id"])
    if response.status_code == 201:
        request_id = response.json()["data"]["refundRequest"]["id"]
        rest.post(f"/v1/refund-requests/{request_id}/approve", json={})
    assert response.status_code in (409, 422), response.text
    assert balance(rest, scene.account) == made_good


def test_a_debit_under_open_dispute_is_not_refundable(rest: Rest, scene: Scene) -> None:
    debit = paid(scene, 60)
    opened(scene.customer.rest, debit["id"], reason="UNAUTHORIZED_TRANSACTION")
    assert balance(rest, scene.account) == 1000  # provisionally credited at once
    response = ask(scene.customer.rest, debit["id"])
    assert response.status_code in (409, 422), response.text


def test_a_debit_under_open_dispute_is_not_reversed(rest: Rest, scene: Scene) -> None:
    debit = paid(scene, 70)
    opened(scene.customer.rest, debit["id"], reason="UNAUTHORIZED_TRANSACTION")
    assert balance(rest, scene.account) == 1000  # provisionally credited at once
    response = rest.post(f"/v1/transactions/{debit['id']}/reverse", json={"reason": "FRAUD"})
    assert balance(rest, scene.account) == 1000, response.text
    assert response.status_code == 409, response.text

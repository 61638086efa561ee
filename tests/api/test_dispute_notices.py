"""A dispute's owner is told by email (DISPUTE_UPDATE) when it opens, when
its provisional credit posts later, and when it is resolved; read back
through the sandbox inbox, on both databases. A refused dispute tells
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from server.run import Stack
from tests.common import envelope
from tests.common.accounts import server_now
from tests.common.disputes import opened, resolve, stamp
from tests.common.refunds import Scene, new_scene, paid
from tests.conftest import Rest


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    with new_scene(stack, raw_channel, rest) as made:
        yield made


def _notices(rest: Rest, scene: Scene, dispute_id: str) -> list[dict[str, Any]]:
    """The owner's DISPUTE_UPDATE messages about the dispute, oldest first."""
    data = envelope.success(
        rest.get(
            "/v1/sandbox/notifications",
            params={"userId": scene.customer.user_id, "kind": "DISPUTE_UPDATE", "limit": 100},
        )
    )
    found = [n for n in data["notifications"] if n.get("relatedId") == dispute_id]
    return list(reversed(found))


def test_opening_the_later_credit_and_a_merchant_favor_are_each_told(
    rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 80)
    dispute = opened(scene.customer.rest, original["id"], amount=60.5)
    due = stamp(dispute["provisionalCreditDue"])
    [first] = _notices(rest, scene, dispute["id"])
    assert (first["channel"], first["status"] in ("PENDING", "SENT")) == ("EMAIL", True)
    assert first["subject"] == f"Dispute {dispute['id']}: OPEN"
    assert first["transactionId"] == original["id"]
    assert original["transactionNumber"] in first["body"]
    assert (
        f"If it is still open on {due.date().isoformat()}, a provisional credit of USD 60.50"
        " will be made." in first["body"]
    )
    # The investigation deadline passes: the sweeper credits, and says so.
    days = (due.date() - server_now(rest).date()).days + 1
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": days}))
    notices = _notices(rest, scene, dispute["id"])
    assert len(notices) == 2
    assert (
        "A provisional credit of USD 60.50 was made to your account while we investigate."
        in (notices[1]["body"])
    )
    envelope.success(resolve(rest, dispute["id"], "MERCHANT_FAVOR"))
    notices = _notices(rest, scene, dispute["id"])
    assert len(notices) == 3
    assert notices[2]["subject"] == f"Dispute {dispute['id']}: RESOLVED"
    assert "the provisional credit of USD 60.50 was taken back" in notices[2]["body"]
    # Nothing is told twice: a later sweep credits nothing and says nothing.
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 1}))
    assert len(_notices(rest, scene, dispute["id"])) == 3


def test_an_unauthorized_transaction_is_told_of_its_credit_and_its_final_outcome(
    rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 150)
    dispute = opened(scene.customer.rest, original["id"], reason="UNAUTHORIZED_TRANSACTION")
    envelope.success(resolve(rest, dispute["id"], "CUSTOMER_FAVOR"))
    opened_notice, resolved_notice = _notices(rest, scene, dispute["id"])
    assert "A provisional credit of USD 150.00 was made to your account." in opened_notice["body"]
    assert "resolved in your favour: the credit of USD 150.00 is final." in resolved_notice["body"]
    # The customer reads their own messages too.
    mine = envelope.success(
        scene.customer.rest.get("/v1/sandbox/notifications", params={"kind": "DISPUTE_UPDATE"})
    )["notifications"]
    assert {n["id"] for n in mine} >= {opened_notice["id"], resolved_notice["id"]}


def test_a_refused_dispute_or_resolution_tells_nothing(rest: Rest, scene: Scene) -> None:
    original = paid(scene, 20)
    dispute = opened(scene.customer.rest, original["id"], reason="MERCHANT_ERROR")
    envelope.success(resolve(rest, dispute["id"], "MERCHANT_FAVOR"))
    assert len(_notices(rest, scene, dispute["id"])) == 2
    # Resolved once: a second resolution is refused and writes no message.
    second = resolve(rest, dispute["id"], "CUSTOMER_FAVOR")
    assert second.status_code == 409, second.text
    assert len(_notices(rest, scene, dispute["id"])) == 2

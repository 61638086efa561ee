"""Helpers of the external transfer tests: beneficiaries, requests, settling
them with the sandbox clock, and where their money went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.run import Stack
from server.store.bootstrap import internal_account_id
from tests.common import envelope
from tests.common.money import account, query
from tests.conftest import Rest

PATH = "/v1/transactions/transfer/external"
ACH_CLEARING = internal_account_id("ACH_CLEARING", "USD")
WIRE_CLEARING = internal_account_id("WIRE_CLEARING", "USD")
FEE_INCOME = internal_account_id("FEE_INCOME", "USD")
ROUTING = "021000021"  # a valid ABA routing number (3-7-1 check digit)


def ach(number: str = "9876543210", **extra: Any) -> dict[str, Any]:
    """An ACH beneficiary; a field given as None is left out."""
    fields = {
        "name": "Jane Smith",
        "accountNumber": number,
        "routingNumber": ROUTING,
        "bankName": "External Bank",
        "accountType": "CHECKING",
        **extra,
    }
    return {key: value for key, value in fields.items() if value is not None}


def send(rest: Rest, source: str, amount: float, beneficiary: Any = None, **extra: Any) -> Any:
    body = {
        "fromAccountId": source,
        "beneficiary": beneficiary if beneficiary is not None else ach(),
        "amount": amount,
        **extra,
    }
    return rest.post(PATH, json=body)


def created(rest: Rest, source: str, amount: float, **extra: Any) -> dict[str, Any]:
    response = send(rest, source, amount, **extra)
    data = envelope.success(response, 201)
    assert response.json()["message"] == "External transfer initiated"
    return data["transaction"]  # type: ignore[no-any-return]


def moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=None)


def settle(rest: Rest, txn: dict[str, Any]) -> dict[str, Any]:
    """Moves the sandbox clock just past the transfer's estimated completion (the
    due work runs at once) and reads the transfer back."""
    now = moment(envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"])
    seconds = int((moment(txn["estimatedCompletion"]) - now).total_seconds()) + 1
    if seconds > 0:
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": seconds}))
    return envelope.success(rest.get(f"/v1/transactions/{txn['id']}"))["transaction"]  # type: ignore[no-any-return]


def postings(stack: Stack, transaction_id: str) -> dict[str, int]:
    """Net minor units per account over the transaction's postings (zeros left out)."""
    rows = query(
        stack,
        "SELECT account_id, SUM(amount_minor) FROM postings WHERE transaction_id = %s"
        " GROUP BY account_id",
        (transaction_id,),
    )
    return {str(account_id): int(total) for account_id, total in rows if int(total) != 0}


def money(rest: Rest, account_id: str) -> tuple[float, float, float]:
    """(balance, available balance, pending debits) of an account."""
    shown = account(rest, account_id)
    return shown["balance"], shown["availableBalance"], shown["pendingDebits"]

"""Money movements through REST (Envoy) and gRPC, on both databases."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, timedelta

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import (
    ALICE_CARD,
    ALICE_CHECKING,
    BOB,
    BOB_CARD,
    BOB_CHECKING,
    account,
    assert_ledger_consistent,
    balance,
    deposit,
    open_account,
    query,
    transfer,
)
from tests.conftest import Rest


@pytest.fixture
def pair(rest: Rest) -> tuple[str, str]:
    """Two fresh CHECKING accounts: alice's with 1,000.00, bob's empty."""
    return open_account(rest, funded=1000), open_account(rest, owner=BOB)


# --- transfers -------------------------------------------------------------------


def test_transfer_moves_money_and_shows_it_everywhere(rest: Rest, pair: tuple[str, str]) -> None:
    source, target = pair
    response = transfer(
        rest, source, target, 250.75, description="Rent payment", reference="RENT-NOV-2025"
    )
    data = envelope.success(response, 201)
    assert response.json()["message"] == "Transfer completed successfully"
    txn = data["transaction"]
    assert txn["id"].startswith("txn_")
    assert txn["transactionNumber"].startswith("TXN")
    assert (txn["type"], txn["status"]) == ("TRANSFER", "COMPLETED")
    assert txn["amount"] == 250.75 and txn["fee"] == 0 and txn["currency"] == "USD"
    assert txn["fromAccount"]["id"] == source and txn["fromAccount"]["balance"] == 749.25
    assert txn["fromAccount"]["accountNumber"].startswith("****")
    assert txn["toAccount"]["id"] == target
    assert txn["balanceAfter"] == 749.25
    assert txn["metadata"]["ipAddress"]
    assert balance(rest, source) == 749.25
    assert balance(rest, target) == 250.75

    got = envelope.success(rest.get(f"/api/transactions/{txn['id']}"))["transaction"]
    assert got["transactionNumber"] == txn["transactionNumber"]
    assert got["fromAccount"]["accountNumber"] == txn["fromAccount"]["accountNumber"]
    assert got["fromAccount"]["holder"] and got["toAccount"]["holder"]
    assert got["balanceAfter"] == 749.25

    history = envelope.success(rest.get(f"/api/transactions?accountId={target}"))
    (item,) = history["transactions"]
    assert item["direction"] == "CREDIT" and item["amount"] == 250.75
    assert history["summary"] == {
        "totalDebits": 0,
        "totalCredits": 250.75,
        "netChange": 250.75,
        "currency": "USD",
    }


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "TXN005"),
        (-5, "TXN005"),
        (0.001, "TXN005"),
        (10.005, "TXN005"),
        ("NaN", "TXN005"),
        ("Infinity", "TXN005"),
        (1e20, "TXN005"),
        (10_000.01, "TXN005"),
    ],
)
def test_transfer_refuses_invalid_amounts(
    rest: Rest, stack: Stack, pair: tuple[str, str], amount: object, code: str
) -> None:
    source, target = pair
    envelope.error(transfer(rest, source, target, amount), 422, code, field="amount")
    assert balance(rest, source) == 1000 and balance(rest, target) == 0
    assert (
        query(stack, "SELECT COUNT(*) FROM account_entries WHERE account_id = %s", (target,))[0][0]
        == 0
    )


@pytest.mark.parametrize("amount", ["ten", {"v": 1}, [1], True])
def test_transfer_refuses_amounts_of_the_wrong_json_type(
    rest: Rest, pair: tuple[str, str], amount: object
) -> None:
    envelope.error(transfer(rest, *pair, amount), 400, "INVALID_REQUEST")


def test_transfer_rules(rest: Rest, pair: tuple[str, str]) -> None:
    source, target = pair
    missing = "acc_doesnotexist000000"
    envelope.error(transfer(rest, missing, target, 10), 404, "TXN002", "fromAccountId")
    envelope.error(transfer(rest, source, missing, 10), 404, "TXN002", "toAccountId")
    envelope.error(transfer(rest, source, source, 10), 422, "VALIDATION_ERROR", "toAccountId")
    envelope.error(transfer(rest, source, target, 10, currency="EUR"), 422, "TXN006", "currency")
    envelope.error(transfer(rest, source, target, 1000.01), 422, "TXN001", "amount")
    envelope.error(transfer(rest, source, "", 10), 422, "VALIDATION_ERROR", "toAccountId")
    envelope.error(
        transfer(rest, source, target, 1, description="x" * 256),
        422,
        "VALIDATION_ERROR",
        "description",
    )
    assert balance(rest, source) == 1000 and balance(rest, target) == 0


def test_frozen_and_closed_accounts_refuse_movements(rest: Rest, pair: tuple[str, str]) -> None:
    source, target = pair
    envelope.success(rest.post(f"/v1/accounts/{target}/freeze", json={"reason": "fraud review"}))
    envelope.error(transfer(rest, source, target, 5), 422, "TXN003", "toAccountId")
    envelope.error(
        rest.post(
            "/v1/transactions/deposit", json={"accountId": target, "amount": 5, "method": "CASH"}
        ),
        422,
        "TXN003",
    )
    envelope.success(rest.post(f"/v1/accounts/{target}/unfreeze", json={"reason": "cleared"}))
    envelope.success(rest.post(f"/v1/accounts/{target}/close", json={"reason": "done"}))
    envelope.error(transfer(rest, source, target, 5), 422, "TXN003", "toAccountId")
    assert balance(rest, source) == 1000


def test_per_transaction_maximum_can_be_raised_by_staff(rest: Rest) -> None:
    source = open_account(rest, type_="BUSINESS", funded=30_000)
    target = open_account(rest, owner=BOB)
    envelope.error(transfer(rest, source, target, 12_000), 422, "TXN005", "amount")
    envelope.success(
        rest.put(
            f"/v1/accounts/{source}/limits",
            json={"perTransactionInternalTransferMax": 15_000, "reason": "verified customer"},
        )
    )
    envelope.success(transfer(rest, source, target, 12_000), 201)


def test_daily_transfer_limit(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, type_="SAVINGS", funded=9_000)
    target = open_account(rest, owner=BOB)
    envelope.success(transfer(rest, source, target, 4_500), 201)
    error = envelope.error(transfer(rest, source, target, 600), 422, "TXN004", "amount")
    assert "Daily" in error["message"]
    envelope.success(transfer(rest, source, target, 500), 201)  # exactly the 5,000 limit
    events = query(
        stack,
        "SELECT COUNT(*) FROM outbox_events WHERE type = %s AND aggregate_id = %s",
        ("limit.approaching", source),
    )
    assert events[0][0] >= 1


def test_overdraft_line_and_fee(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=100, overdraft=500)
    target = open_account(rest, owner=BOB)
    envelope.success(transfer(rest, source, target, 300), 201)
    assert balance(rest, source) == -235  # 100 - 300 - 35 overdraft fee
    fees = query(
        stack,
        "SELECT amount_minor, type FROM ledger_transactions"
        " WHERE from_account_id = %s AND type = 'FEE'",
        (source,),
    )
    assert fees == [(3500, "FEE")]
    # 500 - 235 = 265 left on the line; 240 + a second 35 fee would not fit.
    envelope.error(transfer(rest, source, target, 240), 422, "TXN001")
    envelope.success(transfer(rest, source, target, 230), 201)
    assert balance(rest, source) == -500
    assert_ledger_consistent(stack)


def test_savings_has_no_overdraft(rest: Rest) -> None:
    source = open_account(rest, type_="SAVINGS", funded=50)
    envelope.error(transfer(rest, source, open_account(rest, owner=BOB), 50.01), 422, "TXN001")


# --- deposits and withdrawals ---------------------------------------------------


def test_cash_deposit_is_available_at_once_and_check_deposit_is_held(
    rest: Rest, stack: Stack
) -> None:
    target = open_account(rest)
    cash = deposit(rest, target, 100)
    assert cash["availableDate"] == cash["timestamp"]
    check = deposit(rest, target, 400, method="CHECK")
    assert check["holdId"].startswith("hold_") and check["availableDate"] > check["timestamp"]
    state = account(rest, target)
    assert state["balance"] == 500 and state["availableBalance"] == 100
    source_target = open_account(rest, owner=BOB)
    envelope.error(transfer(rest, target, source_target, 150), 422, "TXN001")
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 6}))
    assert account(rest, target)["availableBalance"] == 500
    envelope.success(transfer(rest, target, source_target, 150), 201)
    assert_ledger_consistent(stack)


def test_deposit_rules(rest: Rest) -> None:
    target = open_account(rest)
    post = lambda body: rest.post("/v1/transactions/deposit", json=body)  # noqa: E731
    envelope.error(post({"accountId": target, "amount": 10}), 422, "VALIDATION_ERROR", "method")
    envelope.error(post({"accountId": target, "amount": 0, "method": "CASH"}), 422, "TXN005")
    envelope.error(
        post({"accountId": target, "amount": 10_000.01, "method": "MOBILE_CHECK"}), 422, "TXN005"
    )
    envelope.error(
        post({"accountId": target, "amount": 1, "method": "CASH", "currency": "GBP"}), 422, "TXN006"
    )
    envelope.error(
        post({"accountId": target, "amount": 1, "method": "TELEPORT"}), 400, "INVALID_REQUEST"
    )
    assert balance(rest, target) == 0


def _withdraw(rest: Rest, account_id: str, amount: float, **extra: object) -> object:
    body = {"accountId": account_id, "amount": amount, **extra}
    return rest.post("/api/transactions/withdrawal", json=body)


def test_atm_fees_by_network(rest: Rest) -> None:
    card, pin = ALICE_CARD
    atm = {"method": "ATM", "cardNumber": card, "pin": pin}
    start = balance(rest, ALICE_CHECKING)
    own = envelope.success(_withdraw(rest, ALICE_CHECKING, 20, location="ATM-NYC-001", **atm), 201)
    other = envelope.success(_withdraw(rest, ALICE_CHECKING, 20, location="CHASE-0042", **atm), 201)
    abroad = envelope.success(
        _withdraw(rest, ALICE_CHECKING, 20, location="BNP-PARIS-7", locationCountry="FR", **atm),
        201,
    )
    fees = [own["transaction"]["fee"], other["transaction"]["fee"], abroad["transaction"]["fee"]]
    assert fees == [0, 2.5, 5]
    assert [t["transaction"]["atmNetwork"] for t in (own, other, abroad)] == [
        "IN_NETWORK",
        "OUT_OF_NETWORK",
        "INTERNATIONAL",
    ]
    assert own["transaction"]["cardNumber"] == "****1111"
    assert balance(rest, ALICE_CHECKING) == pytest.approx(start - 60 - 7.5)
    envelope.error(
        _withdraw(rest, ALICE_CHECKING, 500.01, location="ATM-NYC-001", **atm),
        422,
        "TXN005",
        "amount",
    )
    envelope.error(
        _withdraw(rest, ALICE_CHECKING, 20, location="ATM-NOWHERE-9", **atm),
        422,
        "VALIDATION_ERROR",
        "location",
    )


def test_wrong_pins_lock_the_card(rest: Rest) -> None:
    card, pin = BOB_CARD
    atm = {"method": "ATM", "cardNumber": card, "location": "ATM-NYC-002"}
    start = balance(rest, BOB_CHECKING)
    envelope.error(_withdraw(rest, BOB_CHECKING, 20, pin="0000", **atm), 422, "INVALID_PIN", "pin")
    envelope.error(_withdraw(rest, BOB_CHECKING, 20, pin="0001", **atm), 422, "INVALID_PIN", "pin")
    envelope.error(_withdraw(rest, BOB_CHECKING, 20, pin="0002", **atm), 422, "CARD_LOCKED", "pin")
    envelope.error(_withdraw(rest, BOB_CHECKING, 20, pin=pin, **atm), 422, "CARD_LOCKED")
    assert balance(rest, BOB_CHECKING) == start


def test_withdrawal_rules(rest: Rest) -> None:
    target = open_account(rest, funded=100)
    envelope.error(
        _withdraw(rest, target, 10, method="ATM", location="ATM-NYC-001", pin="1"),
        422,
        "VALIDATION_ERROR",
        "cardNumber",
    )
    envelope.error(
        _withdraw(
            rest,
            target,
            10,
            method="ATM",
            location="ATM-NYC-001",
            cardNumber=ALICE_CARD[0],
            pin=ALICE_CARD[1],
        ),
        422,
        "VALIDATION_ERROR",
        "cardNumber",
    )  # card of another account
    envelope.error(
        _withdraw(rest, target, 10, method="BRANCH"), 422, "VALIDATION_ERROR", "location"
    )
    envelope.error(
        _withdraw(rest, target, 100.01, method="BRANCH", location="Branch A"), 422, "TXN001"
    )
    data = envelope.success(_withdraw(rest, target, 100, method="BRANCH", location="Branch A"), 201)
    assert data["transaction"]["fee"] == 0 and balance(rest, target) == 0


# --- generic POST /transactions ---------------------------------------------------


def test_generic_create_dispatches_on_type(rest: Rest, pair: tuple[str, str]) -> None:
    source, target = pair
    created = rest.post(
        "/backoffice/v1/transactions",
        json={"type": "TRANSFER", "fromAccountId": source, "toAccountId": target, "amount": 10},
    )
    assert envelope.success(created, 201)["transaction"]["type"] == "TRANSFER"
    dep = rest.post(
        "/v1/transactions",
        json={"type": "DEPOSIT", "accountId": target, "amount": 5, "method": "CASH"},
    )
    assert envelope.success(dep, 201)["transaction"]["type"] == "DEPOSIT"
    envelope.error(
        rest.post(
            "/v1/transactions",
            json={
                "type": "DEPOSIT",
                "accountId": target,
                "amount": 5,
                "method": "CASH",
                "pin": "1234",
            },
        ),
        422,
        "VALIDATION_ERROR",
        "pin",
    )
    envelope.error(
        rest.post("/v1/transactions", json={"amount": 5}), 422, "VALIDATION_ERROR", "type"
    )
    assert balance(rest, target) == 15


# --- history -------------------------------------------------------------------------


def test_history_filters_sorting_paging_and_summary(rest: Rest) -> None:
    source = open_account(rest, funded=5_000)
    target = open_account(rest, owner=BOB)
    tag = uuid.uuid4().hex[:8]
    for index, amount in enumerate([10, 20, 30, 40, 50]):
        envelope.success(
            transfer(rest, source, target, amount, description=f"{tag} rent {index}"), 201
        )
    base = f"/api/transactions?accountId={source}"
    everything = envelope.success(rest.get(base))
    assert everything["pagination"]["totalItems"] == 6  # the funding deposit + 5 transfers
    assert everything["summary"]["totalDebits"] == 150
    assert everything["summary"]["totalCredits"] == 5_000
    assert everything["summary"]["netChange"] == 4_850

    only = envelope.success(rest.get(f"{base}&type=TRANSFER&minAmount=20&maxAmount=40"))
    assert sorted(t["amount"] for t in only["transactions"]) == [20, 30, 40]
    assert (
        envelope.success(rest.get(f"{base}&search={tag}%20rent%203"))["transactions"][0]["amount"]
        == 40
    )
    ascending = envelope.success(rest.get(f"{base}&type=TRANSFER&sortBy=amount&sortOrder=asc"))
    assert [t["amount"] for t in ascending["transactions"]] == [10, 20, 30, 40, 50]
    seed000 = envelope.success(
        rest.get(
            f"/backoffice/v1/transactions?account_id={source}&type=transfer&sort=amount&order=desc"
        )
    )
    assert [t["amount"] for t in seed000["transactions"]] == [50, 40, 30, 20, 10]

    pages, token = [], ""
    while True:
        page = envelope.success(
            rest.get(f"{base}&limit=2" + (f"&pageToken={token}" if token else ""))
        )
        pages.append([t["id"] for t in page["transactions"]])
        token = page.get("nextPageToken", "")
        if not token:
            break
    flat = [tid for page_ids in pages for tid in page_ids]
    assert len(flat) == 6 and len(set(flat)) == 6 and [len(p) for p in pages] == [2, 2, 2]
    page2 = envelope.success(rest.get(f"{base}&limit=2&page=2"))
    assert [t["id"] for t in page2["transactions"]] == pages[1]
    assert page2["pagination"]["hasPrevious"] is True and page2["pagination"]["hasNext"] is True
    assert rest.get(f"{base}&limit=2&page=2").json()["pagination"]["currentPage"] == 2

    today = everything["transactions"][0]["timestamp"][:10]
    dated = envelope.success(rest.get(f"{base}&startDate={today}&endDate={today}"))
    assert dated["pagination"]["totalItems"] in (0, 6)  # the sandbox clock may have moved


def test_continuation_pages_carry_the_first_pages_totals(rest: Rest) -> None:
    """A page reached with a token answers the totals its query's first page
    counted (not counted again); a token whose totals were changed is refused."""
    source, target = open_account(rest, funded=1_000), open_account(rest)
    for amount in (1, 2, 3):
        envelope.success(transfer(rest, source, target, amount), 201)
    base = f"/api/transactions?accountId={source}&limit=2"
    first = envelope.success(rest.get(base))
    assert first["pagination"]["totalItems"] == 4
    assert first["summary"]["totalDebits"] == 6 and first["summary"]["totalCredits"] == 1_000
    token = first["nextPageToken"]
    envelope.success(transfer(rest, source, target, 4), 201)  # after the first page
    second = envelope.success(rest.get(f"{base}&pageToken={token}"))
    assert second["pagination"]["totalItems"] == 4
    assert second["summary"] == first["summary"]
    assert len(second["transactions"]) == 2 and "nextPageToken" not in second
    # A fresh first page counts again.
    again = envelope.success(rest.get(base))
    assert again["pagination"]["totalItems"] == 5 and again["summary"]["totalDebits"] == 10
    # Totals cannot be made up: the token is signed.
    encoded, _, signature = token.partition(".")
    body = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    body["t"] = [1, 0, 0]
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    for bad in (f"{forged}.{signature}", encoded, f"{encoded}.{signature[:-2]}"):
        envelope.error(rest.get(f"{base}&pageToken={bad}"), 422, "VALIDATION_ERROR", "pageToken")


def test_history_input_errors(rest: Rest) -> None:
    source = open_account(rest)
    base = f"/api/transactions?accountId={source}"
    envelope.error(rest.get("/api/transactions"), 422, "VALIDATION_ERROR", "accountId")
    envelope.error(rest.get(f"{base}&startDate=2025-13-01"), 422, "VALIDATION_ERROR", "startDate")
    envelope.error(
        rest.get(f"{base}&startDate=2025-01-02&date_from=2025-01-03"),
        422,
        "VALIDATION_ERROR",
        "startDate",
    )
    envelope.error(
        rest.get(f"{base}&startDate=2025-02-01&endDate=2025-01-01"),
        422,
        "VALIDATION_ERROR",
        "endDate",
    )
    envelope.error(rest.get(f"{base}&sortBy=colour"), 422, "VALIDATION_ERROR", "sortBy")
    envelope.error(rest.get(f"{base}&pageToken=garbage"), 422, "VALIDATION_ERROR", "pageToken")
    envelope.error(rest.get(f"{base}&minAmount=50&maxAmount=10"), 422, "VALIDATION_ERROR")
    envelope.error(rest.get("/api/transactions?accountId=acc_nope00000000000000"), 404, "TXN002")
    other = open_account(rest)
    token = envelope.success(rest.get(f"/api/transactions?accountId={other}&limit=1"))
    assert "nextPageToken" not in token
    envelope.success(rest.get(f"{base}&limit=500"))  # lowered to the maximum, not an error


def test_search(rest: Rest) -> None:
    source = open_account(rest, funded=1_000)
    target = open_account(rest, owner=BOB)
    tag = uuid.uuid4().hex[:8]
    envelope.success(transfer(rest, source, target, 120, description=f"{tag} rent"), 201)
    envelope.success(transfer(rest, source, target, 80, description=f"{tag} utilities"), 201)
    envelope.success(transfer(rest, source, target, 500, description=f"{tag} car"), 201)
    body = {
        "accountId": source,
        "filters": {
            "types": ["TRANSFER", "PAYMENT"],
            "status": ["COMPLETED"],
            "amountRange": {"min": 50, "max": 200},
            "keywords": ["rent", "utilities"],
        },
        "page": 1,
        "limit": 20,
    }
    found = envelope.success(rest.post("/api/transactions/search", json=body))
    assert sorted(t["amount"] for t in found["transactions"]) == [80, 120]
    body["filters"]["keywords"] = [f"k{i}" for i in range(11)]  # type: ignore[index]
    envelope.error(rest.post("/api/v1/transactions/search", json=body), 422, "VALIDATION_ERROR")


def test_search_keywords_are_plain_substrings(rest: Rest) -> None:
    """LIKE's wildcards in a keyword match themselves, nothing else; case does not matter."""
    source = open_account(rest, funded=1_000)
    target = open_account(rest, owner=BOB)
    tag = uuid.uuid4().hex[:8]
    envelope.success(transfer(rest, source, target, 10, description=f"{tag} 50% off"), 201)
    envelope.success(transfer(rest, source, target, 20, description=f"{tag} 500 units"), 201)
    envelope.success(transfer(rest, source, target, 30, description=f"{tag} a_b"), 201)
    envelope.success(transfer(rest, source, target, 40, description=f"{tag} axb"), 201)

    def amounts(*keywords: str) -> list[int]:
        body = {"accountId": source, "filters": {"keywords": list(keywords)}}
        found = envelope.success(rest.post("/api/transactions/search", json=body))
        return sorted(t["amount"] for t in found["transactions"])

    assert amounts("50%") == [10]
    assert amounts("a_b") == [30]
    assert amounts("A_B", "50%") == [10, 30]
    assert amounts("%") == [10]
    assert amounts(f"{tag.upper()} AXB") == [40]


def test_get_unknown_transaction(rest: Rest) -> None:
    envelope.error(rest.get("/v1/transactions/txn_unknown0000000000"), 404, "NOT_FOUND")


# --- idempotency -------------------------------------------------------------------


def test_idempotent_replay_and_key_reuse(rest: Rest, stack: Stack, pair: tuple[str, str]) -> None:
    source, target = pair
    key = {"Idempotency-Key": f"test-{uuid.uuid4()}"}
    first = transfer_with(rest, source, target, 100, key)
    again = transfer_with(rest, source, target, 100, key)
    assert envelope.success(first, 201) == envelope.success(again, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance(rest, source) == 900
    envelope.error(transfer_with(rest, source, target, 101, key), 409, "IDEMPOTENCY_KEY_REUSED")
    # A failure while executing is the key's outcome too.
    key2 = {"Idempotency-Key": f"test-{uuid.uuid4()}"}
    envelope.error(transfer_with(rest, source, target, 5_000, key2), 422, "TXN001")
    deposit(rest, source, 10_000)
    replayed = transfer_with(rest, source, target, 5_000, key2)
    envelope.error(replayed, 422, "TXN001")
    assert replayed.headers["Idempotent-Replayed"] == "true"
    envelope.error(
        transfer_with(rest, source, target, 1, {"Idempotency-Key": "bad key\u00e9"}),
        400,
        "INVALID_REQUEST",
    )
    assert_ledger_consistent(stack)


def transfer_with(
    rest: Rest, source: str, target: str, amount: float, headers: dict[str, str]
) -> object:
    body = {"fromAccountId": source, "toAccountId": target, "amount": amount}
    return rest.post("/v1/transactions/transfer", json=body, headers=headers)


def test_grpc_transfer_replay_is_byte_for_byte(
    rest: Rest, grpc_channel: grpc.Channel, pair: tuple[str, str]
) -> None:
    source, target = pair
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    request = pb.CreateTransferRequest(from_account_id=source, to_account_id=target, amount=12.34)
    metadata = [("idempotency-key", f"grpc-{uuid.uuid4()}")]
    first, _ = stub.CreateTransfer.with_call(request, metadata=metadata, timeout=30)
    second, call = stub.CreateTransfer.with_call(request, metadata=metadata, timeout=30)
    assert first.SerializeToString() == second.SerializeToString()
    assert ("idempotent-replayed", "true") in call.initial_metadata()
    assert balance(rest, source) == pytest.approx(987.66)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateTransfer(
            pb.CreateTransferRequest(from_account_id=source, to_account_id=target, amount=5_000),
            timeout=30,
        )
    envelope.grpc_error(caught.value, grpc.StatusCode.FAILED_PRECONDITION, "TXN001")
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateTransfer(
            pb.CreateTransferRequest(from_account_id=source, to_account_id=target, amount=0.001),
            timeout=30,
        )
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "TXN005")
    assert info.metadata["field"] == "amount"


def test_grpc_history_and_get(grpc_channel: grpc.Channel, pair: tuple[str, str]) -> None:
    source, _ = pair
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    history = stub.ListTransactions(pb.ListTransactionsRequest(account_id=source), timeout=30)
    assert len(history.transactions) == 1 and history.summary.total_credits == 1000
    got = stub.GetTransaction(
        pb.GetTransactionRequest(transaction_id=history.transactions[0].id), timeout=30
    )
    assert got.transaction.amount == 1000
    assert got.transaction.type == tpb.TransactionTypeEnum.DEPOSIT
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetTransaction(pb.GetTransactionRequest(transaction_id="txn_x"), timeout=30)
    envelope.grpc_error(caught.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def test_recorded_client_address_cannot_be_spoofed(rest: Rest, pair: tuple[str, str]) -> None:
    source, target = pair
    response = rest.post(
        "/v1/transactions/transfer",
        json={"fromAccountId": source, "toAccountId": target, "amount": 1},
        headers={
            "X-Bank-Client-IP": "6.6.6.6",
            "X-Forwarded-For": "7.7.7.7",
            "User-Agent": "BankApp/1.0 (iOS)",
            "X-Client-Location": "New York, US",
        },
    )
    metadata = envelope.success(response, 201)["transaction"]["metadata"]
    assert metadata == {
        "ipAddress": "127.0.0.1",
        "device": "BankApp/1.0 (iOS)",
        "location": "New York, US",
    }


def _clock_date(rest: Rest) -> date:
    now = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    return date.fromisoformat(now[:10])


def test_scheduled_transfers_execute_on_their_date(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=100)
    target = open_account(rest, owner=BOB)
    poor = open_account(rest, funded=10)
    tomorrow = (_clock_date(rest) + timedelta(days=1)).isoformat()
    response = transfer(rest, source, target, 60, scheduled=True, scheduledDate=tomorrow)
    scheduled = envelope.success(response, 201)["transaction"]
    assert response.json()["message"] == "Transfer scheduled successfully"
    assert scheduled["status"] == "SCHEDULED" and scheduled["scheduledDate"] == tomorrow
    doomed = envelope.success(
        transfer(rest, poor, target, 50, scheduled=True, scheduledDate=tomorrow), 201
    )["transaction"]
    assert balance(rest, source) == 100 and balance(rest, target) == 0
    listed = envelope.success(rest.get(f"/api/transactions?accountId={source}&status=SCHEDULED"))
    assert [t["id"] for t in listed["transactions"]] == [scheduled["id"]]
    (line,) = listed["transactions"]
    assert line["scheduledDate"] == tomorrow and line["timestamp"] == scheduled["timestamp"]

    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 2}))
    done = envelope.success(rest.get(f"/v1/transactions/{scheduled['id']}"))["transaction"]
    assert done["status"] == "COMPLETED" and done["balanceAfter"] == 40
    assert balance(rest, source) == 40 and balance(rest, target) == 60
    failed = envelope.success(rest.get(f"/v1/transactions/{doomed['id']}"))["transaction"]
    assert failed["status"] == "FAILED" and failed["failureCode"] == "TXN001"
    assert balance(rest, poor) == 10
    events = query(
        stack, "SELECT type FROM outbox_events WHERE aggregate_id = %s ORDER BY id", (doomed["id"],)
    )
    assert [e[0] for e in events] == ["transaction.created", "transaction.failed"]
    assert_ledger_consistent(stack)


def test_scheduled_transfer_input_errors(rest: Rest, pair: tuple[str, str]) -> None:
    source, target = pair
    today = _clock_date(rest)
    for extra, field in [
        ({"scheduled": True}, "scheduledDate"),
        ({"scheduledDate": (today + timedelta(days=3)).isoformat()}, "scheduledDate"),
        ({"scheduled": True, "scheduledDate": today.isoformat()}, "scheduledDate"),
        (
            {"scheduled": True, "scheduledDate": (today + timedelta(days=400)).isoformat()},
            "scheduledDate",
        ),
        ({"scheduled": True, "scheduledDate": "next tuesday"}, "scheduledDate"),
    ]:
        envelope.error(transfer(rest, source, target, 5, **extra), 422, "VALIDATION_ERROR", field)
    assert balance(rest, source) == 1000


def test_closing_an_account_cancels_its_scheduled_transfers(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=100)
    target = open_account(rest, owner=BOB)
    day = (_clock_date(rest) + timedelta(days=5)).isoformat()
    pending = envelope.success(
        transfer(rest, source, target, 25, scheduled=True, scheduledDate=day), 201
    )["transaction"]
    envelope.success(rest.post(f"/v1/accounts/{target}/close", json={"reason": "moving"}))
    cancelled = envelope.success(rest.get(f"/v1/transactions/{pending['id']}"))["transaction"]
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"]
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 6}))
    assert balance(rest, source) == 100
    events = query(
        stack,
        "SELECT type FROM outbox_events WHERE aggregate_id = %s ORDER BY id",
        (pending["id"],),
    )
    assert [e[0] for e in events] == ["transaction.created", "transaction.cancelled"]


def test_daily_atm_limit_counts_what_was_withdrawn_today(rest: Rest) -> None:
    card, pin = ALICE_CARD
    atm = {"method": "ATM", "cardNumber": card, "pin": pin, "location": "ATM-NYC-001"}
    limits_path = f"/v1/accounts/{ALICE_CHECKING}/limits"

    def daily() -> dict[str, float]:
        data = envelope.success(rest.get(f"/v1/accounts/{ALICE_CHECKING}"))
        return data["account"]["limits"]["dailyAtmWithdrawal"]  # type: ignore[no-any-return]

    used = daily()["used"]
    envelope.success(
        rest.put(limits_path, json={"dailyAtmWithdrawalLimit": used + 30, "reason": "ATM test"})
    )
    try:
        envelope.success(_withdraw(rest, ALICE_CHECKING, 20, **atm), 201)
        error = envelope.error(_withdraw(rest, ALICE_CHECKING, 20, **atm), 422, "TXN004", "amount")
        assert "Daily" in error["message"]
        envelope.success(_withdraw(rest, ALICE_CHECKING, 10, **atm), 201)  # exactly the limit
        assert daily()["used"] == pytest.approx(used + 30)
    finally:
        envelope.success(
            rest.put(
                limits_path,
                json={"resetToDefault": ["DAILY_ATM_WITHDRAWAL"], "reason": "ATM test over"},
            )
        )

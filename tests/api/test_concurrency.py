"""Concurrent money movements: nothing lost, nothing created, nothing applied twice."""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import BOB, assert_ledger_consistent, balance, open_account, query
from tests.conftest import Rest

THREADS = 8
TRANSFERS_PER_THREAD = 25


def test_concurrent_transfers_conserve_money(
    rest: Rest, stack: Stack, grpc_channel: grpc.Channel
) -> None:
    # Four accounts, two of them with an overdraft line, so that debits race
    # for the last cents and the overdraft floor is tested too.
    accounts = [
        open_account(rest, funded=300),
        open_account(rest, funded=300, overdraft=200),
        open_account(rest, owner=BOB, funded=300),
        open_account(rest, owner=BOB, type_="BUSINESS", funded=300, overdraft=200),
    ]
    floors = {accounts[0]: 0, accounts[1]: -200, accounts[2]: 0, accounts[3]: -200}
    before = sum(balance(rest, account) for account in accounts)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 (a reproducible workload, not a secret)
        for _ in range(TRANSFERS_PER_THREAD):
            source, target = rng.sample(accounts, 2)
            amount = rng.choice([5, 12.5, 40, 99.99, 150])
            try:
                stub.CreateTransfer(
                    pb.CreateTransferRequest(
                        from_account_id=source, to_account_id=target, amount=amount
                    ),
                    timeout=60,
                )
                code = "OK"
            except grpc.RpcError as exc:
                code = exc.code().name
                assert code == "FAILED_PRECONDITION", exc.details()  # insufficient funds only
            with lock:
                outcomes[code] = outcomes.get(code, 0) + 1

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))

    assert sum(outcomes.values()) == THREADS * TRANSFERS_PER_THREAD
    assert outcomes.get("OK", 0) > 0
    after = {account: balance(rest, account) for account in accounts}
    fees = query(
        stack,
        "SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_transactions"
        " WHERE type = 'FEE' AND from_account_id IN (%s, %s, %s, %s)",
        tuple(accounts),
    )[0][0]
    # What left the four accounts is exactly the overdraft fees they paid.
    assert round(before - sum(after.values()), 2) == int(fees) / 100
    for account, value in after.items():
        assert value >= floors[account], (account, value)
    assert_ledger_consistent(stack)


def test_concurrent_duplicates_with_one_key_execute_once(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=1_000)
    target = open_account(rest, owner=BOB)
    key = {"Idempotency-Key": f"dup-{uuid.uuid4()}"}
    body = {"fromAccountId": source, "toAccountId": target, "amount": 10}

    def send(_: int) -> tuple[int, str]:
        response = rest.post("/v1/transactions/transfer", json=body, headers=key)
        return response.status_code, response.json().get("data", {}).get("transaction", {}).get(
            "id", response.json().get("error", {}).get("code", "")
        )

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(send, range(12)))
    successes = {txn for status, txn in results if status == 201}
    assert len(successes) == 1, results
    # Racing duplicates either get the first answer or are told to retry.
    assert all(status in (201, 409) for status, _ in results), results
    assert balance(rest, source) == 990 and balance(rest, target) == 10
    assert (
        envelope.success(rest.post("/v1/transactions/transfer", json=body, headers=key), 201)[
            "transaction"
        ]["id"]
        in successes
    )
    assert_ledger_consistent(stack)

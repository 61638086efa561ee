"""Step-up verification end to end (REST through Envoy and gRPC, SQLite and
PostgreSQL): a person's large transfer, payment or external transfer answers
202 with a challenge and moves nothing; the right code (emailed, or from an
authenticator app) runs it exactly once, concurrent verifications included."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_pb2
from backoffice.v1 import transaction_service_pb2 as tpb
from backoffice.v1 import transaction_service_pb2_grpc as tpb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.challenges import (
    Person,
    emailed_code,
    enrol_totp,
    funded_account,
    person,
    totp_code,
    verify,
    verify_grpc,
)
from tests.common.external import ach
from tests.common.money import BOB_CHECKING, assert_ledger_consistent, balance, query, transfer
from tests.conftest import Rest

StatusCode = grpc.StatusCode


@pytest.fixture
def alice(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[Person]:
    who = person(stack, rest, raw_channel)
    yield who
    who.close()


@pytest.fixture
def mallory(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[Person]:
    who = person(stack, rest, raw_channel)
    yield who
    who.close()


def _held(response: Any) -> dict[str, Any]:
    data = envelope.success(response, 202)
    assert set(data) == {"challenge"}, data
    challenge = data["challenge"]
    assert challenge["id"].startswith("chl_")
    assert challenge["expiresAt"].endswith("Z")
    assert response.json()["message"].startswith("Verification required")
    return challenge  # type: ignore[no-any-return]


def _movements(stack: Stack, account_id: str) -> int:
    rows = query(stack, "SELECT COUNT(*) FROM postings WHERE account_id = %s", (account_id,))
    return int(rows[0][0])


# -- Who is challenged -------------------------------------------------------------------------
def test_below_the_threshold_runs_at_once(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    data = envelope.success(transfer(alice.rest, source, BOB_CHECKING, 4999.99), 201)
    assert data["transaction"]["status"] == "COMPLETED" and "challenge" not in data


def test_at_the_threshold_a_transfer_waits_and_moves_nothing(
    stack: Stack, rest: Rest, alice: Person
) -> None:
    source = funded_account(rest, alice.user_id)
    before, target_before = balance(rest, source), balance(rest, BOB_CHECKING)
    postings = _movements(stack, source)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000.00, description="car"))
    assert challenge["methods"] == ["EMAIL"]
    assert balance(rest, source) == before and _movements(stack, source) == postings
    assert balance(rest, BOB_CHECKING) >= target_before - 0.001  # others may pay Bob meanwhile
    available = envelope.success(rest.get(f"/v1/accounts/{source}"))["account"]
    assert float(available["availableBalance"]) == before  # nothing reserved either


def test_a_service_client_is_not_challenged(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    data = envelope.success(transfer(rest, source, BOB_CHECKING, 6000), 201)
    assert data["transaction"]["status"] == "COMPLETED"


# -- Verifying ---------------------------------------------------------------------------------
def test_an_emailed_code_runs_it_once(stack: Stack, rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000))
    code = emailed_code(alice, challenge["id"])
    answered = verify(alice, challenge["id"], code, method="EMAIL")
    data = envelope.success(answered, 201)
    assert answered.json()["message"] == "Transfer completed successfully"
    transaction = data["transaction"]
    assert transaction["status"] == "COMPLETED" and transaction["amount"] == 5000
    assert source in str(transaction)  # the debited account, as a transfer shows it
    assert balance(rest, source) == 15_000
    again = verify(alice, challenge["id"], code)
    assert envelope.success(again, 201)["transaction"]["id"] == transaction["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    keyed = alice.rest.post(
        f"/v1/challenges/{challenge['id']}:verify",
        json={"code": code},
        headers={"Idempotency-Key": f"verify-{challenge['id']}"},
    )
    assert envelope.success(keyed, 201)["transaction"]["id"] == transaction["id"]
    assert balance(rest, source) == 15_000
    assert_ledger_consistent(stack)


def test_an_authenticator_app_code_over_grpc(stack: Stack, rest: Rest, alice: Person) -> None:
    secret = enrol_totp(alice)
    stored = query(stack, "SELECT secret FROM totp_enrollments WHERE id = %s", (alice.user_id,))
    assert stored and secret not in str(stored[0][0])  # sealed at rest
    source = funded_account(rest, alice.user_id)
    stub = tpb_grpc.TransactionServiceStub(alice.channel)
    reply, call = stub.CreateTransfer.with_call(
        tpb.CreateTransferRequest(from_account_id=source, to_account_id=BOB_CHECKING, amount=7500),
        timeout=30,
    )
    assert not reply.HasField("transaction")
    assert list(reply.challenge.methods) == [1, 2]  # TOTP, EMAIL
    assert dict(call.initial_metadata())["x-bank-http-status"] == "202"
    assert balance(rest, source) == 20_000
    done = verify_grpc(alice, reply.challenge.id, totp_code(alice), "TOTP")
    assert done.transaction.status == transaction_pb2.TransactionStatusEnum.COMPLETED
    assert done.transaction.amount == 7500 and balance(rest, source) == 12_500
    # The emailed code of an answered challenge runs nothing more.
    replay = verify_grpc(alice, reply.challenge.id, emailed_code(alice, reply.challenge.id))
    assert replay.transaction.id == done.transaction.id and balance(rest, source) == 12_500


def test_a_wrong_code_is_422_and_five_fail_the_challenge(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000))
    code = emailed_code(alice, challenge["id"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        error = envelope.error(
            verify(alice, challenge["id"], wrong), 422, "VERIFICATION_CODE_INVALID", "code"
        )
        assert (f"{left} tries left" if left else "no tries left") in error["message"]
        assert balance(rest, source) == 20_000
    envelope.error(verify(alice, challenge["id"], code), 409, "CHALLENGE_FAILED")
    assert balance(rest, source) == 20_000


def test_bad_input_is_refused_in_the_envelope_and_counts_no_try(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000))
    path = f"/v1/challenges/{challenge['id']}:verify"
    envelope.error(alice.rest.post(path, json={}), 422, "VALIDATION_ERROR", "code")
    envelope.error(alice.rest.post(path, json={"code": "12ab56"}), 422, "VALIDATION_ERROR", "code")
    envelope.error(alice.rest.post(path, json={"code": 123456}), 400, "INVALID_REQUEST")
    envelope.error(
        alice.rest.post(path, json={"code": "123456", "amount": 1}), 400, "INVALID_REQUEST"
    )
    envelope.error(
        alice.rest.post(path, json={"code": "123456", "method": "TOTP"}),
        422,
        "VALIDATION_ERROR",
        "method",
    )
    envelope.error(verify(alice, "chl_nosuchchallenge0000", "123456"), 404, "NOT_FOUND")
    envelope.error(verify(alice, "nonsense", "123456"), 404, "NOT_FOUND")
    # None of those counted: the right code still runs it.
    done = verify(alice, challenge["id"], emailed_code(alice, challenge["id"]))
    assert envelope.success(done, 201)["transaction"]["amount"] == 5000


def test_a_challenge_expires_after_five_minutes(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000))
    code = emailed_code(alice, challenge["id"])
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": 301}))
    envelope.error(verify(alice, challenge["id"], code), 409, "CHALLENGE_EXPIRED")
    envelope.error(verify(alice, challenge["id"], code), 409, "CHALLENGE_EXPIRED")
    assert balance(rest, source) == 20_000


def test_only_the_person_who_made_it_may_verify(rest: Rest, alice: Person, mallory: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000))
    code = emailed_code(alice, challenge["id"])
    envelope.error(verify(mallory, challenge["id"], code), 404, "NOT_FOUND")
    response = rest.post(f"/v1/challenges/{challenge['id']}:verify", json={"code": code})
    envelope.error(response, 403, "FORBIDDEN")
    with pytest.raises(grpc.RpcError) as caught:
        verify_grpc(mallory, challenge["id"], code)
    assert caught.value.code() == StatusCode.NOT_FOUND
    assert balance(rest, source) == 20_000
    envelope.success(verify(alice, challenge["id"], code), 201)


def test_concurrent_verifications_move_money_once(stack: Stack, rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held(transfer(alice.rest, source, BOB_CHECKING, 5000))
    code = emailed_code(alice, challenge["id"])
    callers = 8
    start = threading.Barrier(callers)
    answers: list[tuple[int, str, str]] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        with Rest(stack.http_url) as session:
            session.headers["Authorization"] = alice.rest.headers["Authorization"]
            start.wait()
            if index % 2:
                response = session.post(
                    f"/v1/challenges/{challenge['id']}:verify", json={"code": code}
                )
                body = response.json()
                found = (response.status_code, body["data"]["transaction"]["id"], "rest")
            else:
                reply = verify_grpc(alice, challenge["id"], code)
                found = (201, reply.transaction.id, "grpc")
            with lock:
                answers.append(found)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == callers
    assert {status for status, _, _ in answers} == {201}
    assert len({transaction for _, transaction, _ in answers}) == 1
    assert balance(rest, source) == 15_000
    debits = query(
        stack,
        "SELECT COUNT(*) FROM postings WHERE account_id = %s AND amount_minor = %s",
        (source, -500_000),
    )
    assert int(debits[0][0]) == 1
    assert_ledger_consistent(stack)


# -- Other movements -------------------------------------------------------------------------
def test_a_large_payment_is_challenged_too(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    body = {"name": f"Power Co {uuid.uuid4().hex[:6]}", "type": "UTILITY", "accountNumber": "EL-1"}
    payee = envelope.success(alice.rest.post("/v1/payees", json=body), 201)["payee"]["id"]
    pay = {"fromAccountId": source, "payeeId": payee, "amount": 5000}
    challenge = _held(alice.rest.post("/v1/transactions/payment", json=pay))
    assert balance(rest, source) == 20_000
    answered = verify(alice, challenge["id"], emailed_code(alice, challenge["id"]))
    transaction = envelope.success(answered, 201)["transaction"]
    assert transaction["type"] == "PAYMENT" and payee in str(transaction)
    assert answered.json()["message"] == "Payment sent successfully"
    assert balance(rest, source) == 15_000


def test_a_large_external_transfer_is_challenged_too(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    body = {"fromAccountId": source, "beneficiary": ach(), "amount": 5000.00}
    challenge = _held(alice.rest.post("/v1/transactions/transfer/external", json=body))
    account = envelope.success(rest.get(f"/v1/accounts/{source}"))["account"]
    assert float(account["availableBalance"]) == 20_000
    answered = verify(alice, challenge["id"], emailed_code(alice, challenge["id"]))
    transaction = envelope.success(answered, 201)["transaction"]
    assert transaction["type"] == "EXTERNAL_TRANSFER" and transaction["status"] == "PENDING"
    assert answered.json()["message"] == "External transfer initiated"
    account = envelope.success(rest.get(f"/v1/accounts/{source}"))["account"]
    assert float(account["availableBalance"]) == 15_000  # reserved (the first ACH is free)


def test_the_generic_create_transaction_is_challenged(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    body = {
        "type": "TRANSFER",
        "fromAccountId": source,
        "toAccountId": BOB_CHECKING,
        "amount": 5000,
    }
    challenge = _held(alice.rest.post("/v1/transactions", json=body))
    # A field of another type is refused before any challenge is made.
    wrong = {**body, "payeeId": "payee_x"}
    envelope.error(alice.rest.post("/v1/transactions", json=wrong), 422, "VALIDATION_ERROR")
    answered = verify(alice, challenge["id"], emailed_code(alice, challenge["id"]))
    assert envelope.success(answered, 201)["transaction"]["type"] == "TRANSFER"
    assert balance(rest, source) == 15_000


def test_a_persons_batch_with_a_large_item_is_refused_whole(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    items = [
        {"fromAccountId": source, "toAccountId": BOB_CHECKING, "amount": 10},
        {"fromAccountId": source, "toAccountId": BOB_CHECKING, "amount": 5000},
    ]
    response = alice.rest.post("/v1/transactions/transfers:batchCreate", json={"requests": items})
    envelope.error(response, 422, "STEP_UP_REQUIRED", "requests[1].amount")
    assert balance(rest, source) == 20_000
    served = rest.post("/v1/transactions/transfers:batchCreate", json={"requests": items})
    assert len(envelope.success(served)["results"]) == 2


def test_a_held_transfer_with_an_idempotency_key_answers_the_same_challenge(
    rest: Rest, alice: Person
) -> None:
    source = funded_account(rest, alice.user_id)
    key = {"Idempotency-Key": f"step-up-{uuid.uuid4().hex}"}
    body = {"fromAccountId": source, "toAccountId": BOB_CHECKING, "amount": 5000}
    first = _held(alice.rest.post("/v1/transactions/transfer", json=body, headers=key))
    again = alice.rest.post("/v1/transactions/transfer", json=body, headers=key)
    assert _held(again)["id"] == first["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    envelope.success(verify(alice, first["id"], emailed_code(alice, first["id"])), 201)
    assert balance(rest, source) == 15_000


def test_totp_enrolment_is_the_persons_own(rest: Rest, alice: Person, mallory: Person) -> None:
    envelope.error(mallory.rest.post(f"/v1/users/{alice.user_id}/totp", json={}), 404, "NOT_FOUND")
    envelope.error(rest.post(f"/v1/users/{alice.user_id}/totp", json={}), 403, "FORBIDDEN")
    confirm = f"/v1/users/{alice.user_id}/totp:confirm"
    envelope.error(alice.rest.post(confirm, json={"code": "123456"}), 409, "CONFLICT")
    held = envelope.success(alice.rest.post(f"/v1/users/{alice.user_id}/totp", json={}), 202)
    challenge = held["challenge"]["id"]
    envelope.success(verify(alice, challenge, emailed_code(alice, challenge)), 201)
    envelope.error(
        alice.rest.post(confirm, json={"code": "000000"}), 422, "VERIFICATION_CODE_INVALID"
    )
    enrol_totp(alice)
    envelope.error(alice.rest.post(f"/v1/users/{alice.user_id}/totp", json={}), 409, "CONFLICT")

"""Red-team review of step-up challenges themselves: who may answer one, how
many codes an attacker gets to try, app codes used twice (REST through Envoy
and gRPC, SQLite and PostgreSQL). A test marked xfail(strict) shows a hole
that is still open; it flips when the hole is fixed."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from backoffice.v1 import challenge_service_pb2 as cpb
from backoffice.v1 import user_service_pb2 as upb
from backoffice.v1 import user_service_pb2_grpc as upb_grpc
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
)
from tests.common.money import BOB_CHECKING, assert_ledger_consistent, balance, query, transfer
from tests.conftest import Rest


@pytest.fixture
def alice(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[Person]:
    who = person(stack, rest, raw_channel)
    yield who
    who.close()


def _challenge(who: Person, source: str, amount: float = 5000) -> str:
    data = envelope.success(transfer(who.rest, source, BOB_CHECKING, amount), 202)
    return str(data["challenge"]["id"])


def _wrong(code: str, offset: int) -> str:
    return f"{(int(code) + offset) % 1_000_000:06d}"


# -- A stolen token enrols its own authenticator app -----------------------------------------
ENROL = "EnrollTotp/ConfirmTotp need only the person's token (server/services/challenges.py:"
" enroll_totp, confirm_totp; no challenge, no code sent to the email on file): whoever holds a"
" stolen token enrols an app of their own and answers every step-up challenge with it, which"
" is the very case step-up exists for"


def test_an_app_enrolled_with_the_token_alone_does_not_answer_a_challenge(
    rest: Rest, alice: Person
) -> None:
    source = funded_account(rest, alice.user_id)
    # The token's holder (not necessarily the person) enrols an app of theirs.
    enrolled = alice.rest.post(f"/v1/users/{alice.user_id}/totp", json={})
    if enrolled.status_code == 201:
        alice.used_steps.clear()
        alice.totp_secret = str(enrolled.json()["data"]["enrollment"]["secret"])
        alice.rest.post(f"/v1/users/{alice.user_id}/totp:confirm", json={"code": totp_code(alice)})
    challenge = _challenge(alice, source, 9000)
    if alice.totp_secret:
        verify(alice, challenge, totp_code(alice), method="TOTP")
    assert balance(rest, source) == 20_000


def test_an_app_is_enrolled_only_with_a_code_sent_to_the_contacts_on_file(
    rest: Rest, alice: Person
) -> None:
    held = envelope.success(alice.rest.post(f"/v1/users/{alice.user_id}/totp", json={}), 202)
    challenge = held["challenge"]["id"]
    assert "TOTP" not in held["challenge"]["methods"]
    inbox = envelope.success(
        alice.rest.get("/v1/sandbox/notifications", params={"kind": "CHALLENGE_CODE"})
    )
    sent = [item for item in inbox["notifications"] if item.get("relatedId") == challenge]
    assert sent and all(item["destination"] == alice.email for item in sent), sent
    assert all("authenticator app" in item["body"] for item in sent)
    code = emailed_code(alice, challenge)
    shown = envelope.success(verify(alice, challenge, code), 201)["enrollment"]
    assert shown["secret"] and shown["confirmed"] is False
    replay = envelope.success(verify(alice, challenge, code), 201)["enrollment"]
    assert "secret" not in replay and "otpauthUri" not in replay, replay
    alice.totp_secret = str(shown["secret"])
    path = f"/v1/users/{alice.user_id}/totp:confirm"
    envelope.success(alice.rest.post(path, json={"code": totp_code(alice)}))
    alerts = envelope.success(
        alice.rest.get("/v1/sandbox/notifications", params={"kind": "SECURITY_ALERT"})
    )["notifications"]
    assert [item["destination"] for item in alerts] == [alice.email], alerts
    assert "authenticator app was added" in alerts[0]["body"]


# -- Brute force under concurrency -----------------------------------------------------------
def _race(stack: Stack, who: Person, challenge: str, codes: list[str]) -> list[tuple[int, str]]:
    """Sends `codes` to the challenge at once; (status, error code) of each answer."""
    start = threading.Barrier(len(codes))
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def run(code: str) -> None:
        with Rest(stack.http_url) as session:
            session.headers["Authorization"] = who.rest.headers["Authorization"]
            start.wait()
            response = session.post(f"/v1/challenges/{challenge}:verify", json={"code": code})
            body = response.json()
            error = (body.get("error") or {}).get("code", "")
            with lock:
                answers.append((response.status_code, error))

    threads = [threading.Thread(target=run, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == len(codes)
    return answers


def test_fifty_concurrent_wrong_codes_use_five_tries_and_fail_the_challenge(
    stack: Stack, rest: Rest, alice: Person
) -> None:
    """Held: the try counter is an increment under the row's lock, and the
    claim needs `attempts < 5`; the right code afterwards is refused."""
    source = funded_account(rest, alice.user_id)
    challenge = _challenge(alice, source)
    code = emailed_code(alice, challenge)
    answers = _race(stack, alice, challenge, [_wrong(code, i) for i in range(1, 51)])
    assert all(status in (409, 422) for status, _ in answers), Counter(answers)
    assert all(status < 500 for status, _ in answers)
    rows = query(stack, "SELECT status, attempts FROM challenges WHERE id = %s", (challenge,))
    assert rows == [("FAILED", 5)]
    envelope.error(verify(alice, challenge, code), 409, "CHALLENGE_FAILED")
    assert balance(rest, source) == 20_000


def test_the_right_code_racing_many_wrong_ones_moves_money_at_most_once(
    stack: Stack, rest: Rest, alice: Person
) -> None:
    """Held: whatever the order, the right code among 30 wrong ones posts at
    most one transfer, and only if it claimed before the 5th wrong try."""
    source = funded_account(rest, alice.user_id)
    challenge = _challenge(alice, source)
    code = emailed_code(alice, challenge)
    codes = [_wrong(code, i) for i in range(1, 31)]
    codes.insert(15, code)
    answers = _race(stack, alice, challenge, codes)
    assert all(status < 500 for status, _ in answers)
    done = [a for a in answers if a[0] == 201]
    rows = query(stack, "SELECT status, attempts FROM challenges WHERE id = %s", (challenge,))
    if done:
        assert rows[0][0] == "VERIFIED" and rows[0][1] < 5 and balance(rest, source) == 15_000
    else:
        assert rows == [("FAILED", 5)] and balance(rest, source) == 20_000
    assert_ledger_consistent(stack)


# -- One app code, two challenges ------------------------------------------------------------
def test_an_app_code_never_answers_two_challenges(stack: Stack, rest: Rest, alice: Person) -> None:
    """Held: the app's step is claimed with the challenge (use_step)."""
    enrol_totp(alice)
    source = funded_account(rest, alice.user_id)
    first, second = _challenge(alice, source), _challenge(alice, source)
    code = totp_code(alice)
    envelope.success(verify(alice, first, code, method="TOTP"), 201)
    envelope.error(verify(alice, second, code, method="TOTP"), 422, "VERIFICATION_CODE_INVALID")
    assert balance(rest, source) == 15_000


def test_an_app_code_racing_on_two_challenges_answers_one(
    stack: Stack, rest: Rest, alice: Person
) -> None:
    enrol_totp(alice)
    source = funded_account(rest, alice.user_id)
    challenges = [_challenge(alice, source) for _ in range(6)]
    code = totp_code(alice)
    start = threading.Barrier(len(challenges))
    answers: list[int] = []
    lock = threading.Lock()

    def run(challenge: str) -> None:
        with Rest(stack.http_url) as session:
            session.headers["Authorization"] = alice.rest.headers["Authorization"]
            start.wait()
            response = session.post(
                f"/v1/challenges/{challenge}:verify", json={"code": code, "method": "TOTP"}
            )
            with lock:
                answers.append(response.status_code)

    threads = [threading.Thread(target=run, args=(c,)) for c in challenges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [201] + [422] * 5, answers
    assert balance(rest, source) == 15_000


# -- The emailed code of one challenge does not answer another -------------------------------
def test_a_code_is_bound_to_its_challenge(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    first, second = _challenge(alice, source), _challenge(alice, source)
    code = emailed_code(alice, first)
    if code != emailed_code(alice, second):
        envelope.error(verify(alice, second, code), 422, "VERIFICATION_CODE_INVALID")
    assert balance(rest, source) == 20_000


# -- What a refusal tells -------------------------------------------------------------------
def test_an_unknown_or_foreign_challenge_says_nothing_more_than_not_found(
    stack: Stack, rest: Rest, raw_channel: grpc.Channel, alice: Person
) -> None:
    mallory = person(stack, rest, raw_channel)
    try:
        source = funded_account(rest, alice.user_id)
        challenge = _challenge(alice, source)
        foreign = envelope.error(verify(mallory, challenge, "123456"), 404, "NOT_FOUND")
        unknown = envelope.error(
            verify(mallory, "chl_aaaaaaaaaaaaaaaaaaaa", "123456"), 404, "NOT_FOUND"
        )
        assert foreign["message"] == unknown["message"]
        assert alice.user_id not in str(foreign) and source not in str(foreign)
        # Mallory's wrong codes count no try on Alice's challenge.
        rows = query(stack, "SELECT attempts FROM challenges WHERE id = %s", (challenge,))
        assert rows == [(0,)]
    finally:
        mallory.close()


# -- Bad input on the challenge API -----------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/challenges/chl_aaaaaaaaaaaaaaaaaaaa:verify", {"code": "1234567"}),
        ("/v1/challenges/chl_aaaaaaaaaaaaaaaaaaaa:verify", {"code": "١٢٣٤٥٦"}),
        ("/v1/challenges/chl_aaaaaaaaaaaaaaaaaaaa:verify", {"code": "123456\n"}),
        ("/v1/challenges/chl_aaaaaaaaaaaaaaaaaaaa:verify", {"code": "123456", "method": "PIGEON"}),
        ("/v1/challenges/chl_aaaaaaaaaaaaaaaaaaaa:verify", {"code": 123456}),
        ("/v1/challenges/" + "c" * 2000 + ":verify", {"code": "123456"}),
        ("/v1/challenges/chl_%27%3B--:verify", {"code": "123456"}),
        ("/v1/challenges/%00:verify", {"code": "123456"}),
        ("/v1/users/usr_nope/totp", {}),
        ("/v1/users/usr_nope/totp:confirm", {"code": "123456"}),
    ],
)
def test_bad_input_on_the_challenge_api_is_a_4xx_envelope(
    alice: Person, path: str, body: Any
) -> None:
    response = alice.rest.post(path, json=body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    data = response.json()
    assert data["success"] is False and data["error"]["code"], data
    assert "Traceback" not in response.text


def test_confirming_an_app_never_started_or_already_confirmed_is_409(alice: Person) -> None:
    path = f"/v1/users/{alice.user_id}/totp:confirm"
    envelope.error(alice.rest.post(path, json={"code": "123456"}), 409, "CONFLICT")
    enrol_totp(alice)
    envelope.error(alice.rest.post(path, json={"code": "123456"}), 409, "CONFLICT")
    again = alice.rest.post(f"/v1/users/{alice.user_id}/totp", json={})
    envelope.error(again, 409, "CONFLICT")


def test_a_challenge_answered_after_its_account_was_frozen_moves_nothing(
    rest: Rest, alice: Person
) -> None:
    """Held: the kept request runs through its use case's checks when answered;
    the refusal is the challenge's answer for good."""
    source = funded_account(rest, alice.user_id)
    challenge = _challenge(alice, source, 9000)
    code = emailed_code(alice, challenge)
    envelope.success(rest.post(f"/v1/accounts/{source}/freeze", json={"reason": "review"}))
    first = verify(alice, challenge, code)
    assert 400 <= first.status_code < 500, first.text
    envelope.success(rest.post(f"/v1/accounts/{source}/unfreeze", json={"reason": "cleared"}))
    again = verify(alice, challenge, code)
    assert again.status_code == first.status_code, again.text
    assert balance(rest, source) == 20_000


# -- A stolen token moves the code's destination ------------------------------------------------
CONTACT = "UpdateUser lets a person's token change the email and phone on file with no step-up"
" (server/api/users.py:UpdateUser -> server/store/users.py:update_user), and the next"
" challenge's code goes to the new address and number (server/services/challenges.py:hold,"
" recipients.contacts): whoever holds the token redirects the code to themselves"
" and answers the challenge"


def test_a_contact_changed_with_the_token_alone_does_not_receive_the_code(
    rest: Rest, alice: Person
) -> None:
    source = funded_account(rest, alice.user_id)
    attacker_email = f"taken.{alice.user_id[-8:]}@attacker.example"
    attacker_phone = "+15555550123"
    alice.rest.patch(
        f"/v1/users/{alice.user_id}", json={"email": attacker_email, "phone": attacker_phone}
    )
    challenge = _challenge(alice, source, 9000)
    emailed_code(alice, challenge)  # waits for the messages
    data = envelope.success(
        alice.rest.get("/v1/sandbox/notifications", params={"kind": "CHALLENGE_CODE", "limit": 100})
    )
    sent_to = {
        item["destination"] for item in data["notifications"] if item.get("relatedId") == challenge
    }
    assert sent_to, data
    assert attacker_email not in sent_to and attacker_phone not in sent_to, sent_to


def test_wrong_codes_sent_with_idempotency_keys_still_count(
    stack: Stack, rest: Rest, alice: Person
) -> None:
    """Held: a wrong code counts its try even when an Idempotency-Key's
    transaction around the call rolls back (a lasting write)."""
    source = funded_account(rest, alice.user_id)
    challenge = _challenge(alice, source)
    code = emailed_code(alice, challenge)
    for offset in range(1, 11):
        alice.rest.post(
            f"/v1/challenges/{challenge}:verify",
            json={"code": _wrong(code, offset)},
            headers={"Idempotency-Key": f"guess-{challenge}-{offset}"},
        )
    rows = query(stack, "SELECT status, attempts FROM challenges WHERE id = %s", (challenge,))
    assert rows == [("FAILED", 5)]
    right = alice.rest.post(
        f"/v1/challenges/{challenge}:verify",
        json={"code": code},
        headers={"Idempotency-Key": f"guess-{challenge}-right"},
    )
    envelope.error(right, 409, "CHALLENGE_FAILED")
    assert balance(rest, source) == 20_000


# -- What the code confirms ------------------------------------------------------------------
LINKING = "the code's message names the amount only, not where the money goes"
" (server/domain/notifications.py:challenge_message): the person cannot see that the code"
" they are asked for confirms a payment to someone else (no dynamic linking to the payee,"
" as PSD2 SCA asks), which social engineering of the code relies on"


def test_the_code_message_names_the_destination(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _challenge(alice, source, 9000)
    emailed_code(alice, challenge)
    target = envelope.success(rest.get(f"/v1/accounts/{BOB_CHECKING}"))["account"]
    last4 = str(target["accountNumber"])[-4:]
    data = envelope.success(
        alice.rest.get("/v1/sandbox/notifications", params={"kind": "CHALLENGE_CODE", "limit": 100})
    )
    bodies = [item["body"] for item in data["notifications"] if item.get("relatedId") == challenge]
    assert bodies and all(last4 in body for body in bodies), bodies


def test_a_persons_new_email_is_made_by_the_code_sent_to_the_old_one(
    rest: Rest, alice: Person
) -> None:
    new_email = f"new.{alice.user_id[-8:]}@example.com"
    path = f"/v1/users/{alice.user_id}"
    held = envelope.success(alice.rest.patch(path, json={"email": new_email, "name": "A B"}), 202)
    challenge = held["challenge"]["id"]
    assert envelope.success(rest.get(path))["user"]["email"] == alice.email  # nothing yet
    code = emailed_code(alice, challenge)
    made = envelope.success(verify(alice, challenge, code))["user"]
    assert made["email"] == new_email and made["name"] == "A B"
    alerts = envelope.success(
        alice.rest.get("/v1/sandbox/notifications", params={"kind": "SECURITY_ALERT"})
    )["notifications"]
    assert [item["destination"] for item in alerts] == [alice.email], alerts
    # The same email again, the name alone, and staff for her: at once.
    envelope.success(alice.rest.patch(path, json={"email": new_email}))
    envelope.success(alice.rest.patch(path, json={"name": "Alice B"}))
    envelope.success(rest.patch(path, json={"phone": "+15555550199"}))
    # A bad email is refused before any challenge.
    envelope.error(alice.rest.patch(path, json={"email": "nope"}), 422, "VALIDATION_ERROR")


def test_a_payment_code_names_the_payee(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    name = "Power Co Linked"
    made = {"name": name, "type": "UTILITY", "accountNumber": "EL-1"}
    payee = envelope.success(alice.rest.post("/v1/payees", json=made), 201)["payee"]["id"]
    body = {"fromAccountId": source, "payeeId": payee, "amount": 5000}
    held = envelope.success(alice.rest.post("/v1/transactions/payment", json=body), 202)
    challenge = held["challenge"]["id"]
    emailed_code(alice, challenge)
    data = envelope.success(
        alice.rest.get("/v1/sandbox/notifications", params={"kind": "CHALLENGE_CODE", "limit": 100})
    )
    bodies = [item["body"] for item in data["notifications"] if item.get("relatedId") == challenge]
    assert bodies and all(f"USD 5,000.00 to {name}" in body for body in bodies), bodies


# -- Guessing across many challenges ----------------------------------------------------------
def test_wrong_codes_across_challenges_stop_new_challenges_for_the_hour(
    stack: Stack, rest: Rest, alice: Person
) -> None:
    """15 wrong codes within an hour (3 challenges used up): the next
    challenge is refused 429 RATE_LIMITED with Retry-After, and nothing moves."""
    source = funded_account(rest, alice.user_id)
    for _ in range(3):
        challenge = _challenge(alice, source)
        code = emailed_code(alice, challenge)
        for offset in range(1, 6):
            verify(alice, challenge, _wrong(code, offset))
        envelope.error(verify(alice, challenge, code), 409, "CHALLENGE_FAILED")
    refused = transfer(alice.rest, source, BOB_CHECKING, 5000)
    envelope.error(refused, 429, "RATE_LIMITED")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
    enrol = alice.rest.post(f"/v1/users/{alice.user_id}/totp", json={})
    envelope.error(enrol, 429, "RATE_LIMITED")
    # Below the threshold nothing needs a challenge: it runs.
    envelope.success(transfer(alice.rest, source, BOB_CHECKING, 10), 201)
    assert balance(rest, source) == 19_990
    rows = query(stack, "SELECT COUNT(*) FROM challenges WHERE user_id = %s", (alice.user_id,))
    assert rows == [(3,)]


def test_at_most_twenty_challenges_an_hour(stack: Stack, rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    for _ in range(20):
        _challenge(alice, source)
    envelope.error(transfer(alice.rest, source, BOB_CHECKING, 5000), 429, "RATE_LIMITED")
    assert balance(rest, source) == 20_000


def test_enrolment_and_a_contact_change_wait_for_a_challenge_over_grpc(alice: Person) -> None:
    enrol = alice.challenges.EnrollTotp(cpb.EnrollTotpRequest(user_id=alice.user_id), timeout=30)
    assert enrol.HasField("challenge") and not enrol.HasField("enrollment")
    users = upb_grpc.UserServiceStub(alice.channel)
    change = users.UpdateUser(upb.UpdateUserRequest(user_id="me", phone="+15555550177"), timeout=30)
    assert change.HasField("challenge") and not change.HasField("user")
    code = emailed_code(alice, change.challenge.id)
    answer = alice.challenges.VerifyChallenge(
        cpb.VerifyChallengeRequest(challenge_id=change.challenge.id, code=code), timeout=30
    )
    assert answer.user.id == alice.user_id

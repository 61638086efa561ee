"""Every Argon2 the API runs goes through the bounded hashing pool (server.hashing):
creating a user, confirming a password reset, checking a card's PIN.

A stack of this module's own with one hashing thread and no queue, so that
a second hash at the same moment is refused at once (503 UNAVAILABLE,
Retry-After: 1) instead of taking one of the API's worker threads. A call
refused so did nothing: no user, no new password, no withdrawal, and no
wrong PIN counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from server.run import Stack
from tests.common import envelope, users
from tests.common.auth import token_over_rest
from tests.common.money import ALICE_CARD, ALICE_CHECKING
from tests.common.stack import stack_settings, started
from tests.conftest import Rest

BURST = 8
ROUNDS_MAX = 5


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("hash-pool")
    with started(stack_settings(tmp, worker_threads=BURST, hash_threads=1, hash_queue=0)) as stack:
        yield stack


@pytest.fixture(scope="module")
def own_rest(own_stack: Stack) -> Iterator[Rest]:
    token = token_over_rest(own_stack.http_url)["access_token"]
    with Rest(own_stack.http_url) as session:
        session.headers["Authorization"] = f"Bearer {token}"
        yield session


def _burst(
    base_url: str, headers: dict[str, str], calls: list[Callable[[Rest], requests.Response]]
) -> list[requests.Response]:
    """The calls at once, each on a connection of its own."""
    line = threading.Barrier(len(calls))
    answers: list[requests.Response | None] = [None] * len(calls)

    def send(index: int) -> None:
        with Rest(base_url) as session:
            session.headers.update(headers)
            line.wait()
            answers[index] = calls[index](session)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _until_refused(
    rest: Rest, make_calls: Callable[[], list[Callable[[Rest], requests.Response]]]
) -> list[requests.Response]:
    """Bursts until one is refused for a busy pool; every answer of every burst."""
    seen: list[requests.Response] = []
    for _ in range(ROUNDS_MAX):
        answers = _burst(rest.base_url, dict(rest.headers), make_calls())
        seen.extend(answers)
        if any(answer.status_code == 503 for answer in answers):
            return seen
    pytest.fail(f"no call waited for the pool: {sorted({a.status_code for a in seen})}")


def _assert_busy(answer: requests.Response) -> None:
    envelope.error(answer, 503, "UNAVAILABLE")
    assert answer.headers["Retry-After"] == "1"


def test_concurrent_user_creations_are_refused_when_the_pool_is_full(own_rest: Rest) -> None:
    bodies: list[dict[str, str]] = []

    def calls() -> list[Callable[[Rest], requests.Response]]:
        batch = [users.user_body() for _ in range(BURST)]
        bodies.extend(batch)
        return [lambda s, body=body: s.post("/v1/users", json=body) for body in batch]

    answers = _until_refused(own_rest, calls)
    for body, answer in zip(bodies, answers, strict=True):
        found = envelope.success(own_rest.get(f"/v1/users?search={body['email']}"))["users"]
        if answer.status_code == 503:
            _assert_busy(answer)
            assert found == []  # refused before anything was written
        else:
            assert envelope.success(answer, 201)["user"]["email"] == body["email"]
            assert [user["email"] for user in found] == [body["email"]]


def test_concurrent_reset_confirmations_are_refused_when_the_pool_is_full(
    own_rest: Rest,
) -> None:
    def calls() -> list[Callable[[Rest], requests.Response]]:
        tokens = []
        for _ in range(BURST):
            email = users.create_rest(own_rest)["email"]
            data = envelope.success(
                own_rest.post("/v1/password-resets", json={"email": email}), 202
            )
            tokens.append(data["resetToken"])
        return [
            lambda s, token=token: s.post(
                "/v1/password-resets:confirm",
                json={"token": token, "newPassword": users.OTHER_PASSWORD},
            )
            for token in tokens
        ]

    for answer in _until_refused(own_rest, calls):
        if answer.status_code == 503:
            _assert_busy(answer)
        else:
            envelope.success(answer)


def test_concurrent_pin_checks_are_refused_when_the_pool_is_full(own_rest: Rest) -> None:
    card, pin = ALICE_CARD
    body = {
        "accountId": ALICE_CHECKING,
        "amount": 1,
        "method": "ATM",
        "location": "ATM-NYC-001",
        "cardNumber": card,
        "pin": pin,
    }

    def balance() -> float:
        return float(
            envelope.success(own_rest.get(f"/v1/accounts/{ALICE_CHECKING}"))["account"]["balance"]
        )

    before = balance()
    answers = _until_refused(
        own_rest,
        lambda: [lambda s: s.post("/v1/transactions/withdrawal", json=body)] * BURST,
    )
    for answer in answers:
        if answer.status_code == 503:
            _assert_busy(answer)
        else:
            envelope.success(answer, 201)
    paid = sum(1 for answer in answers if answer.status_code == 201)
    assert balance() == pytest.approx(before - paid)
    # A refused check counted nothing: the right PIN still works, the card is not locked.
    envelope.success(own_rest.post("/v1/transactions/withdrawal", json=body), 201)

"""Step-up verification helpers: a person with a token of the authorization-code
flow, their codes from the sandbox inbox, and their authenticator app."""

from __future__ import annotations

import time
from calendar import timegm
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import pyotp

from backoffice.v1 import challenge_pb2 as cpb
from backoffice.v1 import challenge_service_pb2 as pb
from backoffice.v1 import challenge_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope, users
from tests.common.auth import authenticated
from tests.common.money import BOB_CHECKING, open_account, transfer
from tests.common.oauth import user_tokens
from tests.conftest import Rest

STEP_SECONDS = 30
WAIT_SECONDS = 20.0


@dataclass
class Person:
    """A new customer, signed in through the authorization-code flow."""

    user_id: str
    email: str
    rest: Rest
    channel: grpc.Channel
    totp_secret: str = ""
    used_steps: set[int] = field(default_factory=set)

    @property
    def challenges(self) -> pb_grpc.ChallengeServiceStub:
        return pb_grpc.ChallengeServiceStub(self.channel)

    def close(self) -> None:
        self.rest.close()


def person(stack: Stack, admin: Rest, raw: grpc.Channel, **fields: Any) -> Person:
    """A fresh customer (unique email) with a person's token over REST and gRPC."""
    made = users.create_rest(admin, **fields)
    tokens = user_tokens(stack.http_url, (made["email"], users.PASSWORD))
    token = str(tokens["access_token"])
    rest = Rest(stack.http_url)
    rest.headers["Authorization"] = f"Bearer {token}"
    return Person(made["id"], made["email"], rest, authenticated(raw, token))


def funded_account(admin: Rest, owner: str, amount: float = 20_000) -> str:
    """A CHECKING account of `owner` holding `amount`, with 5 debits in its
    history (4 of 0.01 in cash, then a transfer of 1,000.00), so that fraud
    screening's amount-vs-history rule (10x the largest of the last 5 debits;
    a fresh account with fewer is compared with the rule's floor) leaves
    these tests' transfers of up to 10,000.00 alone."""
    account_id = open_account(admin, owner=owner, funded=amount + 1_000.04)
    for _ in range(4):  # cash at a branch: no transfer limit is used
        cash = {"accountId": account_id, "amount": 0.01, "method": "BRANCH", "location": "Main"}
        envelope.success(admin.post("/v1/transactions/withdrawal", json=cash), 201)
    envelope.success(transfer(admin, account_id, BOB_CHECKING, 1_000), 201)
    return account_id


def emailed_code(who: Person, challenge_id: str, channel: str = "EMAIL") -> str:
    """The one-time code of `challenge_id`, read from the person's sandbox inbox."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        data = envelope.success(
            who.rest.get(
                "/v1/sandbox/notifications", params={"kind": "CHALLENGE_CODE", "limit": 100}
            )
        )
        for item in data["notifications"]:
            if item.get("relatedId") == challenge_id and item["channel"] == channel:
                return str(item["code"])
        assert time.monotonic() < deadline, f"no {channel} code for {challenge_id}"
        time.sleep(0.2)


def enrol_totp(who: Person) -> str:
    """Enrols (answering the enrolment's challenge with the emailed code)
    and confirms an authenticator app; its secret."""
    held = envelope.success(who.rest.post(f"/v1/users/{who.user_id}/totp", json={}), 202)
    challenge = str(held["challenge"]["id"])
    assert "TOTP" not in held["challenge"]["methods"]
    data = envelope.success(verify(who, challenge, emailed_code(who, challenge)), 201)
    secret = str(data["enrollment"]["secret"])
    assert data["enrollment"]["confirmed"] is False
    assert data["enrollment"]["otpauthUri"].startswith("otpauth://totp/")
    who.totp_secret = secret
    confirmed = envelope.success(
        who.rest.post(f"/v1/users/{who.user_id}/totp:confirm", json={"code": totp_code(who)})
    )
    assert confirmed["enrollment"] == {"confirmed": True}
    return secret


def totp_code(who: Person) -> str:
    """A code of the app for a step not used yet (the server takes one step of
    drift either way and never the same step twice); waits for the next step
    when the usable ones are used."""
    app = pyotp.TOTP(who.totp_secret)
    while True:
        now = timegm(datetime.now(UTC).timetuple()) // STEP_SECONDS
        for step in (now, now + 1):
            if step not in who.used_steps and (not who.used_steps or step > max(who.used_steps)):
                who.used_steps.add(step)
                return str(app.generate_otp(step))
        time.sleep(1)


def verify_grpc(who: Person, challenge_id: str, code: str, method: str = "") -> Any:
    request = pb.VerifyChallengeRequest(challenge_id=challenge_id, code=code)
    if method:
        request.method = cpb.ChallengeMethodEnum.ChallengeMethod.Value(method)
    return who.challenges.VerifyChallenge(request, timeout=30)


def verify(who: Person, challenge_id: str, code: str, **extra: Any) -> Any:
    return who.rest.post(f"/v1/challenges/{challenge_id}:verify", json={"code": code, **extra})

"""Customer notifications end to end: a real SMTP server (aiosmtpd) behind
stacks of this module's own (REST through Envoy and gRPC, SQLite and
PostgreSQL), the sandbox inbox, retries while the relay is down, and the
production mode's refusal."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiosmtpd.controller import Controller

from backoffice.v1 import sandbox_service_pb2 as pb
from backoffice.v1 import sandbox_service_pb2_grpc as pb_grpc
from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from server.crypto.fields import LiveKeyring
from server.domain import notifications as rules
from server.run import Stack
from server.store import notification_recipients as recipients
from server.store import tx
from tests.common import envelope
from tests.common.auth import authenticated, create_client, token_over_rest
from tests.common.databases import postgres_database
from tests.common.money import ALICE, BOB, BOB_CHECKING, open_account, transfer
from tests.common.oauth import user_tokens
from tests.common.principals import bound_store
from tests.common.stack import free_ports, stack_settings, started
from tests.conftest import Rest

StatusCode = grpc.StatusCode
WAIT_SECONDS = 20.0


# -- The SMTP server -------------------------------------------------------------------
@dataclass
class Inbox:
    """What the SMTP server received, by Message-ID."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope_: Any) -> str:
        parsed = email.message_from_bytes(envelope_.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def with_id(self, notification_id: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if notification_id in str(m["Message-ID"])]


class SmtpServer:
    """aiosmtpd on a fixed port, stopped and started again at will."""

    def __init__(self) -> None:
        self.port = free_ports(1)[0]
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Bank:
    """A stack whose notifications go to `smtp`, and its callers."""

    stack: Stack
    admin: Rest
    channel: grpc.Channel
    alice: Rest
    alice_channel: grpc.Channel


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def bank(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Bank]:
    tmp: Path = tmp_path_factory.mktemp(f"stack-notifications-{request.param}")
    with (
        postgres_database() if request.param == "postgres" else nullcontext("") as url,
        started(
            stack_settings(
                tmp,
                database_url=url,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_starttls=False,
            )
        ) as stack,
    ):
        token = str(token_over_rest(stack.http_url)["access_token"])
        alice_token = str(user_tokens(stack.http_url)["access_token"])
        with (
            Rest(stack.http_url) as admin,
            Rest(stack.http_url) as alice,
            grpc.insecure_channel(stack.grpc_target) as raw,
        ):
            admin.headers["Authorization"] = f"Bearer {token}"
            alice.headers["Authorization"] = f"Bearer {alice_token}"
            yield Bank(
                stack, admin, authenticated(raw, token), alice, authenticated(raw, alice_token)
            )


def _eventually(check: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _inbox(rest: Rest, **query: Any) -> list[dict[str, Any]]:
    data = envelope.success(rest.get("/v1/sandbox/notifications", params=query))
    return data["notifications"]  # type: ignore[no-any-return]


def _for_transaction(rest: Rest, transaction_id: str, **query: Any) -> list[dict[str, Any]]:
    return [n for n in _inbox(rest, limit=100, **query) if n.get("transactionId") == transaction_id]


def _account_number(rest: Rest, account_id: str) -> str:
    data = envelope.success(rest.get(f"/v1/accounts/{account_id}"))
    return str(data["account"]["accountNumber"])


# -- A large transfer ------------------------------------------------------------------
def test_a_large_transfer_over_rest_is_emailed_and_listed(bank: Bank, smtp: SmtpServer) -> None:
    source = open_account(bank.admin, owner=ALICE, funded=5_000)
    number = _account_number(bank.admin, source)
    made = envelope.success(transfer(bank.admin, source, BOB_CHECKING, 1234.56), 201)
    transaction_id = made["transaction"]["id"]

    listed = _eventually(
        lambda: [n for n in _for_transaction(bank.admin, transaction_id) if n["status"] == "SENT"],
        "the notification to be sent",
    )
    assert len(listed) == 1
    item = listed[0]
    assert item["id"].startswith("ntf_")
    assert (item["userId"], item["channel"], item["kind"]) == (ALICE, "EMAIL", "LARGE_AMOUNT")
    assert item["destination"] == "alice@example.com"
    assert item["relatedId"] == source and item["attempts"] == 1
    assert "code" not in item and "lastError" not in item and "sentAt" in item

    received = _eventually(lambda: smtp.inbox.with_id(item["id"]), "the email")
    assert len(received) == 1
    message = received[0]
    masked = f"****{number[-4:]}"
    assert message["Subject"] == f"Large transfer of USD 1,234.56 from account {masked}"
    assert message["To"] == "alice@example.com"
    body = message.get_content().replace("\r\n", "\n")
    assert "A transfer of USD 1,234.56 left your account " + masked in body
    assert number not in body and number not in str(message["Subject"])
    assert body.strip() == item["body"].strip() and item["subject"] == message["Subject"]


def test_a_large_transfer_over_grpc_is_listed_over_grpc(bank: Bank, smtp: SmtpServer) -> None:
    source = open_account(bank.admin, owner=ALICE, funded=3_000)
    reply = txn_grpc.TransactionServiceStub(bank.channel).CreateTransfer(
        txn_pb.CreateTransferRequest(
            from_account_id=source, to_account_id=BOB_CHECKING, amount=2000.0, description="car"
        ),
        timeout=30,
    )
    transaction_id = reply.transaction.id
    stub = pb_grpc.SandboxServiceStub(bank.channel)
    kind = pb.NotificationKindEnum.LARGE_AMOUNT
    channel = pb.NotificationChannelEnum.EMAIL

    def sent() -> list[pb.SandboxNotification]:
        listed = stub.ListSandboxNotifications(
            pb.ListSandboxNotificationsRequest(
                user_id=ALICE, kind=kind, channel=channel, limit=100
            ),
            timeout=30,
        )
        return [
            n
            for n in listed.notifications
            if n.transaction_id == transaction_id and n.status == pb.NotificationStatusEnum.SENT
        ]

    found = _eventually(sent, "the gRPC listing")
    assert len(found) == 1
    assert "USD 2,000.00" in found[0].subject
    assert not found[0].HasField("code") and found[0].HasField("sent_at")
    assert len(_eventually(lambda: smtp.inbox.with_id(found[0].id), "the email")) == 1


def test_small_refused_and_incoming_movements_notify_nobody(bank: Bank) -> None:
    source = open_account(bank.admin, owner=ALICE, funded=1_500)  # a deposit: money in
    small = envelope.success(transfer(bank.admin, source, BOB_CHECKING, 999.99), 201)
    refused = transfer(bank.admin, source, BOB_CHECKING, 5_000)
    envelope.error(refused, 422, "TXN001")
    # A later large transfer is derived: everything before it was looked at.
    marker_source = open_account(bank.admin, owner=BOB, funded=1_500)
    marker = envelope.success(transfer(bank.admin, marker_source, BOB_CHECKING, 1_000), 201)
    _eventually(
        lambda: _for_transaction(bank.admin, marker["transaction"]["id"]), "the marker's message"
    )
    related = [n for n in _inbox(bank.admin, limit=100) if n.get("relatedId") == source]
    assert related == []
    assert _for_transaction(bank.admin, small["transaction"]["id"]) == []


# -- The relay down ----------------------------------------------------------------------
def test_relay_down_retries_then_delivers_once(bank: Bank, smtp: SmtpServer) -> None:
    source = open_account(bank.admin, owner=ALICE, funded=2_000)
    smtp.stop()
    try:
        made = envelope.success(transfer(bank.admin, source, BOB_CHECKING, 1_500), 201)
        transaction_id = made["transaction"]["id"]
        failing = _eventually(
            lambda: [
                n
                for n in _for_transaction(bank.admin, transaction_id)
                if n["attempts"] >= 2 and n["status"] == "PENDING"
            ],
            "failed attempts",
        )[0]
        assert failing["lastError"].startswith("smtp connect:")
    finally:
        smtp.start()
    sent = _eventually(
        lambda: [n for n in _for_transaction(bank.admin, transaction_id) if n["status"] == "SENT"],
        "the retry to succeed",
    )[0]
    assert sent["id"] == failing["id"] and "lastError" not in sent
    _eventually(lambda: smtp.inbox.with_id(sent["id"]), "the email")
    time.sleep(1.5)  # a few more worker passes: nothing is sent again
    assert len(smtp.inbox.with_id(sent["id"])) == 1


# -- One-time codes ----------------------------------------------------------------------
def test_a_code_message_shows_its_code(bank: Bank, smtp: SmtpServer) -> None:
    """As the step-up feature writes it (enqueue_for_user, in the stack's database)."""

    def render(channel: str) -> rules.Message:
        return rules.challenge_message(channel, "604219", 750_000, "USD", 5)

    with bound_store(bank.stack):
        keyring = LiveKeyring(bank.stack.settings.data_dir / "keys")
        ids = tx.write(
            lambda: recipients.enqueue_for_user(
                keyring, ALICE, rules.CHALLENGE_CODE, render, code="604219", related_id="chl_x"
            )
        )
    assert len(ids) == 1  # Alice has no phone on file: email only
    listed = _eventually(
        lambda: [
            n
            for n in _inbox(bank.alice, kind="CHALLENGE_CODE", limit=100)
            if n["id"] == ids[0] and n["status"] == "SENT"
        ],
        "the code's message",
    )[0]
    assert listed["code"] == "604219" and listed["relatedId"] == "chl_x"
    assert listed["subject"] == "Your confirmation code" and "604219" in listed["body"]
    received = _eventually(lambda: smtp.inbox.with_id(ids[0]), "the email")[0]
    assert "604219" in received.get_content() and "604219" not in str(received["Subject"])
    reply = pb_grpc.SandboxServiceStub(bank.alice_channel).ListSandboxNotifications(
        pb.ListSandboxNotificationsRequest(kind=pb.NotificationKindEnum.CHALLENGE_CODE), timeout=30
    )
    assert [(n.id, n.code) for n in reply.notifications if n.id == ids[0]] == [(ids[0], "604219")]


# -- Who sees what ---------------------------------------------------------------------
def test_a_customer_lists_only_their_own(bank: Bank) -> None:
    alice_source = open_account(bank.admin, owner=ALICE, funded=1_200)
    bob_source = open_account(bank.admin, owner=BOB, funded=1_200)
    mine = envelope.success(transfer(bank.admin, alice_source, BOB_CHECKING, 1_100), 201)
    theirs = envelope.success(transfer(bank.admin, bob_source, BOB_CHECKING, 1_100), 201)
    _eventually(lambda: _for_transaction(bank.admin, theirs["transaction"]["id"]), "Bob's")
    _eventually(lambda: _for_transaction(bank.alice, mine["transaction"]["id"]), "Alice's")
    assert {n["userId"] for n in _inbox(bank.alice, limit=100)} == {ALICE}
    assert _inbox(bank.alice, userId=BOB) == []
    assert _for_transaction(bank.alice, theirs["transaction"]["id"]) == []
    assert BOB in {n["userId"] for n in _inbox(bank.admin, limit=100)}
    listed = pb_grpc.SandboxServiceStub(bank.alice_channel).ListSandboxNotifications(
        pb.ListSandboxNotificationsRequest(user_id=BOB), timeout=30
    )
    assert list(listed.notifications) == [] and listed.pagination.total_count == 0


def test_pages_newest_first_with_tokens(bank: Bank) -> None:
    first = envelope.success(bank.admin.get("/v1/sandbox/notifications", params={"limit": 1}))
    assert first["pagination"]["totalCount"] >= 2 and first["pagination"]["hasNext"] is True
    token = first["pagination"]["nextPageToken"]
    second = envelope.success(
        bank.admin.get("/v1/sandbox/notifications", params={"limit": 1, "pageToken": token})
    )
    newer, older = first["notifications"][0], second["notifications"][0]
    assert (newer["createdAt"], newer["id"]) > (older["createdAt"], older["id"])
    assert second["pagination"]["currentPage"] == 2


def test_bad_filters_are_refused(bank: Bank) -> None:
    envelope.error(
        bank.admin.get("/v1/sandbox/notifications", params={"channel": "FAX"}),
        400,
        "INVALID_REQUEST",  # the transcoder's answer to a word the enum lacks
    )
    envelope.error(
        bank.admin.get("/v1/sandbox/notifications", params={"pageToken": "forged"}),
        422,
        "VALIDATION_ERROR",
        "pageToken",
    )
    stub = pb_grpc.SandboxServiceStub(bank.channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListSandboxNotifications(pb.ListSandboxNotificationsRequest(kind=99), timeout=30)  # type: ignore[arg-type]
    assert refused.value.code() == StatusCode.INVALID_ARGUMENT


# -- Production ------------------------------------------------------------------------
def test_production_has_no_inbox(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("stack-production-notifications")
    with started(stack_settings(tmp, mode="production")) as stack:
        client = create_client(stack.settings)
        token = str(token_over_rest(stack.http_url, client)["access_token"])
        with Rest(stack.http_url) as rest:
            rest.headers["Authorization"] = f"Bearer {token}"
            envelope.error(rest.get("/v1/sandbox/notifications"), 422, "SANDBOX_ONLY")
        with grpc.insecure_channel(stack.grpc_target) as raw:
            stub = pb_grpc.SandboxServiceStub(authenticated(raw, token))
            with pytest.raises(grpc.RpcError) as refused:
                stub.ListSandboxNotifications(pb.ListSandboxNotificationsRequest(), timeout=30)
            assert refused.value.code() == StatusCode.FAILED_PRECONDITION

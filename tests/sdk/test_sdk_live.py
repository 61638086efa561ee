"""The SDK against the real server and Envoy (both databases): tokens,
accounts, money movement with automatic Idempotency-Keys, typed errors with
request ids, page iterators, rate-limit answers, request signing, webhook
deliveries verified, and the gRPC stubs over the same credentials."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from backoffice_sdk import (
    AccountNotFound,
    Client,
    InsufficientFunds,
    InvalidAmount,
    NotFound,
    RateLimited,
    RefreshToken,
    RetryPolicy,
    Unauthorized,
    ValidationError,
    grpc_stubs,
    webhooks,
)
from backoffice_sdk import ClientCredentials as ClientCredentialsType

from server.run import Stack
from server.store import sandbox
from tests.common.auth import SANDBOX_CLIENT
from tests.common.client_rules import configured_client, wait_for_fresh_window
from tests.common.oauth import user_tokens
from tests.common.principals import STAFF_SCOPES
from tests.common.webhook_receiver import receiving
from tests.common.webhooks import LIMITS
from tests.sdk.fakes import LoseFirstAnswer

ALICE_CHECKING = sandbox.account_id("alice", "CHECKING")


@pytest.fixture
def bank(stack: Stack) -> Iterator[Client]:
    with Client(stack.http_url, client_id=SANDBOX_CLIENT[0], client_secret=SANDBOX_CLIENT[1]) as c:
        yield c


@pytest.fixture
def alice_id(bank: Client) -> str:
    return bank.accounts.get(ALICE_CHECKING).owner_id


def _funded(bank: Client, owner_id: str, amount: str = "100.00") -> str:
    account = bank.accounts.create(type="SAVINGS", owner_id=owner_id, nickname="sdk test")
    bank.transactions.deposit(account.id, Decimal(amount), method="CASH")
    return account.id


def test_tokens_are_fetched_cached_and_renewed(bank: Client) -> None:
    auth = bank.auth
    assert isinstance(auth, ClientCredentialsType)
    bank.accounts.get(ALICE_CHECKING)
    bank.accounts.get(ALICE_CHECKING)
    assert auth.fetches == 1 and auth.token is not None
    first = auth.token.access_token
    auth.expire_now()  # as an hour later
    bank.accounts.get(ALICE_CHECKING)
    assert auth.fetches == 2 and auth.token.access_token != first
    # A token the server no longer takes: one 401, a new token, the call succeeds.
    object.__setattr__(auth, "_token", type(auth.token)("not-a-token", 1e18, "", None))
    assert bank.accounts.get(ALICE_CHECKING).id == ALICE_CHECKING
    assert auth.fetches == 3
    wrong = Client(bank.base_url, client_id="sandbox-client", client_secret="wrong")
    with wrong, pytest.raises(Unauthorized) as raised:
        wrong.accounts.get(ALICE_CHECKING)
    assert raised.value.code == "invalid_client"


def test_money_moves_once_with_automatic_idempotency_keys(
    stack: Stack, bank: Client, alice_id: str
) -> None:
    source = _funded(bank, alice_id, "250.00")
    target = bank.accounts.create(type="CHECKING", owner_id=alice_id).id
    # The first answer is lost after the server ran the transfer: the SDK
    # sends it again with the same key and gets the first answer back.
    lossy = LoseFirstAnswer("/v1/transactions/transfer")
    with Client(stack.http_url, auth=bank.auth, transport=lossy, sleep=lambda _s: None) as flaky:
        txn = flaky.transactions.transfer(source, target, Decimal("100.25"), description="SDK")
    assert lossy.lost == 1 and len(lossy.keys) == 2 and lossy.keys[0] == lossy.keys[1]
    assert lossy.keys[0] and txn.replayed is True and txn.http_status == 201
    assert txn.status == "COMPLETED" and txn.amount == Decimal("100.25")
    assert bank.accounts.get(source).balance == Decimal("149.75")
    assert bank.accounts.get(target).balance == Decimal("100.25")
    # A key of the caller's own: the same key again is the same transaction.
    again = [
        bank.transactions.transfer(source, target, Decimal("0.10"), idempotency_key=f"sdk-{source}")
        for _ in range(2)
    ]
    assert again[0].id == again[1].id and [t.replayed for t in again] == [False, True]
    assert bank.transactions.get(txn.id).amount == Decimal("100.25")
    assert bank.accounts.get(target).balance == Decimal("100.35")


def test_errors_are_typed_and_carry_the_request_id(bank: Client, alice_id: str) -> None:
    with pytest.raises(NotFound) as missing:
        bank.accounts.get("acc_doesnotexist000000")
    assert missing.value.http_status == 404 and missing.value.request_id
    source = _funded(bank, alice_id, "10.00")
    with pytest.raises(InvalidAmount) as inexact:
        bank.transactions.transfer(source, ALICE_CHECKING, Decimal("0.001"))
    assert inexact.value.code == "TXN005" and inexact.value.field == "amount"
    with pytest.raises(InsufficientFunds) as short:
        bank.transactions.transfer(source, ALICE_CHECKING, Decimal("10.01"))
    assert isinstance(short.value, ValidationError) and short.value.http_status == 422
    with pytest.raises((AccountNotFound, NotFound)):
        bank.transactions.transfer(source, "acc_doesnotexist000000", Decimal("1"))
    with pytest.raises(ValidationError) as no_owner:
        bank.accounts.create(type="SAVINGS")
    assert no_owner.value.code == "VALIDATION_ERROR" and no_owner.value.field == "ownerId"


def test_page_iterators_walk_every_page(bank: Client, alice_id: str) -> None:
    account = _funded(bank, alice_id, "1.00")
    for cents in range(2, 7):
        bank.transactions.deposit(account, Decimal(cents) / 100)
    listed = bank.transactions.list(account_id=account, limit=2)
    pages = list(listed.pages())
    assert [len(page.items) for page in pages] == [2, 2, 2]
    amounts = sorted(t.amount for t in listed)
    assert amounts == [Decimal(c) / 100 for c in range(2, 7)] + [Decimal(1)]
    found = bank.transactions.search(account, filters={"types": ["DEPOSIT"]}, limit=4).to_list()
    assert len(found) == 6
    users = bank.users.list(limit=1).to_list()
    assert len({user.id for user in users}) == len(users) >= 3


def test_rate_limits_answer_with_retry_after(stack: Stack) -> None:
    wait_for_fresh_window(3600, needed=15)  # the three reads in one fixed hour
    limited = configured_client(stack, rate_limits={"read_per_hour": 2, "write_per_hour": 100})
    sleeps: list[float] = []
    policy = RetryPolicy(max_retries=1, max_retry_after=float("inf"))
    with Client(stack.http_url, access_token=limited.token, retry=policy, sleep=sleeps.append) as c:
        c.accounts.get(ALICE_CHECKING)
        c.accounts.get(ALICE_CHECKING)
        with pytest.raises(RateLimited) as raised:
            c.accounts.get(ALICE_CHECKING)
    wait = raised.value.retry_after
    assert wait is not None and 0 < wait <= 3600
    assert len(sleeps) == 1 and sleeps[0] >= wait  # waited what the server said, then once more
    impatient = Client(stack.http_url, access_token=limited.token, sleep=sleeps.append)
    with impatient, pytest.raises(RateLimited):
        impatient.accounts.get(ALICE_CHECKING)  # beyond max_retry_after: raised at once
    assert len(sleeps) == 1


def test_signed_requests_are_accepted(stack: Stack) -> None:
    signer = configured_client(stack, require_signing=True, signing_secret=True)
    options = {"client_id": signer.client_id, "client_secret": signer.secret}
    with Client(stack.http_url, signing_secret=signer.signing_secret, **options) as signed:
        assert signed.accounts.get(ALICE_CHECKING).id == ALICE_CHECKING
        assert len(signed.transactions.list(account_id=ALICE_CHECKING, limit=1).first_page().items)
        found = signed.transactions.search(ALICE_CHECKING, filters={"keywords": ["x y"]}, limit=5)
        assert isinstance(found.to_list(), list)
    with Client(stack.http_url, **options) as unsigned, pytest.raises(Unauthorized):
        unsigned.accounts.get(ALICE_CHECKING)
    wrong = Client(stack.http_url, signing_secret="bks_wrong", **options)
    with wrong, pytest.raises(Unauthorized):
        wrong.accounts.get(ALICE_CHECKING)


def test_webhook_deliveries_verify(stack: Stack) -> None:
    admin = configured_client(stack, STAFF_SCOPES, rate_limits=LIMITS)
    with receiving() as receiver, Client(stack.http_url, access_token=admin.token) as c:
        hook = c.webhooks.create(f"{receiver.url}/sdk", ["account.created"])
        try:
            assert hook.secret and hook.secret.startswith("whsec_")
            assert [w.id for w in c.webhooks.list()] == [hook.id]
            c.webhooks.ping(hook.id)
            (delivery,) = receiver.wait_for(lambda got: len(got) >= 1)
        finally:
            c.webhooks.delete(hook.id)
    document = webhooks.verify(delivery.body, delivery.headers, hook.secret)
    assert document["type"] == "webhook.ping" and document["id"] == delivery.headers["webhook-id"]
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(delivery.body + b" ", delivery.headers, hook.secret)
    stamp = int(delivery.headers["webhook-timestamp"])
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(delivery.body, delivery.headers, hook.secret, now=stamp + 301)


def test_reports_and_grpc_stubs_share_the_credentials(stack: Stack, bank: Client) -> None:
    assert bank.reports.daily().type == "DAILY"
    v1 = grpc_stubs.load()
    channel = grpc_stubs.channel(stack.grpc_target, bank)
    try:
        stub = v1.account_service_pb2_grpc.AccountServiceStub(channel)
        reply = stub.GetAccount(v1.account_service_pb2.GetAccountRequest(account_id=ALICE_CHECKING))
        assert reply.account.id == ALICE_CHECKING
        request = v1.account_service_pb2.GetAccountRequest(account_id="acc_doesnotexist000000")
        with pytest.raises(Exception) as raised:
            stub.GetAccount(request)
        error = grpc_stubs.bank_error(raised.value)  # type: ignore[arg-type]
        assert isinstance(error, NotFound) and error.http_status == 404
    finally:
        channel.close()


def test_a_persons_grant_is_kept_alive_with_rotating_refresh_tokens(stack: Stack) -> None:
    tokens = user_tokens(stack.http_url)
    rotated: list[str] = []
    auth = RefreshToken(
        *SANDBOX_CLIENT, tokens["refresh_token"], access_token=tokens["access_token"],
        expires_in=tokens["expires_in"], on_rotate=rotated.append,
    )  # fmt: skip
    with Client(stack.http_url, auth=auth) as alice:
        assert alice.accounts.get(ALICE_CHECKING).holder == "Alice Anderson"
        assert auth.fetches == 0
        auth.expire_now()
        assert alice.accounts.get(ALICE_CHECKING).id == ALICE_CHECKING
        assert auth.fetches == 1 and len(rotated) == 1 and rotated[0] != tokens["refresh_token"]
        with pytest.raises(NotFound):  # another customer's account is not found
            alice.accounts.get(sandbox.account_id("bob", "CHECKING"))


def test_a_batch_retried_after_a_lost_answer_moves_money_once(
    stack: Stack, bank: Client, alice_id: str
) -> None:
    source = _funded(bank, alice_id, "50.00")
    target = bank.accounts.create(type="CHECKING", owner_id=alice_id).id
    items = [
        {"fromAccountId": source, "toAccountId": target, "amount": Decimal("10.00")},
        {"fromAccountId": source, "toAccountId": target, "amount": Decimal("0.001")},
    ]
    lossy = LoseFirstAnswer("/v1/transactions/transfers:batchCreate")
    with Client(stack.http_url, auth=bank.auth, transport=lossy, sleep=lambda _s: None) as flaky:
        results = flaky.transactions.batch_transfers(items)
    assert lossy.lost == 1 and len(lossy.keys) == 2 and lossy.keys[0] == lossy.keys[1]
    assert results[0]["transaction"]["amount"] == Decimal(10)
    assert results[1]["error"]["code"] == "TXN005"
    assert bank.accounts.get(source).balance == Decimal("40.00")
    assert bank.accounts.get(target).balance == Decimal("10.00")

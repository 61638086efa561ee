"""The SDK against an in-process fake edge: retries and Retry-After, the same
Idempotency-Key on every attempt, token renewal, error classes, exact money,
and request and webhook signatures computed as the server's own code does."""

from __future__ import annotations

import importlib.util
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from backoffice_sdk import (
    BankConnectionError,
    Client,
    InsufficientFunds,
    NotFound,
    OAuthError,
    RateLimited,
    RetryPolicy,
    Transaction,
    Unauthorized,
    Unavailable,
    ValidationError,
    WebhookVerificationError,
    _json,
    errors,
    signing,
    webhooks,
)
from backoffice_sdk.retry import retry_after_seconds

from server.config import REPO_ROOT
from server.domain import errors as server_errors
from server.domain import signing as server_signing
from server.domain import webhook_delivery
from tests.sdk.fakes import FakeBank, envelope, failure

TRANSFER = "/v1/transactions/transfer"
SDK = REPO_ROOT / "sdk" / "python"


def _client(bank: FakeBank, sleeps: list[float], **options: object) -> Client:
    return Client(
        "http://bank.test", client_id="svc", client_secret="secret", transport=bank.transport,
        sleep=sleeps.append, **options,  # type: ignore[arg-type]
    )  # fmt: skip


def test_retry_after_is_honoured_and_the_idempotency_key_kept() -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if n < 2:
            return failure(
                429, "RATE_LIMITED", {"Retry-After": "2", "X-RateLimit-Retry-After": "2"}
            )
        return envelope({"transaction": {"id": "txn_1", "amount": 500.0}}, 201)

    bank, sleeps = FakeBank(answer), []
    with _client(bank, sleeps) as client:
        txn = client.transactions.transfer("acc_a", "acc_b", Decimal("500.00"))
    assert txn.id == "txn_1" and txn.amount == Decimal("500")
    assert len(sleeps) == 2 and all(2 <= wait <= 3 for wait in sleeps)
    keys = {request.headers["idempotency-key"] for request in bank.calls}
    assert len(bank.calls) == 3 and len(keys) == 1
    assert len({request.content for request in bank.calls}) == 1
    assert (
        bank.calls[0].content == b'{"fromAccountId":"acc_a","toAccountId":"acc_b","amount":500.00}'
    )


def test_a_long_retry_after_is_raised_not_waited_for() -> None:
    bank, sleeps = (
        FakeBank(lambda _r, _n: failure(429, "RATE_LIMITED", {"Retry-After": "3600"})),
        [],
    )
    with _client(bank, sleeps) as client, pytest.raises(RateLimited) as raised:
        client.accounts.get("acc_a")
    assert raised.value.retry_after == 3600 and raised.value.http_status == 429
    assert sleeps == [] and len(bank.calls) == 1


def test_503_backs_off_exponentially_then_raises() -> None:
    bank, sleeps = FakeBank(lambda _r, _n: failure(503, "UNAVAILABLE")), []
    policy = RetryPolicy(max_retries=3, backoff=0.5)
    with _client(bank, sleeps, retry=policy) as client, pytest.raises(Unavailable):
        client.accounts.get("acc_a")
    assert len(bank.calls) == 4
    assert [wait <= 0.5 * 2**i for i, wait in enumerate(sleeps)] == [True] * 3


def test_connection_failures_are_retried_only_when_safe() -> None:
    def unreachable(request: httpx.Request, _n: int) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    bank, sleeps = FakeBank(unreachable), []
    with _client(bank, sleeps) as client:
        with pytest.raises(BankConnectionError):
            client.request("POST", "/v1/webhooks", json={})  # no key: never sent twice
        assert len(bank.calls) == 1
        with pytest.raises(BankConnectionError):
            client.transactions.deposit("acc_a", Decimal("1.00"))  # keyed: retried
        assert len(bank.calls) == 1 + 4
        with pytest.raises(BankConnectionError):
            client.accounts.get("acc_a")  # GET: retried
        assert len(bank.calls) == 1 + 4 + 4


def test_a_401_renews_the_token_once() -> None:
    def answer(request: httpx.Request, _n: int) -> httpx.Response:
        if request.headers["authorization"] == "Bearer tok-1":
            return failure(401, "UNAUTHORIZED")
        return envelope({"account": {"id": "acc_a", "balance": 10}})

    bank, sleeps = FakeBank(answer), []
    with _client(bank, sleeps) as client:
        assert client.accounts.get("acc_a").balance == Decimal(10)
        assert bank.tokens_issued == 2
    refused, sleeps = FakeBank(lambda _r, _n: failure(401, "UNAUTHORIZED")), []
    with _client(refused, sleeps) as client, pytest.raises(Unauthorized):
        client.accounts.get("acc_a")
    assert refused.tokens_issued == 2 and len(refused.calls) == 2


def test_tokens_are_fetched_again_before_they_expire() -> None:
    bank = FakeBank(lambda _r, _n: envelope({"account": {"id": "acc_a"}}), expires_in=3600)
    with _client(bank, []) as client:
        client.accounts.get("acc_a")
        client.accounts.get("acc_a")
        assert bank.tokens_issued == 1
    soon = FakeBank(lambda _r, _n: envelope({"account": {"id": "acc_a"}}), expires_in=30)
    with _client(soon, []) as client:  # inside the 60 s margin: every call refreshes
        client.accounts.get("acc_a")
        client.accounts.get("acc_a")
        assert soon.tokens_issued == 2


def test_every_server_error_code_has_its_class() -> None:
    codes = {
        cls.reason for cls in vars(server_errors).values()
        if isinstance(cls, type) and issubclass(cls, server_errors.BankError)
    }  # fmt: skip
    assert codes <= set(errors.BY_CODE) | {"INTERNAL"}
    for code, cls in errors.BY_CODE.items():
        body = {"error": {"code": code, "message": "m", "field": "amount"},
                "meta": {"requestId": "r-1"}}  # fmt: skip
        raised = errors.from_answer(cls.http_status, body, {}, None)
        assert type(raised) is cls and raised.code == code and raised.request_id == "r-1"
    assert isinstance(errors.from_answer(422, {"error": {"code": "TXN001"}}, {}, None),
                      InsufficientFunds | ValidationError)  # fmt: skip
    new_code = errors.from_answer(404, {"error": {"code": "SOMETHING_NEW"}}, {}, None)
    assert type(new_code) is NotFound and new_code.code == "SOMETHING_NEW"
    oauth = errors.from_answer(401, {"error": "invalid_client"}, {}, None)
    assert isinstance(oauth, OAuthError) and oauth.code == "invalid_client"


def test_money_is_exact_both_ways() -> None:
    assert _json.dumps({"amount": Decimal("500.10"), "n": [1, True, None]}) == (
        b'{"amount":500.10,"n":[1,true,null]}'
    )
    with pytest.raises(TypeError):
        _json.dumps({"amount": 0.1})
    assert _json.loads(b'{"a": 0.10, "b": 3}') == {"a": Decimal("0.10"), "b": 3}
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    usd = Transaction.from_json({"amount": 100, "currency": "USD", "fee": Decimal("0.001"),
                                 "toAccount": {"balance": 2}})  # fmt: skip
    assert str(usd.amount) == "100.00" and str(usd.fee) == "0.001"  # digits never dropped
    assert usd.to_account is not None and str(usd.to_account.balance) == "2.00"
    assert str(Transaction.from_json({"amount": 5000, "currency": "JPY"}).amount) == "5000"


def test_request_signatures_match_the_servers_canonical_form() -> None:
    for target in ("/v1/accounts", "/v1/transactions/search?limit=5&b=x+y&a=%7E%2F", "/v1/a?z="):
        body = b'{"amount":1.00}' if "search" in target else b""
        ours = signing.signature_headers("bks_secret", "post", target, body,
                                         timestamp=1_700_000_000, nonce="n" * 20)  # fmt: skip
        theirs = server_signing.signature_headers(
            "bks_secret", method="POST", target=target, body=body, timestamp=1_700_000_000,
            nonce="n" * 20,
        )  # fmt: skip
        assert ours == theirs


@pytest.mark.parametrize(
    "secret", ["whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "plain-secret-16chars"]
)
def test_webhook_verifier_accepts_the_banks_headers_only(secret: str) -> None:
    body = b'{"id":"evt_1","event":"webhook.ping","data":{"amount":12.30}}'
    now = datetime.now(UTC).replace(tzinfo=None)
    rotated = webhook_delivery.Secrets("other-secret-1234567", secret, datetime(2999, 1, 1))
    headers = webhook_delivery.headers("evt_1", body, rotated, now)
    document = webhooks.verify(body, headers, secret)
    assert document["data"]["amount"] == Decimal("12.30")
    webhooks.verify_body_signature(body, headers["x-webhook-signature"], "other-secret-1234567")
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(body.replace(b"12.30", b"99.30"), headers, secret)
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(body, headers, secret, now=time.time() + 301)
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(body, headers, "a-different-secret")
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(body, {k: v for k, v in headers.items() if k != "webhook-id"}, secret)


def test_a_wheel_bundles_every_generated_stub(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bundle_stubs", SDK / "scripts/bundle_stubs.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    source = REPO_ROOT / "gen" / "backoffice"
    copied = script.bundle(source, tmp_path / "backoffice")
    wanted = {p.relative_to(source) for p in source.rglob("*.py*") if "__pycache__" not in p.parts}
    assert {p.relative_to(tmp_path / "backoffice") for p in tmp_path.rglob("*.py*")} == wanted
    assert copied == len(wanted) and Path("v1/account_service_pb2_grpc.py") in wanted
    package_data = (SDK / "pyproject.toml").read_text(encoding="utf-8")
    assert '"_stubs/**/*.py", "_stubs/**/*.pyi"' in package_data

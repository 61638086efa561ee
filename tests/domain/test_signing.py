"""The canonical request and its HMAC (server/domain/signing.py); no network, no DB."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from server.domain import errors, signing

SECRET = "bks_test-secret"
NONCE = "n0nce-0123456789abcdef"
EMPTY = hashlib.sha256(b"").hexdigest()


def _problem(exc: pytest.ExceptionInfo[errors.BankError]) -> str:
    assert isinstance(exc.value, errors.Unauthenticated)
    assert exc.value.http_status == 401
    return exc.value.metadata["signature_problem"]


def test_the_canonical_request_is_six_lines() -> None:
    body = b'{"amount": 10}'
    canonical = signing.canonical_request(
        "post", "/v1/transactions/transfer", "1700000000", NONCE, hashlib.sha256(body).hexdigest()
    )
    assert canonical == "\n".join(
        [
            "POST",
            "/v1/transactions/transfer",
            "",
            "1700000000",
            NONCE,
            hashlib.sha256(body).hexdigest(),
        ]
    )


def test_a_known_answer() -> None:
    """A fixed vector, computed independently with hmac/hashlib, for client authors."""
    canonical = "GET\n/v1/accounts\nlimit=5&sort=balance\n1700000000\n" + NONCE + "\n" + EMPTY
    expected = hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    assert (
        signing.canonical_request(
            "GET", "/v1/accounts?sort=balance&limit=5", "1700000000", NONCE, EMPTY
        )
        == canonical
    )
    assert signing.signature(SECRET, canonical) == expected
    headers = signing.signature_headers(
        SECRET,
        method="GET",
        target="/v1/accounts?sort=balance&limit=5",
        body=b"",
        timestamp=1700000000,
        nonce=NONCE,
    )
    assert headers == {
        "X-Signature": f"v1={expected}",
        "X-Signature-Timestamp": "1700000000",
        "X-Signature-Nonce": NONCE,
    }


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1", "a=1&a=2"),
        ("search=john+doe", "search=john%20doe"),
        ("search=john%20doe", "search=john%20doe"),
        ("q=a%2Bb", "q=a%2Bb"),
        ("name=Jos%C3%A9&x=caf%c3%a9", "name=Jos%C3%A9&x=caf%C3%A9"),
        ("fields=name,email", "fields=name%2Cemail"),
        ("flag&empty=", "empty=&flag="),
        ("&&a=1&", "a=1"),
        ("tilde=~-._", "tilde=~-._"),
        ("k%65y=v", "key=v"),
    ],
)
def test_canonical_queries(query: str, canonical: str) -> None:
    assert signing.canonical_query(query) == canonical


def test_the_path_keeps_its_percent_encoding() -> None:
    canonical = signing.canonical_request("GET", "/v1/users/usr%5F1?x=1", "1", NONCE, EMPTY)
    assert canonical.split("\n")[1] == "/v1/users/usr%5F1"


def test_parse_headers() -> None:
    assert signing.parse_headers({}) is None
    assert signing.parse_headers({"authorization": "Bearer x"}) is None
    parsed = signing.parse_headers(
        {
            "x-signature": "v1=" + "AB" * 32,
            "x-signature-timestamp": "1700000000",
            "x-signature-nonce": NONCE,
        }
    )
    assert parsed == signing.SignedHeaders("ab" * 32, 1700000000, "1700000000", NONCE)


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"x-signature": "v1=" + "a" * 64}, "missing_header"),
        ({"x-signature-nonce": NONCE, "x-signature-timestamp": "1"}, "missing_header"),
        (
            {"x-signature": "", "x-signature-timestamp": "1", "x-signature-nonce": NONCE},
            "missing_header",
        ),
        (
            {"x-signature": "a" * 64, "x-signature-timestamp": "1", "x-signature-nonce": NONCE},
            "malformed_signature",
        ),
        (
            {
                "x-signature": "v2=" + "a" * 64,
                "x-signature-timestamp": "1",
                "x-signature-nonce": NONCE,
            },
            "malformed_signature",
        ),
        (
            {
                "x-signature": "v1=" + "g" * 64,
                "x-signature-timestamp": "1",
                "x-signature-nonce": NONCE,
            },
            "malformed_signature",
        ),
        (
            {
                "x-signature": "v1=" + "a" * 64,
                "x-signature-timestamp": "2024-01-01T00:00:00Z",
                "x-signature-nonce": NONCE,
            },
            "malformed_timestamp",
        ),
        (
            {
                "x-signature": "v1=" + "a" * 64,
                "x-signature-timestamp": "-5",
                "x-signature-nonce": NONCE,
            },
            "malformed_timestamp",
        ),
        (
            {
                "x-signature": "v1=" + "a" * 64,
                "x-signature-timestamp": "1",
                "x-signature-nonce": "short",
            },
            "malformed_nonce",
        ),
        (
            {
                "x-signature": "v1=" + "a" * 64,
                "x-signature-timestamp": "1",
                "x-signature-nonce": "x" * 65,
            },
            "malformed_nonce",
        ),
        (
            {
                "x-signature": "v1=" + "a" * 64,
                "x-signature-timestamp": "1",
                "x-signature-nonce": "has spaces in it!!",
            },
            "malformed_nonce",
        ),
    ],
)
def test_malformed_headers_are_refused(headers: dict[str, str], problem: str) -> None:
    with pytest.raises(errors.Unauthenticated) as caught:
        signing.parse_headers(headers)
    assert _problem(caught) == problem


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_timestamps_within_five_minutes_pass(skew: int) -> None:
    signing.check_timestamp(1_700_000_000 + skew, 1_700_000_000.0)


@pytest.mark.parametrize("skew", [-301, 301, -86400, 10**9])
def test_timestamps_further_away_are_stale(skew: int) -> None:
    with pytest.raises(errors.Unauthenticated) as caught:
        signing.check_timestamp(1_700_000_000 + skew, 1_700_000_000.0)
    assert _problem(caught) == "stale_timestamp"
    assert caught.value.metadata["server_time"] == "1700000000"


def test_nonces_are_kept_until_their_timestamp_is_stale() -> None:
    assert signing.nonce_expiry(1_700_000_000) > 1_700_000_000 + signing.TIMESTAMP_TOLERANCE_SECONDS


def test_verify() -> None:
    canonical = signing.canonical_request("GET", "/v1/accounts", "1", NONCE, EMPTY)
    signing.verify(SECRET, canonical, signing.signature(SECRET, canonical))
    for wrong in (
        signing.signature("another secret", canonical),
        signing.signature(SECRET, canonical + "x"),
        "0" * 64,
    ):
        with pytest.raises(errors.Unauthenticated) as caught:
            signing.verify(SECRET, canonical, wrong)
        assert _problem(caught) == "bad_signature"
        # The refusal says nothing about the expected signature.
        assert signing.signature(SECRET, canonical) not in str(caught.value.metadata)
        assert signing.signature(SECRET, canonical) not in caught.value.message


def test_oversized_queries_are_refused() -> None:
    with pytest.raises(errors.Unauthenticated):
        signing.canonical_query("a=" + "x" * 10_000)

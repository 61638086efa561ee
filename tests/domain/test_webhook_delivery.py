"""Webhook delivery rules: signatures (checked with the official Standard
Webhooks verifier and with hmac), the retry schedule, what an answer means."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from server.domain import webhook_delivery as rules
from server.domain.webhook_delivery import Answer, Secrets

BODY = json.dumps({"id": "evt_1", "event": "user.created", "data": {"name": "Zoë"}}).encode()
WHSEC = "whsec_" + base64.b64encode(b"k" * 32).decode()
PLAIN = "webhook_secret_key"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _verify(secret: str | bytes, headers: dict[str, str], body: bytes = BODY) -> object:
    return Webhook(secret).verify(body, headers)


@pytest.mark.parametrize(
    ("secret", "verifier_key"),
    [(WHSEC, WHSEC), (PLAIN, PLAIN.encode())],
    ids=["whsec", "plain"],
)
def test_standard_signature_verifies_with_the_official_library(
    secret: str, verifier_key: str | bytes
) -> None:
    headers = rules.headers("evt_1", BODY, Secrets(secret), _now())
    assert _verify(verifier_key, headers) == json.loads(BODY)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-signature"].startswith("v1,")
    assert " " not in headers["webhook-signature"]


def test_a_changed_body_or_another_key_does_not_verify() -> None:
    headers = rules.headers("evt_1", BODY, Secrets(WHSEC), _now())
    with pytest.raises(WebhookVerificationError):
        _verify(WHSEC, headers, BODY + b" ")
    with pytest.raises(WebhookVerificationError):
        _verify(PLAIN.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        _verify(WHSEC, {**headers, "webhook-id": "evt_2"})


def test_a_whsec_secret_is_not_used_as_its_text() -> None:
    """The whsec_ form is base64 of the key: signing with the text's bytes
    would be another signature."""
    headers = rules.headers("evt_1", BODY, Secrets(WHSEC), _now())
    with pytest.raises(WebhookVerificationError):
        _verify(WHSEC.encode(), headers)


def test_rotation_signs_with_both_secrets_new_first() -> None:
    now = _now()
    secrets = Secrets(PLAIN, WHSEC, now + timedelta(hours=24))
    headers = rules.headers("evt_1", BODY, secrets, now)
    first, second = headers["webhook-signature"].split(" ")
    assert _verify(PLAIN.encode(), {**headers, "webhook-signature": first})
    assert _verify(WHSEC, {**headers, "webhook-signature": second})
    with pytest.raises(WebhookVerificationError):
        _verify(WHSEC, {**headers, "webhook-signature": first})
    # Either receiver (old or new secret) accepts the header as sent.
    assert _verify(PLAIN.encode(), headers)
    assert _verify(WHSEC, headers)


def test_an_expired_previous_secret_no_longer_signs() -> None:
    now = _now()
    for expires_at in (now, now - timedelta(seconds=1), None):
        headers = rules.headers("evt_1", BODY, Secrets(PLAIN, WHSEC, expires_at), now)
        assert " " not in headers["webhook-signature"]
        with pytest.raises(WebhookVerificationError):
            _verify(WHSEC, headers)


def test_body_signature_is_hex_hmac_of_the_raw_body_with_the_current_secret() -> None:
    now = _now()
    headers = rules.headers("evt_1", BODY, Secrets(WHSEC, PLAIN, now + timedelta(hours=1)), now)
    expected = hmac.new(WHSEC.encode(), BODY, hashlib.sha256).hexdigest()
    assert headers["x-webhook-signature"] == f"sha256={expected}"


def test_headers_name_the_content_the_agent_and_the_time() -> None:
    now = datetime(2025, 11, 9, 10, 30, 0)
    headers = rules.headers("evt_1", BODY, Secrets(PLAIN), now)
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "BankingBackOffice-Webhooks/1"
    assert headers["webhook-timestamp"] == "1762684200"


# -- The schedule ------------------------------------------------------------------
NOMINAL = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200]


def test_schedule_is_thirteen_delays_over_about_three_days() -> None:
    assert [d.total_seconds() for d in rules.SCHEDULE] == NOMINAL
    total = sum(NOMINAL)
    assert 2.6 * 86400 < total < 2.7 * 86400  # about 2.65 days; with the 14th attempt, about 3


@pytest.mark.parametrize("failed", range(1, 14))
def test_retry_delay_stays_within_twenty_percent(failed: int) -> None:
    nominal = NOMINAL[failed - 1]
    low = rules.retry_delay(failed, uniform=lambda a, b: a)
    high = rules.retry_delay(failed, uniform=lambda a, b: b)
    assert low == timedelta(seconds=nominal * 0.8)
    assert high == timedelta(seconds=nominal * 1.2)
    for _ in range(50):
        delay = rules.retry_delay(failed)
        assert delay is not None
        assert nominal * 0.8 <= delay.total_seconds() <= nominal * 1.2


def test_retry_delays_are_jittered() -> None:
    assert len({rules.retry_delay(1) for _ in range(20)}) > 1


def test_the_fourteenth_failure_is_the_last() -> None:
    assert rules.retry_delay(13) is not None
    assert rules.retry_delay(14) is None
    with pytest.raises(AssertionError):
        rules.retry_delay(0)


def test_an_injected_schedule_is_followed() -> None:
    schedule = (timedelta(seconds=1), timedelta(seconds=2))
    assert rules.retry_delay(2, schedule, lambda a, b: 1.0) == timedelta(seconds=2)
    assert rules.retry_delay(3, schedule) is None


# -- What an answer means ------------------------------------------------------------
NOW = datetime(2025, 1, 1)


@pytest.mark.parametrize("code", [200, 201, 202, 204, 299])
def test_2xx_succeeds(code: int) -> None:
    verdict = rules.verdict(Answer(response_code=code), 3, NOW)
    assert verdict == rules.Verdict(rules.SUCCEEDED, None, None)


@pytest.mark.parametrize("code", [100, 301, 302, 304, 307, 400, 401, 404, 429, 500, 502, 503])
def test_any_other_answer_fails_and_is_retried(code: int) -> None:
    verdict = rules.verdict(Answer(response_code=code), 1, NOW, uniform=lambda a, b: 1.0)
    assert verdict.status == rules.FAILED
    assert verdict.error == f"HTTP {code}"
    assert verdict.next_attempt_at == NOW + timedelta(seconds=5)


def test_410_gone_is_dead_at_once() -> None:
    verdict = rules.verdict(Answer(response_code=410), 1, NOW)
    assert verdict == rules.Verdict(rules.DEAD, None, "HTTP 410")


@pytest.mark.parametrize("error", ["timeout", "connection refused", "address refused: x"])
def test_no_answer_fails_with_its_error(error: str) -> None:
    verdict = rules.verdict(Answer(error=error), 2, NOW, uniform=lambda a, b: 1.0)
    assert verdict == rules.Verdict(rules.FAILED, NOW + timedelta(seconds=30), error)


def test_an_error_beside_a_2xx_code_is_no_success() -> None:
    assert not Answer(response_code=200, error="read cut short").succeeded


def test_the_fourteenth_failed_attempt_is_dead() -> None:
    assert rules.verdict(Answer(response_code=500), 13, NOW).status == rules.FAILED
    assert rules.verdict(Answer(response_code=500), 14, NOW) == rules.Verdict(
        rules.DEAD, None, "HTTP 500"
    )


def test_excerpt_keeps_the_first_1024_bytes_as_text() -> None:
    assert rules.excerpt(b"ok") == "ok"
    assert rules.excerpt(b"a" * 5000) == "a" * 1024
    cut = rules.excerpt("é".encode() * 600)  # 2 bytes each: 512 whole characters
    assert cut == "é" * 512
    assert rules.excerpt(b"\xff\xfe") == "\ufffd\ufffd"


def test_excerpts_and_errors_hold_no_nul() -> None:
    # PostgreSQL refuses NUL in text: a receiver's answer must not block recording.
    assert rules.excerpt(b"ok\x00") == "ok\ufffd"
    assert rules.short_error("bad\x00name") == "bad\ufffdname"


def test_short_error_cuts_long_messages() -> None:
    assert rules.short_error("x") == "x"
    assert len(rules.short_error("x" * 2000)) == rules.ERROR_CHARS_MAX


def test_a_subscription_is_disabled_after_three_days_of_failures() -> None:
    assert not rules.should_disable(None, NOW)
    assert not rules.should_disable(NOW - timedelta(days=3), NOW)
    assert rules.should_disable(NOW - timedelta(days=3, seconds=1), NOW)
    reason = rules.disabled_reason(NOW - timedelta(days=3), "HTTP 500")
    assert reason == "failing since 2024-12-29T00:00:00Z: HTTP 500"

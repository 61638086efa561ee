"""What is notified, and the texts: exact money, masked numbers, no secrets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.domain import notifications as rules


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (123_456, "USD", "USD 1,234.56"),
        (100_000_000_000_01, "USD", "USD 100,000,000,000.01"),
        (5, "EUR", "EUR 0.05"),
        (-250, "GBP", "GBP -2.50"),
        (1_000_000, "JPY", "JPY 1,000,000"),
        (0, "CAD", "CAD 0.00"),
    ],
)
def test_money_is_formatted_exactly(minor: int, currency: str, text: str) -> None:
    assert rules.format_money(minor, currency) == text


@pytest.mark.parametrize(
    ("type_", "minor", "currency", "kind"),
    [
        ("TRANSFER", 100_000, "USD", rules.LARGE_AMOUNT),
        ("TRANSFER", 99_999, "USD", None),
        ("WITHDRAWAL", 150_000, "EUR", rules.LARGE_AMOUNT),
        ("PAYMENT", 100, "USD", rules.TRANSACTION_CONFIRMATION),
        ("PAYMENT", 1_000_000, "USD", rules.LARGE_AMOUNT),
        ("EXTERNAL_TRANSFER", 500, "GBP", rules.TRANSACTION_CONFIRMATION),
        ("DEPOSIT", 10_000_000, "USD", None),
        ("FEE", 3_500, "USD", None),
        ("REVERSAL", 10_000_000, "USD", None),
        ("TRANSFER", 99_999, "JPY", None),
        ("TRANSFER", 100_000, "JPY", rules.LARGE_AMOUNT),
    ],
)
def test_what_is_notified(type_: str, minor: int, currency: str, kind: str | None) -> None:
    assert rules.kind_for(type_, minor, currency) == kind


def test_channels() -> None:
    assert rules.channels_for(rules.LARGE_AMOUNT, True) == (rules.EMAIL, rules.SMS)
    assert rules.channels_for(rules.LARGE_AMOUNT, False) == (rules.EMAIL,)
    assert rules.channels_for(rules.TRANSACTION_CONFIRMATION, True) == (rules.EMAIL,)


def _movement() -> rules.Movement:
    return rules.Movement(
        type="TRANSFER",
        transaction_id="txn_abc",
        transaction_number="TXN20261205042",
        amount_minor=123_456,
        currency="USD",
        account_number="4000123456789012",
        completed_at=datetime(2026, 12, 5, 16, 30),
    )


@pytest.mark.parametrize("channel", rules.CHANNELS)
@pytest.mark.parametrize("kind", [rules.LARGE_AMOUNT, rules.TRANSACTION_CONFIRMATION])
def test_movement_texts_mask_the_account_and_state_the_amount(kind: str, channel: str) -> None:
    message = rules.movement_message(kind, channel, _movement())
    text = message.subject + message.body
    assert "USD 1,234.56" in text and "****9012" in text
    assert "4000123456789012" not in text and "123456789" not in text
    assert "TXN20261205042" in message.body
    assert (message.subject == "") == (channel == rules.SMS)


def test_large_amount_email() -> None:
    message = rules.movement_message(rules.LARGE_AMOUNT, rules.EMAIL, _movement())
    assert message.subject == "Large transfer of USD 1,234.56 from account ****9012"
    assert "Completed: 2026-12-05 16:30 UTC" in message.body
    assert "dispute it within 60 days" in message.body


def test_challenge_and_dispute_texts() -> None:
    code = rules.challenge_message(rules.SMS, "482913", 750_000, "USD", 5)
    assert "482913" in code.body and "USD 7,500.00" in code.body and "5 minutes" in code.body
    email = rules.challenge_message(rules.EMAIL, "482913", 750_000, "USD", 5)
    assert email.subject == "Your confirmation code" and "482913" not in email.subject
    dispute = rules.dispute_message(rules.EMAIL, "dsp_1", "TXN1", "RESOLVED", "Credit is final.")
    assert dispute.subject == "Dispute dsp_1: RESOLVED" and "Credit is final." in dispute.body


def test_destinations_are_masked_for_logs() -> None:
    assert rules.mask_destination(rules.EMAIL, "alice@example.com") == "a***@example.com"
    assert rules.mask_destination(rules.SMS, "+15551234567") == "+*******4567"


def test_backoff_doubles_up_to_an_hour_and_gives_up() -> None:
    assert [rules.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert rules.backoff(30) == timedelta(hours=1)
    assert not rules.gives_up(rules.ATTEMPTS_MAX - 1, False)
    assert rules.gives_up(rules.ATTEMPTS_MAX, False) and rules.gives_up(1, True)

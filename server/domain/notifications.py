"""Customer notifications: what is notified, and the messages' text (pure).

What is notified (derived from committed `transaction.completed` outbox
events by server.workers.notifications, never written on the movement's
hot path):
- LARGE_AMOUNT: money left a customer's account (a TRANSFER, WITHDRAWAL,
  PAYMENT or EXTERNAL_TRANSFER completed) for at least the currency's
  threshold (LARGE_AMOUNT_MAJOR: 1,000.00 in USD, EUR, GBP and CAD, 100,000
  in JPY); by email, and by text message when the customer has a phone.
- TRANSACTION_CONFIRMATION: a bill payment or an external transfer below
  that threshold completed (they complete days after the request, so the
  customer is told); by email.
- CHALLENGE_CODE and DISPUTE_UPDATE: written by those features through
  server.store.notifications.enqueue with the texts below.
- SECURITY_ALERT: a change of the person's sign-in security (an
  authenticator app added, the email or phone changed), by email.
Only the debited account's owner is told; the bank's own accounts (no
owner) never are.

Texts never hold a full account number or a secret other than the one-time
code a CHALLENGE_CODE message exists to carry; amounts are exact (integer
minor units formatted with Decimal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from server.domain.masking import mask_account_number, mask_tail
from server.domain.money import exponent

EMAIL = "EMAIL"
SMS = "SMS"
CHANNELS = (EMAIL, SMS)

TRANSACTION_CONFIRMATION = "TRANSACTION_CONFIRMATION"
LARGE_AMOUNT = "LARGE_AMOUNT"
CHALLENGE_CODE = "CHALLENGE_CODE"
DISPUTE_UPDATE = "DISPUTE_UPDATE"
SECURITY_ALERT = "SECURITY_ALERT"
KINDS = (TRANSACTION_CONFIRMATION, LARGE_AMOUNT, CHALLENGE_CODE, DISPUTE_UPDATE, SECURITY_ALERT)

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"
STATUSES = (PENDING, SENT, FAILED)

# Money leaving the account at or above this (major units) is LARGE_AMOUNT.
LARGE_AMOUNT_MAJOR: dict[str, Decimal] = {
    "USD": Decimal("1000"),
    "EUR": Decimal("1000"),
    "GBP": Decimal("1000"),
    "CAD": Decimal("1000"),
    "JPY": Decimal("100000"),
}
DEBIT_TYPES = frozenset({"TRANSFER", "WITHDRAWAL", "PAYMENT", "EXTERNAL_TRANSFER"})
CONFIRMED_TYPES = frozenset({"PAYMENT", "EXTERNAL_TRANSFER"})
_TYPE_WORDS = {
    "TRANSFER": "transfer",
    "WITHDRAWAL": "withdrawal",
    "PAYMENT": "bill payment",
    "EXTERNAL_TRANSFER": "transfer to another bank",
}

# Sending: attempts and the wait after the n-th failure (1 s, doubling, at
# most 1 hour); after ATTEMPTS_MAX failures, or a message older than
# MAX_AGE when due, FAILED.
ATTEMPTS_MAX = 12
BACKOFF_FIRST = timedelta(seconds=1)
BACKOFF_MAX = timedelta(hours=1)
MAX_AGE = timedelta(hours=24)
# Sent and failed messages are deleted this long after they were written.
RETENTION = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered message: `subject` is empty for SMS."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Movement:
    """What a movement notification says (from a transaction.completed event)."""

    type: str
    transaction_id: str
    transaction_number: str
    amount_minor: int
    currency: str
    account_number: str  # full here; only its last four digits are ever written
    completed_at: datetime


def format_money(minor: int, currency: str) -> str:
    """`USD 1,234.56`: exact, with the currency's decimals, negative with `-`."""
    places = exponent(currency)
    value = Decimal(minor).scaleb(-places)
    text = f"{abs(value):,.{places}f}"
    return f"{currency} {'-' if minor < 0 else ''}{text}"


def kind_for(type_: str, amount_minor: int, currency: str) -> str | None:
    """The notification a completed movement of `type_` makes, or None."""
    if type_ not in DEBIT_TYPES:
        return None
    threshold = LARGE_AMOUNT_MAJOR.get(currency)
    if threshold is not None and amount_minor >= threshold.scaleb(exponent(currency)):
        return LARGE_AMOUNT
    if type_ in CONFIRMED_TYPES:
        return TRANSACTION_CONFIRMATION
    return None


def channels_for(kind: str, has_phone: bool) -> tuple[str, ...]:
    """Email always; a text message too for large amounts and codes when a phone is known."""
    if has_phone and kind in (LARGE_AMOUNT, CHALLENGE_CODE):
        return (EMAIL, SMS)
    return (EMAIL,)


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def movement_message(kind: str, channel: str, movement: Movement) -> Message:
    """The text of a LARGE_AMOUNT or TRANSACTION_CONFIRMATION message."""
    amount = format_money(movement.amount_minor, movement.currency)
    masked = mask_account_number(movement.account_number)
    what = _TYPE_WORDS.get(movement.type, movement.type.lower())
    if kind == LARGE_AMOUNT:
        subject = f"Large {what} of {amount} from account {masked}"
        lead = f"A {what} of {amount} left your account {masked}."
        advice = "If you did not make it, contact us at once: you can dispute it within 60 days."
    else:
        subject = f"Your {what} of {amount} is complete"
        lead = f"Your {what} of {amount} from account {masked} is complete."
        advice = "No action is needed."
    if channel == SMS:
        return Message("", f"Bank: {lead} Ref {movement.transaction_number}. {advice}")
    body = "\n".join(
        [
            lead,
            "",
            f"Reference: {movement.transaction_number}",
            f"Transaction id: {movement.transaction_id}",
            f"Completed: {_when(movement.completed_at)}",
            "",
            advice,
            "",
            "This message was sent automatically; do not reply.",
        ]
    )
    return Message(subject, body)


def challenge_message(
    channel: str,
    code: str,
    amount_minor: int,
    currency: str,
    expires_minutes: int,
    *,
    destination: str = "",
) -> Message:
    """A one-time code confirming a movement (step-up verification), naming
    where the money goes (`destination`, masked: "account ****7890", a
    payee's name), so that the person sees what the code confirms."""
    amount = format_money(amount_minor, currency)
    lead = f"Your confirmation code is {code}."
    to = f" to {destination}" if destination else ""
    detail = (
        f"It confirms a payment of {amount}{to} and expires in {expires_minutes} minutes."
        " Never share it: the bank never asks for it."
    )
    if channel == SMS:
        return Message("", f"Bank: {lead} {detail}")
    return Message("Your confirmation code", f"{lead}\n\n{detail}\n")


def change_challenge_message(channel: str, code: str, change: str, expires_minutes: int) -> Message:
    """A one-time code confirming a change of the person's own security
    settings (`change`: "adding an authenticator app to your account")."""
    lead = f"Your confirmation code is {code}."
    detail = (
        f"It confirms {change} and expires in {expires_minutes} minutes."
        " If you did not ask for this, do not share it and contact the bank."
    )
    if channel == SMS:
        return Message("", f"Bank: {lead} {detail}")
    return Message("Your confirmation code", f"{lead}\n\n{detail}\n")


def security_alert_message(channel: str, what: str) -> Message:
    """Tells the person that their security settings changed (`what`: "An
    authenticator app was added to your account")."""
    text = f"{what}. If this was not you, contact the bank at once."
    if channel == SMS:
        return Message("", f"Bank: {text}")
    return Message("Security alert", f"{text}\n")


def dispute_message(
    channel: str, dispute_id: str, transaction_number: str, status: str, note: str = ""
) -> Message:
    """A dispute changed (opened, provisional credit, resolved)."""
    lead = f"Your dispute {dispute_id} of transaction {transaction_number} is now {status}."
    text = f"{lead} {note}".strip()
    if channel == SMS:
        return Message("", f"Bank: {text}")
    return Message(f"Dispute {dispute_id}: {status}", f"{text}\n")


# What a DISPUTE_UPDATE tells (dispute_note's `step`).
DISPUTE_OPENED = "OPENED"
DISPUTE_CREDITED = "CREDITED"
DISPUTE_RESOLVED = "RESOLVED"


def dispute_note(
    step: str,
    *,
    amount_minor: int,
    currency: str,
    credited: bool,
    deadline: datetime | None = None,
    customer_won: bool = False,
) -> str:
    """The sentence after a DISPUTE_UPDATE's lead: what happened to the money.

    OPENED: the provisional credit made at once (an unauthorized transaction)
    or when it will come; CREDITED: the provisional credit the investigation
    deadline brought; RESOLVED: the outcome and what it did to the credit."""
    amount = format_money(amount_minor, currency)
    if step == DISPUTE_OPENED:
        if credited:
            return f"A provisional credit of {amount} was made to your account."
        when = f" on {deadline.strftime('%Y-%m-%d')}" if deadline is not None else ""
        return f"If it is still open{when}, a provisional credit of {amount} will be made."
    if step == DISPUTE_CREDITED:
        return f"A provisional credit of {amount} was made to your account while we investigate."
    if customer_won:
        return f"It was resolved in your favour: the credit of {amount} is final."
    if credited:
        return (
            f"It was resolved in the merchant's favour: the provisional credit of {amount}"
            " was taken back."
        )
    return "It was resolved in the merchant's favour: no credit is made."


def mask_destination(channel: str, destination: str) -> str:
    """For logs: `a***@example.com`, `*********4567`."""
    if channel == EMAIL:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    return mask_tail(destination)


def backoff(failures: int) -> timedelta:
    """The wait after the `failures`-th failed attempt (1-based)."""
    seconds = BACKOFF_FIRST.total_seconds() * 2 ** min(max(failures - 1, 0), 20)
    return min(timedelta(seconds=seconds), BACKOFF_MAX)


def gives_up(failures: int, permanent: bool) -> bool:
    """Whether a message is FAILED for good after `failures` failed attempts."""
    return permanent or failures >= ATTEMPTS_MAX

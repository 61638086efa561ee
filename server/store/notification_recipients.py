"""Where a customer's messages go, and enqueueing one message per channel
for features that tell a customer something (a challenge code, a dispute
update): they call `enqueue_for_user` inside their own transaction.

The address is the user's email; the phone (sealed in `users.phone`) adds a
text message for the kinds that go by SMS too (rules.channels_for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.crypto.fields import FieldSealer, UnreadableField
from server.domain import notifications as rules
from server.store import sealed
from server.store.models import User
from server.store.notifications import Draft, enqueue_many


@dataclass(frozen=True, slots=True)
class Contacts:
    email: str
    phone: str | None


def phone(sealer: FieldSealer, user_id: str, stored: str | None) -> str | None:
    """The user's phone opened; None when there is none or it does not open."""
    try:
        return sealed.open_value(sealer, sealed.USER_PHONE, user_id, stored)
    except UnreadableField:
        return None


def contacts(sealer: FieldSealer, user_id: str) -> Contacts | None:
    """An active user's email and phone; None for an unknown or deactivated user."""
    row = User.get_or_none((User.id == user_id) & User.deactivated_at.is_null())
    if row is None:
        return None
    return Contacts(email=row.email, phone=phone(sealer, user_id, row.phone))


def enqueue_for_user(
    sealer: FieldSealer,
    user_id: str,
    kind: str,
    render: Callable[[str], rules.Message],
    *,
    code: str | None = None,
    transaction_id: str | None = None,
    related_id: str | None = None,
) -> list[str]:
    """One PENDING message per channel the user can be reached on for
    `kind`, its text `render(channel)`; their ids (none for an unknown or
    deactivated user). Call inside the transaction of what it tells about.

    For example, a challenge's code:
    `enqueue_for_user(sealer, user_id, rules.CHALLENGE_CODE, lambda channel:
    rules.challenge_message(channel, code, amount_minor, currency, 5),
    code=code, related_id=challenge_id)`.
    """
    found = contacts(sealer, user_id)
    if found is None:
        return []
    drafts = [
        Draft(
            user_id=user_id,
            channel=channel,
            destination=found.email if channel == rules.EMAIL else str(found.phone),
            kind=kind,
            message=render(channel),
            code=code,
            transaction_id=transaction_id,
            related_id=related_id,
        )
        for channel in rules.channels_for(kind, found.phone is not None)
    ]
    return enqueue_many(sealer, drafts)

"""A card of a test's own, written straight into the database."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from argon2 import PasswordHasher

from server.domain.movements import card_number_hash
from server.run import Stack
from tests.common import users

WRONG_PINS = ("0000", "0001", "0002", "0003")


def new_card(stack: Stack, account_id: str) -> tuple[str, str]:
    """An ACTIVE card of `account_id` with a random number and PIN (never one
    of WRONG_PINS): (card number, PIN)."""
    number = "4" + "".join(str(secrets.randbelow(10)) for _ in range(15))
    pin = str(1000 + secrets.randbelow(9000))
    users.db_execute(
        stack,
        "INSERT INTO cards (id, account_id, number_hash, last4, pin_hash, failed_pin_attempts,"
        " status, created_at) VALUES (%s, %s, %s, %s, %s, 0, 'ACTIVE', %s)",
        (
            f"card_{uuid.uuid4().hex[:16]}",
            account_id,
            card_number_hash(number),
            number[-4:],
            PasswordHasher().hash(pin),
            datetime.now(UTC).replace(tzinfo=None),
        ),
    )
    return number, pin

"""Debit cards and the bank's ATM registry, as withdrawals read them.

Cards are found by a hash of their number (the number is not stored). A
wrong PIN counts even when its request then fails: `count_wrong_pin` runs
through `tx.write_lasting`.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import movements, withdrawals
from server.store import clock, tx
from server.store.models import Atm, Card


@dataclass(frozen=True, slots=True)
class CardRecord:
    id: str
    account_id: str
    last4: str
    pin_hash: str
    failed_pin_attempts: int
    status: str


def card_by_digits(digits: str) -> CardRecord | None:
    card = Card.get_or_none(Card.number_hash == movements.card_number_hash(digits))
    if card is None:
        return None
    return CardRecord(
        id=card.id,
        account_id=card.account_id,
        last4=card.last4,
        pin_hash=card.pin_hash,
        failed_pin_attempts=int(card.failed_pin_attempts),
        status=card.status,
    )


def clear_wrong_pins(card_id: str) -> None:
    """A right PIN starts the count of wrong ones again (lasting)."""
    tx.write_lasting(lambda: Card.update(failed_pin_attempts=0).where(Card.id == card_id).execute())


def count_wrong_pin(card_id: str) -> int:
    """Counts a wrong PIN (lasting) and locks the card at the limit; returns the
    wrong PINs in a row."""

    def count() -> int:
        now = clock.now()
        Card.update(failed_pin_attempts=Card.failed_pin_attempts + 1).where(
            Card.id == card_id
        ).execute()
        attempts = int(Card.get_by_id(card_id).failed_pin_attempts)
        if withdrawals.card_locks(attempts):
            Card.update(status="LOCKED", locked_at=now).where(Card.id == card_id).execute()
        return attempts

    return tx.write_lasting(count)


def atm(atm_id: str) -> tuple[str, str] | None:
    """(network, country) of the bank's registered ATM `atm_id`, or None."""
    found = Atm.get_or_none(Atm.id == atm_id)
    return (str(found.network), str(found.country)) if found else None

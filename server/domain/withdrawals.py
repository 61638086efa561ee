"""Rules of withdrawals: which fields each method needs, cards, PINs, ATM pricing.

Pure: the use case (server.services.withdrawals) reads the card and the ATM
registry and applies these.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import errors, movements
from server.domain.principal import CUSTOMER, Principal

PIN_LENGTH_MAX = 64
# A customer withdraws only with their card: ATM (card and PIN) or DEBIT_CARD
# (the card). Cash at a BRANCH and a bank CHECK are handed over by a teller,
# who checks who is asking: staff (and the bank's services) make those.
CUSTOMER_WITHDRAWAL_METHODS = frozenset({"ATM", "DEBIT_CARD"})


@dataclass(frozen=True, slots=True)
class WithdrawalFields:
    location: str
    description: str


def check_fields(
    method: str, location: str, description: str, card_number: str, pin: str
) -> WithdrawalFields:
    """Field-level checks of a withdrawal request."""
    if method not in movements.WITHDRAWAL_CLEARING_ACCOUNT:
        raise errors.ValidationFailed(
            "method must be one of ATM, BRANCH, CHECK, DEBIT_CARD", field="method"
        )
    location = movements.text(location, "location", movements.LOCATION_LENGTH_MAX)
    description = movements.text(description, "description", movements.DESCRIPTION_LENGTH_MAX)
    if method in ("ATM", "BRANCH") and not location:
        raise errors.ValidationFailed(f"location is required for {method}", field="location")
    if method in ("ATM", "DEBIT_CARD") and not card_number:
        raise errors.ValidationFailed(f"cardNumber is required for {method}", field="cardNumber")
    if method == "ATM" and not pin:
        raise errors.ValidationFailed("pin is required for ATM", field="pin")
    if len(pin) > PIN_LENGTH_MAX:
        raise errors.ValidationFailed("pin is too long", field="pin")
    return WithdrawalFields(location, description)


def may_use(principal: Principal, method: str) -> bool:
    """A customer's token (the person or a customer client) may use only the
    card methods; staff and the bank's services any."""
    return principal.role != CUSTOMER or method in CUSTOMER_WITHDRAWAL_METHODS


def check_customer_pin(principal: Principal, method: str, pin: str) -> None:
    """A customer's own card withdrawal proves both factors: the card and its
    PIN, DEBIT_CARD included (staff and the bank's services key in a card
    they hold)."""
    if principal.role == CUSTOMER and method == "DEBIT_CARD" and not pin:
        raise errors.ValidationFailed(
            "pin is required for a customer's DEBIT_CARD withdrawal", field="pin"
        )


def method_refused(principal: Principal, method: str) -> errors.BankError:
    """FORBIDDEN (403): BRANCH and CHECK are not a customer's to make."""
    return errors.Forbidden(
        f"Customers may withdraw only with their card"
        f" ({', '.join(sorted(CUSTOMER_WITHDRAWAL_METHODS))}); {method} is made by bank staff",
        field="method",
        metadata={"method": method, "role": principal.role},
    )


def card_digits(card_number: str) -> str:
    """The card number's digits; 13 to 19 of them, spaces allowed between."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if not 13 <= len(digits) <= 19 or len(digits) != len(card_number.replace(" ", "")):
        raise errors.ValidationFailed("card_number must be 13 to 19 digits", field="cardNumber")
    return digits


def check_card(
    digits: str, account_id: str, *, card_account_id: str | None, status: str, last4: str
) -> None:
    """The card must exist (`card_account_id` None: it does not), belong to the
    account and be ACTIVE."""
    if card_account_id is None or card_account_id != account_id:
        raise errors.ValidationFailed(
            "This card is not linked to the account",
            field="cardNumber",
            metadata={"card_last4": digits[-4:]},
        )
    if status != "ACTIVE":
        raise errors.CardLocked(field="cardNumber", metadata={"card_last4": last4})


def card_locks(failed_attempts: int) -> bool:
    """Whether this many wrong PINs in a row lock the card."""
    return failed_attempts >= movements.PIN_ATTEMPTS_MAX


def refuse_pin(failed_attempts: int, last4: str) -> errors.BankError:
    """The refusal of a wrong PIN, the `failed_attempts`-th in a row."""
    if card_locks(failed_attempts):
        return errors.CardLocked(
            "Incorrect PIN; the card is now locked",
            field="pin",
            metadata={"card_last4": last4, "attempts": str(failed_attempts)},
        )
    return errors.InvalidPin(
        field="pin",
        metadata={"attempts_left": str(movements.PIN_ATTEMPTS_MAX - failed_attempts)},
    )


def atm_kind(
    location: str,
    registered: tuple[str, str] | None,
    location_country: str,
    account_country: str,
) -> str:
    """How an ATM withdrawal is priced (movements.ATM_FEE_MINOR's keys).

    `registered`: the (network, country) of the ATM with id `location` in the
    bank's registry, or None. Ids starting `ATM-` are the bank's own, so an
    unregistered one is refused.
    """
    if location.startswith("ATM-") and registered is None:
        raise errors.ValidationFailed(
            "Unknown ATM of this bank", field="location", metadata={"location": location[:100]}
        )
    if registered is not None:
        network, country = registered
        return movements.atm_network(network, country, account_country)
    country = location_country.strip().upper() or account_country
    return movements.atm_network(None, country, account_country)

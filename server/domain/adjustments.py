"""Staff postings on a customer account: FEE, INTEREST and ADJUSTMENT.

Each moves money between the account and one internal account of its
currency: a FEE debits the account to fee income, INTEREST credits it from
interest expense, an ADJUSTMENT credits or debits it against suspense (the
caller says which). A description (the why, shown in the history) is
required. A debit must fit the available balance (overdraft line included):
a staff posting never overdraws an account nor costs an overdraft fee; to
take back more, staff reverse the transaction that paid it.
"""

from __future__ import annotations

from server.domain import errors
from server.domain.movements import Funds

KINDS = ("FEE", "INTEREST", "ADJUSTMENT")
INTERNAL_ACCOUNT = {"FEE": "FEE_INCOME", "INTEREST": "INTEREST_EXPENSE", "ADJUSTMENT": "SUSPENSE"}
DIRECTIONS = ("CREDIT", "DEBIT")
_FIXED_DIRECTION = {"FEE": "DEBIT", "INTEREST": "CREDIT"}
DESCRIPTION_LENGTH_MAX = 255
# Per posting; a larger correction is several postings, each reviewed.
AMOUNT_MAX_MINOR = 1_000_000_00


def direction(kind: str, requested: str | None) -> str:
    """The account's side: fixed for FEE and INTEREST, the caller's word for
    ADJUSTMENT (required there)."""
    fixed = _FIXED_DIRECTION.get(kind)
    if fixed is not None:
        return fixed
    if requested not in DIRECTIONS:
        raise errors.ValidationFailed(
            "direction must be CREDIT or DEBIT for an ADJUSTMENT", field="direction"
        )
    return str(requested)


def description(value: str) -> str:
    """Required, 1 to 255 characters once trimmed."""
    trimmed = value.strip()
    if not trimmed:
        raise errors.ValidationFailed("description is required", field="description")
    if len(trimmed) > DESCRIPTION_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"description must be at most {DESCRIPTION_LENGTH_MAX} characters",
            field="description",
            metadata={"length_max": str(DESCRIPTION_LENGTH_MAX)},
        )
    return trimmed


def check_debit(funds: Funds, amount_minor: int) -> None:
    """TXN001 when the debit does not fit the available balance."""
    if amount_minor > funds.available:
        raise errors.InsufficientFunds(
            field="amount", metadata={"available_minor": str(max(funds.available, 0))}
        )

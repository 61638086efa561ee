"""Data every installation needs: the bank's internal (GL) accounts.

The bank's side of every posting lives here, so deposits, withdrawals and
fees balance like transfers do. Internal balances are the mirror image of
what customers hold (the cash vault goes negative as cash comes in).
"""

from __future__ import annotations

from server.domain.ids import stable_id
from server.domain.money import CURRENCY_EXPONENTS
from server.store.clock import now
from server.store.db import database
from server.store.models import Account

# code -> (account number, name)
INTERNAL_ACCOUNTS: dict[str, tuple[str, str]] = {
    "CASH_VAULT": ("9000000001", "Cash vault"),
    "ACH_CLEARING": ("9000000002", "ACH clearing"),
    "WIRE_CLEARING": ("9000000003", "Wire clearing"),
    "BILL_PAY_CLEARING": ("9000000004", "Bill-pay clearing"),
    "FEE_INCOME": ("9000000005", "Fee income"),
    "SUSPENSE": ("9000000006", "Suspense"),
    "CHECK_CLEARING": ("9000000007", "Check clearing"),
    "CARD_SETTLEMENT": ("9000000008", "Card settlement"),
    "OPENING_EQUITY": ("9000000009", "Opening balances (sandbox funding)"),
    # REFUND transactions of approved refund requests are paid from here.
    "REFUNDS": ("9000000018", "Refunds"),
    # INTEREST transactions staff post on customer accounts are paid from here.
    "INTEREST_EXPENSE": ("9000000019", "Interest expense"),
}
# The bank's books are kept per currency: every internal account exists once
# per currency the bank serves (CURRENCY_EXPONENTS), so a EUR deposit moves
# the EUR cash vault and no account's balance ever mixes currencies. The USD
# accounts keep the numbers and ids they always had; the others' numbers end
# in their currency code (`9000000001EUR`).
INTERNAL_CURRENCY = "USD"


def internal_account_id(code: str, currency: str) -> str:
    """The internal account `code` of `currency` (there is one per currency)."""
    assert code in INTERNAL_ACCOUNTS, code
    assert currency in CURRENCY_EXPONENTS, currency
    return stable_id("acc", f"internal:{code}:{currency}")


def _number(base: str, currency: str) -> str:
    return base if currency == INTERNAL_CURRENCY else f"{base}{currency}"


def ensure_internal_accounts() -> int:
    """Creates the missing internal accounts; returns how many were created."""
    created = 0
    stamp = now()
    with database.atomic():
        for code, (number, name) in INTERNAL_ACCOUNTS.items():
            for currency in CURRENCY_EXPONENTS:
                account_id = internal_account_id(code, currency)
                if Account.get_or_none(Account.id == account_id) is not None:
                    continue
                Account.create(
                    id=account_id,
                    account_number=_number(number, currency),
                    kind="INTERNAL",
                    code=code if currency == INTERNAL_CURRENCY else f"{code}:{currency}",
                    type="INTERNAL",
                    currency=currency,
                    owner=None,
                    name=name if currency == INTERNAL_CURRENCY else f"{name} ({currency})",
                    status="ACTIVE",
                    balance_minor=0,
                    held_minor=0,
                    overdraft_limit_minor=0,
                    created_at=stamp,
                    updated_at=stamp,
                )
                created += 1
    return created

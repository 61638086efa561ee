"""Data every installation needs: the bank's internal (GL) accounts.

The bank's side of every posting lives here, so deposits, withdrawals and
fees balance like transfers do. Internal balances are the mirror image of
what customers hold (the cash vault goes negative as cash comes in).
"""

from __future__ import annotations

from server.domain.ids import stable_id
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
}
INTERNAL_CURRENCY = "USD"


def internal_account_id(code: str, currency: str = INTERNAL_CURRENCY) -> str:
    assert code in INTERNAL_ACCOUNTS, code
    return stable_id("acc", f"internal:{code}:{currency}")


def ensure_internal_accounts() -> int:
    """Creates the missing internal accounts; returns how many were created."""
    created = 0
    stamp = now()
    with database.atomic():
        for code, (number, name) in INTERNAL_ACCOUNTS.items():
            account_id = internal_account_id(code)
            if Account.get_or_none(Account.id == account_id) is not None:
                continue
            Account.create(
                id=account_id,
                account_number=number,
                kind="INTERNAL",
                code=code,
                type="INTERNAL",
                currency=INTERNAL_CURRENCY,
                owner=None,
                name=name,
                status="ACTIVE",
                balance_minor=0,
                held_minor=0,
                overdraft_limit_minor=0,
                created_at=stamp,
                updated_at=stamp,
            )
            created += 1
    return created

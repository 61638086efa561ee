"""The fixed bank every differential example starts from.

A few customers whose accounts reach every rule a transfer applies: an
overdraft line with its fee, low balances (funds refusals), limit overrides
low enough that the daily, monthly and per-transaction limits are met within
a handful of operations, three currencies (JPY has no minor unit), a frozen
and a closed account, a deposit hold that comes due after a clock move, and
a debit card with the bank's ATMs for withdrawals.
Ids are fixed, so the same operation names the same account on every
database. Opening balances are balanced by OPENING_EQUITY of each currency,
so the balances of all accounts of a currency sum to zero.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.movements import card_number_hash
from server.domain.passwords import FAST_PREFIX
from server.domain.principal import ADMIN, AUDITOR, CUSTOMER, Principal
from server.services.context import RequestContext
from server.store import bootstrap
from server.store.models import Account, Atm, Card, Hold, User

# Where the sandbox clock stands when an example starts: noon, so that moves
# of whole quarter days never leave it a few seconds before midnight (the
# wall clock runs on during an example); the month ends the next day.
START = datetime(2030, 1, 30, 12, 0, 0)

ALICE, BOB, CAROL = "usr_dtalice", "usr_dtbob", "usr_dtcarol"
USERS = {ALICE: "Alice Differential", BOB: "Bob Differential", CAROL: "Carol Differential"}


@dataclass(frozen=True)
class AccountSeed:
    id: str
    owner: str
    type: str
    currency: str
    balance_minor: int
    overdraft_minor: int = 0
    status: str = "ACTIVE"
    overrides: tuple[tuple[str, int], ...] = ()
    held_minor: int = 0


ACCOUNTS = (
    # Overdraft: a low balance, a 100.00 line, and the fee when it goes negative.
    # Its card (CARD_NUMBER, PIN) takes it to ATMs, whose daily limit is met
    # within a few withdrawals.
    AccountSeed(
        "acc_dtalicechk",
        ALICE,
        "CHECKING",
        "USD",
        200_00,
        overdraft_minor=100_00,
        overrides=(("daily_atm_withdrawal", 100_00),),
    ),
    # Limits: daily, monthly and per-transaction limits met before the money
    # runs out; SAVINGS pays no overdraft fee. 20.00 of its balance is held
    # until a day and a half after START.
    AccountSeed(
        "acc_dtalicesav",
        ALICE,
        "SAVINGS",
        "USD",
        3_000_00,
        overrides=(
            ("daily_transfer", 150_00),
            ("monthly_transfer", 400_00),
            ("per_transaction_internal_transfer_max", 120_00),
        ),
        held_minor=20_00,
    ),
    # A monthly limit met before the money runs out, and before the daily one.
    AccountSeed(
        "acc_dtbobchk", BOB, "CHECKING", "USD", 1_000_00, overrides=(("monthly_transfer", 700_00),)
    ),
    AccountSeed("acc_dtbobeur", BOB, "CHECKING", "EUR", 300_00, overdraft_minor=50_00),
    AccountSeed(
        "acc_dtbobjpy", BOB, "SAVINGS", "JPY", 100_000, overrides=(("daily_transfer", 20_000),)
    ),
    AccountSeed("acc_dtcarolchk", CAROL, "CHECKING", "USD", 100_00, status="FROZEN"),
    AccountSeed("acc_dtcarolold", CAROL, "SAVINGS", "USD", 0, status="CLOSED"),
    # BUSINESS: a large overdraft line, for several fees in a row.
    AccountSeed("acc_dtcarolbiz", CAROL, "BUSINESS", "USD", 300_00, overdraft_minor=1_000_00),
    AccountSeed("acc_dtcaroleur", CAROL, "SAVINGS", "EUR", 100_00),
    # The overdraft fee is 35_00 minor units in every currency: 3,500 yen.
    AccountSeed("acc_dtcaroljpy", CAROL, "CHECKING", "JPY", 5_000, overdraft_minor=10_000),
)
ACCOUNT_IDS = tuple(seed.id for seed in ACCOUNTS)
HOLD_ID = "hold_dtalicesav"
HOLD_RELEASE = START + timedelta(hours=30)

# Ids that name no customer account: unknown, empty, and the bank's own.
UNKNOWN_ID = "acc_dtnosuchaccount"
FEE_INCOME_USD = bootstrap.internal_account_id("FEE_INCOME", "USD")
OTHER_IDS = (UNKNOWN_ID, "", FEE_INCOME_USD)

# Alice's debit card (its PIN hash costs nothing to check) and the bank's ATMs:
# one at home, one abroad (the international fee); any other location is
# another bank's (the out-of-network fee), and an unknown ATM- id is refused.
CARD_ACCOUNT = "acc_dtalicechk"
CARD_NUMBER = "4000001234567899"
PIN = "2468"
ATM_HOME, ATM_ABROAD = "ATM-DT-HOME", "ATM-DT-ABROAD"

CLIENT_ID = "dt-client"
ACTORS = {
    "alice": Principal(client_id=CLIENT_ID, role=CUSTOMER, user_id=ALICE),
    "bob": Principal(client_id=CLIENT_ID, role=CUSTOMER, user_id=BOB),
    "carol": Principal(client_id=CLIENT_ID, role=CUSTOMER, user_id=CAROL),
    # A client acting for itself with staff rights: may move anyone's money.
    "staff": Principal(client_id="dt-staff-client", role=ADMIN),
    # Staff who read only: every check passes, then writing is refused.
    "auditor": Principal(client_id=CLIENT_ID, role=AUDITOR, user_id="usr_dtauditor"),
}


def context_of(actor: str) -> RequestContext:
    return RequestContext(ACTORS[actor], ip_address="203.0.113.7", device="differential")


def seed(stamp: datetime) -> None:
    """Writes the users, accounts and hold above (once per database)."""
    bootstrap.ensure_internal_accounts()
    for user_id, name in USERS.items():
        User.create(
            id=user_id,
            email=f"{user_id}@example.test",
            name=name,
            password_hash="x",
            role=CUSTOMER,
            status="ACTIVE",
            created_at=stamp,
            updated_at=stamp,
        )
    opening: dict[str, int] = {}
    for number, account in enumerate(ACCOUNTS):
        Account.create(
            id=account.id,
            account_number=f"77000000{number:02d}",
            kind="CUSTOMER",
            type=account.type,
            currency=account.currency,
            owner=account.owner,
            name=f"{account.type.title()} {account.currency}",
            status=account.status,
            balance_minor=account.balance_minor,
            held_minor=account.held_minor,
            overdraft_limit_minor=account.overdraft_minor,
            created_at=stamp,
            updated_at=stamp,
            closed_at=stamp if account.status == "CLOSED" else None,
            frozen_at=stamp if account.status == "FROZEN" else None,
            country="US",
            limit_overrides=json.dumps(dict(account.overrides), sort_keys=True),
            pending_debits_minor=0,
        )
        opening[account.currency] = opening.get(account.currency, 0) + account.balance_minor
    for currency, total in opening.items():
        Account.update(balance_minor=-total).where(
            Account.id == bootstrap.internal_account_id("OPENING_EQUITY", currency)
        ).execute()
    Card.create(
        id="card_dtalice",
        account_id=CARD_ACCOUNT,
        number_hash=card_number_hash(CARD_NUMBER),
        last4=CARD_NUMBER[-4:],
        pin_hash=FAST_PREFIX + hashlib.sha256(PIN.encode()).hexdigest(),
        failed_pin_attempts=0,
        status="ACTIVE",
        created_at=stamp,
    )
    Atm.create(id=ATM_HOME, network="OWN", country="US", city="Springfield")
    Atm.create(id=ATM_ABROAD, network="OWN", country="FR", city="Paris")
    Hold.create(
        id=HOLD_ID,
        account_id="acc_dtalicesav",
        transaction_id=None,
        amount_minor=20_00,
        currency="USD",
        reason="DEPOSIT",
        status="PENDING",
        description="Check deposit hold",
        release_at=HOLD_RELEASE,
        created_at=stamp,
    )

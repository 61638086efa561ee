"""The contract's sandbox data: the same every time, safe to load twice.

Ids are derived from fixed names, so a second load finds every row and
changes nothing. Opening balances are posted as ordinary balanced journal
transactions against the OPENING_EQUITY internal account.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from server.domain.ids import stable_id
from server.domain.movements import card_number_hash
from server.domain.passwords import hash_secret
from server.store import ledger
from server.store.bootstrap import ensure_internal_accounts, internal_account_id
from server.store.clock import now
from server.store.db import database
from server.store.models import (
    Account,
    AccountEntry,
    Atm,
    Card,
    LedgerTransaction,
    OAuthClient,
    Payee,
    User,
)
from server.store.sandbox_risk import ensure_risk_rules

ALL_SCOPES = "banking.read banking.write backoffice.admin"
REDIRECT_URI = "http://localhost:8765/callback"
# The seed's production limits (requests per window).
PRODUCTION_LIMITS = {
    "read_per_hour": 1000,
    "write_per_hour": 100,
    "account_create_per_minute": 10,
    "password_reset_per_minute": 5,
}
RELAXED_LIMITS = {
    "read_per_hour": 1_000_000_000,
    "write_per_hour": 1_000_000_000,
    "account_create_per_minute": 1_000_000_000,
    "password_reset_per_minute": 1_000_000_000,
}


@dataclass(frozen=True)
class SandboxClient:
    client_id: str
    secret: str
    scopes: str
    limits: dict[str, int]


@dataclass(frozen=True)
class SandboxUser:
    key: str
    email: str
    password: str
    name: str
    role: str


@dataclass(frozen=True)
class SandboxAccount:
    owner_key: str
    type: str
    nickname: str
    opening_minor: int
    overdraft_limit_minor: int = 0


CLIENTS = (
    SandboxClient("sandbox-client", "sandbox-secret", ALL_SCOPES, RELAXED_LIMITS),
    SandboxClient(
        "sandbox-limited", "sandbox-limited-secret", "banking.read banking.write", PRODUCTION_LIMITS
    ),
)
USERS = (
    SandboxUser("alice", "alice@example.com", "alice-password", "Alice Anderson", "CUSTOMER"),
    SandboxUser("bob", "bob@example.com", "bob-password", "Bob Brown", "CUSTOMER"),
    SandboxUser("admin", "admin@example.com", "admin-password", "Ada Admin", "ADMIN"),
)
ACCOUNTS = (
    SandboxAccount("alice", "CHECKING", "Alice everyday", 5_000_00, overdraft_limit_minor=500_00),
    SandboxAccount("alice", "SAVINGS", "Alice savings", 12_000_00),
    SandboxAccount("alice", "BUSINESS", "Anderson Design LLC", 25_000_00),
    SandboxAccount("bob", "CHECKING", "Bob everyday", 3_000_00),
    SandboxAccount("bob", "SAVINGS", "Bob savings", 8_000_00),
    SandboxAccount("bob", "BUSINESS", "Brown Bakery Inc", 15_000_00),
)
# Debit cards (number, PIN) linked to accounts, for ATM and card withdrawals.
CARDS = (
    ("alice", "CHECKING", "4111111111111111", "1234"),
    ("alice", "BUSINESS", "5555555555554444", "2468"),
    ("bob", "CHECKING", "4000056655665556", "4321"),
)
# The bank's own ATMs (in network). Any other ATM id is another bank's.
ATMS = (
    ("ATM-NYC-001", "US", "New York"),
    ("ATM-NYC-002", "US", "New York"),
    ("ATM-SFO-001", "US", "San Francisco"),
    ("ATM-LON-001", "GB", "London"),
)
# Bank-wide billers (no owner): every customer can pay them.
PAYEES = (
    ("elec", "City Electric Company", "UTILITY", "ELEC44021187", "electricity"),
    ("water", "Metro Water Utility", "UTILITY", "WTR8820931", "water"),
)


def user_id(key: str) -> str:
    return stable_id("usr", f"sandbox:user:{key}")


def account_id(owner_key: str, type_: str) -> str:
    return stable_id("acc", f"sandbox:account:{owner_key}:{type_}")


def payee_id(key: str) -> str:
    return stable_id("payee", f"sandbox:payee:{key}")


def _account_number(owner_key: str, type_: str) -> str:
    digest = hashlib.sha256(f"sandbox:number:{owner_key}:{type_}".encode()).hexdigest()
    return "1" + str(int(digest, 16))[-9:]


def load() -> dict[str, int]:
    """Creates whatever sandbox rows are missing; returns counts of rows created."""
    created = {"internal_accounts": ensure_internal_accounts()}
    stamp = now()
    with database.atomic():
        created["clients"] = sum(_ensure_client(c, stamp) for c in CLIENTS)
        created["users"] = sum(_ensure_user(u, stamp) for u in USERS)
        created["accounts"] = sum(_ensure_account(a, stamp) for a in ACCOUNTS)
        created["payees"] = sum(_ensure_payee(p, stamp) for p in PAYEES)
        created["cards"] = sum(_ensure_card(*card, stamp=stamp) for card in CARDS)
        created["atms"] = sum(_ensure_atm(*atm) for atm in ATMS)
        created["risk_rules"] = ensure_risk_rules(stamp)
    return created


def _ensure_client(client: SandboxClient, stamp: object) -> int:
    if OAuthClient.get_or_none(OAuthClient.id == client.client_id) is not None:
        return 0
    OAuthClient.create(
        id=client.client_id,
        name=client.client_id,
        secret_hash=hash_secret(client.secret),
        scopes=client.scopes,
        grant_types=json.dumps(["client_credentials", "authorization_code", "refresh_token"]),
        redirect_uris=json.dumps([REDIRECT_URI]),
        rate_limits=json.dumps(client.limits, sort_keys=True),
        ip_allowlist="[]",
        require_signing=False,
        sandbox=True,
        active=True,
        created_at=stamp,
        updated_at=stamp,
    )
    return 1


def _ensure_user(user: SandboxUser, stamp: object) -> int:
    if User.get_or_none(User.id == user_id(user.key)) is not None:
        return 0
    User.create(
        id=user_id(user.key),
        email=user.email,
        name=user.name,
        password_hash=hash_secret(user.password),
        role=user.role,
        status="ACTIVE",
        created_at=stamp,
        updated_at=stamp,
    )
    return 1


def _ensure_account(spec: SandboxAccount, stamp: object) -> int:
    acc_id = account_id(spec.owner_key, spec.type)
    if Account.get_or_none(Account.id == acc_id) is not None:
        return 0
    Account.create(
        id=acc_id,
        account_number=_account_number(spec.owner_key, spec.type),
        kind="CUSTOMER",
        type=spec.type,
        currency="USD",
        owner=user_id(spec.owner_key),
        name=spec.nickname,
        status="ACTIVE",
        balance_minor=0,
        held_minor=0,
        overdraft_limit_minor=spec.overdraft_limit_minor,
        created_at=stamp,
        updated_at=stamp,
    )
    txn_id = stable_id("txn", f"sandbox:opening:{acc_id}")
    if LedgerTransaction.get_or_none(LedgerTransaction.id == txn_id) is None:
        locked = ledger.lock_accounts([acc_id, internal_account_id("OPENING_EQUITY", "USD")])
        ledger.post(
            locked=locked,
            transaction_id=txn_id,
            number=f"TXNSBX{_account_number(spec.owner_key, spec.type)}",
            type_="ADJUSTMENT",
            status="COMPLETED",
            currency="USD",
            amount_minor=spec.opening_minor,
            legs=[
                ledger.Leg(acc_id, spec.opening_minor, "USD"),
                ledger.Leg(
                    internal_account_id("OPENING_EQUITY", "USD"), -spec.opening_minor, "USD"
                ),
            ],
            now=stamp,  # type: ignore[arg-type]
            description="Sandbox opening balance",
            columns={"to_account_id": acc_id},
        )
        AccountEntry.create(
            account_id=acc_id,
            transaction_id=txn_id,
            direction="CREDIT",
            type="ADJUSTMENT",
            status="COMPLETED",
            limit_class="",
            currency="USD",
            amount_minor=spec.opening_minor,
            fee_minor=0,
            balance_after_minor=spec.opening_minor,
            counterparty="Opening balance",
            search_text="sandbox opening balance",
            created_at=stamp,
        )
    return 1


def _ensure_payee(payee: tuple[str, str, str, str, str], stamp: object) -> int:
    key, name, type_, number, category = payee
    if Payee.get_or_none(Payee.id == payee_id(key)) is not None:
        return 0
    Payee.create(
        id=payee_id(key),
        owner=None,
        name=name,
        type=type_,
        # Plaintext here: `setup` seals it right after loading (sealed.PAYEE_ACCOUNT_NUMBER).
        account_number=number,
        account_number_last4=number[-4:],
        category=category,
        created_at=stamp,
    )
    return 1


def card_id(number: str) -> str:
    return stable_id("key", f"sandbox:card:{number}")


def _ensure_card(owner_key: str, type_: str, number: str, pin: str, *, stamp: object) -> int:
    if Card.get_or_none(Card.id == card_id(number)) is not None:
        return 0
    Card.create(
        id=card_id(number),
        account_id=account_id(owner_key, type_),
        number_hash=card_number_hash(number),
        last4=number[-4:],
        pin_hash=hash_secret(pin),
        failed_pin_attempts=0,
        status="ACTIVE",
        created_at=stamp,
    )
    return 1


def _ensure_atm(atm_id: str, country: str, city: str) -> int:
    if Atm.get_or_none(Atm.id == atm_id) is not None:
        return 0
    Atm.create(id=atm_id, network="OWN", country=country, city=city)
    return 1

"""Users, accounts and audit entries made straight in the store, for tests below the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.domain import audit as rules
from server.domain.ids import new_id
from server.store import audit
from server.store.models import Account, User


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def customer(name: str) -> str:
    """A new active customer named `name`; returns its id."""
    user_id = new_id("usr")
    User.create(
        id=user_id,
        email=f"{user_id}@example.test",
        name=name,
        password_hash="x",
        role="CUSTOMER",
        status="ACTIVE",
        created_at=_now(),
        updated_at=_now(),
    )
    return user_id


def account(owner_id: str | None, balance_minor: int = 10_000, kind: str = "CUSTOMER") -> str:
    """A new active USD checking account; returns its id."""
    account_id = new_id("acc")
    Account.create(
        id=account_id,
        account_number=f"8{abs(hash(account_id)) % 10**9:09d}",
        kind=kind,
        type="CHECKING",
        currency="USD",
        owner=owner_id,
        name="Store test",
        status="ACTIVE",
        balance_minor=balance_minor,
        held_minor=0,
        overdraft_limit_minor=0,
        created_at=_now(),
        updated_at=_now(),
        country="US",
        limit_overrides="{}",
        pending_debits_minor=0,
    )
    return account_id


def audit_entry(**overrides: Any) -> rules.AuditEntry:
    """One audit event as a call would record it (`overrides` replace fields)."""
    values: dict[str, Any] = {
        "id": new_id("aud"),
        "actor_id": "usr_alice",
        "client_id": "sandbox-client",
        "method": "/backoffice.v1.AccountService/GetAccount",
        "resource_ids": ("acc_one",),
        "outcome_code": "OK",
        "request_id": new_id("ref"),
        "ip_address": "127.0.0.1",
        "created_at": audit.now(),
    }
    values.update(overrides)
    return rules.AuditEntry(**values)

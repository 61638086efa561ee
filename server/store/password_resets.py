"""Password resets: issuing a single-use token, and setting a new password with it.

Who gets a token, and who is shown it, is `server.domain.credentials`'
decision. Only the SHA-256 of a token is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server import hashing
from server.config import Settings
from server.domain import credentials
from server.domain import user_fields as fields
from server.domain import users as rules
from server.domain.principal import Principal
from server.store import clock, oauth, outbox, tx
from server.store.models import PasswordResetToken, User


@dataclass(frozen=True)
class ResetTicket:
    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    # The token holds 256 random bits: a fast hash is as safe as a slow one
    # here, and lets the confirm step find the row by equality.
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(
    principal: Principal, email: str, *, sandbox: bool
) -> ResetTicket | None:
    """Issues a reset token when the rules allow; the ticket when it may be shown.

    Answers None (nothing to show) for unknown emails, INACTIVE users and
    every token the caller may not see, and takes at least
    `RESET_ANSWER_TIME_MIN` whatever happened, so that neither the answer nor
    its time tells whether the email belongs to anyone.
    """
    address = fields.normalize_email(email)
    started = time.monotonic()
    try:
        return _issue(principal, address, sandbox=sandbox)
    finally:
        remaining = credentials.RESET_ANSWER_TIME_MIN.total_seconds() - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)


def _issue(principal: Principal, address: str, *, sandbox: bool) -> ResetTicket | None:
    now = clock.now()
    # Made whatever the outcome: the same work for every email.
    token = secrets.token_urlsafe(32)
    digest = _token_hash(token)

    def work() -> ResetTicket | None:
        row = User.get_or_none(User.email == address)
        target = credentials.ResetTarget(row.id, row.role, row.status) if row else None
        decision = credentials.password_reset(principal, target, sandbox=sandbox)
        if row is None or not decision.issue:
            return None
        # One live token per user: a new request supersedes the older ones.
        PasswordResetToken.update(used_at=now).where(
            (PasswordResetToken.user_id == row.id) & PasswordResetToken.used_at.is_null()
        ).execute()
        expires_at = now + rules.RESET_TOKEN_LIFETIME
        PasswordResetToken.create(
            token_hash=digest, user_id=row.id, created_at=now, expires_at=expires_at
        )
        return ResetTicket(token, expires_at) if decision.reveal else None

    return tx.write(work)


def confirm_password_reset(token: str, new_password: str, settings: Settings) -> None:
    """Sets the new password, unlocks a LOCKED user; the token works once. The
    new password is hashed on the hashing pool, before the transaction."""
    digest = _token_hash(rules.check_reset_token(token))
    now = clock.now()
    found = PasswordResetToken.get_or_none(PasswordResetToken.token_hash == digest)
    if found is None or not rules.reset_token_usable(found.expires_at, found.used_at, now):
        raise rules.invalid_reset_token()
    owner = User.get_or_none(User.id == found.user_id)
    if owner is None or owner.status == rules.INACTIVE:
        raise rules.invalid_reset_token()
    fields.validate_password(new_password, owner.email, field="new_password")
    password_hash = hashing.hash_secret(settings, new_password)

    def work() -> None:
        # Claim and check in one statement: of two concurrent confirmations
        # with the same token, exactly one updates the row.
        claimed = (
            PasswordResetToken.update(used_at=now)
            .where(
                (PasswordResetToken.token_hash == digest)
                & PasswordResetToken.used_at.is_null()
                & (PasswordResetToken.expires_at > now)
            )
            .execute()
        )
        row = User.get_or_none(User.id == found.user_id)
        if claimed != 1 or row is None or row.status == rules.INACTIVE:
            raise rules.invalid_reset_token()
        changed = ["password"]
        columns: dict[str, Any] = {"password_hash": password_hash, "updated_at": now}
        if row.status == rules.LOCKED:
            columns["status"] = rules.ACTIVE
            changed.append("status")
        User.update(columns).where(User.id == row.id).execute()
        # The old password's sessions end: the user's tokens stop working.
        oauth.revoke_subject(row.id)
        # Every other outstanding token of the user dies with this reset.
        PasswordResetToken.update(used_at=now).where(
            (PasswordResetToken.user_id == row.id) & PasswordResetToken.used_at.is_null()
        ).execute()
        outbox.emit(
            "user.updated",
            row.id,
            {"user_id": row.id, "email": row.email, "changed_fields": sorted(changed)},
            now,
        )

    tx.write(work)

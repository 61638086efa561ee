"""What makes an access token stop working at once: rows of `revocations`.

A token dies when a row names its `jti`, its family (`fam:`, the grant it
came from), its subject (`sub:`, a user) or its client (`cli:`). Subject and
client rows kill what was issued until then (a token issued after a
password reset lives), so `iat` carries milliseconds; the others kill all.

Every revocation is also a credential change: the database announces it
(migration m0022) and this process moves its own epoch at once
(`server.store.credential_changes`), so a token remembered as valid by any
server process is checked again on its next use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from server.domain import errors
from server.store import clock, credential_changes, sql, tx
from server.store.db import database
from server.store.models import RefreshToken, Revocation

# A subject's, client's or family's cut outlives every token it can kill.
CUT_TTL = timedelta(days=30)


def wall_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _stored_time(value: Any) -> datetime:
    """A timestamp column as read by hand (SQLite gives text, PostgreSQL a datetime)."""
    read: datetime = Revocation.revoked_at.python_value(value)
    return read


def check(claims: Mapping[str, Any]) -> None:
    """Raises Unauthenticated when a revocation covers the token with these claims.

    The call's sandbox clock comes with the same round trip (the row with no
    key), so a call that must check pays one read for both.
    """
    keys = [f"jti:{claims['jti']}", f"sub:{claims['sub']}", f"cli:{claims['client_id']}"]
    if claims.get("fam"):
        keys.append(f"fam:{claims['fam']}")
    found = sql.execute(
        'SELECT "key", "revoked_at", NULL FROM "revocations"'
        f' WHERE "key" IN ({sql.marks(len(keys))})'
        f" UNION ALL {clock.OFFSET_ROW_SQL}",
        [*keys, clock.OFFSET_KEY],
    ).fetchall()
    revoked = [(key, revoked_at) for key, revoked_at, _ in found if key is not None]
    clock.prime(next((offset for key, _, offset in found if key is None), None))
    for key, revoked_at in revoked:
        # sub: and cli: revoke what was issued until then; the others all.
        if not key.startswith(("sub:", "cli:")) or _stored_time(revoked_at).replace(
            tzinfo=UTC
        ).timestamp() >= float(claims["iat"]):
            raise errors.Unauthenticated("The access token has been revoked")


def revoke(key: str, now: datetime, expires: datetime) -> None:
    """Writes the revocation `key` (a second one of the same key changes nothing)."""
    credential_changes.changed()
    if Revocation.get_or_none(Revocation.key == key) is None:
        Revocation.create(key=key, revoked_at=now, expires_at=expires)


def _revoke_before(key: str, now: datetime) -> None:
    """Revokes what was issued under `key` until `now` (the latest cut wins)."""
    credential_changes.changed()
    Revocation.delete().where(Revocation.key == key).execute()
    revoke(key, now, now + CUT_TTL)


def revoke_family(family_id: str, now: datetime | None = None) -> None:
    """One grant ends: its refresh tokens and the access tokens issued from them."""
    moment = now or wall_now()
    RefreshToken.update(status="REVOKED").where(
        (RefreshToken.family_id == family_id) & (RefreshToken.status != "REVOKED")
    ).execute()
    revoke(f"fam:{family_id}", moment, moment + CUT_TTL)


def _write(work: Any) -> None:
    """`work` in its transaction; the epoch moves again once it is committed."""
    outermost = not database.in_transaction()
    tx.write(work)
    if outermost:
        credential_changes.changed()


def revoke_subject(subject: str) -> None:
    """Every token of user `subject` issued until now stops working.

    Called on deactivation, lock, role change and password reset, inside
    their write transaction when there is one.
    """

    def work() -> None:
        now = wall_now()
        RefreshToken.update(status="REVOKED").where(
            (RefreshToken.user_id == subject) & (RefreshToken.status == "ACTIVE")
        ).execute()
        _revoke_before(f"sub:{subject}", now)

    _write(work)


def revoke_client(client_id: str) -> None:
    """Every token the client holds stops working (disabled, or scopes taken away)."""

    def work() -> None:
        now = wall_now()
        RefreshToken.update(status="REVOKED").where(
            (RefreshToken.client_id == client_id) & (RefreshToken.status == "ACTIVE")
        ).execute()
        _revoke_before(f"cli:{client_id}", now)

    _write(work)

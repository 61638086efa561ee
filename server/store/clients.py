"""API clients and their API keys: the use-cases behind ClientService.

- Secrets (43 URL-safe characters, 256 random bits) and API keys (`bko_` +
  40 letters and digits) are returned once; only a SHA-256 of each is
  stored (`sha256:<hex>` for secrets; why a fast hash is right for them:
  `server.domain.passwords`). Secrets stored under Argon2 by earlier
  versions keep verifying and are re-hashed on their first good use.
- Disabling a client, or taking a scope or grant type away from it, revokes
  its tokens in the same transaction (`oauth.revoke_client`).
- A client holds at most one ACTIVE key per slot: checked under the client's
  row lock (PostgreSQL) or SQLite's single writer, and backed by the
  partial unique index `api_keys_active_slot_idx` for anything that slips
  past.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from server.domain import clients as rules
from server.domain import errors
from server.domain.ids import new_id
from server.domain.passwords import fast_hash
from server.domain.principal import Principal
from server.store import client_policy, clock, credential_changes, oauth, text_match, tx
from server.store.db import is_postgres
from server.store.models import ApiKeyRecord, OAuthClient
from server.store.sandbox import PRODUCTION_LIMITS

SCOPES = rules.SCOPES
GRANT_TYPES = rules.GRANT_TYPES
CLIENT_ID_PREFIX = "cli_"
CLIENT_ID_RANDOM_LENGTH = 20
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
PRIMARY, SECONDARY = "PRIMARY", "SECONDARY"
KEY_ACTIVE, KEY_REVOKED = "ACTIVE", "REVOKED"


@dataclass(frozen=True)
class NewClient:
    """The command line's client (create-client): confidential, standard limits."""

    name: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...] = ("client_credentials", "refresh_token")
    redirect_uris: tuple[str, ...] = ()
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(PRODUCTION_LIMITS))
    ip_allowlist: tuple[str, ...] = ()
    require_signing: bool = False


def _new_client_id() -> str:
    random_part = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(CLIENT_ID_RANDOM_LENGTH))
    return CLIENT_ID_PREFIX + random_part


def spec_of(row: OAuthClient) -> rules.ClientSpec:
    return rules.ClientSpec(
        name=row.name,
        description=row.description or "",
        client_type=row.client_type,
        scopes=tuple(row.scopes.split()),
        grant_types=tuple(json.loads(row.grant_types or "[]")),
        redirect_uris=tuple(json.loads(row.redirect_uris or "[]")),
        rate_limits=dict(json.loads(row.rate_limits or "{}")),
        ip_allowlist=tuple(json.loads(row.ip_allowlist or "[]")),
        require_signing=bool(row.require_signing),
    )


def _columns(spec: rules.ClientSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "scopes": " ".join(spec.scopes),
        "grant_types": json.dumps(list(spec.grant_types)),
        "redirect_uris": json.dumps(list(spec.redirect_uris)),
        "rate_limits": json.dumps(spec.rate_limits, sort_keys=True),
        "ip_allowlist": json.dumps(list(spec.ip_allowlist)),
        "require_signing": spec.require_signing,
    }


def _store(spec: rules.ClientSpec) -> tuple[OAuthClient, str]:
    client_id = _new_client_id()
    secret = secrets.token_urlsafe(32) if spec.client_type == rules.CONFIDENTIAL else ""
    secret_hash = fast_hash(secret) if secret else ""
    now = clock.now()

    def write() -> OAuthClient:
        return OAuthClient.create(
            id=client_id,
            secret_hash=secret_hash,
            client_type=spec.client_type,
            sandbox=False,
            active=True,
            created_at=now,
            updated_at=now,
            **_columns(spec),
        )

    return tx.write(write), secret


def create(spec: NewClient) -> tuple[OAuthClient, str]:
    """A new confidential client and its secret (the command line's create-client)."""
    draft = rules.ClientDraft(
        name=spec.name,
        scopes=spec.scopes,
        grant_types=spec.grant_types,
        redirect_uris=spec.redirect_uris,
        rate_limits=spec.rate_limits,
        ip_allowlist=spec.ip_allowlist,
        require_signing=spec.require_signing,
    )
    return _store(rules.validate_draft(draft, PRODUCTION_LIMITS))


# -- ClientService ---------------------------------------------------------------------
def create_client(principal: Principal, draft: rules.ClientDraft) -> tuple[OAuthClient, str]:
    """CreateClient: the client and its secret (empty for a PUBLIC client)."""
    rules.require_administrator(principal)
    return _store(rules.validate_draft(draft, PRODUCTION_LIMITS))


def get_client(principal: Principal, client_id: str) -> OAuthClient:
    rules.require_administrator(principal)
    return _client_or_404(client_id)


def _client_or_404(client_id: str, *, lock: bool = False) -> OAuthClient:
    query = OAuthClient.select().where(OAuthClient.id == client_id)
    if lock and is_postgres():
        query = query.for_update()
    row = query.get_or_none() if client_id else None
    if row is None:
        raise rules.client_not_found(client_id)
    return row


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    next_key: list[str] | None  # (created_at, id) of the last row when more follow


def _after(query: Any, model: Any, after: Sequence[Any] | None) -> Any:
    """Rows after the keyset cursor, newest first."""
    if not after:
        return query
    if len(after) != 2 or not all(isinstance(part, str) for part in after):
        raise errors.ValidationFailed("page_token is not valid", field="page_token")
    try:
        created = datetime.fromisoformat(after[0])
    except ValueError:
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None
    return query.where(
        (model.created_at < created) | ((model.created_at == created) & (model.id < after[1]))
    )


def _page(query: Any, model: Any, limit: int, offset: int, after: Sequence[Any] | None) -> Page:
    total = query.count()
    ordered = _after(query, model, after).order_by(model.created_at.desc(), model.id.desc())
    rows = list(ordered.limit(limit + 1) if after else ordered.limit(limit + 1).offset(offset))
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = [str(rows[-1].created_at), rows[-1].id] if more and rows else None
    return Page(rows, total, next_key)


def list_clients(
    principal: Principal,
    status: str | None,
    search: str,
    *,
    limit: int,
    offset: int,
    after: Sequence[Any] | None,
) -> Page:
    """ListClients: newest first, optionally by status and text."""
    rules.require_administrator(principal)
    text = rules.validate_search(search)
    query = OAuthClient.select()
    if status is not None:
        query = query.where(OAuthClient.active == (status == rules.ACTIVE))
    if text:
        query = query.where(
            text_match.contains(OAuthClient.id, text) | text_match.contains(OAuthClient.name, text)
        )
    return _page(query, OAuthClient, limit, offset, after)


def update_client(principal: Principal, client_id: str, change: rules.ClientChange) -> OAuthClient:
    """UpdateClient: absent fields stay; narrowing or disabling revokes the client's tokens."""
    rules.require_administrator(principal)
    if change.status is not None and change.status not in (rules.ACTIVE, rules.DISABLED):
        raise errors.ValidationFailed("status must be ACTIVE or DISABLED", field="status")

    def work() -> OAuthClient:
        row = _client_or_404(client_id, lock=True)
        before = spec_of(row)
        after = rules.apply_change(before, change)
        active = bool(row.active) if change.status is None else change.status == rules.ACTIVE
        rules.check_self_change(principal, row.id, after, active)
        if after == before and active == bool(row.active):
            return row
        OAuthClient.update(active=active, updated_at=clock.now(), **_columns(after)).where(
            OAuthClient.id == row.id
        ).execute()
        if (row.active and not active) or rules.narrows(before, after):
            oauth.revoke_client(row.id)
        return OAuthClient.get_by_id(row.id)

    updated = tx.write(work)
    # Allowlist, limits and signing rules apply to the next call of every
    # process (server.store.credential_changes); this one forgets them now.
    client_policy.forget(client_id)
    return updated


# -- API keys --------------------------------------------------------------------------
def _active_keys(client_id: str) -> dict[str, ApiKeyRecord]:
    rows = ApiKeyRecord.select().where(
        (ApiKeyRecord.client_id == client_id) & (ApiKeyRecord.status == KEY_ACTIVE)
    )
    return {row.slot: row for row in rows}


def _new_key(client_id: str, slot: str, description: str) -> tuple[ApiKeyRecord, str]:
    key, key_hash, prefix = oauth.new_api_key()
    row = ApiKeyRecord.create(
        id=new_id("key"),
        client_id=client_id,
        slot=slot,
        prefix=prefix,
        key_hash=key_hash,
        last4=key[-4:],
        description=description,
        status=KEY_ACTIVE,
        created_at=clock.now(),
    )
    return row, key


def _slot_taken(client_id: str, slot: str) -> errors.AlreadyExists:
    return errors.AlreadyExists(
        f"The client already has an ACTIVE {slot} key; revoke or rotate it first",
        field="slot",
        metadata={"client_id": client_id, "slot": slot},
    )


def create_api_key(
    principal: Principal, client_id: str, slot: str | None, description: str
) -> tuple[ApiKeyRecord, str]:
    """CreateApiKey: into `slot`, or the PRIMARY slot when free, else the SECONDARY one."""
    rules.require_administrator(principal)
    text = rules.validate_description(description, rules.API_KEY_DESCRIPTION_LENGTH_MAX)

    def work() -> tuple[ApiKeyRecord, str]:
        row = _client_or_404(client_id, lock=True)
        taken = _active_keys(row.id)
        chosen = slot or (PRIMARY if PRIMARY not in taken else SECONDARY)
        if chosen in taken:
            raise _slot_taken(row.id, chosen)
        return _new_key(row.id, chosen, text)

    try:
        return tx.write(work)
    except peewee.IntegrityError:  # a concurrent request filled the slot
        raise _slot_taken(client_id, slot or "requested") from None


def list_api_keys(
    principal: Principal,
    client_id: str,
    include_revoked: bool,
    *,
    limit: int,
    offset: int,
    after: Sequence[Any] | None,
) -> Page:
    rules.require_administrator(principal)
    row = _client_or_404(client_id)
    query = ApiKeyRecord.select().where(ApiKeyRecord.client_id == row.id)
    if not include_revoked:
        query = query.where(ApiKeyRecord.status == KEY_ACTIVE)
    return _page(query, ApiKeyRecord, limit, offset, after)


def _revoke_key(row: ApiKeyRecord) -> ApiKeyRecord:
    credential_changes.changed()  # servers forget the key before this call answers
    ApiKeyRecord.update(status=KEY_REVOKED, slot="", revoked_at=clock.now()).where(
        (ApiKeyRecord.id == row.id) & (ApiKeyRecord.status == KEY_ACTIVE)
    ).execute()
    return ApiKeyRecord.get_by_id(row.id)


@dataclass(frozen=True)
class Rotation:
    primary: ApiKeyRecord
    secondary: ApiKeyRecord
    secondary_key: str
    revoked: ApiKeyRecord | None


def rotate_api_keys(principal: Principal, client_id: str, description: str) -> Rotation:
    """RotateApiKeys: PRIMARY revoked, SECONDARY promoted, a new SECONDARY issued."""
    rules.require_administrator(principal)
    text = rules.validate_description(description, rules.API_KEY_DESCRIPTION_LENGTH_MAX)

    def work() -> Rotation:
        row = _client_or_404(client_id, lock=True)
        taken = _active_keys(row.id)
        standby = taken.get(SECONDARY)
        if standby is None:
            raise rules.ClientConflict(
                "The client has no ACTIVE SECONDARY key to promote; create one first",
                field="client_id",
                metadata={"client_id": row.id},
            )
        # In this order the partial unique index never sees two keys in a slot.
        revoked = _revoke_key(taken[PRIMARY]) if PRIMARY in taken else None
        ApiKeyRecord.update(slot=PRIMARY).where(ApiKeyRecord.id == standby.id).execute()
        secondary, key = _new_key(row.id, SECONDARY, text)
        return Rotation(ApiKeyRecord.get_by_id(standby.id), secondary, key, revoked)

    try:
        return tx.write(work)
    except peewee.IntegrityError:  # a concurrent rotation or creation won
        raise rules.ClientConflict(
            "The client's keys changed meanwhile; retry", metadata={"client_id": client_id}
        ) from None


def revoke_api_key(principal: Principal, client_id: str, api_key_id: str) -> ApiKeyRecord:
    """RevokeApiKey: at once; a REVOKED key is answered unchanged."""
    rules.require_administrator(principal)

    def work() -> ApiKeyRecord:
        row = _client_or_404(client_id, lock=True)
        key = ApiKeyRecord.get_or_none(
            (ApiKeyRecord.id == api_key_id) & (ApiKeyRecord.client_id == row.id)
        )
        if key is None:
            raise errors.NotFound(
                "API key not found",
                field="api_key_id",
                metadata={"api_key_id": api_key_id[:100], "client_id": row.id},
            )
        return _revoke_key(key) if key.status == KEY_ACTIVE else key

    return tx.write(work)

"""API clients' request-signing secrets: issued on demand, kept sealed.

A client that signs its requests (seed 000 "Request Signing") needs a key
both sides know. The client secret cannot be it: the server keeps only its
Argon2 hash. So each such client gets a signing secret of its own, `bks_`
and 43 random URL-safe characters, issued by `python -m server
issue-signing-secret --client-id <id>` (or `issue` from an admin API) and
shown once. The server must read it back to check HMACs, so it is stored
sealed with the field-encryption keyring (AES-256-GCM, bound to the row;
`rotate-keys` re-seals it), never as plaintext. Issuing again replaces the
secret at once: requests signed with the old one are refused.
"""

from __future__ import annotations

import logging
import secrets
from functools import cache
from pathlib import Path

from server.crypto.fields import FieldSealer, LiveKeyring, UnreadableField
from server.domain import errors
from server.store import clock, tx
from server.store.models import ClientSigningSecret, OAuthClient
from server.store.sealed import CLIENT_SIGNING_SECRET

log = logging.getLogger(__name__)

PREFIX = "bks_"


@cache
def keyring(keys_dir: Path) -> LiveKeyring:
    """The process's field keyring for `keys_dir`."""
    return LiveKeyring(keys_dir)


def issue(client_id: str, sealer: FieldSealer) -> str:
    """A new signing secret for the client, replacing any previous one; shown once."""
    secret = f"{PREFIX}{secrets.token_urlsafe(32)}"
    sealed = sealer.seal(secret, CLIENT_SIGNING_SECRET.ref(client_id))
    now = clock.now(sandbox=False)

    def write() -> None:
        if OAuthClient.get_or_none(OAuthClient.id == client_id) is None:
            raise errors.NotFound("Client not found", metadata={"client_id": client_id})
        ClientSigningSecret.delete().where(ClientSigningSecret.id == client_id).execute()
        ClientSigningSecret.create(id=client_id, secret=sealed, created_at=now)

    tx.write(write)
    return secret


def revoke(client_id: str) -> bool:
    """Removes the client's signing secret; True when there was one."""
    return bool(
        tx.write(
            lambda: (
                ClientSigningSecret.delete().where(ClientSigningSecret.id == client_id).execute()
            )
        )
    )


def read(client_id: str, sealer: FieldSealer) -> str | None:
    """The client's signing secret; None when none is issued or it does not open."""
    row = ClientSigningSecret.get_or_none(ClientSigningSecret.id == client_id)
    if row is None:
        return None
    try:
        return sealer.open(row.secret, CLIENT_SIGNING_SECRET.ref(client_id))
    except UnreadableField:
        # Its key is gone or the row was tampered with: signed requests fail
        # (401) until a new secret is issued.
        log.exception("signing secret does not open", extra={"client_id": client_id})
        return None

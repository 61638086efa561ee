"""API clients: the rules of their fields (ApiClient in auth.proto).

Plain Python: the store applies these before writing, the servicer only
converts enums and messages.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.domain import errors
from server.domain.principal import Principal

SCOPES = ("banking.read", "banking.write", "backoffice.admin")
ADMIN_SCOPE = "backoffice.admin"
# RFC 6749 words, as stored and as spoken on /oauth/*.
AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant type name, not a secret)
GRANT_TYPES = (AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN)
CONFIDENTIAL = "CONFIDENTIAL"
PUBLIC = "PUBLIC"
CLIENT_TYPES = (CONFIDENTIAL, PUBLIC)
ACTIVE = "ACTIVE"
DISABLED = "DISABLED"

NAME_LENGTH_MAX = 100
DESCRIPTION_LENGTH_MAX = 500
REDIRECT_URIS_MAX = 10
REDIRECT_URI_LENGTH_MAX = 2048
IP_ALLOWLIST_MAX = 50
CIDR_LENGTH_MAX = 64
SEARCH_LENGTH_MAX = 100
API_KEY_DESCRIPTION_LENGTH_MAX = 200
RATE_LIMIT_MIN = 1
RATE_LIMIT_MAX = 10_000_000
RATE_LIMIT_NAMES = (
    "read_per_hour",
    "write_per_hour",
    "account_create_per_minute",
    "password_reset_per_minute",
)
# http is allowed only towards the caller's own machine (RFC 8252 section 7.3).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})


class ClientConflict(errors.Conflict):
    """The change would contradict the client's state (FAILED_PRECONDITION, 409 CONFLICT)."""

    grpc_status = "FAILED_PRECONDITION"


def client_not_found(client_id: str) -> errors.NotFound:
    return errors.NotFound(
        "API client not found", field="client_id", metadata={"client_id": client_id[:100]}
    )


def require_administrator(principal: Principal) -> None:
    """ClientService needs the ADMIN role and the `backoffice.admin` scope."""
    principal.require_admin()
    if ADMIN_SCOPE not in principal.scopes:
        raise errors.Forbidden(
            "This operation needs the backoffice.admin scope", metadata={"scope": ADMIN_SCOPE}
        )


def validate_name(name: str) -> str:
    text = name.strip()
    if not 1 <= len(text) <= NAME_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"name must be 1 to {NAME_LENGTH_MAX} characters", field="name"
        )
    return text


def validate_description(text: str, limit: int = DESCRIPTION_LENGTH_MAX) -> str:
    value = text.strip()
    if len(value) > limit:
        raise errors.ValidationFailed(
            f"description must be at most {limit} characters",
            field="description",
            metadata={"limit": str(limit)},
        )
    return value


def validate_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """1 to 3 known scopes, in canonical order."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise errors.ValidationFailed(
            f"Unknown scope {unknown[0][:40]!r}",
            field="scopes",
            metadata={"scope": unknown[0][:40]},
        )
    if not scopes:
        raise errors.ValidationFailed("At least one scope is required", field="scopes")
    return tuple(scope for scope in SCOPES if scope in scopes)


def validate_grant_types(grant_types: Sequence[str], client_type: str) -> tuple[str, ...]:
    unknown = [grant for grant in grant_types if grant not in GRANT_TYPES]
    if unknown or not grant_types:
        raise errors.ValidationFailed(
            "Give at least one grant type: AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN",
            field="grant_types",
        )
    if client_type == PUBLIC and CLIENT_CREDENTIALS in grant_types:
        raise errors.ValidationFailed(
            "A PUBLIC client cannot use CLIENT_CREDENTIALS", field="grant_types"
        )
    return tuple(grant for grant in GRANT_TYPES if grant in grant_types)


def validate_redirect_uri(uri: str) -> str:
    """An absolute https URL without fragment; http only for loopback hosts."""
    if not uri or len(uri) > REDIRECT_URI_LENGTH_MAX or uri != uri.strip():
        raise _bad_redirect_uri(uri)
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise _bad_redirect_uri(uri) from None
    if "#" in uri or not host or parts.username is not None or parts.password is not None:
        raise _bad_redirect_uri(uri)
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return uri
    raise _bad_redirect_uri(uri)


def _bad_redirect_uri(uri: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        "Each redirect URI must be an absolute https URL without fragment "
        f"(http only for localhost and 127.0.0.1), at most {REDIRECT_URI_LENGTH_MAX} characters",
        field="redirect_uris",
        metadata={"redirect_uri": uri[:200]},
    )


def validate_redirect_uris(uris: Sequence[str], grant_types: Sequence[str]) -> tuple[str, ...]:
    if len(uris) > REDIRECT_URIS_MAX:
        raise errors.ValidationFailed(
            f"At most {REDIRECT_URIS_MAX} redirect URIs", field="redirect_uris"
        )
    if AUTHORIZATION_CODE in grant_types and not uris:
        raise errors.ValidationFailed(
            "AUTHORIZATION_CODE needs at least one redirect URI", field="redirect_uris"
        )
    if AUTHORIZATION_CODE not in grant_types and uris:
        raise errors.ValidationFailed(
            "Redirect URIs are only for clients allowed AUTHORIZATION_CODE",
            field="redirect_uris",
        )
    checked = [validate_redirect_uri(uri) for uri in uris]
    return tuple(dict.fromkeys(checked))


def validate_ip_allowlist(entries: Sequence[str]) -> tuple[str, ...]:
    """CIDR blocks (a bare address is its /32 or /128), normalised, at most 50."""
    if len(entries) > IP_ALLOWLIST_MAX:
        raise errors.ValidationFailed(
            f"At most {IP_ALLOWLIST_MAX} CIDR blocks", field="ip_allowlist"
        )
    blocks: list[str] = []
    for entry in entries:
        text = entry.strip()
        try:
            if not text or len(text) > CIDR_LENGTH_MAX:
                raise ValueError(text)
            # strict: host bits set ("10.0.0.1/8") is a typo worth refusing.
            blocks.append(str(ipaddress.ip_network(text, strict=True)))
        except ValueError:
            raise errors.ValidationFailed(
                f"Not a CIDR block: {text[:CIDR_LENGTH_MAX]!r}",
                field="ip_allowlist",
                metadata={"cidr": text[:CIDR_LENGTH_MAX]},
            ) from None
    return tuple(dict.fromkeys(blocks))


def merge_rate_limits(current: Mapping[str, int], given: Mapping[str, int]) -> dict[str, int]:
    """`current` with each non-zero value of `given` in its place."""
    merged = dict(current)
    for name in RATE_LIMIT_NAMES:
        value = given.get(name, 0)
        if value == 0:
            continue
        if not RATE_LIMIT_MIN <= value <= RATE_LIMIT_MAX:
            raise errors.ValidationFailed(
                f"rate_limits.{name} must be between {RATE_LIMIT_MIN} and {RATE_LIMIT_MAX}",
                field=f"rate_limits.{name}",
                metadata={"value": str(value)},
            )
        merged[name] = value
    return merged


def validate_search(text: str) -> str:
    value = text.strip()
    if len(value) > SEARCH_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"search must be at most {SEARCH_LENGTH_MAX} characters", field="search"
        )
    return value


@dataclass(frozen=True)
class ClientDraft:
    """A CreateClient request, as plain values (grant types in RFC words)."""

    name: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]
    description: str = ""
    client_type: str = CONFIDENTIAL
    redirect_uris: tuple[str, ...] = ()
    rate_limits: Mapping[str, int] | None = None
    ip_allowlist: tuple[str, ...] = ()
    require_signing: bool = False


@dataclass(frozen=True)
class ClientSpec:
    """A validated client, ready to store."""

    name: str
    description: str
    client_type: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    rate_limits: dict[str, int]
    ip_allowlist: tuple[str, ...]
    require_signing: bool


def validate_draft(draft: ClientDraft, default_limits: Mapping[str, int]) -> ClientSpec:
    if draft.client_type not in CLIENT_TYPES:
        raise errors.ValidationFailed(
            "client_type must be CONFIDENTIAL or PUBLIC", field="client_type"
        )
    grant_types = validate_grant_types(draft.grant_types, draft.client_type)
    return ClientSpec(
        name=validate_name(draft.name),
        description=validate_description(draft.description),
        client_type=draft.client_type,
        scopes=validate_scopes(draft.scopes),
        grant_types=grant_types,
        redirect_uris=validate_redirect_uris(draft.redirect_uris, grant_types),
        rate_limits=merge_rate_limits(default_limits, draft.rate_limits or {}),
        ip_allowlist=validate_ip_allowlist(draft.ip_allowlist),
        require_signing=draft.require_signing,
    )


@dataclass(frozen=True)
class ClientChange:
    """An UpdateClient request: None (or an empty list) leaves a field unchanged."""

    name: str | None = None
    description: str | None = None
    scopes: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    rate_limits: Mapping[str, int] | None = None
    ip_allowlist: tuple[str, ...] = ()
    clear_ip_allowlist: bool = False
    require_signing: bool | None = None
    status: str | None = None


def check_self_change(principal: Principal, client_id: str, spec: ClientSpec, active: bool) -> None:
    """An administrator client cannot lock itself out (disable itself, drop its admin scope)."""
    if principal.client_id != client_id:
        return
    if not active:
        raise ClientConflict(
            "A client cannot disable itself", field="status", metadata={"client_id": client_id}
        )
    if ADMIN_SCOPE not in spec.scopes:
        raise ClientConflict(
            "A client cannot remove backoffice.admin from itself",
            field="scopes",
            metadata={"client_id": client_id},
        )


def apply_change(current: ClientSpec, change: ClientChange) -> ClientSpec:
    """The client after `change`, validated as a whole."""
    if change.clear_ip_allowlist and change.ip_allowlist:
        raise errors.ValidationFailed(
            "Give ip_allowlist or clear_ip_allowlist, not both", field="clear_ip_allowlist"
        )
    grant_types = (
        validate_grant_types(change.grant_types, current.client_type)
        if change.grant_types
        else current.grant_types
    )
    redirect_uris = change.redirect_uris or current.redirect_uris
    if AUTHORIZATION_CODE not in grant_types and not change.redirect_uris:
        redirect_uris = ()  # dropping the grant drops its URIs
    if change.ip_allowlist:
        allowlist = validate_ip_allowlist(change.ip_allowlist)
    else:
        allowlist = () if change.clear_ip_allowlist else current.ip_allowlist
    return ClientSpec(
        name=validate_name(change.name) if change.name is not None else current.name,
        description=(
            validate_description(change.description)
            if change.description is not None
            else current.description
        ),
        client_type=current.client_type,
        scopes=validate_scopes(change.scopes) if change.scopes else current.scopes,
        grant_types=grant_types,
        redirect_uris=validate_redirect_uris(redirect_uris, grant_types),
        rate_limits=merge_rate_limits(current.rate_limits, change.rate_limits or {}),
        ip_allowlist=allowlist,
        require_signing=(
            change.require_signing
            if change.require_signing is not None
            else current.require_signing
        ),
    )


def narrows(before: ClientSpec, after: ClientSpec) -> bool:
    """True when a scope or grant type was taken away (live tokens must die)."""
    return not (
        set(before.scopes) <= set(after.scopes)
        and set(before.grant_types) <= set(after.grant_types)
    )

"""ClientService: administration of API clients and their API keys (admins only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc

from backoffice.v1 import auth_pb2
from backoffice.v1 import auth_service_pb2 as pb
from backoffice.v1 import auth_service_pb2_grpc as pb_grpc
from server.api import call, convert, paging
from server.config import Settings
from server.domain import clients as rules
from server.domain import errors
from server.store import clients as store
from server.store.models import ApiKeyRecord, OAuthClient

GRANT = auth_pb2.GrantTypeEnum.GrantType
CLIENT_TYPE = auth_pb2.ClientTypeEnum.ClientType
CLIENT_STATUS = auth_pb2.ClientStatusEnum.ClientStatus
SLOT = auth_pb2.ApiKeySlotEnum.ApiKeySlot
RATE_LIMIT_FIELDS = rules.RATE_LIMIT_NAMES


class ClientServicer(pb_grpc.ClientServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def ListClients(
        self, request: pb.ListClientsRequest, context: grpc.ServicerContext
    ) -> pb.ListClientsResponse:
        status = _enum_name(CLIENT_STATUS, request.status, "status")
        filters = {"status": status, "search": request.search}
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        result = store.list_clients(
            call.current().principal,
            status,
            request.search,
            limit=page.limit,
            offset=page.offset,
            after=page.after,
        )
        token = (
            paging.encode_token(result.next_key, filters, page=page.next_page)
            if result.next_key
            else ""
        )
        call.current().ok("Clients retrieved successfully")
        return pb.ListClientsResponse(
            clients=[_client(row) for row in result.rows],
            pagination=paging.pagination(page, result.total, token, bool(token)),
        )

    def CreateClient(
        self, request: pb.CreateClientRequest, context: grpc.ServicerContext
    ) -> pb.CreateClientResponse:
        draft = rules.ClientDraft(
            name=request.name,
            description=request.description,
            client_type=_enum_name(CLIENT_TYPE, request.client_type, "client_type")
            or rules.CONFIDENTIAL,
            scopes=tuple(request.scopes),
            grant_types=_grant_types(request.grant_types),
            redirect_uris=tuple(request.redirect_uris),
            rate_limits=_rate_limits(request.rate_limits),
            ip_allowlist=tuple(request.ip_allowlist),
            require_signing=request.require_request_signing,
        )
        row, secret = store.create_client(call.current().principal, draft)
        call.current().created("Client created successfully")
        return pb.CreateClientResponse(client=_client(row, secret))

    def GetClient(
        self, request: pb.GetClientRequest, context: grpc.ServicerContext
    ) -> pb.GetClientResponse:
        row = store.get_client(call.current().principal, request.client_id)
        call.current().ok("Client retrieved successfully")
        return pb.GetClientResponse(client=_client(row))

    def UpdateClient(
        self, request: pb.UpdateClientRequest, context: grpc.ServicerContext
    ) -> pb.UpdateClientResponse:
        def given(name: str) -> Any:
            return getattr(request, name) if request.HasField(name) else None

        status = given("status")
        change = rules.ClientChange(
            name=given("name"),
            description=given("description"),
            scopes=tuple(request.scopes),
            grant_types=_grant_types(request.grant_types) if request.grant_types else (),
            redirect_uris=tuple(request.redirect_uris),
            rate_limits=_rate_limits(request.rate_limits),
            ip_allowlist=tuple(request.ip_allowlist),
            clear_ip_allowlist=request.clear_ip_allowlist,
            require_signing=given("require_request_signing"),
            status=None if status is None else _required_enum(CLIENT_STATUS, status, "status"),
        )
        row = store.update_client(call.current().principal, request.client_id, change)
        call.current().ok("Client updated successfully")
        return pb.UpdateClientResponse(client=_client(row))

    def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: grpc.ServicerContext
    ) -> pb.CreateApiKeyResponse:
        slot = _enum_name(SLOT, request.slot, "slot")
        row, key = store.create_api_key(
            call.current().principal, request.client_id, slot, request.description
        )
        call.current().created("API key created successfully")
        return pb.CreateApiKeyResponse(api_key=_api_key(row, key))

    def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: grpc.ServicerContext
    ) -> pb.ListApiKeysResponse:
        filters = {"client_id": request.client_id, "include_revoked": request.include_revoked}
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        result = store.list_api_keys(
            call.current().principal,
            request.client_id,
            request.include_revoked,
            limit=page.limit,
            offset=page.offset,
            after=page.after,
        )
        token = (
            paging.encode_token(result.next_key, filters, page=page.next_page)
            if result.next_key
            else ""
        )
        call.current().ok("API keys retrieved successfully")
        return pb.ListApiKeysResponse(
            api_keys=[_api_key(row) for row in result.rows],
            pagination=paging.pagination(page, result.total, token, bool(token)),
        )

    def RotateApiKeys(
        self, request: pb.RotateApiKeysRequest, context: grpc.ServicerContext
    ) -> pb.RotateApiKeysResponse:
        rotation = store.rotate_api_keys(
            call.current().principal, request.client_id, request.description
        )
        call.current().ok("API keys rotated successfully")
        return pb.RotateApiKeysResponse(
            primary=_api_key(rotation.primary),
            secondary=_api_key(rotation.secondary, rotation.secondary_key),
            revoked=_api_key(rotation.revoked) if rotation.revoked is not None else None,
        )

    def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: grpc.ServicerContext
    ) -> pb.RevokeApiKeyResponse:
        row = store.revoke_api_key(call.current().principal, request.client_id, request.api_key_id)
        call.current().ok("API key revoked successfully")
        return pb.RevokeApiKeyResponse(api_key=_api_key(row))


# -- Conversions -----------------------------------------------------------------------
def _enum_name(enum: Any, value: int, field: str) -> str | None:
    """The enum word for a set value, None for 0 (unspecified)."""
    if value == 0:
        return None
    try:
        return str(enum.Name(value))
    except ValueError:
        raise errors.ValidationFailed(
            f"Unknown {field} value", field=field, metadata={"value": str(value)}
        ) from None


def _required_enum(enum: Any, value: int, field: str) -> str:
    name = _enum_name(enum, value, field)
    if name is None:
        raise errors.ValidationFailed(f"{field} must be set", field=field)
    return name


def _grant_types(values: Iterable[int]) -> tuple[str, ...]:
    """Admin API words (AUTHORIZATION_CODE) -> stored RFC words (authorization_code)."""
    words = []
    for value in values:
        name = _enum_name(GRANT, value, "grant_types")
        if name is None:
            raise errors.ValidationFailed(
                "GRANT_TYPE_UNSPECIFIED is not a grant type", field="grant_types"
            )
        words.append(name.lower())
    return tuple(words)


def _rate_limits(limits: auth_pb2.RateLimits) -> dict[str, int]:
    return {name: getattr(limits, name) for name in RATE_LIMIT_FIELDS}


def _client(row: OAuthClient, secret: str = "") -> auth_pb2.ApiClient:
    spec = store.spec_of(row)
    return auth_pb2.ApiClient(
        client_id=row.id,
        name=spec.name,
        description=spec.description or None,
        client_type=spec.client_type,
        scopes=list(spec.scopes),
        grant_types=[grant.upper() for grant in spec.grant_types],
        redirect_uris=list(spec.redirect_uris),
        rate_limits=auth_pb2.RateLimits(
            **{name: spec.rate_limits.get(name, 0) for name in RATE_LIMIT_FIELDS}
        ),
        ip_allowlist=list(spec.ip_allowlist),
        require_request_signing=spec.require_signing,
        status=rules.ACTIVE if row.active else rules.DISABLED,
        client_secret=secret or None,
        created_at=convert.timestamp(row.created_at),
        updated_at=convert.timestamp(row.updated_at),
        last_used_at=convert.timestamp(row.last_used_at),
    )


def _api_key(row: ApiKeyRecord, key: str = "") -> auth_pb2.ApiKey:
    return auth_pb2.ApiKey(
        id=row.id,
        client_id=row.client_id,
        slot=row.slot or None,
        prefix=row.prefix,
        last4=row.last4,
        key=key or None,
        status=row.status,
        description=row.description or None,
        created_at=convert.timestamp(row.created_at),
        last_used_at=convert.timestamp(row.last_used_at),
        revoked_at=convert.timestamp(row.revoked_at),
    )


SERVICES = {"ClientService": ClientServicer}

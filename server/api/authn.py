"""Who is calling: a Bearer access token (JWT) or an API key (`X-API-Key`).

Checked in the gRPC server, so direct gRPC callers and REST callers (through
Envoy) meet the same rules. Only the OAuth endpoints themselves are public.
"""

from __future__ import annotations

import grpc

from server.api import call
from server.config import Settings
from server.domain import errors
from server.domain.principal import Principal
from server.store import oauth

PUBLIC_SERVICES = ("/backoffice.v1.OAuthService/",)
TOKEN_LENGTH_MAX = 4096


def authenticate(method: str, context: grpc.ServicerContext, settings: Settings) -> Principal:
    """The caller of `method`, or Unauthenticated (401) with a WWW-Authenticate challenge."""
    metadata = {
        key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)
    }
    authorization = metadata.get("authorization", "")
    api_key = metadata.get("x-api-key", "")
    authority = oauth.authority(settings)
    try:
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token or len(token) > TOKEN_LENGTH_MAX:
                raise errors.Unauthenticated("Use 'Authorization: Bearer <access token>'")
            return authority.principal_from_token(token.strip())
        if api_key:
            if len(api_key) > TOKEN_LENGTH_MAX:
                raise errors.Unauthenticated("The API key is invalid or revoked")
            return authority.principal_from_api_key(api_key)
        raise errors.Unauthenticated("Authentication required: a Bearer token or an API key")
    except errors.Unauthenticated:
        call.current().headers["www-authenticate"] = 'Bearer realm="backoffice"'
        raise


def is_public(method: str) -> bool:
    return method.startswith(PUBLIC_SERVICES)

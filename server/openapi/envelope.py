"""The REST envelope, shared responses, headers and security schemes of the document.

What envoy/envelope.lua builds around every answer of the gRPC server (and
Envoy's own local replies, envoy/envoy.yaml.tmpl): success `{success: true,
status: "success", message, data, [pagination], meta}`; error `{success:
false, status: "error", message, error: {code, message, details?, field?},
meta}`, `meta` being `{timestamp, requestId, version}`.
"""

from __future__ import annotations

from typing import Any

from server.openapi import outcomes
from server.openapi.schemas import Builder, Schema

SCOPES = {
    "banking.read": "Read accounts, transactions and reports",
    "banking.write": "Move money and change resources",
    "backoffice.admin": "Administer the back office (staff)",
}


def success(data: Schema, has_pagination: bool) -> Schema:
    properties: dict[str, Any] = {
        "success": {"const": True},
        "status": {"const": "success"},
        "message": {"type": "string", "description": "What happened, for people"},
        "data": data,
    }
    if has_pagination:
        properties["pagination"] = {
            **_ref_of("Pagination"),
            "description": "The list's paging again at the top level (seed 000)",
        }
    properties["meta"] = _ref_of("ResponseMeta")
    return {
        "type": "object",
        "required": ["success", "status", "message", "data", "meta"],
        "properties": properties,
    }


def error_response(builder: Builder, status: int, codes: list[str]) -> dict[str, Any]:
    """A reference to components.responses `<status>.<CODE>.<CODE>...`, written once."""
    name = ".".join([str(status), *codes])
    builder.responses.setdefault(name, _error_content(status, codes))
    return {"$ref": f"#/components/responses/{name}"}


def _error_content(status: int, codes: list[str]) -> dict[str, Any]:
    schema = {
        "allOf": [_ref_of("ErrorEnvelope")],
        "properties": {"error": {"properties": {"code": {"enum": codes}}}},
    }
    return {
        "description": f"Error {status}: " + ", ".join(f"`{code}`" for code in codes),
        "headers": {
            name: {"$ref": f"#/components/headers/{name}"}
            for name in ("X-Request-ID", *(_WAIT if status in (429, 503) else ()))
        },
        "content": {"application/json": {"schema": schema}},
    }


def _ref_of(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def envelope_schemas() -> dict[str, Schema]:
    text = {"type": "string"}
    return {
        "ResponseMeta": {
            "type": "object",
            "required": ["timestamp", "requestId", "version"],
            "properties": {
                "timestamp": {"type": "string", "format": "date-time"},
                "requestId": {**text, "description": "The caller's X-Request-ID, or a new one"},
                "version": {"const": "v1"},
            },
        },
        "ErrorDetail": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {**text, "enum": list(outcomes.error_statuses())},
                "message": text,
                "details": text,
                "field": {**text, "description": "The offending field, as the client named it"},
            },
        },
        "ErrorEnvelope": {
            "type": "object",
            "required": ["success", "status", "message", "error", "meta"],
            "properties": {
                "success": {"const": False},
                "status": {"const": "error"},
                "message": text,
                "error": _ref_of("ErrorDetail"),
                "meta": _ref_of("ResponseMeta"),
            },
        },
    }


def security_schemes() -> dict[str, Any]:
    return {
        "oauth2": {
            "type": "oauth2",
            "description": "Bearer access tokens (ES256 JWTs, 1 hour). The authorization-code "
            "flow requires PKCE (RFC 7636, S256): `code_challenge` on /oauth/authorize, "
            "`code_verifier` on /oauth/token. Refresh tokens (30 days) rotate on use.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/refresh",
                    "scopes": SCOPES,
                },
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize",
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/refresh",
                    "scopes": SCOPES,
                },
            },
        },
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key of a client: it acts with that client's scopes.",
        },
    }


INFO = (
    "The Banking Back Office's REST API, published by Envoy from the gRPC API "
    "(protos/backoffice/v1/). Every response but `/oauth/*`, `/.well-known/*` and file "
    "downloads is an envelope: `{success, status, message, data, meta}` on success, "
    '`{success: false, status: "error", message, error: {code, message, details, field}, '
    "meta}` on error. Field names are lowerCamelCase (requests accept snake_case too); "
    "enums are their words; money is a JSON number in major units; timestamps are RFC 3339 "
    "UTC. Writes take an `Idempotency-Key`. Generated by `make gen` (server/openapi/)."
)
PARAMETERS = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "description": "Same key and same body: the first response again "
        "(Idempotent-Replayed: true); same key, other body: 409 IDEMPOTENCY_KEY_REUSED. 24 h.",
        "schema": {"type": "string", "maxLength": 255},
    },
    "RequestId": {
        "name": "X-Request-ID",
        "in": "header",
        "description": "Echoed in meta.requestId and the X-Request-ID response header",
        "schema": {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$"},
    },
}
HEADERS = {
    "X-Request-ID": {"schema": {"type": "string"}},
    "X-RateLimit-Limit": {"schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Unix time"},
    "Idempotent-Replayed": {
        "schema": {"const": "true"},
        "description": "This answer is the first one of its Idempotency-Key, again",
    },
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"},
    "X-RateLimit-Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"},
}
_WAIT = ("Retry-After", "X-RateLimit-Retry-After")
RESPONSE_HEADERS = {
    name: {"$ref": f"#/components/headers/{name}"} for name in HEADERS if name not in _WAIT
}

"""Authorization of one call: the scopes its RPC needs, and the caller's role.

Every RPC but OAuthService's declares in the protos the OAuth scopes it needs
(`option (backoffice.v1.required_scopes)`, see annotations.proto). The
interceptor calls `authorize` for every authenticated call, REST or direct
gRPC alike, before the servicer runs; a caller without every declared scope
is refused with FORBIDDEN (403, PERMISSION_DENIED), the missing scope in
ErrorInfo.metadata and, as RFC 6750 section 3.1 asks, a
`WWW-Authenticate: Bearer error="insufficient_scope"` header. An RPC that
declares no scope is refused to everybody: forgetting the option must never
open an RPC.

Role rules that hold for a whole RPC whatever its request are here too (the
protos' service comments): administration services need an ADMIN (the audit
log also an AUDITOR), a customer never holds `backoffice.admin`, and an
AUDITOR reads only. Rules that depend on the resource (whose account, which
staff job may freeze it) are the domain's (server/domain/accounts.py,
server/domain/users.py), where "another customer's resource is NOT_FOUND" is
decided.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pool

from backoffice.v1 import annotations_pb2
from server.api import call
from server.domain import errors
from server.domain.principal import ADMIN, ALL_SCOPES, AUDITOR, CUSTOMER, ROLES, Principal

PACKAGE = "backoffice.v1"
SCOPE_WRITE = "banking.write"
SCOPE_ADMIN = "backoffice.admin"
METHOD_CACHE_MAX = 1024
# The generated stubs type the extension as a plain FieldDescriptor, which
# `Extensions[...]` does not accept statically; at run time it is the extension.
_REQUIRED_SCOPES: Any = annotations_pb2.required_scopes

# Services whose every RPC is back-office administration, and the roles that
# may call them (auth_service.proto, audit_service.proto). A client acting
# for itself holds the ADMIN role exactly when it holds `backoffice.admin`,
# so this only narrows what staff users may do.
SERVICE_ROLES: dict[str, frozenset[str]] = {
    "ClientService": frozenset({ADMIN}),
    "AuditService": frozenset({ADMIN, AUDITOR}),
    # Webhook events carry every customer's data, and a subscription sends
    # them to any URL: administrators only.
    "WebhookService": frozenset({ADMIN}),
    "SandboxService": frozenset({ADMIN}),
}

# RPCs of those services open to every role, the servicer narrowing what each
# sees: the sandbox inbox, where a customer reads their own messages.
OPEN_TO_EVERY_ROLE = frozenset({f"/{PACKAGE}.SandboxService/ListSandboxNotifications"})

# RPCs that need `banking.write` yet change no bank data, so an AUDITOR may
# call them: a custom report is a read done later (report.proto: staff
# including AUDITOR may ask for reports).
AUDITOR_MAY_CALL = frozenset({f"/{PACKAGE}.ReportService/CreateCustomReport"})


def authorize(method: str, principal: Principal) -> None:
    """Raises Forbidden (403) when `principal` may not call `method` at all."""
    required = required_scopes(method)
    if not required:
        raise errors.Forbidden(
            "This operation is not available", metadata={"method": _short(method)}
        )
    if principal.role not in ROLES:
        raise errors.Forbidden("Unknown role", metadata={"role": principal.role[:40]})
    _check_scopes(method, required, effective_scopes(principal))
    _check_role(method, required, principal)


def effective_scopes(principal: Principal) -> frozenset[str]:
    """The scopes that count: a customer never administers the back office,
    whatever a token says."""
    if principal.role == CUSTOMER:
        return principal.scopes - {SCOPE_ADMIN}
    return principal.scopes


@functools.lru_cache(maxsize=METHOD_CACHE_MAX)
def required_scopes(method: str) -> tuple[str, ...]:
    """The scopes `method` (`/backoffice.v1.Service/Rpc`) declares; () for none.

    An unknown method, and a declared word that is not a scope, count as
    nothing declared, so the call is refused.
    """
    service, _, rpc = method.removeprefix("/").partition("/")
    if not service.startswith(f"{PACKAGE}.") or not rpc:
        return ()
    try:
        descriptor = descriptor_pool.Default().FindMethodByName(f"{service}.{rpc}")
    except KeyError:
        return ()
    declared = tuple(str(s) for s in descriptor.GetOptions().Extensions[_REQUIRED_SCOPES])
    if any(scope not in ALL_SCOPES for scope in declared):
        return ()
    return declared


def _check_scopes(method: str, required: tuple[str, ...], held: frozenset[str]) -> None:
    missing = [scope for scope in required if scope not in held]
    if not missing:
        return
    wanted = " ".join(missing)
    call.current().headers["www-authenticate"] = (
        f'Bearer realm="backoffice", error="insufficient_scope", scope="{" ".join(required)}"'
    )
    raise errors.Forbidden(
        f"This operation needs the {wanted} scope",
        metadata={
            "method": _short(method),
            "missing_scope": wanted,
            "required_scopes": " ".join(required),
        },
    )


def _check_role(method: str, required: tuple[str, ...], principal: Principal) -> None:
    service = method.removeprefix(f"/{PACKAGE}.").partition("/")[0]
    allowed = SERVICE_ROLES.get(service)
    if allowed is not None and principal.role not in allowed and method not in OPEN_TO_EVERY_ROLE:
        raise errors.Forbidden(
            "This operation is reserved to administrators",
            metadata={"method": _short(method), "role": principal.role},
        )
    if principal.role == AUDITOR and SCOPE_WRITE in required and method not in AUDITOR_MAY_CALL:
        raise errors.Forbidden(
            "Auditors have read-only access",
            metadata={"method": _short(method), "role": principal.role},
        )


def _short(method: str) -> str:
    """`Service/Rpc`, the method without its package (for error metadata)."""
    return method.removeprefix(f"/{PACKAGE}.")[:120]

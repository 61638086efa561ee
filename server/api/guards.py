"""Network and request-integrity guards of a client: IP allowlist, request signing.

Run for every authenticated call, before its rate limit:
1. IP allowlist (`oauth_clients.ip_allowlist`, CIDR blocks; empty = anywhere).
   The caller's address is Envoy's `x-bank-client-ip` when the gRPC peer is a
   trusted proxy (BANK_TRUSTED_PROXIES, default loopback; under
   BANK_GRPC_TLS=mutual it must also present Envoy's certificate), else the
   gRPC peer. Elsewhere: 403 FORBIDDEN.
2. Request signing (`server.domain.signing`): required when the client has
   `require_signing`; a signature sent by any other client is checked too,
   so a client can try signing before it is enforced. REST requests are
   checked as the client sent them: Envoy's Lua filter passes the original
   method (`x-bank-rest-method`), path and query (`x-bank-rest-path`) and
   the body's SHA-256 (`x-bank-body-sha256`), believed only from a trusted
   proxy. A direct gRPC call signs POST, its method path, no query and the
   request message's deterministic serialization. Any failure: 401
   UNAUTHORIZED; the nonce is spent only by a request whose signature holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from functools import cache

import grpc
from google.protobuf.message import Message

from server import tls
from server.api import call
from server.config import Settings
from server.domain import addresses, errors, signing
from server.domain.addresses import IpAddress, IpNetwork
from server.domain.principal import Principal
from server.store import client_policy
from server.store import ratelimit as shared
from server.store.client_policy import ClientPolicy

CLIENT_IP_KEY = "x-bank-client-ip"
REST_METHOD_KEY = "x-bank-rest-method"
REST_PATH_KEY = "x-bank-rest-path"
BODY_SHA256_KEY = "x-bank-body-sha256"
# RFC 9110 section 11.6.1: a 401 names the scheme that failed.
SIGNATURE_CHALLENGE = 'Signature realm="backoffice"'


@cache
def _trusted_proxies(cidrs: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return addresses.networks(cidrs)


def caller_address(
    context: grpc.ServicerContext, settings: Settings
) -> tuple[IpAddress | None, bool]:
    """The caller's address, and whether the peer is a trusted proxy.

    Envoy puts the REST client's address in x-bank-client-ip (replacing any
    value the client sent); the header is believed only from a peer in
    BANK_TRUSTED_PROXIES, so a direct gRPC caller is judged by its own
    address. Every step of a call (guards, audit, transaction metadata)
    uses this one answer (`call.CallInfo.client_address`).
    """
    peer = context.peer() or ""
    forwarded = next(
        (
            value
            for key, value in context.invocation_metadata() or ()
            if key == CLIENT_IP_KEY and isinstance(value, str)
        ),
        None,
    )
    proxies = _trusted_proxies(settings.trusted_proxies)
    trusted = addresses.contains(proxies, addresses.peer_ip(peer))
    if trusted and settings.grpc_tls == "mutual":
        # Under mutual TLS the proxy also proves who it is: an internal
        # caller on the same host with a certificate of its own is not Envoy.
        trusted = tls.peer_common_name(context) == tls.ENVOY_COMMON_NAME
    return addresses.client_ip(peer, forwarded if trusted else None, proxies), trusted


def check(
    method: str,
    request: object,
    principal: Principal,
    context: grpc.ServicerContext,
    settings: Settings,
) -> None:
    """Raises Forbidden/Unauthenticated when the client's network or signature rules fail."""
    metadata = {
        key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)
    }
    info = call.current()
    address, trusted = info.client_address, info.via_trusted_proxy
    info.principal = dataclasses.replace(principal, ip_address=str(address) if address else "")
    rules = client_policy.policy(principal.client_id, settings)
    if rules.allowlist_configured and not addresses.contains(rules.ip_allowlist, address):
        raise errors.Forbidden(
            "This client may not call the API from this address",
            metadata={"ip_address": str(address) if address else "unknown"},
        )
    try:
        _check_signature(
            method=method,
            request=request,
            principal=principal,
            metadata=metadata,
            trusted=trusted,
            rules=rules,
            settings=settings,
        )
    except errors.Unauthenticated:
        call.current().headers["www-authenticate"] = SIGNATURE_CHALLENGE
        raise


def _check_signature(
    *,
    method: str,
    request: object,
    principal: Principal,
    metadata: dict[str, str],
    trusted: bool,
    rules: ClientPolicy,
    settings: Settings,
) -> None:
    signed = signing.parse_headers(metadata)
    if signed is None:
        if rules.require_signing:
            raise errors.Unauthenticated(
                "This client must sign its requests (X-Signature, X-Signature-Timestamp, "
                "X-Signature-Nonce)",
                metadata={"signature_problem": "missing_signature"},
            )
        return
    if rules.signing_secret is None:
        raise errors.Unauthenticated(
            "No signing secret is issued to this client",
            metadata={"signature_problem": "no_signing_secret"},
        )
    now = time.time()
    signing.check_timestamp(signed.timestamp, now)
    if trusted and BODY_SHA256_KEY in metadata:
        # REST through Envoy: the request as the client sent it.
        canonical = signing.canonical_request(
            metadata.get(REST_METHOD_KEY, ""),
            metadata.get(REST_PATH_KEY, ""),
            signed.timestamp_text,
            signed.nonce,
            _hex_digest(metadata[BODY_SHA256_KEY]),
        )
    else:
        assert isinstance(request, Message)
        body = request.SerializeToString(deterministic=True)
        canonical = signing.canonical_request(
            signing.GRPC_METHOD,
            method,
            signed.timestamp_text,
            signed.nonce,
            hashlib.sha256(body).hexdigest(),
        )
    signing.verify(rules.signing_secret, canonical, signed.signature)
    counters = shared.counters(settings.redis_url)
    if not counters.claim_nonce(
        principal.client_id, signed.nonce, signing.nonce_expiry(signed.timestamp)
    ):
        raise errors.Unauthenticated(
            "This nonce was already used: sign every request with a new one",
            metadata={"signature_problem": "replayed_nonce"},
        )


def _hex_digest(value: str) -> str:
    """Envoy's body hash, checked: anything else is a broken edge, never a match."""
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise errors.Unauthenticated(
            "The request body could not be hashed", metadata={"signature_problem": "body_hash"}
        )
    return value

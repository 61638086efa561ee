"""Idempotency-Key handling for every creating or money-moving POST.

Contract: same key and same request -> the first response again, byte for
byte (gRPC: the same serialized message; REST: the same `data`, status and
message, with `Idempotent-Replayed: true`); same key and another request ->
409 IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (the client, and the
person when the token is a person's) and are kept 24 hours of real time (the
wall clock, as token lifetimes are: moving the sandbox clock a day on must not
make a client's retry run again): one caller's key never replays or blocks
another's, so that a customer cannot read another's stored answer (balances,
name, address) by sending their key and body, nor make their payment fail by
using their key first.

Which RPCs: every RPC bound to an HTTP POST, except reads and protocol
endpoints listed in `NOT_IDEMPOTENT` (searches, OAuth, verification, the
sandbox clock).

Secret-bearing answers are never stored (a client secret, an API key or a
webhook secret is shown once and must not sit in the idempotency table), so
the RPCs that return one are not idempotent: CreateClient, CreateApiKey,
RotateApiKeys, CreateWebhookSubscription, RotateWebhookSecret, EnrollTotp.

What is stored: successes, and failures that happened while executing
(404, 409 and 422 answers). Failures before execution (malformed input,
authentication, rate limits, an unavailable database) are not stored, so a
retry runs again: the same policy as Stripe's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor_pool

from server.api import call
from server.domain import errors
from server.domain.principal import Principal
from server.services import transfer_queue
from server.services.context import Movement
from server.store import clock, tx
from server.store import idempotency as store

HEADER = "idempotency-key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
NOT_IDEMPOTENT = frozenset(
    {
        "SearchTransactions",
        "Token",
        "Refresh",
        "Revoke",
        "SubmitAuthorization",
        "VerifyAuditLog",
        "AdvanceClock",
        "RequestPasswordReset",
        "ConfirmPasswordReset",
        # Answers holding a secret shown once: never stored (see above).
        "CreateClient",
        "CreateApiKey",
        "RotateApiKeys",
        "CreateWebhookSubscription",
        "RotateWebhookSecret",
        "EnrollTotp",
    }
)
STORED_FAILURE_STATUSES = store.STORED_FAILURE_STATUSES
# Methods whose servicer handles its Idempotency-Key itself (through `run`,
# or `run_queued` when the transfer is batched with others).
OWN_KEYS = frozenset({"/backoffice.v1.TransactionService/CreateTransfer"})


_KEY: list[bytes] = []


def configure(key: bytes) -> None:
    """Sets the key of the request hashes (server start-up)."""
    _KEY[:] = [key]


def _hash_key() -> bytes:
    assert _KEY, "idempotency.configure() was not called"
    return _KEY[0]


class _KeyHeld(Exception):
    """Another request claimed the key first; answer from its outcome."""


@dataclass(frozen=True)
class _Failed:
    """A failure stored as the key's outcome; raised once its transaction commits."""

    error: errors.BankError


@cache
def is_idempotent(method: str) -> bool:
    """True for `/pkg.Service/Method` names bound to an HTTP POST."""
    service_name, _, method_name = method.lstrip("/").rpartition("/")
    if method_name in NOT_IDEMPOTENT:
        return False
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return False
    rule = service.methods_by_name[method_name].GetOptions().Extensions[annotations_pb2.http]
    return bool(rule.post)


def key_from(context: grpc.ServicerContext) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == HEADER:
            if not isinstance(value, str) or not _KEY_RE.match(value):
                raise errors.InvalidRequest(
                    "Idempotency-Key must be 1 to 255 printable ASCII characters",
                    field="Idempotency-Key",
                )
            return value
    return None


def hash_of(method: str, request: Any) -> str:
    """The stored hash of `request` to `method` (a batch item hashes as its CreateTransfer).

    Keyed, so that a stored hash cannot be used to guess what a request held
    (a CreateUser request carries a password).
    """
    return hmac.new(
        _hash_key(),
        method.encode() + b"\0" + request.SerializeToString(deterministic=True),
        hashlib.sha256,
    ).hexdigest()


def run(
    method: str,
    key: str,
    request: Any,
    behavior: Callable[[], Any],
    serialize: Callable[[Any], bytes],
) -> Any:
    """Runs `behavior` at most once per (caller, key); returns the response or its stored bytes."""
    info = call.current()
    owner, request_hash, stored = _first_look(method, key, request)
    if stored is not None:
        return _replay(stored, request_hash)

    def work() -> Any:
        now = clock.now(sandbox=False)
        if not store.claim(owner, key, method, request_hash, now):
            raise _KeyHeld
        try:
            response = tx.write(behavior)  # a savepoint: a failure undoes it, not the claim
        except errors.BankError as exc:
            if not store.kept(exc):
                raise
            # Stored while this transaction still holds the key: a duplicate
            # waiting on the claim replays this failure. Stored after a
            # rollback, the duplicate could claim the key first and execute.
            store.fail(owner, key, exc)
            return _Failed(exc)
        store.complete(owner, key, serialize(response), info.http_status, info.message)
        return response

    try:
        result = tx.write(work)
    except _KeyHeld:
        return _held(owner, key, request_hash)
    if isinstance(result, _Failed):
        raise result.error
    return result


def run_queued(
    method: str,
    key: str,
    request: Any,
    item: Callable[[transfer_queue.KeyUse], transfer_queue.Item],
    answer: Callable[[Movement, Principal], transfer_queue.Answer],
) -> Any:
    """`run` for a transfer posted by the micro-batcher (server.services.transfer_queue):
    the key is claimed, and its outcome stored, in the batch's transaction."""
    info = call.current()
    owner, request_hash, stored = _first_look(method, key, request)
    if stored is not None:
        return _replay(stored, request_hash)
    use = transfer_queue.KeyUse(store.Claim(owner, key, method, request_hash), answer)
    outcome = transfer_queue.submit(item(use))
    if isinstance(outcome, transfer_queue.Held):
        return _held(owner, key, request_hash)
    assert outcome.answer is not None
    info.http_status, info.message = outcome.answer.http_status, outcome.answer.message
    return outcome.answer.response


def _first_look(
    method: str, key: str, request: Any
) -> tuple[store.Owner, str, store.Outcome | None]:
    """The caller's key owner, the request's hash, and the key's stored outcome if any."""
    principal = call.current().principal
    owner = store.Owner(principal.client_id, principal.user_id or "")
    return owner, hash_of(method, request), store.lookup(owner, key, clock.now(sandbox=False))


def _held(owner: store.Owner, key: str, request_hash: str) -> bytes:
    """The answer when another request held the key: its outcome, once it has one."""
    stored = store.lookup(owner, key, clock.now(sandbox=False))
    if stored is None or (stored.response is None and stored.error is None):
        raise errors.IdempotencyRequestInProgress()
    return _replay(stored, request_hash)


def _replay(stored: store.Outcome, request_hash: str) -> bytes:
    if stored.request_hash != request_hash:
        raise errors.IdempotencyKeyReused()
    info = call.current()
    info.headers["idempotent-replayed"] = "true"
    if stored.error is not None:
        raise stored.error
    if stored.response is None:
        raise errors.IdempotencyRequestInProgress()
    info.http_status, info.message = stored.http_status, stored.message
    return stored.response

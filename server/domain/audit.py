"""The audit log's rules: the hash chain, what an event may hold, who reads it.

Hash chain (audit.proto): each event's hash is the lowercase hex SHA-256 of
`<previous_hash>\\n<canonical JSON>`, where the canonical JSON is the event
without `hash`: proto field names, keys sorted, no insignificant whitespace,
timestamps RFC 3339 UTC with exactly 6 fractional digits, sequence a JSON
number, resource_ids in the order logged. Non-ASCII characters are written
as themselves (UTF-8), not as `\\u` escapes. The first event's previous hash
is 64 zeros; after pruning, the first kept event chains to the anchor (the
hash and sequence of the last pruned event).

An event never holds a request or response body: only the ids of the
resources touched, filtered here by shape, so that a value that merely sits
in a field named `..._id` (a tax id) is never logged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.domain import errors
from server.domain.principal import ADMIN, AUDITOR, Principal

GENESIS_HASH = "0" * 64
OUTCOME_OK = "OK"
OUTCOME_ERROR = "ERROR"  # a filter word: every outcome but OK
RESOURCE_IDS_MAX = 20
VERIFY_RANGE_MAX = 1_000_000
PAGE_DEPTH_MAX = 10_000
FILTER_LENGTH_MAX = 200
ADMIN_SCOPE = "backoffice.admin"

# Prefixed ids (`acc_...`, `txn_...`); API client ids are plain names.
_PREFIXED_ID_RE = re.compile(r"^[a-z]{2,8}_[A-Za-z0-9]{1,56}$")
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
# Fields ending in `_id` that hold personal data, not a resource id.
_PERSONAL_FIELDS = frozenset({"tax_id"})
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One finished API call, as the interceptor saw it (no sequence, no hash yet)."""

    id: str
    actor_id: str
    client_id: str
    method: str
    resource_ids: tuple[str, ...]
    outcome_code: str
    request_id: str
    ip_address: str
    created_at: datetime  # naive UTC, when the call finished

    def log_fields(self) -> dict[str, Any]:
        """The entry as a log line's fields (ids only: nothing secret in here)."""
        return {
            "id": self.id,
            "actor_id": self.actor_id,
            "client_id": self.client_id,
            "method": self.method,
            "resource_ids": list(self.resource_ids),
            "outcome_code": self.outcome_code,
            "request_id": self.request_id,
            "ip_address": self.ip_address,
            "created_at": timestamp_text(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """An event of the log: an entry with its place in the chain."""

    sequence: int
    id: str
    actor_id: str
    client_id: str
    method: str
    resource_ids: tuple[str, ...]
    outcome_code: str
    request_id: str
    ip_address: str
    created_at: datetime
    previous_hash: str
    hash: str


def timestamp_text(moment: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits (naive datetimes are UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(event: AuditEvent | AuditEntry, sequence: int, previous_hash: str) -> str:
    """The event without its hash, as audit.proto spells it."""
    body = {
        "id": event.id,
        "sequence": sequence,
        "actor_id": event.actor_id,
        "client_id": event.client_id,
        "method": event.method,
        "resource_ids": list(event.resource_ids),
        "outcome_code": event.outcome_code,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "created_at": timestamp_text(event.created_at),
        "previous_hash": previous_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def chained(entry: AuditEntry, sequence: int, previous_hash: str) -> AuditEvent:
    """`entry` placed after the event whose hash is `previous_hash`."""
    assert sequence >= 1 and _HASH_RE.match(previous_hash)
    return AuditEvent(
        sequence=sequence,
        id=entry.id,
        actor_id=entry.actor_id,
        client_id=entry.client_id,
        method=entry.method,
        resource_ids=entry.resource_ids,
        outcome_code=entry.outcome_code,
        request_id=entry.request_id,
        ip_address=entry.ip_address,
        created_at=entry.created_at,
        previous_hash=previous_hash,
        hash=chain_hash(previous_hash, canonical_json(entry, sequence, previous_hash)),
    )


# -- What an event holds -------------------------------------------------------------------
def resource_ids(fields: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The resource ids among (field name, value) pairs, in order, unique, at most 20.

    A field counts when its name ends in `_id` (or is `id`, in a response's
    resource), and its value has the shape of one of our ids; API client ids
    count in `client_id` fields. Anything else, whatever the field is called,
    is left out.
    """
    found: list[str] = []
    for name, value in fields:
        leaf = name.rsplit(".", 1)[-1]
        if leaf in _PERSONAL_FIELDS or not (leaf == "id" or leaf.endswith(("_id", "_ids"))):
            continue
        shape = _CLIENT_ID_RE if leaf == "client_id" else _PREFIXED_ID_RE
        if shape.match(value) and value not in found:
            found.append(value)
            if len(found) == RESOURCE_IDS_MAX:
                break
    return tuple(found)


# -- Who reads it ----------------------------------------------------------------------------
def check_reader(principal: Principal) -> None:
    """The backoffice.admin scope and, for a user, the ADMIN or AUDITOR role."""
    if ADMIN_SCOPE not in principal.scopes:
        raise errors.Forbidden(
            "Reading the audit log needs the backoffice.admin scope",
            metadata={"scope": ADMIN_SCOPE},
        )
    if principal.user_id is not None and principal.role not in (ADMIN, AUDITOR):
        raise errors.Forbidden(
            "Reading the audit log is reserved to administrators and auditors",
            metadata={"role": principal.role},
        )


# -- Queries ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A validated ListAuditEvents filter; empty strings mean 'any'."""

    actor_id: str = ""
    client_id: str = ""
    # Full method names to match; None means any method.
    methods: tuple[str, ...] | None = None
    outcome: str = ""
    resource_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    order: str = "desc"

    def filters(self) -> dict[str, Any]:
        """What a page token is bound to."""
        return {
            "actor_id": self.actor_id,
            "client_id": self.client_id,
            "methods": list(self.methods) if self.methods is not None else None,
            "outcome": self.outcome,
            "resource_id": self.resource_id,
            "since": timestamp_text(self.since) if self.since else None,
            "until": timestamp_text(self.until) if self.until else None,
            "order": self.order,
        }


def _bounded(value: str, field: str) -> str:
    text = value.strip()
    if len(text) > FILTER_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"{field} must be at most {FILTER_LENGTH_MAX} characters",
            field=field,
            metadata={"length_max": str(FILTER_LENGTH_MAX)},
        )
    return text


def audit_query(
    *,
    actor_id: str,
    client_id: str,
    methods: tuple[str, ...] | None,
    outcome: str,
    resource_id: str,
    since: datetime | None,
    until: datetime | None,
    order: str,
) -> AuditQuery:
    """ListAuditEvents' filters, checked."""
    if since is not None and until is not None and since >= until:
        raise errors.ValidationFailed("since must be before until", field="since")
    direction = order.strip().lower() or "desc"
    if direction not in ("asc", "desc"):
        raise errors.ValidationFailed("order must be asc or desc", field="order")
    return AuditQuery(
        actor_id=_bounded(actor_id, "actor_id"),
        client_id=_bounded(client_id, "client_id"),
        methods=methods,
        # Codes are upper case (`TXN001`, `OK`); `error` is the same word as `ERROR`.
        outcome=_bounded(outcome, "outcome").upper(),
        resource_id=_bounded(resource_id, "resource_id"),
        since=since,
        until=until,
        order=direction,
    )


def check_page_depth(page: int, limit: int, keyset: bool) -> None:
    if not keyset and page * limit > PAGE_DEPTH_MAX:
        raise errors.ValidationFailed(
            f"page times limit may not exceed {PAGE_DEPTH_MAX}; use page_token",
            field="page",
            metadata={"depth_max": str(PAGE_DEPTH_MAX)},
        )


def keyset_after(after: list[Any] | None) -> int | None:
    """The sequence a page token resumes after, checked for shape."""
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], int) or isinstance(after[0], bool):
        raise errors.ValidationFailed("page_token is not valid", field="page_token")
    return after[0]


# -- Verification ----------------------------------------------------------------------------
HASH_MISMATCH = "hash_mismatch"
PREVIOUS_HASH_MISMATCH = "previous_hash_mismatch"
SEQUENCE_GAP = "sequence_gap"


def verify_range(from_sequence: int, to_sequence: int, first: int, latest: int) -> tuple[int, int]:
    """The range VerifyAuditLog checks, from the request (0 = default).

    `first` is the oldest sequence still kept (pruned ones are before it),
    `latest` the newest. A range starting before `first` starts at `first`;
    one ending after `latest` ends there.
    """
    if from_sequence < 0:
        raise errors.ValidationFailed("from_sequence may not be negative", field="from_sequence")
    if to_sequence < 0:
        raise errors.ValidationFailed("to_sequence may not be negative", field="to_sequence")
    if from_sequence and to_sequence and from_sequence > to_sequence:
        raise errors.ValidationFailed(
            "from_sequence must not be after to_sequence",
            field="from_sequence",
            metadata={"from_sequence": str(from_sequence), "to_sequence": str(to_sequence)},
        )
    end = min(to_sequence or latest, latest)
    start = max(from_sequence or max(first, end - VERIFY_RANGE_MAX + 1), first)
    if end - start + 1 > VERIFY_RANGE_MAX:
        raise errors.ValidationFailed(
            f"At most {VERIFY_RANGE_MAX} events may be verified per call",
            field="to_sequence",
            metadata={"range_max": str(VERIFY_RANGE_MAX)},
        )
    return start, end


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked_count: int
    from_sequence: int
    to_sequence: int
    last_hash: str
    first_broken_id: str = ""
    first_broken_sequence: int = 0
    failure: str = ""


class ChainVerifier:
    """Checks events fed in sequence order; stops at the first broken one."""

    def __init__(self, from_sequence: int, previous_hash: str) -> None:
        self._expected = from_sequence
        self._previous_hash = previous_hash
        self.checked = 0
        self.broken: tuple[str, int, str] | None = None  # (id, sequence, failure)

    def feed(self, event: AuditEvent) -> bool:
        """False once the chain is broken (feed no more)."""
        assert self.broken is None
        self.checked += 1
        if event.sequence != self._expected:
            self.broken = (event.id, self._expected, SEQUENCE_GAP)
        elif event.previous_hash != self._previous_hash:
            self.broken = (event.id, event.sequence, PREVIOUS_HASH_MISMATCH)
        elif event.hash != chain_hash(
            event.previous_hash, canonical_json(event, event.sequence, event.previous_hash)
        ):
            self.broken = (event.id, event.sequence, HASH_MISMATCH)
        if self.broken is not None:
            return False
        self._expected += 1
        self._previous_hash = event.hash
        return True

    def result(self, from_sequence: int, to_sequence: int) -> Verification:
        if self.broken is None and self._expected <= to_sequence:
            # The range ends with missing events: nothing came after the gap.
            self.broken = ("", self._expected, SEQUENCE_GAP)
        if self.broken is None:
            return Verification(
                ok=True,
                checked_count=self.checked,
                from_sequence=from_sequence,
                to_sequence=to_sequence,
                last_hash=self._previous_hash,
            )
        broken_id, broken_sequence, failure = self.broken
        return Verification(
            ok=False,
            checked_count=self.checked,
            from_sequence=from_sequence,
            to_sequence=to_sequence,
            last_hash=self._previous_hash,
            first_broken_id=broken_id,
            first_broken_sequence=broken_sequence,
            failure=failure,
        )

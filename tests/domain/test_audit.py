"""Audit rules without a database: the hash chain, what an event holds, who reads it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from server.domain import audit as rules
from server.domain import errors
from server.domain.principal import (
    ADMIN,
    AUDITOR,
    CUSTOMER,
    INTERNAL,
    OPERATIONS,
    TELLER,
    Principal,
)

T0 = datetime(2025, 11, 9, 10, 30, 0, 120000)


def entry(number: int = 1, **overrides: object) -> rules.AuditEntry:
    values: dict[str, object] = {
        "id": f"aud_{number:020d}",
        "actor_id": "usr_alice",
        "client_id": "sandbox-client",
        "method": "/backoffice.v1.AccountService/FreezeAccount",
        "resource_ids": ("acc_one", "txn_two"),
        "outcome_code": "OK",
        "request_id": f"req-{number}",
        "ip_address": "203.0.113.7",
        "created_at": T0 + timedelta(seconds=number),
    }
    values.update(overrides)
    return rules.AuditEntry(**values)  # type: ignore[arg-type]


def chain(count: int, start: int = 1, previous: str = rules.GENESIS_HASH) -> list[rules.AuditEvent]:
    events = []
    for sequence in range(start, start + count):
        event = rules.chained(entry(sequence), sequence, previous)
        events.append(event)
        previous = event.hash
    return events


# -- The hash, exactly as audit.proto spells it --------------------------------------------------
def test_first_event_hash_follows_the_documented_recipe() -> None:
    event = rules.chained(entry(1), 1, rules.GENESIS_HASH)
    canonical = (
        '{"actor_id":"usr_alice","client_id":"sandbox-client",'
        '"created_at":"2025-11-09T10:30:01.120000Z","id":"aud_00000000000000000001",'
        '"ip_address":"203.0.113.7","method":"/backoffice.v1.AccountService/FreezeAccount",'
        '"outcome_code":"OK","previous_hash":"' + "0" * 64 + '","request_id":"req-1",'
        '"resource_ids":["acc_one","txn_two"],"sequence":1}'
    )
    assert rules.canonical_json(event, 1, rules.GENESIS_HASH) == canonical
    expected = hashlib.sha256(("0" * 64 + "\n" + canonical).encode()).hexdigest()
    assert event.hash == expected and len(event.hash) == 64 and event.hash == event.hash.lower()
    assert event.previous_hash == "0" * 64


def test_canonical_json_details() -> None:
    # Whole seconds still carry six digits; aware times are converted to UTC.
    assert rules.timestamp_text(datetime(2025, 1, 2, 3, 4, 5)) == "2025-01-02T03:04:05.000000Z"
    aware = datetime(2025, 1, 2, 5, 4, 5, 7, tzinfo=UTC).astimezone(
        datetime.now(UTC).astimezone().tzinfo
    )
    assert rules.timestamp_text(aware) == "2025-01-02T05:04:05.000007Z"
    # resource_ids keep the order logged (not sorted); non-ASCII is UTF-8, not \\u.
    text = rules.canonical_json(
        entry(1, resource_ids=("txn_b", "acc_a"), actor_id="é"), 7, "f" * 64
    )
    data = json.loads(text)
    assert data["resource_ids"] == ["txn_b", "acc_a"] and data["sequence"] == 7
    assert '"é"' in text and " " not in text.replace("203.0.113.7", "")


def test_every_field_is_covered_by_the_hash() -> None:
    event = rules.chained(entry(1), 1, rules.GENESIS_HASH)
    changes = {
        "id": "aud_other",
        "actor_id": "usr_mallory",
        "client_id": "other",
        "method": "/backoffice.v1.AccountService/GetAccount",
        "resource_ids": ("acc_one",),
        "outcome_code": "FORBIDDEN",
        "request_id": "req-x",
        "ip_address": "198.51.100.1",
        "created_at": event.created_at + timedelta(microseconds=1),
    }
    for name, value in changes.items():
        changed = dataclasses.replace(event, **{name: value})  # type: ignore[arg-type]
        verifier = rules.ChainVerifier(1, rules.GENESIS_HASH)
        assert verifier.feed(changed) is False, name
        assert verifier.result(1, 1).failure == rules.HASH_MISMATCH


# -- Verification --------------------------------------------------------------------------------
def _verify(events: list[rules.AuditEvent], start: int = 1, previous: str = rules.GENESIS_HASH):  # type: ignore[no-untyped-def]
    verifier = rules.ChainVerifier(start, previous)
    for event in events:
        if not verifier.feed(event):
            break
    return verifier.result(start, start + len(events) - 1)


def test_an_intact_chain_verifies() -> None:
    events = chain(5)
    result = _verify(events)
    assert result.ok and result.checked_count == 5 and result.last_hash == events[-1].hash
    assert (result.first_broken_id, result.first_broken_sequence, result.failure) == ("", 0, "")


def test_a_changed_event_breaks_at_that_event() -> None:
    events = chain(5)
    events[2] = dataclasses.replace(events[2], outcome_code="OK2")
    result = _verify(events)
    assert not result.ok
    assert (result.first_broken_id, result.first_broken_sequence) == (events[2].id, 3)
    assert result.failure == rules.HASH_MISMATCH and result.checked_count == 3
    assert result.last_hash == events[1].hash


def test_a_rehashed_event_breaks_the_next_link() -> None:
    events = chain(4)
    forged = rules.chained(entry(2, outcome_code="FORBIDDEN"), 2, events[0].hash)
    events[1] = forged
    result = _verify(events)
    assert (result.first_broken_sequence, result.failure) == (3, rules.PREVIOUS_HASH_MISMATCH)
    assert result.first_broken_id == events[2].id


def test_removed_and_reordered_events_are_found() -> None:
    events = chain(5)
    gap = _verify(events[:2] + events[3:])
    assert (gap.first_broken_sequence, gap.failure, gap.first_broken_id) == (
        3,
        rules.SEQUENCE_GAP,
        events[3].id,
    )
    swapped = _verify([events[0], events[2], events[1], events[3]])
    assert (swapped.first_broken_sequence, swapped.failure) == (2, rules.SEQUENCE_GAP)
    # Missing events at the end of the range checked are a gap too.
    verifier = rules.ChainVerifier(1, rules.GENESIS_HASH)
    for event in events[:3]:
        verifier.feed(event)
    tail = verifier.result(1, 5)
    assert (tail.ok, tail.first_broken_sequence, tail.failure) == (False, 4, rules.SEQUENCE_GAP)


def test_a_pruned_log_verifies_from_its_anchor() -> None:
    events = chain(6)
    anchor = events[2]
    assert _verify(events[3:], start=4, previous=anchor.hash).ok
    assert not _verify(events[3:], start=4, previous=rules.GENESIS_HASH).ok


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ((0, 0), (1, 50)),
        ((10, 0), (10, 50)),
        ((0, 20), (1, 20)),
        ((10, 20), (10, 20)),
        ((1, 900), (1, 50)),  # ends at the newest event
        ((60, 0), (60, 50)),  # nothing to check
    ],
)
def test_verify_range_defaults(requested: tuple[int, int], expected: tuple[int, int]) -> None:
    assert rules.verify_range(*requested, first=1, latest=50) == expected


def test_verify_range_limits() -> None:
    # Pruned events are before `first`: a range starting there starts at first.
    assert rules.verify_range(1, 0, first=101, latest=150) == (101, 150)
    # By default the latest million.
    assert rules.verify_range(0, 0, first=1, latest=3_000_000) == (2_000_001, 3_000_000)
    for requested, field in (
        ((-1, 0), "from_sequence"),
        ((0, -1), "to_sequence"),
        ((20, 10), "from_sequence"),
        ((1, 0), "to_sequence"),  # the whole of three million events
    ):
        with pytest.raises(errors.ValidationFailed) as caught:
            rules.verify_range(*requested, first=1, latest=3_000_000)
        assert caught.value.field == field


# -- What an event holds -------------------------------------------------------------------------
def test_resource_ids_keep_ids_and_nothing_else() -> None:
    pairs = [
        ("from_account_id", "acc_abc123"),
        ("to_account_id", "acc_def456"),
        ("tax_id", "123456789"),  # personal data, whatever its field's name
        ("user_id", "me"),  # not an id's shape
        ("account_id", "acc_abc123"),  # listed once
        ("description", "acc_looks_like_an_id"),  # not an id field
        ("client_id", "sandbox-client"),  # API client ids are plain names
        ("client_id", "bad client id"),
        ("payee_ids", "payee_x1"),
        ("account_id", "acc_" + "x" * 80),  # too long to be ours
        ("user.id", "usr_new1"),  # a response's resource
        ("pin", "1234"),
    ]
    assert rules.resource_ids(pairs) == (
        "acc_abc123",
        "acc_def456",
        "sandbox-client",
        "payee_x1",
        "usr_new1",
    )
    many = [(f"a{n}_id", f"acc_{n}") for n in range(30)]
    assert len(rules.resource_ids(many)) == rules.RESOURCE_IDS_MAX


def test_log_fields_hold_ids_only() -> None:
    fields = entry(1).log_fields()
    assert fields["created_at"] == "2025-11-09T10:30:01.120000Z"
    assert set(fields) == {
        "id",
        "actor_id",
        "client_id",
        "method",
        "resource_ids",
        "outcome_code",
        "request_id",
        "ip_address",
        "created_at",
    }


# -- Who reads it --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "principal",
    [
        INTERNAL,
        Principal(client_id="app", role=ADMIN, user_id="usr_ada"),
        Principal(client_id="app", role=AUDITOR, user_id="usr_al"),
        Principal(client_id="ops-tool", role=ADMIN, scopes=frozenset({"backoffice.admin"})),
    ],
)
def test_admins_auditors_and_admin_clients_read_the_log(principal: Principal) -> None:
    rules.check_reader(principal)


@pytest.mark.parametrize(
    "principal",
    [
        Principal(client_id="app", role=CUSTOMER, user_id="usr_alice"),
        Principal(client_id="app", role=TELLER, user_id="usr_tom"),
        Principal(client_id="app", role=OPERATIONS, user_id="usr_olga"),
        # The role alone is not enough: the scope too.
        Principal(
            client_id="app", role=ADMIN, user_id="usr_ada", scopes=frozenset({"banking.read"})
        ),
        Principal(client_id="partner", role=ADMIN, scopes=frozenset({"banking.read"})),
    ],
)
def test_everyone_else_is_forbidden(principal: Principal) -> None:
    with pytest.raises(errors.Forbidden):
        rules.check_reader(principal)


# -- Queries -------------------------------------------------------------------------------------
def _query(**overrides: object) -> rules.AuditQuery:
    values: dict[str, object] = {
        "actor_id": "",
        "client_id": "",
        "methods": None,
        "outcome": "",
        "resource_id": "",
        "since": None,
        "until": None,
        "order": "",
    }
    values.update(overrides)
    return rules.audit_query(**values)  # type: ignore[arg-type]


def test_query_defaults_and_normalisation() -> None:
    query = _query(outcome=" error ", order="ASC", actor_id=" usr_a ")
    assert (query.outcome, query.order, query.actor_id) == ("ERROR", "asc", "usr_a")
    assert _query().order == "desc"
    # A page token is bound to every filter.
    assert _query(outcome="OK").filters() != _query(outcome="TXN001").filters()
    assert _query(methods=("/a/B",)).filters() != _query().filters()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"order": "sideways"}, "order"),
        ({"actor_id": "u" * 201}, "actor_id"),
        ({"client_id": "c" * 201}, "client_id"),
        ({"outcome": "o" * 201}, "outcome"),
        ({"resource_id": "r" * 201}, "resource_id"),
        ({"since": T0, "until": T0}, "since"),
        ({"since": T0, "until": T0 - timedelta(days=1)}, "since"),
    ],
)
def test_query_validation(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        _query(**overrides)
    assert caught.value.field == field


def test_paging_rules() -> None:
    rules.check_page_depth(100, 100, keyset=False)
    rules.check_page_depth(1000, 100, keyset=True)
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.check_page_depth(101, 100, keyset=False)
    assert caught.value.field == "page"
    assert rules.keyset_after(None) is None
    assert rules.keyset_after([42]) == 42
    for bad in ([], ["42"], [True], [1, 2], [1.5]):
        with pytest.raises(errors.ValidationFailed):
            rules.keyset_after(bad)

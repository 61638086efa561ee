"""Notifications derived from the outbox (m0032): committed
`transaction.completed` events read after a watermark of their own
(`notification_cursors`), turned into messages by the rules of
server.domain.notifications.

The webhook fan-out's bookkeeping (`outbox_events.published_at`) is never
read or written here. The cursor row is locked for the transaction that
reads events, writes their messages and moves it (`FOR UPDATE SKIP LOCKED`
on PostgreSQL: a second process finds it taken and derives nothing this
time), so each event is turned into messages once.

Event ids are assigned when a row is inserted, a moment before its
transaction commits: on PostgreSQL an id can become visible after a higher
one. The caller therefore passes `up_to`, the highest id it saw at least a
settling time ago (server.workers.notifications), and events above it wait
for the next pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from server.crypto.fields import FieldSealer
from server.domain import notifications as rules
from server.domain.money import parse_signed_amount
from server.store import notification_recipients as recipients
from server.store import sql
from server.store.db import is_postgres
from server.store.notifications import Draft, enqueue_many

CURSOR = "transactions"
EVENT_TYPE = "transaction.completed"


@dataclass(frozen=True, slots=True)
class _Owner:
    user_id: str
    account_number: str
    email: str
    phone_sealed: str | None


def newest_event_id() -> int:
    return int(sql.scalar('SELECT COALESCE(MAX("id"), 0) FROM "outbox_events"') or 0)


def behind(up_to: int) -> bool:
    """Whether events up to `up_to` wait for derivation (a plain read, no lock)."""
    last = sql.scalar(
        'SELECT "last_event_id" FROM "notification_cursors" WHERE "name" = ?', (CURSOR,)
    )
    return last is not None and int(last) < up_to


def _cursor() -> int | None:
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    found = sql.execute(
        f'SELECT "last_event_id" FROM "notification_cursors" WHERE "name" = ?{lock}', (CURSOR,)
    ).fetchall()
    return int(found[0][0]) if found else None


# Events read per pass at most, and the database's own cut of them: a
# completed movement that leaves money (the types rules.kind_for may notify)
# of at least the smallest threshold, or one that is confirmed at any amount.
# The cut only has to keep every event the rules may notify of (the rules
# decide exactly on what is left); the payloads of the rest, most
# transfers, never reach Python. Payloads are JSON the bank wrote itself
# (server.store.outbox with json.dumps, the stored functions' identical
# text): on PostgreSQL, where parsing each one would cost more than the
# rest of the pass, their text is matched instead (`"type": "PAYMENT"`, and
# an amount with at least as many integer digits as the smallest threshold;
# nothing in it can fail on an odd payload).
SCAN_MAX = 20_000
_CONFIRMED = sorted(rules.CONFIRMED_TYPES)
_LARGE_ONLY = sorted(rules.DEBIT_TYPES - rules.CONFIRMED_TYPES)
_SMALLEST_THRESHOLD = min(rules.LARGE_AMOUNT_MAJOR.values())
_DIGITS = len(str(int(_SMALLEST_THRESHOLD)))
_HEAD = (
    'SELECT "id", "event_id", "payload" FROM "outbox_events"'
    ' WHERE "id" > ? AND "id" <= ? AND "type" = ?'
)


def _candidates() -> tuple[str, tuple[object, ...]]:
    """The statement reading a range's candidate events, and its filter's parameters."""
    if is_postgres():
        confirmed = " OR ".join(['"payload" LIKE ?'] * len(_CONFIRMED))
        large = " OR ".join(['"payload" LIKE ?'] * len(_LARGE_ONLY))
        # The amount's integer digits: the text after `"amount": ` up to the next , or .
        digits = """length(split_part(split_part(split_part("payload", '"amount": ', 2),"""
        digits += """ ',', 1), '.', 1))"""
        text = f"{_HEAD} AND ({confirmed} OR (({large}) AND {digits} >= ?))"
        params: tuple[object, ...] = (
            *(f'%"type": "{type_}"%' for type_ in _CONFIRMED),
            *(f'%"type": "{type_}"%' for type_ in _LARGE_ONLY),
            _DIGITS,
        )
    else:
        type_ = """json_extract("payload", '$.data.type')"""
        amount = """json_extract("payload", '$.data.amount')"""
        confirmed, large = sql.marks(len(_CONFIRMED)), sql.marks(len(_LARGE_ONLY))
        text = (
            f"{_HEAD} AND ({type_} IN ({confirmed})"
            f" OR ({type_} IN ({large}) AND {amount} >= CAST(? AS REAL)))"
        )
        params = (*_CONFIRMED, *_LARGE_ONLY, str(_SMALLEST_THRESHOLD))
    return f'{text} ORDER BY "id" LIMIT ?', params


def derive(sealer: FieldSealer, up_to: int, limit: int) -> tuple[int, bool]:
    """Turns the events after the cursor (at most `limit`, none above
    `up_to`) into messages and moves the cursor; call in a write
    transaction. (messages written, whether more events wait)."""
    last = _cursor()
    if last is None or last >= up_to:
        return 0, False
    end = min(up_to, last + SCAN_MAX)
    text, cut = _candidates()
    rows = sql.execute(text, (last, end, EVENT_TYPE, *cut, limit)).fetchall()
    full = len(rows) == limit
    moved_to = int(rows[-1][0]) if full else end
    more = full or end < up_to
    candidates = [found for row in rows if (found := _candidate(str(row[1]), str(row[2])))]
    drafts = _drafts(sealer, candidates) if candidates else []
    if drafts:
        enqueue_many(sealer, drafts)
    sql.execute(
        'UPDATE "notification_cursors" SET "last_event_id" = ?, "updated_at" = CURRENT_TIMESTAMP'
        ' WHERE "name" = ?',
        (moved_to, CURSOR),
    )
    return len(drafts), more


@dataclass(frozen=True, slots=True)
class _Candidate:
    event_id: str
    account_id: str
    kind: str
    type: str
    transaction_id: str
    number: str
    amount_minor: int
    currency: str
    at: datetime


def _candidate(event_id: str, payload: str) -> _Candidate | None:
    """The message an event may make (before its account's owner is known)."""
    try:
        event = json.loads(payload)
        data = event["data"]
        type_, currency = str(data["type"]), str(data["currency"])
        if type_ not in rules.DEBIT_TYPES:
            return None
        minor = parse_signed_amount(data["amount"], currency)
        kind = rules.kind_for(type_, minor, currency)
        if kind is None:
            return None
        stamp = str(event.get("timestamp", "")).removesuffix("Z")
        return _Candidate(
            event_id=event_id,
            account_id=str(data["accountId"]),
            kind=kind,
            type=type_,
            transaction_id=str(data["transactionId"]),
            number=str(data.get("transactionNumber", "")),
            amount_minor=minor,
            currency=currency,
            at=datetime.fromisoformat(stamp),
        )
    except (ValueError, KeyError, TypeError, ArithmeticError):
        return None  # not a movement event of a shape this reads


def _owners(account_ids: Sequence[str]) -> dict[str, _Owner]:
    """Customer-owned accounts among `account_ids` with their owner's contacts
    (the bank's own accounts have no owner and are left out)."""
    wanted = sorted(set(account_ids))
    marks = sql.marks(len(wanted))
    rows = sql.execute(
        'SELECT a."id", a."account_number", u."id", u."email", u."phone"'
        ' FROM "accounts" a JOIN "users" u ON u."id" = a."owner_id"'
        f' WHERE a."id" IN ({marks}) AND u."deactivated_at" IS NULL',
        wanted,
    ).fetchall()
    return {
        str(account_id): _Owner(str(user_id), str(number), str(email), phone)
        for account_id, number, user_id, email, phone in rows
    }


def _drafts(sealer: FieldSealer, candidates: list[_Candidate]) -> list[Draft]:
    owners = _owners([candidate.account_id for candidate in candidates])
    drafts = []
    for candidate in candidates:
        owner = owners.get(candidate.account_id)
        if owner is None:
            continue
        movement = rules.Movement(
            type=candidate.type,
            transaction_id=candidate.transaction_id,
            transaction_number=candidate.number,
            amount_minor=candidate.amount_minor,
            currency=candidate.currency,
            account_number=owner.account_number,
            completed_at=candidate.at,
        )
        phone = (
            recipients.phone(sealer, owner.user_id, owner.phone_sealed)
            if candidate.kind == rules.LARGE_AMOUNT
            else None
        )
        for channel in rules.channels_for(candidate.kind, phone is not None):
            destination = owner.email if channel == rules.EMAIL else phone
            if not destination:
                continue
            drafts.append(
                Draft(
                    user_id=owner.user_id,
                    channel=channel,
                    destination=destination,
                    kind=candidate.kind,
                    message=rules.movement_message(candidate.kind, channel, movement),
                    transaction_id=candidate.transaction_id,
                    related_id=candidate.account_id,
                    source_event_id=candidate.event_id,
                )
            )
    return drafts

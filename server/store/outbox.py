"""The transactional outbox: events written in the same DB transaction as the change.

Webhook delivery reads this table later; a row exists exactly when the change
it describes was committed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server import metrics
from server.domain.ids import new_id
from server.domain.webhook_events import SUBSCRIBABLE
from server.store import sql, tx
from server.store.models import OutboxEvent

# `webhook.ping` is written by PingWebhookSubscription for one subscription
# only (server.store.webhook_records.ping), never subscribable.
EVENT_TYPES = SUBSCRIBABLE | {"webhook.ping"}
# Every ledger transaction that commits writes this event (the stored
# functions write theirs in SQL and count them in server.store.function_rows).
POSTED_EVENT = "transaction.completed"


def emit(event_type: str, aggregate_id: str, data: dict[str, Any], now: datetime) -> str:
    """Writes one event; call inside the transaction that made the change."""
    return emit_many([(event_type, aggregate_id, data)], now)[0]


def emit_many(events: list[tuple[str, str, dict[str, Any]]], now: datetime) -> list[str]:
    """Writes (type, aggregate id, data) events in one statement; returns their ids."""
    records = []
    for event_type, aggregate_id, data in events:
        assert event_type in EVENT_TYPES, event_type
        event_id = new_id("evt")
        payload = {
            "id": event_id,
            "event": event_type,
            "timestamp": now.isoformat() + "Z",
            "data": data,
        }
        records.append(
            {
                "event_id": event_id,
                "type": event_type,
                "aggregate_id": aggregate_id,
                "payload": json.dumps(payload, sort_keys=True, default=str),
                "created_at": now,
            }
        )
    sql.insert(OutboxEvent, records, deferred=True)
    posted = [str(data.get("type", "")) for kind, _, data in events if kind == POSTED_EVENT]
    if posted:
        tx.after_commit(lambda: metrics.posted(posted))
    return [str(record["event_id"]) for record in records]

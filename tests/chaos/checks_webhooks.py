"""The webhook invariants the fault test checks once every delivery has ended.

Delivery is at least once: a killed worker's leased deliveries are sent
again, so an event may reach the receiver more than once (counted as
duplicates, not violations). What must hold:
- every event the outbox holds that the `*` subscription matches (all but
  `webhook.ping`, which goes to its pinged subscription only) was received
  and answered 2xx at least once, and its delivery row is SUCCEEDED;
- every request for one event carried `webhook-id` = the event's id (also
  the body's `id`) and the same body, which is the body the stored event
  makes (server.domain.webhook_events.body);
- every request's signatures verified as it arrived: `webhook-signature`
  with standardwebhooks' `Webhook.verify`, `X-Webhook-Signature` with the
  HMAC-SHA256 of the body;
- no request for an event the outbox does not hold.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import server  # noqa: F401  (puts gen/ on sys.path)
from server.domain import webhook_events
from tests.chaos.webhooks import Arrival

PING = "webhook.ping"


def check(
    db: Any, arrivals: list[Arrival], webhook_id: str, left: int
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(violations, counts) of the run's deliveries to `webhook_id`."""
    violations: list[tuple[str, str]] = []

    def bad(text: str) -> None:
        violations.append(("webhook", text))

    if left:
        bad(f"{left} events or deliveries still unsent after healing (bounded wait)")
    with db.cursor() as cursor:
        cursor.execute("SELECT event_id, type, payload FROM outbox_events ORDER BY id")
        events = {
            event_id: (kind, payload)
            for event_id, kind, payload in cursor.fetchall()
            if kind != PING and webhook_events.matches(["*"], kind)
        }
        cursor.execute(
            "SELECT event_id, status FROM webhook_deliveries WHERE webhook_id = %s",
            (webhook_id,),
        )
        statuses: dict[str, list[str]] = defaultdict(list)
        for event_id, status in cursor.fetchall():
            statuses[event_id].append(status)
    by_event: dict[str, list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        by_event[arrival.event_id].append(arrival)
    _signatures(arrivals, bad)
    for event_id in sorted(set(by_event) - set(events)):
        bad(f"{event_id!r}: received, but the outbox holds no such event")
    duplicates = 0
    for event_id, (_, payload) in events.items():
        got = by_event.get(event_id, [])
        accepted = [arrival for arrival in got if 200 <= arrival.status < 300]
        if not accepted:
            bad(f"{event_id}: never received with a 2xx ({len(got)} requests answered 500)")
        duplicates += max(0, len(accepted) - 1)
        if statuses.get(event_id) != ["SUCCEEDED"]:
            bad(f"{event_id}: delivery rows {statuses.get(event_id)}, not one SUCCEEDED")
        expected = webhook_events.body(payload)
        bodies = {arrival.body for arrival in got}
        if len(bodies) > 1:
            bad(f"{event_id}: {len(bodies)} different bodies in {len(got)} requests")
        elif bodies and bodies != {expected}:
            bad(f"{event_id}: the body received is not the stored event's")
        if bodies == {expected} and json.loads(expected).get("id") != event_id:
            bad(f"{event_id}: webhook-id differs from the body's id")
    counts = {
        "events": len(events),
        "requests": len(arrivals),
        "answered_500": sum(1 for arrival in arrivals if arrival.status >= 500),
        "duplicates": duplicates,
        "events_duplicated": sum(
            1
            for event_id in events
            if sum(1 for a in by_event.get(event_id, []) if a.status < 300) > 1
        ),
    }
    return violations, counts


def _signatures(arrivals: list[Arrival], bad: Callable[[str], None]) -> None:
    for arrival in arrivals:
        if not arrival.standard_ok:
            bad(f"{arrival.event_id}: webhook-signature does not verify")
        if not arrival.body_ok:
            bad(f"{arrival.event_id}: X-Webhook-Signature does not verify")

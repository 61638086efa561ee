"""The notification worker: a thread of every server process (started by
server.app.serve) that turns committed movements into customer messages
and sends due messages.

Each pass, every POLL_SECONDS (at once while there is more):
1. Derive: `transaction.completed` outbox events after the notifications'
   own cursor become messages (server.store.notification_sources; one
   process at a time: the cursor row is claimed SKIP LOCKED). The hot path
   of a movement writes nothing for notifications.
2. Send: due PENDING messages are claimed (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL) and leased for LEASE, sent outside any transaction, and each
   attempt recorded: SENT, PENDING again after a backoff (1 s, doubling, at
   most 1 hour), or FAILED after 12 attempts, on a permanent refusal, or
   when older than 24 hours. Several processes never send one message at
   once; a process killed mid-send loses only its lease, and the message
   goes again once the lease passes (at least once; its Message-ID is the
   same).

About once an hour, sent and failed messages older than 90 days are deleted.

Channels: EMAIL when BANK_SMTP_HOST is set (otherwise emails are kept
PENDING, unsent, and in sandbox mode readable in the sandbox inbox); SMS in
sandbox mode through SandboxSmsSender. A production SMS provider plugs in
as an SmsSender; without one, text messages are kept PENDING.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from server.config import Settings
from server.crypto.fields import FieldSealer, LiveKeyring
from server.domain import notifications as rules
from server.store import notification_sources as sources
from server.store import notifications as store
from server.store import tx
from server.store.db import is_postgres, per_use_connection
from server.store.notifications import NotificationRecord, Outcome
from server.workers.notification_senders import (
    EmailSender,
    SandboxSmsSender,
    SmsSender,
    SmtpEmailSender,
)

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
# How long an event id must have been seen before the derivation reads up to
# it (PostgreSQL: an earlier id may still be committing; see notification_sources).
SETTLE_SECONDS = 1.0
LEASE = timedelta(seconds=60)
DERIVE_BATCH = 1_000
SEND_BATCH = 20
ERROR_BACKOFF_SECONDS_MAX = 10.0
PRUNE_EVERY_SECONDS = 3600.0
WAKE = threading.Event()  # set to look at once (tests; a feature that just enqueued)


@dataclass
class Worker:
    """One process's worker; `cycle` once, or `run` until stopped."""

    sealer: FieldSealer
    email: EmailSender | None
    sms: SmsSender | None
    keep_codes: bool
    settle_seconds: float = SETTLE_SECONDS

    def __post_init__(self) -> None:
        self._seen: deque[tuple[float, int]] = deque()
        self._next_prune = time.monotonic() + 60.0

    @property
    def channels(self) -> tuple[str, ...]:
        found = []
        if self.email is not None:
            found.append(rules.EMAIL)
        if self.sms is not None:
            found.append(rules.SMS)
        return tuple(found)

    def _settled_id(self) -> int:
        """The highest event id seen at least `settle_seconds` ago (SQLite:
        the highest now; one writer at a time commits ids in order)."""
        newest = sources.newest_event_id()
        if not is_postgres() or self.settle_seconds <= 0:
            return newest
        at = time.monotonic()
        self._seen.append((at, newest))
        settled = 0
        while self._seen and at - self._seen[0][0] >= self.settle_seconds:
            settled = self._seen.popleft()[1]
        if settled:
            self._seen.appendleft((at - self.settle_seconds, settled))
        return settled

    def derive(self) -> bool:
        """One derivation step; whether more events wait."""
        with per_use_connection():
            up_to = self._settled_id()
            if not up_to or not sources.behind(up_to):
                return False
            written, more = tx.write(lambda: sources.derive(self.sealer, up_to, DERIVE_BATCH))
        if written:
            log.info("notifications derived", extra={"count": written})
        return more

    def send_due(self) -> bool:
        """Claims, sends and records one batch; whether the batch was full."""
        channels = self.channels
        if not channels:
            return False
        with per_use_connection():
            if not store.any_due(channels, store.now()):
                return False
            claimed = tx.write(
                lambda: store.claim(self.sealer, channels, store.now(), SEND_BATCH, LEASE)
            )
        if not claimed:
            return False
        fresh: list[NotificationRecord] = []
        stale: list[NotificationRecord] = []
        oldest = store.now() - rules.MAX_AGE
        for item in claimed:
            (stale if item.created_at < oldest else fresh).append(item)
        results: list[tuple[NotificationRecord, Outcome]] = [
            (item, Outcome(error="expired: older than 24 hours", permanent=True)) for item in stale
        ]
        for channel, sender in ((rules.EMAIL, self.email), (rules.SMS, self.sms)):
            batch = [item for item in fresh if item.channel == channel]
            if batch and sender is not None:
                results.extend(zip(batch, sender.send(batch), strict=True))
        with per_use_connection():
            tx.write(lambda: store.record(self.sealer, results, store.now(), self.keep_codes))
        return len(claimed) == SEND_BATCH

    def prune(self) -> int:
        """Deletes sent and failed messages past their retention (rules.RETENTION)."""
        before = store.now() - rules.RETENTION
        removed = 0
        with per_use_connection():
            while (done := tx.write(lambda: store.prune(before))) > 0:
                removed += done
        if removed:
            log.info("notifications pruned", extra={"count": removed})
        return removed

    def cycle(self) -> bool:
        """Derives and sends once (and prunes about once an hour); whether
        more is waiting already."""
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            self.prune()
        more = self.derive()
        return self.send_due() or more

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                busy = self.cycle()
                failures = 0
            except Exception:
                failures += 1
                log.exception("notification worker cycle failed; trying again")
                busy = False
            if busy:
                continue
            wait = min(POLL_SECONDS * 2**failures, ERROR_BACKOFF_SECONDS_MAX)
            WAKE.wait(wait)
            WAKE.clear()


def build(settings: Settings, sealer: FieldSealer | None = None) -> Worker:
    """The worker of `settings`: email when an SMTP host is set, SMS in sandbox mode."""
    return Worker(
        sealer=sealer or LiveKeyring(settings.data_dir / "keys"),
        email=SmtpEmailSender(settings) if settings.smtp_host else None,
        sms=SandboxSmsSender() if settings.sandbox else None,
        keep_codes=settings.sandbox,
    )


def start_worker(stop: threading.Event, settings: Settings) -> threading.Thread:
    """A daemon thread running the worker of `settings` until `stop` is set."""
    worker = build(settings)
    thread = threading.Thread(target=worker.run, args=(stop,), name="notifications", daemon=True)
    thread.start()
    return thread

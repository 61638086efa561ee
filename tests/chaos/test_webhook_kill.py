"""A webhook worker process SIGKILLed while its requests are in flight: every
event still reaches the receiver (at least once), with one `webhook-id` and
one body per event and valid signatures; the requests the killed worker had
sent are sent again once their lease passes (the duplicates at-least-once
allows). The short form of the fault test's kill-webhook-worker."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg2
import pytest

from server.config import REPO_ROOT, Settings
from server.run import settings_env
from server.services import webhook_delivery as deliveries
from server.store import db as store_db
from server.store import migrations, outbox, tx
from tests.chaos import checks_webhooks
from tests.chaos.webhooks import SECRET, ChaosReceiver, receiving_quietly, wait_delivered
from tests.common.databases import postgres_database
from tests.workers.webhook_support import sealer_for, subscribe

EVENTS = 60
HOLD_SECONDS = 1.0  # the first request of each event waits this long for its answer
LEASE_SECONDS = 2


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with postgres_database() as url:
        db = store_db.open_database(url, tmp_path / "unused.sqlite3", pool_size=2)
        store_db.bind(db)
        migrations.migrate(db)
        try:
            yield url, tmp_path
        finally:
            db.close()
            if hasattr(db, "close_all"):
                db.close_all()


def _worker(url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    settings = replace(Settings.from_env({}), database_url=url, data_dir=data_dir)
    env = settings_env(settings)
    env.update(
        BANK_WEBHOOK_POLL_MS="20",
        BANK_WEBHOOK_CONCURRENCY="16",
        BANK_WEBHOOK_LEASE_SECONDS=str(LEASE_SECONDS),
        BANK_WEBHOOK_RETRY_SCALE="0.01",
        BANK_LOG_LEVEL="WARNING",
    )
    log = (data_dir / "webhooks.log").open("ab")
    with log:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "webhooks"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.postgres
def test_a_worker_killed_mid_delivery_loses_no_event(database: tuple[str, Path]) -> None:
    url, data_dir = database
    with receiving_quietly() as plain:
        receiver = ChaosReceiver(plain, failure_rate=0.1, seed=7, hold_first=HOLD_SECONDS)
        webhook_id = subscribe(sealer_for(data_dir), receiver.url, secret=SECRET)
        now = deliveries.now()
        tx.write(
            lambda: outbox.emit_many(
                [("user.created", f"usr_{i}", {"n": i}) for i in range(EVENTS)], now
            )
        )
        worker = _worker(url, data_dir)
        try:
            # Killed once some requests are in flight (held by the receiver).
            plain.wait_for(lambda got: len(got) >= 8, timeout=30)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            in_flight = len(receiver.snapshot())
            time.sleep(HOLD_SECONDS)  # the held requests end on a closed connection
            worker = _worker(url, data_dir)
            left = wait_delivered(
                lambda: psycopg2.connect(url, connect_timeout=5), time.monotonic() + 60
            )
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        arrivals = receiver.snapshot()
    with contextlib.closing(psycopg2.connect(url)) as db:
        violations, counts = checks_webhooks.check(db, arrivals, webhook_id, left)
    log = (data_dir / "webhooks.log").read_text(errors="replace")
    assert not violations, (violations[:10], counts, log[-3000:])
    assert counts["events"] == EVENTS
    # The requests in flight at the kill were received and never recorded:
    # they were sent again after their lease (the at-least-once path ran).
    assert in_flight >= 8
    assert counts["events_duplicated"] >= 1, counts

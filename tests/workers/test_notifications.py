"""Customer notifications below the API, on both databases: enqueueing in
the caller's transaction, derivation from outbox events with a cursor of its
own, claims, leases, retries and what production keeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import peewee
import pytest

from server.crypto.fields import Keyring, is_sealed
from server.domain import notifications as rules
from server.domain.movement_events import transaction_data
from server.store import notification_recipients as recipients
from server.store import notification_sources, outbox, sealed, sql, tx
from server.store import notifications as store
from server.store.db import is_postgres, per_use_connection
from server.store.models import Account, OutboxEvent, User
from server.store.notifications import NotificationRecord, NotificationRow, Outcome
from server.workers import notifications as worker_module
from server.workers.notifications import Worker
from tests.store import rows

SEALER = Keyring({"k1": bytes(range(32))}, "k1")


class FakeSender:
    """Fails the first `failures` batches, then sends; keeps what it sent."""

    def __init__(self, failures: int = 0, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.sent: list[NotificationRecord] = []
        self.calls = 0

    def send(self, messages: Sequence[NotificationRecord]) -> list[Outcome]:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            return [Outcome(error="smtp connect: refused", permanent=self.permanent)] * len(
                messages
            )
        self.sent.extend(messages)
        return [Outcome() for _ in messages]


@pytest.fixture(autouse=True)
def _clean(database: peewee.Database) -> None:
    NotificationRow.delete().execute()
    newest = int(sql.scalar('SELECT COALESCE(MAX("id"), 0) FROM "outbox_events"') or 0)
    sql.execute('UPDATE "notification_cursors" SET "last_event_id" = ?', (newest,))


def _worker(email: Any = None, sms: Any = None, keep_codes: bool = True) -> Worker:
    return Worker(SEALER, email, sms, keep_codes, settle_seconds=0)


def _completed(account_id: str, type_: str, amount_minor: int, currency: str = "USD") -> str:
    transaction_id = f"txn_{type_.lower()}_{amount_minor}_{account_id[-6:]}"
    data = transaction_data(
        transaction_id=transaction_id,
        number="TXN20261205001",
        account_id=account_id,
        amount_minor=amount_minor,
        currency=currency,
        type_=type_,
        status="COMPLETED",
    )
    tx.write(lambda: outbox.emit("transaction.completed", transaction_id, data, store.now()))
    return transaction_id


def _enqueue(user_id: str, channel: str = rules.EMAIL, code: str | None = None) -> str:
    message = rules.challenge_message(channel, code or "123456", 500_000, "USD", 5)
    return tx.write(
        lambda: store.enqueue(
            SEALER,
            user_id=user_id,
            channel=channel,
            destination="alice@example.com" if channel == rules.EMAIL else "+15551234567",
            kind=rules.CHALLENGE_CODE,
            message=message,
            code=code,
            related_id="chl_test",
        )
    )


def _row(notification_id: str) -> NotificationRow:
    return NotificationRow.get_by_id(notification_id)


# -- Enqueueing ------------------------------------------------------------------------
def test_enqueue_in_a_rolled_back_transaction_leaves_nothing() -> None:
    user_id = rows.customer("Rolled Back")

    def work() -> None:
        _enqueue_inside(user_id)
        raise RuntimeError("the change is refused")

    with pytest.raises(RuntimeError):
        tx.write(work)
    assert NotificationRow.select().count() == 0


def _enqueue_inside(user_id: str) -> str:
    return store.enqueue(
        SEALER,
        user_id=user_id,
        channel=rules.EMAIL,
        destination="x@example.com",
        kind=rules.DISPUTE_UPDATE,
        message=rules.dispute_message(rules.EMAIL, "dsp_1", "TXN1", "OPEN"),
    )


def test_enqueue_seals_destination_body_and_code() -> None:
    user_id = rows.customer("Sealed")
    notification_id = _enqueue(user_id, code="493817")
    row = _row(notification_id)
    assert notification_id.startswith("ntf_")
    assert row.status == rules.PENDING and row.attempts == 0
    for stored in (row.destination, row.body, row.code):
        assert is_sealed(stored)
    assert "493817" not in row.body and "alice" not in row.destination
    record = store.get(SEALER, notification_id)
    assert record is not None
    assert record.code == "493817" and "493817" in record.body
    assert record.destination == "alice@example.com"


# -- Derivation ------------------------------------------------------------------------
def test_large_debits_and_confirmations_are_derived_once() -> None:
    user_id = rows.customer("Large Spender")
    account_id = rows.account(user_id)
    number = Account.get_by_id(account_id).account_number
    bank_account = rows.account(None, kind="INTERNAL")
    large = _completed(account_id, "TRANSFER", 100_000)  # exactly 1,000.00
    _completed(account_id, "TRANSFER", 99_999)  # below: nothing
    payment = _completed(account_id, "PAYMENT", 1_050)  # a confirmation
    _completed(account_id, "DEPOSIT", 5_000_000)  # money in: nothing
    _completed(bank_account, "WITHDRAWAL", 9_000_000)  # the bank's own account: nothing
    worker = _worker()
    worker.cycle()
    found = {
        row.transaction_id: row
        for row in NotificationRow.select().where(NotificationRow.user_id == user_id)
    }
    assert set(found) == {large, payment}
    assert found[large].kind == rules.LARGE_AMOUNT and found[large].channel == rules.EMAIL
    assert found[payment].kind == rules.TRANSACTION_CONFIRMATION
    assert NotificationRow.select().count() == 2
    record = store.get(SEALER, found[large].id)
    assert record is not None
    assert record.subject == f"Large transfer of USD 1,000.00 from account ****{number[-4:]}"
    assert number not in record.body and f"****{number[-4:]}" in record.body
    assert record.destination == f"{user_id}@example.test"
    # Again: the cursor moved, nothing is derived twice; the webhook fan-out's
    # bookkeeping is untouched.
    worker.cycle()
    assert NotificationRow.select().count() == 2
    assert OutboxEvent.select().where(OutboxEvent.published_at.is_null(False)).count() == 0


def test_a_phone_on_file_adds_a_text_message_for_large_amounts() -> None:
    user_id = rows.customer("Texted")
    User.update(phone=sealed.seal(SEALER, sealed.USER_PHONE, user_id, "+15551234567")).where(
        User.id == user_id
    ).execute()
    account_id = rows.account(user_id)
    _completed(account_id, "WITHDRAWAL", 250_000)
    _worker().cycle()
    channels = sorted(row.channel for row in NotificationRow.select())
    assert channels == [rules.EMAIL, rules.SMS]
    sms = NotificationRow.get(NotificationRow.channel == rules.SMS)
    record = store.get(SEALER, sms.id)
    assert record is not None and record.destination == "+15551234567"
    assert record.subject == "" and "USD 2,500.00" in record.body


def test_events_above_the_settled_id_wait() -> None:
    user_id = rows.customer("Waiting")
    account_id = rows.account(user_id)
    _completed(account_id, "TRANSFER", 200_000)
    newest = int(sql.scalar('SELECT MAX("id") FROM "outbox_events"'))
    written, more = tx.write(lambda: notification_sources.derive(SEALER, newest - 1, 100))
    assert (written, more) == (0, False)
    assert NotificationRow.select().count() == 0
    _worker().cycle()
    assert NotificationRow.select().count() == 1


# -- Sending ---------------------------------------------------------------------------
def test_a_failed_send_is_retried_after_its_backoff_then_sent_once() -> None:
    user_id = rows.customer("Retried")
    notification_id = _enqueue(user_id)
    sender = FakeSender(failures=1)
    worker = _worker(email=sender)
    worker.cycle()
    row = _row(notification_id)
    assert (row.status, row.attempts) == (rules.PENDING, 1)
    assert row.last_error == "smtp connect: refused"
    assert row.next_attempt_at > store.now()
    worker.cycle()  # not due yet
    assert sender.calls == 1
    NotificationRow.update(next_attempt_at=store.now()).execute()
    worker.cycle()
    row = _row(notification_id)
    assert (row.status, row.attempts, row.last_error) == (rules.SENT, 2, None)
    assert row.sent_at is not None
    worker.cycle()
    assert [item.id for item in sender.sent] == [notification_id]


def test_a_permanent_refusal_fails_at_once() -> None:
    notification_id = _enqueue(rows.customer("Refused"))
    _worker(email=FakeSender(failures=1, permanent=True)).cycle()
    row = _row(notification_id)
    assert (row.status, row.attempts, row.next_attempt_at) == (rules.FAILED, 1, None)


def test_a_message_older_than_a_day_fails_unsent() -> None:
    notification_id = _enqueue(rows.customer("Stale"))
    NotificationRow.update(created_at=store.now() - timedelta(hours=25)).execute()
    sender = FakeSender()
    _worker(email=sender).cycle()
    assert _row(notification_id).status == rules.FAILED
    assert sender.sent == []


def test_a_leased_message_is_not_claimed_again() -> None:
    notification_id = _enqueue(rows.customer("Leased"))
    first = tx.write(
        lambda: store.claim(SEALER, [rules.EMAIL], store.now(), 10, worker_module.LEASE)
    )
    again = tx.write(
        lambda: store.claim(SEALER, [rules.EMAIL], store.now(), 10, worker_module.LEASE)
    )
    assert [item.id for item in first] == [notification_id] and again == []
    # A late sender whose attempt was recorded already records nothing.
    assert tx.write(lambda: store.record(SEALER, [(first[0], Outcome())], store.now(), True)) == [
        True
    ]
    assert tx.write(lambda: store.record(SEALER, [(first[0], Outcome())], store.now(), True)) == [
        False
    ]


def test_channels_without_a_sender_stay_pending() -> None:
    user_id = rows.customer("Unsent")
    email_id = _enqueue(user_id)
    sms_id = _enqueue(user_id, channel=rules.SMS)
    sms = FakeSender()
    _worker(email=None, sms=sms).cycle()
    assert _row(email_id).status == rules.PENDING and _row(email_id).attempts == 0
    assert _row(sms_id).status == rules.SENT


def test_production_keeps_no_code_after_sending() -> None:
    notification_id = _enqueue(rows.customer("Coded"), code="555111")
    _worker(email=FakeSender(), keep_codes=False).cycle()
    record = store.get(SEALER, notification_id)
    assert record is not None and record.status == rules.SENT
    assert record.code is None and "555111" not in record.body


def test_payload_shapes_it_cannot_read_are_skipped() -> None:
    user_id = rows.customer("Odd")
    account_id = rows.account(user_id)
    data: dict[str, Any] = {"accountId": account_id, "type": "TRANSFER", "amount": "lots"}
    tx.write(lambda: outbox.emit("transaction.completed", "txn_odd", data, store.now()))
    _worker().cycle()
    assert NotificationRow.select().count() == 0


@pytest.mark.parametrize(
    ("type_", "minor", "currency", "kind"),
    [
        ("TRANSFER", 100_000, "USD", rules.LARGE_AMOUNT),
        ("TRANSFER", 99_999, "USD", None),
        ("WITHDRAWAL", 123_456_789_012, "EUR", rules.LARGE_AMOUNT),
        ("TRANSFER", 100_000, "JPY", rules.LARGE_AMOUNT),
        ("TRANSFER", 99_999, "JPY", None),
        ("EXTERNAL_TRANSFER", 1, "GBP", rules.TRANSACTION_CONFIRMATION),
        ("PAYMENT", 250_000, "CAD", rules.LARGE_AMOUNT),
        ("REFUND", 900_000, "USD", None),
    ],
)
def test_the_databases_cut_keeps_what_the_rules_notify(
    type_: str, minor: int, currency: str, kind: str | None
) -> None:
    user_id = rows.customer("Cut")
    transaction_id = _completed(rows.account(user_id), type_, minor, currency)
    _worker().cycle()
    found = [row.kind for row in NotificationRow.select()]
    assert found == ([kind] if kind else [])
    assert all(row.transaction_id == transaction_id for row in NotificationRow.select())


# -- Several processes ---------------------------------------------------------------------
def _held_elsewhere(work: Any, while_held: Any) -> Any:
    """Runs `work` in a transaction of another thread (its own connection),
    and `while_held` here while that transaction is still open."""
    holding, release = threading.Event(), threading.Event()
    result: list[Any] = []

    def other() -> None:
        with per_use_connection():

            def inside() -> None:
                result.append(work())
                holding.set()
                release.wait(10)

            tx.write(inside)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert holding.wait(10)
        return result[0], while_held()
    finally:
        release.set()
        thread.join(10)


def test_a_claim_held_by_one_sender_is_skipped_by_another(database: peewee.Database) -> None:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: no second claim runs meanwhile")
    user_id = rows.customer("Concurrent")
    ids = {_enqueue(user_id) for _ in range(3)}

    def claim() -> list[NotificationRecord]:
        return store.claim(SEALER, [rules.EMAIL], store.now(), 2, worker_module.LEASE)

    started = time.monotonic()
    first, second = _held_elsewhere(claim, lambda: tx.write(claim))
    assert time.monotonic() - started < 5  # skipped, not waited for
    assert len(first) == 2 and len(second) == 1
    assert {item.id for item in first + second} == ids


def test_the_cursor_held_by_one_process_is_skipped_by_another(database: peewee.Database) -> None:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: no second derivation runs meanwhile")
    user_id = rows.customer("Deriving")
    _completed(rows.account(user_id), "TRANSFER", 500_000)
    up_to = notification_sources.newest_event_id()

    def derive() -> tuple[int, bool]:
        return notification_sources.derive(SEALER, up_to, 100)

    first, second = _held_elsewhere(derive, lambda: tx.write(derive))
    assert first == (1, False) and second == (0, False)
    assert NotificationRow.select().count() == 1


# -- Other features' messages ------------------------------------------------------------
def test_enqueue_for_user_reaches_each_channel_of_the_kind() -> None:
    user_id = rows.customer("Challenged")
    User.update(phone=sealed.seal(SEALER, sealed.USER_PHONE, user_id, "+15550001111")).where(
        User.id == user_id
    ).execute()

    def code(channel: str) -> rules.Message:
        return rules.challenge_message(channel, "918273", 600_000, "USD", 5)

    ids = tx.write(
        lambda: recipients.enqueue_for_user(
            SEALER, user_id, rules.CHALLENGE_CODE, code, code="918273", related_id="chl_1"
        )
    )
    found = {record.channel: record for record in (store.get(SEALER, i) for i in ids) if record}
    assert set(found) == {rules.EMAIL, rules.SMS}
    assert found[rules.SMS].destination == "+15550001111"
    assert found[rules.EMAIL].destination == f"{user_id}@example.test"
    assert all(r.code == "918273" and r.related_id == "chl_1" for r in found.values())
    update = tx.write(
        lambda: recipients.enqueue_for_user(
            SEALER,
            user_id,
            rules.DISPUTE_UPDATE,
            lambda channel: rules.dispute_message(channel, "dsp_1", "TXN1", "OPEN"),
        )
    )
    assert len(update) == 1
    User.update(deactivated_at=store.now()).where(User.id == user_id).execute()
    assert recipients.enqueue_for_user(SEALER, user_id, rules.CHALLENGE_CODE, code) == []


def test_finished_messages_past_retention_are_pruned() -> None:
    user_id = rows.customer("Old")
    _, old_pending, recent = (_enqueue(user_id) for _ in range(3))
    NotificationRow.update(status=rules.SENT).where(NotificationRow.id != old_pending).execute()
    NotificationRow.update(created_at=store.now() - rules.RETENTION - timedelta(days=1)).where(
        NotificationRow.id != recent
    ).execute()
    assert _worker().prune() == 1
    assert {row.id for row in NotificationRow.select()} == {old_pending, recent}

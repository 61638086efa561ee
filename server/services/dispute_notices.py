"""DISPUTE_UPDATE emails to a dispute's account owner: when it opens, when its provisional credit
posts later, and when it is resolved. Written in the transaction of the
change they tell about (server.store.notification_recipients), so a change
that rolls back tells nothing. With no field sealer (tools and tests that
run the due work without one) nothing is written."""

from __future__ import annotations

from server.crypto.fields import FieldSealer
from server.domain import disputes
from server.domain import notifications as rules
from server.store import notification_recipients as recipients
from server.store.dispute_rows import DisputeRecord


def tell(
    sealer: FieldSealer | None, record: DisputeRecord, step: str, transaction_number: str
) -> None:
    """Enqueues the owner's DISPUTE_UPDATE about `step` (rules.DISPUTE_*)."""
    if sealer is None or record.owner_id is None:
        return
    credited = record.credit_status in (disputes.CREDITED, disputes.FINAL, disputes.REVERSED)
    note = rules.dispute_note(
        step,
        amount_minor=record.amount_minor,
        currency=record.currency,
        credited=credited,
        deadline=record.credit_due,
        customer_won=record.outcome == disputes.CUSTOMER_FAVOR,
    )
    recipients.enqueue_for_user(
        sealer,
        str(record.owner_id),
        rules.DISPUTE_UPDATE,
        lambda channel: rules.dispute_message(
            channel, record.id, transaction_number, record.status, note
        ),
        transaction_id=record.transaction_id,
        related_id=record.id,
    )

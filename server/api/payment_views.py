"""A PAYMENT transaction's own fields on the Transaction message (transaction.proto):
payee {id, name, type}, the masked number at the payee, memo and estimated
delivery. `scheduled_date` (the payment date) comes from the transaction's
details like a scheduled transfer's."""

from __future__ import annotations

from backoffice.v1 import transaction_pb2 as tpb
from server.domain.masking import mask_account_number
from server.services import payments
from server.store.payment_rows import PaymentRecord


def add_payment_fields(message: tpb.Transaction, payment: PaymentRecord) -> tpb.Transaction:
    message.payee.CopyFrom(
        tpb.PayeeRef(id=payment.payee_id, name=payment.payee_name, type=payment.payee_type)
    )
    message.payee_account_number = mask_account_number(payment.payee_account_last4)
    if payment.memo:
        message.memo = payment.memo
    message.estimated_delivery = payment.estimated_delivery.isoformat()
    return message


def add_stored_payment_fields(message: tpb.Transaction, transaction_id: str) -> None:
    """The fields of a PAYMENT read back (GetTransaction)."""
    payment = payments.get_payment(transaction_id)
    if payment is not None:
        add_payment_fields(message, payment)

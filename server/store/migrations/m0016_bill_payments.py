"""Bill payments (seed 002 section 5): what a PAYMENT transaction pays, and when.

One `bill_payments` row per PAYMENT journal transaction (`id` is the
transaction's id; its status, amount and accounts stay on
`ledger_transactions`):
- the payee as it was when the payment was made (id, name, type), so that a
  payee renamed or deleted later does not change what was paid;
- `payee_account_number`: the customer's number at the payee, sealed
  (server.store.sealed.BILL_PAYMENT_ACCOUNT_NUMBER, bound to the row), its
  last four characters readable for masked responses;
- the memo and the dates: payment date, send date, estimated delivery;
- `due_at`: the next moment the due-work worker must act on the payment (09:00
  UTC on the payment date while SCHEDULED, 09:00 UTC on the delivery date
  while PROCESSING), NULL once it is final. The worker claims rows through
  `bill_payments_due_idx`, so it never scans settled payments.
- `bill_payments_payee_idx`: DeletePayee asks whether open payments name a payee.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        (
            "CREATE TABLE bill_payments ("
            " id TEXT PRIMARY KEY REFERENCES ledger_transactions (id),"
            " payee_id TEXT NOT NULL,"
            " payee_name TEXT NOT NULL,"
            " payee_type TEXT NOT NULL,"
            " payee_account_number TEXT NOT NULL,"
            " payee_account_last4 TEXT NOT NULL,"
            " memo TEXT NOT NULL,"
            " payment_date TEXT NOT NULL,"
            " send_date TEXT NOT NULL,"
            " estimated_delivery TEXT NOT NULL,"
            " due_at TIMESTAMP)"
        ),
        "CREATE INDEX bill_payments_due_idx ON bill_payments (due_at)",
        "CREATE INDEX bill_payments_payee_idx ON bill_payments (payee_id)",
    ]

"""The payloads of a movement's outbox events (transaction.* and limit.approaching).

Webhook consumers receive these `data` objects as they are: amounts in
major units, ids and words as the API shows them.
"""

from __future__ import annotations

from server.domain.limit_checks import Approaching
from server.domain.money import to_major


def transaction_data(
    *,
    transaction_id: str,
    number: str,
    account_id: str,
    amount_minor: int,
    currency: str,
    type_: str,
    status: str,
) -> dict[str, object]:
    """`data` of transaction.created / completed / failed / cancelled."""
    return {
        "transactionId": transaction_id,
        "transactionNumber": number,
        "accountId": account_id,
        "amount": to_major(amount_minor, currency),
        "currency": currency,
        "type": type_,
        "status": status,
    }


def approaching_data(account_id: str, crossed: Approaching, currency: str) -> dict[str, object]:
    """`data` of limit.approaching."""
    return {
        "accountId": account_id,
        "limit": crossed.name,
        "limitAmount": to_major(crossed.limit_minor, currency),
        "usedAmount": to_major(crossed.used_minor, currency),
        "percent": crossed.percent,
    }


def recurring_data(
    *,
    recurring_id: str,
    transaction_id: str,
    account_id: str,
    amount_minor: int,
    currency: str,
    run_date: str,
    execution_count: int,
    status: str,
    failure_code: str | None = None,
) -> dict[str, object]:
    """`data` of recurring.executed / recurring.failed: one run that ended.

    `status` is the schedule's after the run (a third failure in a row
    pauses it); `failureCode` is set on recurring.failed only.
    """
    data: dict[str, object] = {
        "recurringTransactionId": recurring_id,
        "transactionId": transaction_id,
        "accountId": account_id,
        "amount": to_major(amount_minor, currency),
        "currency": currency,
        "executionDate": run_date,
        "executionCount": execution_count,
        "status": status,
    }
    if failure_code is not None:
        data["failureCode"] = failure_code
    return data


def refunded_data(
    base: dict[str, object],
    *,
    refunded_minor: int,
    refund_minor: int,
    refund_transaction_id: str,
    refund_request_id: str,
) -> dict[str, object]:
    """`data` of transaction.refunded: the original's `transaction_data`
    (its status after the refund), what this refund gave back, and the total."""
    currency = str(base["currency"])
    return {
        **base,
        "refundAmount": to_major(refund_minor, currency),
        "refundedAmount": to_major(refunded_minor, currency),
        "refundTransactionId": refund_transaction_id,
        "refundRequestId": refund_request_id,
    }

"""Transactions: transfer, deposit, withdraw, get, list, search, cancel.

Every money-moving call sends an `Idempotency-Key`: the one given, else a
new uuid4, the same on each retry of that call, so a retried call moves
money once. The answer says whether it was replayed (`Transaction.replayed`)
and, for a movement held for step-up verification (202), its `challenge`.
"""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from backoffice_sdk.client import ApiResponse
from backoffice_sdk.models import Challenge, Transaction
from backoffice_sdk.pagination import PageIterator
from backoffice_sdk.resources._base import Amount, Resource, body, money, segment


def movement(answer: ApiResponse) -> Transaction:
    """The transaction of a money-moving answer, with what the answer adds."""
    challenge = answer.data.get("challenge")
    return dataclasses.replace(
        Transaction.from_json(answer.data.get("transaction") or {}),
        challenge=Challenge.from_json(challenge) if challenge else None,
        replayed=answer.replayed,
        http_status=answer.status_code,
    )


class Transactions(Resource):
    def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: Amount,
        *,
        currency: str | None = None,
        description: str | None = None,
        reference: str | None = None,
        scheduled_date: str | None = None,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """An internal transfer (`scheduled_date` `YYYY-MM-DD` schedules it)."""
        payload = body(
            from_account_id=from_account_id, to_account_id=to_account_id, amount=money(amount),
            currency=currency, description=description, reference=reference,
            scheduled=True if scheduled_date else None, scheduled_date=scheduled_date,
        )  # fmt: skip
        return self._move("/v1/transactions/transfer", payload, idempotency_key)

    def deposit(
        self,
        account_id: str,
        amount: Amount,
        *,
        method: str = "CASH",
        currency: str | None = None,
        description: str | None = None,
        reference: str | None = None,
        location: str | None = None,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """A deposit; CASH and DIRECT_DEPOSIT are available at once, checks are held."""
        payload = body(
            account_id=account_id, amount=money(amount), method=method, currency=currency,
            description=description, reference=reference, location=location,
        )  # fmt: skip
        return self._move("/v1/transactions/deposit", payload, idempotency_key)

    def withdraw(
        self,
        account_id: str,
        amount: Amount,
        *,
        method: str = "BRANCH",
        card_number: str | None = None,
        pin: str | None = None,
        location: str | None = None,
        location_country: str | None = None,
        currency: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """A withdrawal (ATM needs `card_number`, `pin` and `location`)."""
        payload = body(
            account_id=account_id, amount=money(amount), method=method, card_number=card_number,
            pin=pin, location=location, location_country=location_country, currency=currency,
            description=description,
        )  # fmt: skip
        return self._move("/v1/transactions/withdrawal", payload, idempotency_key)

    def get(self, transaction_id: str) -> Transaction:
        answer = self._client.request("GET", f"/v1/transactions/{segment(transaction_id)}")
        return Transaction.from_json(answer.data["transaction"])

    def list(
        self,
        *,
        account_id: str | None = None,
        type: str | None = None,
        status: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        min_amount: Amount | None = None,
        max_amount: Amount | None = None,
        search: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        limit: int | None = None,
    ) -> PageIterator[Transaction]:
        """An account's history, newest first by default, every page."""
        params = {
            "accountId": account_id, "type": type, "status": status, "startDate": start_date,
            "endDate": end_date, "minAmount": money(min_amount), "maxAmount": money(max_amount),
            "search": search, "sortBy": sort_by, "sortOrder": sort_order, "limit": limit,
        }  # fmt: skip
        fetch = self._list_fetcher("/v1/transactions")
        return PageIterator(fetch, params, "transactions", Transaction)

    def search(
        self,
        account_id: str | None = None,
        *,
        filters: dict[str, Any] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        limit: int | None = None,
    ) -> PageIterator[Transaction]:
        """`POST /v1/transactions/search` (filters as the API names them:
        `types`, `statuses`, `keywords`, `amountRange`, `dateRange`, ...)."""
        fixed = body(account_id=account_id, filters=filters, sort_by=sort_by,
                     sort_order=sort_order, limit=limit)  # fmt: skip

        def fetch(params: dict[str, Any]) -> ApiResponse:
            return self._client.request("POST", "/v1/transactions/search", json=fixed | params)

        return PageIterator(fetch, {}, "transactions", Transaction)

    def cancel(
        self, transaction_id: str, *, reason: str | None = None, notes: str | None = None
    ) -> Transaction:
        answer = self._client.request(
            "POST",
            f"/v1/transactions/{segment(transaction_id)}/cancel",
            json=body(reason=reason, notes=notes),
            idempotent=True,
        )
        return movement(answer)

    def batch_transfers(
        self, transfers: Sequence[dict[str, Any]], *, idempotency_key: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Up to 1,000 transfers in one call; one result per item, in order
        (`{"transaction": ...}` or `{"error": {"code", "message", "field"}}`).
        Items are CreateTransfer bodies (camelCase, amounts as Decimal); an item
        without `idempotencyKey` gets one (uuid4), as does the batch, so a
        retried batch moves each item's money once."""
        items = [
            item if "idempotencyKey" in item or "idempotency_key" in item
            else {**item, "idempotencyKey": str(uuid.uuid4())}
            for item in transfers
        ]  # fmt: skip
        answer = self._client.request(
            "POST", "/v1/transactions/transfers:batchCreate", json={"requests": items},
            idempotent=True, idempotency_key=idempotency_key,
        )  # fmt: skip
        results: builtins.list[dict[str, Any]] = answer.data.get("results") or []
        return results

    def _move(self, path: str, payload: dict[str, Any], key: str | None) -> Transaction:
        answer = self._client.request(
            "POST", path, json=payload, idempotent=True, idempotency_key=key
        )
        return movement(answer)

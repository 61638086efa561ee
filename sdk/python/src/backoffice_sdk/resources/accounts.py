"""Accounts: list, get, create, update, freeze, unfreeze, close, balance."""

from __future__ import annotations

from typing import Any

from backoffice_sdk.models import Account, Balance
from backoffice_sdk.pagination import PageIterator
from backoffice_sdk.resources._base import Amount, Resource, body, money, segment


class Accounts(Resource):
    def list(
        self,
        *,
        owner_id: str | None = None,
        type: str | None = None,
        status: str | None = None,
        currency: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        limit: int | None = None,
    ) -> PageIterator[Account]:
        params = {"ownerId": owner_id, "type": type, "status": status, "currency": currency,
                  "sort": sort, "order": order, "limit": limit}  # fmt: skip
        return PageIterator(self._list_fetcher("/v1/accounts"), params, "accounts", Account)

    def get(self, account_id: str) -> Account:
        answer = self._client.request("GET", f"/v1/accounts/{segment(account_id)}")
        return Account.from_json(answer.data["account"])

    def create(
        self,
        *,
        type: str,
        owner_id: str | None = None,
        currency: str | None = None,
        nickname: str | None = None,
        overdraft_limit: Amount | None = None,
        idempotency_key: str | None = None,
    ) -> Account:
        """Opens an account (an `Idempotency-Key` is made unless given)."""
        payload = body(type=type, owner_id=owner_id, currency=currency, nickname=nickname,
                       overdraft_limit=money(overdraft_limit))  # fmt: skip
        answer = self._client.request(
            "POST", "/v1/accounts", json=payload, idempotent=True, idempotency_key=idempotency_key
        )
        return Account.from_json(answer.data["account"])

    def update(
        self, account_id: str, *, nickname: str | None = None, overdraft_limit: Amount | None = None
    ) -> Account:
        payload = body(nickname=nickname, overdraft_limit=money(overdraft_limit))
        answer = self._client.request("PATCH", f"/v1/accounts/{segment(account_id)}", json=payload)
        return Account.from_json(answer.data["account"])

    def freeze(self, account_id: str, *, reason: str | None = None) -> Account:
        return self._action(account_id, "freeze", reason)

    def unfreeze(self, account_id: str, *, reason: str | None = None) -> Account:
        return self._action(account_id, "unfreeze", reason)

    def close(self, account_id: str, *, reason: str | None = None) -> Account:
        return self._action(account_id, "close", reason)

    def balance(self, account_id: str, *, as_of: str | None = None) -> Balance:
        """The balance now, or as of an instant (RFC 3339, `2025-11-30T23:59:59Z`)."""
        answer = self._client.request(
            "GET", f"/v1/accounts/{segment(account_id)}/balance", params={"asOf": as_of}
        )
        return Balance.from_json(answer.data["balance"])

    def _action(self, account_id: str, action: str, reason: str | None) -> Account:
        payload: dict[str, Any] = body(reason=reason)
        answer = self._client.request(
            "POST", f"/v1/accounts/{segment(account_id)}/{action}", json=payload
        )
        return Account.from_json(answer.data["account"])

"""Users: list, get, create, update, deactivate."""

from __future__ import annotations

from typing import Any

from backoffice_sdk.models import User
from backoffice_sdk.pagination import PageIterator
from backoffice_sdk.resources._base import Resource, body, segment


class Users(Resource):
    def list(
        self,
        *,
        search: str | None = None,
        role: str | None = None,
        status: str | None = None,
        fields: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        limit: int | None = None,
    ) -> PageIterator[User]:
        params = {"search": search, "role": role, "status": status, "fields": fields,
                  "sort": sort, "order": order, "limit": limit}  # fmt: skip
        return PageIterator(self._list_fetcher("/v1/users"), params, "users", User)

    def get(self, user_id: str) -> User:
        answer = self._client.request("GET", f"/v1/users/{segment(user_id)}")
        return User.from_json(answer.data["user"])

    def create(
        self,
        *,
        email: str,
        name: str,
        password: str,
        phone: str | None = None,
        date_of_birth: str | None = None,
        role: str | None = None,
        address: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> User:
        payload = body(email=email, name=name, password=password, phone=phone,
                       date_of_birth=date_of_birth, role=role, address=address)  # fmt: skip
        answer = self._client.request(
            "POST", "/v1/users", json=payload, idempotent=True, idempotency_key=idempotency_key
        )
        return User.from_json(answer.data["user"])

    def update(self, user_id: str, **changes: Any) -> User:
        """Changes the given fields (`name=`, `phone=`, `status=`, ...)."""
        answer = self._client.request(
            "PATCH", f"/v1/users/{segment(user_id)}", json=body(**changes)
        )
        return User.from_json(answer.data["user"])

    def delete(self, user_id: str, *, reason: str | None = None) -> None:
        """Deactivates the user (their data is kept)."""
        self._client.request("DELETE", f"/v1/users/{segment(user_id)}", params={"reason": reason})

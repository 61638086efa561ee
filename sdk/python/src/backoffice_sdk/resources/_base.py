"""What every resource shares: the client, path quoting, bodies without Nones."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backoffice_sdk._json import to_decimal

if TYPE_CHECKING:
    from backoffice_sdk.client import ApiResponse, Client

Amount = Decimal | int | str


class Resource:
    def __init__(self, client: Client) -> None:
        self._client = client

    def _list_fetcher(self, path: str) -> Any:
        def fetch(params: dict[str, Any]) -> ApiResponse:
            return self._client.request("GET", path, params=params)

        return fetch


def segment(value: str) -> str:
    """One path segment, percent-encoded (an id never changes the path)."""
    return quote(value, safe="")


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the given fields, snake_case names in camelCase, Nones left out."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        head, *rest = name.split("_")
        out[head + "".join(part.title() for part in rest)] = value
    return out


def money(amount: Amount | None) -> Decimal | None:
    return None if amount is None else to_decimal(amount)

"""Page parameters in, `Pagination` out, for every list.

Two ways to page, as the contract asks: `page`/`limit` (offset paging, with
totals) and `page_token` (keyset paging, constant cost however deep). A page
token is opaque: base64url JSON holding the last row's sort key, a hash of
the filters (so a token only works with the filters that made it), the
number of the page it leads to (so that `currentPage` stays right while a
client follows tokens) and, for
transaction history, the totals of the whole query as its first page counted
them (carried, so that a deep page does not count 100,000 rows again), then
an HMAC of all that under a server key (`configure`), so that neither the
position nor the carried totals can be made up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from backoffice.v1 import common_pb2
from server.api import call
from server.domain import errors

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
PAGE_MAX = 100_000
TOKEN_LENGTH_MAX = 512
INT32_MAX = 2**31 - 1


_KEY: list[bytes] = []
SIGNATURE_BYTES = 16


def configure(key: bytes) -> None:
    """Sets the key page tokens are signed with (server start-up)."""
    _KEY[:] = [key]


def _sign(payload: bytes) -> str:
    assert _KEY, "paging.configure() was not called"
    digest = hmac.new(_KEY[0], payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int
    after: list[Any] | None  # keyset: sort key of the last row already seen
    carried: list[int] | None = None  # what the token's first page counted (history totals)

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.page - 1) * self.limit

    @property
    def next_page(self) -> int:
        return self.page + 1


def _filters_hash(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_token(
    sort_key: list[Any],
    filters: dict[str, Any],
    carried: list[int] | None = None,
    *,
    page: int | None = None,
) -> str:
    """The token of the page after `sort_key`; `page` is that page's number."""
    body: dict[str, Any] = {"k": sort_key, "f": _filters_hash(filters)}
    if carried is not None:
        body["t"] = carried
    if page is not None:
        body["p"] = page
    payload = json.dumps(body, default=str, separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{encoded}.{_sign(payload)}"


def _carried(value: Any) -> list[int] | None:
    if value is None:
        return None
    if not (
        isinstance(value, list)
        and len(value) == 3
        and all(type(item) is int and item >= 0 for item in value)
    ):
        raise ValueError("carried totals")
    return value


def page_request(page: int, limit: int, token: str, filters: dict[str, Any]) -> PageRequest:
    """Validates paging input. Limits above the maximum are lowered to it."""
    if page < 0 or page > PAGE_MAX:
        raise errors.ValidationFailed(f"page must be between 1 and {PAGE_MAX}", field="page")
    if limit < 0:
        raise errors.ValidationFailed("limit must be positive", field="limit")
    size = min(limit or PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
    if not token:
        return PageRequest(page or 1, size, None)
    if len(token) > TOKEN_LENGTH_MAX:
        raise errors.ValidationFailed("page_token is not valid", field="page_token")
    try:
        encoded, _, signature = token.partition(".")
        payload = base64.urlsafe_b64decode((encoded + "=" * (-len(encoded) % 4)).encode())
        if not hmac.compare_digest(signature, _sign(payload)):
            raise ValueError("signature")
        decoded = json.loads(payload)
        sort_key, filter_hash = decoded["k"], decoded["f"]
        carried = _carried(decoded.get("t"))
        number = _page_number(decoded.get("p"), page)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None
    if not isinstance(sort_key, list) or filter_hash != _filters_hash(filters):
        raise errors.ValidationFailed(
            "page_token belongs to a query with other filters", field="page_token"
        )
    return PageRequest(number, size, sort_key, carried)


def _page_number(value: Any, asked: int) -> int:
    """The page a token leads to (tokens made before it was kept: the page asked, or 1)."""
    if value is None:
        return asked or 1
    # Keyset pages go deeper than PAGE_MAX; the number only has to fit Pagination's int32.
    if type(value) is not int or not 1 < value <= INT32_MAX:
        raise ValueError("page")
    return value


def pagination(
    request: PageRequest, total: int, next_token: str, has_next: bool
) -> common_pb2.Pagination:
    """The Pagination message, also handed to the REST edge for the envelope."""
    total_pages = -(-total // request.limit) if total else 0
    result = common_pb2.Pagination(
        current_page=request.page,
        per_page=request.limit,
        items_per_page=request.limit,
        total_pages=total_pages,
        total_count=total,
        total_items=total,
        has_next=has_next,
        has_previous=request.page > 1,
        next_page_token=next_token or None,
    )
    call.current().pagination = json_format.MessageToDict(
        result, always_print_fields_with_no_presence=True
    )
    return result


def sort_order(primary: str, alias: str, default: str = "desc") -> str:
    """`asc` or `desc` from a field and its alias (conflicting values refused)."""
    value = _alias(primary, alias, "sort_order").lower() or default
    if value not in ("asc", "desc"):
        raise errors.ValidationFailed("sort order must be asc or desc", field="sort_order")
    return value


def sort_field(primary: str, alias: str, allowed: dict[str, str], default: str) -> str:
    """The canonical sort field named by a field or its alias."""
    value = _alias(primary, alias, "sort_by").lower() or default
    if value not in allowed:
        raise errors.ValidationFailed(
            f"sort must be one of {', '.join(sorted(allowed))}", field="sort_by"
        )
    return allowed[value]


def _alias(primary: str, alias: str, field: str) -> str:
    if primary and alias and primary.lower() != alias.lower():
        raise errors.ValidationFailed(f"{field} was given twice with different values", field=field)
    return primary or alias


@dataclass(frozen=True)
class CaseList:
    """One page of a case list (refund requests, disputes), ready to encode."""

    page: Any  # the use case's page: its rows, `total`, `next_key`
    pagination: common_pb2.Pagination
    next_page_token: str | None


def case_list(request: Any, status_word: Any, list_query: Any, list_cases: Any) -> CaseList:
    """A List request of refund requests or disputes (their status, account,
    transaction and order filters, page or token) through its use case's
    `list_query(principal, ...)` and `list_cases(query, limit, offset, after)`;
    `status_word` reads the request's status enum (after the order is checked)."""
    order = sort_order(request.sort_order, "")
    query = list_query(
        call.current().principal,
        status=status_word(request.status),
        account_id=request.account_id,
        transaction_id=request.transaction_id,
        ascending=order == "asc",
    )
    filters = {
        "status": query.status,
        "account_id": query.account_id,
        "transaction_id": query.transaction_id,
        "order": order,
    }
    page = page_request(request.page, request.limit, request.page_token, filters)
    result = list_cases(query, limit=page.limit, offset=page.offset, after=page.after)
    token = encode_token(result.next_key, filters, page=page.next_page) if result.next_key else ""
    return CaseList(result, pagination(page, result.total, token, bool(token)), token or None)

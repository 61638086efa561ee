"""A client that follows nextPageToken is told the right page number.

Keyset pages carry the number of the page they lead to, so `currentPage`
(and `hasPrevious`) of page 2, 3, ... reached by token are those of the same
page reached with `page=`, in every list that pages by token.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.api import paging
from tests.common import envelope
from tests.common.money import deposit, open_account
from tests.conftest import Rest


def _walk(rest: Rest, path: str, params: dict[str, Any], pages: int) -> list[dict[str, Any]]:
    """The pagination of the first `pages` pages, each reached by the previous one's token."""
    seen = []
    params = dict(params)
    for _ in range(pages):
        data = envelope.success(rest.get(path, params=params))
        seen.append(data["pagination"])
        params["page_token"] = data["pagination"].get("nextPageToken", "")
    return seen


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/accounts", {"limit": 1}),
        ("/v1/users", {"limit": 1}),
        ("/v1/clients", {"limit": 1}),
        ("/v1/audit-events", {"limit": 1}),
    ],
)
def test_token_pages_report_their_number(rest: Rest, path: str, params: dict[str, Any]) -> None:
    # Enough rows: the sandbox has 3 users, 2 clients, accounts; every call is audited.
    walked = _walk(rest, path, params, 2)
    assert [p["currentPage"] for p in walked] == [1, 2]
    assert [p["hasPrevious"] for p in walked] == [False, True]


def test_history_token_pages_report_their_number(rest: Rest, grpc_channel: grpc.Channel) -> None:
    account_id = open_account(rest)
    for amount in (1, 2, 3, 4, 5):
        deposit(rest, account_id, amount)
    walked = _walk(rest, "/v1/transactions", {"accountId": account_id, "limit": 2}, 3)
    assert [p["currentPage"] for p in walked] == [1, 2, 3]
    assert [p["hasNext"] for p in walked] == [True, True, False]
    assert all(p["totalPages"] == 3 for p in walked)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    first = stub.ListTransactions(pb.ListTransactionsRequest(account_id=account_id, limit=2))
    second = stub.ListTransactions(
        pb.ListTransactionsRequest(account_id=account_id, limit=2, page_token=first.next_page_token)
    )
    assert second.pagination.current_page == 2 and second.pagination.has_previous
    body: dict[str, Any] = {"accountId": account_id, "limit": 2}
    first_search = envelope.success(rest.post("/v1/transactions/search", json=body))
    body["pageToken"] = first_search["nextPageToken"]
    searched = envelope.success(rest.post("/v1/transactions/search", json=body))
    assert searched["pagination"]["currentPage"] == 2


def test_keyset_page_numbers_go_past_the_offset_limit() -> None:
    """Offset pages stop at PAGE_MAX; a token's walk does not."""
    saved = list(paging._KEY)
    paging.configure(b"k" * 32)
    try:
        deep = paging.PAGE_MAX + 5
        token = paging.encode_token(["2025-01-01", 7], {"a": 1}, page=deep)
        request = paging.page_request(0, 10, token, {"a": 1})
        assert request.page == deep and request.offset == 0 and request.next_page == deep + 1
        old = paging.encode_token(["2025-01-01", 7], {"a": 1})  # made before pages were kept
        assert paging.page_request(3, 10, old, {"a": 1}).page == 3
    finally:
        paging._KEY[:] = saved

"""Page iterators over the contract's lists.

Every list answers `pagination {currentPage, perPage, totalPages,
totalCount, hasNext, hasPrevious, nextPageToken}`. When the server hands a
`nextPageToken` (keyset paging, stable while rows are added), the next page
is asked with `pageToken`; otherwise with `page` + 1 while `hasNext`.
Iterating a `PageIterator` yields the items of every page, fetched lazily;
`pages()` yields the pages themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from backoffice_sdk.client import ApiResponse
from backoffice_sdk.models import Model, Pagination

T = TypeVar("T", bound=Model)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    pagination: Pagination
    response: ApiResponse

    @property
    def next_page_token(self) -> str | None:
        return self.response.data.get("nextPageToken") or self.pagination.next_page_token


class PageIterator(Generic[T]):
    """The items of a list, page after page (`limit` is the page size)."""

    def __init__(
        self,
        fetch: Callable[[dict[str, Any]], ApiResponse],
        params: Mapping[str, Any],
        items_key: str,
        model: type[T],
        *,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._params = {k: v for k, v in params.items() if v is not None}
        self._items_key = items_key
        self._model = model
        self._max_pages = max_pages

    def pages(self) -> Iterator[Page[T]]:
        params = dict(self._params)
        seen = 0
        while True:
            page = self._page(self._fetch(params))
            yield page
            seen += 1
            if not page.items or not page.pagination.has_next:
                return
            if self._max_pages is not None and seen >= self._max_pages:
                return
            token = page.next_page_token
            if token:
                params = {k: v for k, v in params.items() if k != "page"} | {"pageToken": token}
            else:
                params = params | {"page": page.pagination.current_page + 1}

    def first_page(self) -> Page[T]:
        return next(self.pages())

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def to_list(self) -> list[T]:
        return list(self)

    def _page(self, response: ApiResponse) -> Page[T]:
        rows = response.data.get(self._items_key) or []
        pagination = response.data.get("pagination")
        if not isinstance(pagination, Mapping):
            body = response.body if isinstance(response.body, Mapping) else {}
            pagination = body.get("pagination") or {}
        return Page(
            items=[self._model.from_json(row) for row in rows],
            pagination=Pagination.from_json(pagination),
            response=response,
        )

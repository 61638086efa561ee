"""Customer notifications as the API reads them: the sandbox inbox.

Messages are written by the features they tell about (server.store
.notifications.enqueue, in their own transactions) and by the notification
worker from committed movements (server.workers.notifications); this
module only reads them. A customer reads their own messages only: a filter
naming anyone else reads nothing, as if that user had none. Staff, and
clients acting without a user, read everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.crypto.fields import FieldSealer
from server.domain.principal import Principal
from server.store import notifications as store


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """Filters and paging as the api layer validated them."""

    user_id: str | None
    channel: str | None
    kind: str | None
    limit: int
    offset: int
    after: list[object] | None


def list_inbox(principal: Principal, query: InboxQuery, sealer: FieldSealer) -> store.Page:
    """One page of messages, newest first (sandbox mode only: the api checks it)."""
    user_id = query.user_id
    if principal.user_id is not None and not principal.is_staff:
        if user_id is not None and user_id != principal.user_id:
            return store.Page([], 0, None)
        user_id = principal.user_id
    return store.list_page(
        sealer,
        user_id=user_id,
        channel=query.channel,
        kind=query.kind,
        limit=query.limit,
        offset=query.offset,
        after=query.after,
    )

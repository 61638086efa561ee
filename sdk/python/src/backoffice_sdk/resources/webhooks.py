"""Webhook subscriptions, their events and delivery log (scope backoffice.admin)."""

from __future__ import annotations

from collections.abc import Sequence

from backoffice_sdk.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from backoffice_sdk.pagination import PageIterator
from backoffice_sdk.resources._base import Resource, body, segment


class Webhooks(Resource):
    def create(
        self,
        url: str,
        events: Sequence[str],
        *,
        secret: str | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> WebhookSubscription:
        """Subscribes `url`; the answer carries the secret (a new `whsec_...`
        when none is given), shown only here and on rotation."""
        payload = body(url=url, events=list(events), secret=secret, active=active,
                       description=description)  # fmt: skip
        answer = self._client.request("POST", "/v1/webhooks", json=payload)
        return WebhookSubscription.from_json(answer.data["webhook"])

    def list(
        self, *, active: bool | None = None, limit: int | None = None
    ) -> PageIterator[WebhookSubscription]:
        params = {"active": active, "limit": limit}
        fetch = self._list_fetcher("/v1/webhooks")
        return PageIterator(fetch, params, "webhooks", WebhookSubscription)

    def get(self, webhook_id: str) -> WebhookSubscription:
        answer = self._client.request("GET", f"/v1/webhooks/{segment(webhook_id)}")
        return WebhookSubscription.from_json(answer.data["webhook"])

    def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> WebhookSubscription:
        payload = body(url=url, events=list(events) if events is not None else None,
                       active=active, description=description)  # fmt: skip
        answer = self._client.request("PATCH", f"/v1/webhooks/{segment(webhook_id)}", json=payload)
        return WebhookSubscription.from_json(answer.data["webhook"])

    def delete(self, webhook_id: str) -> None:
        self._client.request("DELETE", f"/v1/webhooks/{segment(webhook_id)}")

    def rotate_secret(self, webhook_id: str) -> WebhookSubscription:
        """A new secret; the old one keeps signing for 24 hours beside it."""
        answer = self._client.request(
            "POST", f"/v1/webhooks/{segment(webhook_id)}/rotate-secret", json={}
        )
        return WebhookSubscription.from_json(answer.data["webhook"])

    def ping(self, webhook_id: str) -> WebhookDelivery:
        answer = self._client.request("POST", f"/v1/webhooks/{segment(webhook_id)}/ping", json={})
        return WebhookDelivery.from_json(answer.data["delivery"])

    def events(
        self,
        *,
        type: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
    ) -> PageIterator[WebhookEvent]:
        """The outbox's events of the last 30 days, newest first (`type` exact or `family.*`)."""
        params = {"type": type, "since": since, "until": until, "limit": limit}
        return PageIterator(self._list_fetcher("/v1/events"), params, "events", WebhookEvent)

    def deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int | None = None
    ) -> PageIterator[WebhookDelivery]:
        fetch = self._list_fetcher(f"/v1/webhooks/{segment(webhook_id)}/deliveries")
        params = {"status": status, "limit": limit}
        return PageIterator(fetch, params, "deliveries", WebhookDelivery)

"""WebhookService: subscriptions, events and the delivery log."""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import webhook_pb2 as resource_pb
from backoffice.v1 import webhook_service_pb2 as pb
from backoffice.v1 import webhook_service_pb2_grpc as pb_grpc
from server.api import call, convert, paging
from server.api import webhook_views as views
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.domain.requests import refuse_enum_number
from server.services import webhooks as use_cases

_STATUS = resource_pb.WebhookDeliveryStatusEnum.WebhookDeliveryStatus


class WebhookServicer(pb_grpc.WebhookServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._keyring = LiveKeyring(settings.data_dir / "keys")
        self._sandbox = settings.sandbox
        self._own_ports = settings.own_ports

    # -- Subscriptions ------------------------------------------------------------------
    def CreateWebhookSubscription(
        self, request: pb.CreateWebhookSubscriptionRequest, context: grpc.ServicerContext
    ) -> pb.CreateWebhookSubscriptionResponse:
        form = use_cases.SubscriptionForm(
            url=request.url,
            events=list(request.events),
            secret=request.secret,
            active=request.active if request.HasField("active") else True,
            description=request.description,
        )
        record = use_cases.create(
            call.current().principal, form, self._keyring, self._sandbox, self._own_ports
        )
        call.current().created("Webhook subscription created successfully")
        return pb.CreateWebhookSubscriptionResponse(webhook=views.subscription(record))

    def ListWebhookSubscriptions(
        self, request: pb.ListWebhookSubscriptionsRequest, context: grpc.ServicerContext
    ) -> pb.ListWebhookSubscriptionsResponse:
        active = request.active if request.HasField("active") else None
        page, page_input = _page(request, {"active": active})
        result = use_cases.list_subscriptions(call.current().principal, active, page_input)
        call.current().ok("Webhook subscriptions retrieved successfully")
        return pb.ListWebhookSubscriptionsResponse(
            webhooks=[views.subscription(record) for record in result.subscriptions],
            pagination=_pagination(page, result.total, result.next_key, {"active": active}),
        )

    def GetWebhookSubscription(
        self, request: pb.GetWebhookSubscriptionRequest, context: grpc.ServicerContext
    ) -> pb.GetWebhookSubscriptionResponse:
        record = use_cases.get(call.current().principal, request.webhook_id)
        call.current().ok("Webhook subscription retrieved successfully")
        return pb.GetWebhookSubscriptionResponse(webhook=views.subscription(record))

    def UpdateWebhookSubscription(
        self, request: pb.UpdateWebhookSubscriptionRequest, context: grpc.ServicerContext
    ) -> pb.UpdateWebhookSubscriptionResponse:
        form = use_cases.ChangeForm(
            url=request.url if request.HasField("url") else None,
            events=list(request.events),
            active=request.active if request.HasField("active") else None,
            description=request.description if request.HasField("description") else None,
        )
        record = use_cases.update(
            call.current().principal, request.webhook_id, form, self._sandbox, self._own_ports
        )
        call.current().ok("Webhook subscription updated successfully")
        return pb.UpdateWebhookSubscriptionResponse(webhook=views.subscription(record))

    def DeleteWebhookSubscription(
        self, request: pb.DeleteWebhookSubscriptionRequest, context: grpc.ServicerContext
    ) -> pb.DeleteWebhookSubscriptionResponse:
        use_cases.delete(call.current().principal, request.webhook_id)
        call.current().ok("Webhook subscription deleted successfully")
        return pb.DeleteWebhookSubscriptionResponse()

    def RotateWebhookSecret(
        self, request: pb.RotateWebhookSecretRequest, context: grpc.ServicerContext
    ) -> pb.RotateWebhookSecretResponse:
        record = use_cases.rotate_secret(
            call.current().principal,
            request.webhook_id,
            request.secret,
            request.expire_previous_now,
            self._keyring,
        )
        call.current().ok("Webhook secret rotated successfully")
        return pb.RotateWebhookSecretResponse(
            webhook=views.subscription(record),
            previous_secret_expires_at=convert.timestamp(record.previous_secret_expires_at),
        )

    # -- Events -------------------------------------------------------------------------
    def ListWebhookEvents(
        self, request: pb.ListWebhookEventsRequest, context: grpc.ServicerContext
    ) -> pb.ListWebhookEventsResponse:
        since = convert.instant(request, "since", "since")
        until = convert.instant(request, "until", "until")
        filters = {"type": request.type, "since": since, "until": until}
        page, page_input = _page(request, filters)
        result = use_cases.list_events(request.type, since, until, page_input)
        call.current().ok("Events retrieved successfully")
        return pb.ListWebhookEventsResponse(
            events=[views.event(record) for record in result.items],
            pagination=_pagination(page, result.total, result.next_key, filters),
        )

    def GetWebhookEvent(
        self, request: pb.GetWebhookEventRequest, context: grpc.ServicerContext
    ) -> pb.GetWebhookEventResponse:
        record = use_cases.get_event(request.event_id)
        call.current().ok("Event retrieved successfully")
        return pb.GetWebhookEventResponse(event=views.event(record))

    # -- Deliveries ---------------------------------------------------------------------
    def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: grpc.ServicerContext
    ) -> pb.ListWebhookDeliveriesResponse:
        status = _status(request.status)
        filters = {"webhook": request.webhook_id, "status": status, "event": request.event_id}
        page, page_input = _page(request, filters)
        result = use_cases.list_deliveries(
            call.current().principal, request.webhook_id, status, request.event_id, page_input
        )
        call.current().ok("Webhook deliveries retrieved successfully")
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[views.delivery(record) for record in result.items],
            pagination=_pagination(page, result.total, result.next_key, filters),
        )

    def GetWebhookDelivery(
        self, request: pb.GetWebhookDeliveryRequest, context: grpc.ServicerContext
    ) -> pb.GetWebhookDeliveryResponse:
        delivery, attempts = use_cases.get_delivery(
            call.current().principal, request.webhook_id, request.delivery_id
        )
        call.current().ok("Webhook delivery retrieved successfully")
        return pb.GetWebhookDeliveryResponse(
            delivery=views.delivery(delivery), attempts=[views.attempt(a) for a in attempts]
        )

    def RedeliverWebhookEvent(
        self, request: pb.RedeliverWebhookEventRequest, context: grpc.ServicerContext
    ) -> pb.RedeliverWebhookEventResponse:
        record = use_cases.redeliver(
            call.current().principal, request.webhook_id, request.delivery_id
        )
        call.current().accepted("Webhook redelivery scheduled")
        return pb.RedeliverWebhookEventResponse(delivery=views.delivery(record))

    def PingWebhookSubscription(
        self, request: pb.PingWebhookSubscriptionRequest, context: grpc.ServicerContext
    ) -> pb.PingWebhookSubscriptionResponse:
        record = use_cases.ping(call.current().principal, request.webhook_id)
        call.current().accepted("Webhook ping scheduled")
        return pb.PingWebhookSubscriptionResponse(delivery=views.delivery(record))


# --- decoding and paging ---------------------------------------------------------------


def _page(request: Any, filters: dict[str, Any]) -> tuple[paging.PageRequest, use_cases.PageInput]:
    page = paging.page_request(request.page, request.limit, request.page_token, filters)
    return page, use_cases.PageInput(page.limit, page.offset, page.after)


def _pagination(
    page: paging.PageRequest, total: int, next_key: list[Any] | None, filters: dict[str, Any]
) -> Any:
    token = paging.encode_token(next_key, filters, page=page.next_page) if next_key else ""
    return paging.pagination(page, total, token, bool(token))


def _status(value: int) -> str | None:
    """The status word asked for; None when unset."""
    if value == 0:
        return None
    try:
        return str(_STATUS.Name(value))
    except ValueError:
        raise refuse_enum_number("status", value) from None


SERVICES = {"WebhookService": WebhookServicer}
